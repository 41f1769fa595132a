"""Background task functions (thin: load, call the core, save) and the worker entry."""
