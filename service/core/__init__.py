"""The pure core: quantities, media facts, profiles, checks, content findings, the report, the
names people read, the exceptions. Data in, data out: imports only the standard library,
pydantic and yaml (tests/test_layout.py walks the imports)."""
