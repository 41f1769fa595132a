"""What is kept: the database (engine, tables, migrations, the jobs table), file storage and
durable writes, digests and spreadsheets; and the job runner's per-process context
(runtime.py). Imports the core and the settings, nothing above."""
