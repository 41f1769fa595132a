"""The edge that reads media: the one module that runs processes (``process``), the probe,
images, MP4 boxes, the content detector, pictures, and ``check_file`` (probe → core →
report). Imports the core and the store."""
