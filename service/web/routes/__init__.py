"""The routes of the web service, one module per resource; none imports another."""
