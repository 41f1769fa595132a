"""The FastAPI application, its dependencies and its routes (``routes/``: one module per
resource, none importing another). Imports every lower package; never ``workers``."""
