"""A scratch PostgreSQL database for one test: made on the server that MEDIACHECK_TEST_PG names
(``make test`` starts one), dropped afterwards; the test is skipped when none answers (a failure
under CI=true: tests/support/ci_skips.py). ``migrated_database``: a migrated database of either
backend, for the tests that run on both."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from service.store.database import Database, migrate

PG_ADMIN_URL = os.environ.get("MEDIACHECK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def scratch_database(prefix: str) -> Iterator[str]:
    """Yield the URL of a new database named ``PREFIX_<random>``, dropped after. Use with ``yield from``."""
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"no PostgreSQL reachable: {e}")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def blank_database(backend: str, tmp_path: Path, prefix: str) -> Iterator[str]:
    """Yield the URL of an empty database (not migrated): a SQLite file in ``tmp_path``
    (``backend`` "sqlite") or a scratch PostgreSQL database. Use with ``yield from``."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'{prefix}.db'}"
    else:
        yield from scratch_database(prefix)


def migrated_database(backend: str, tmp_path: Path, prefix: str, revision: str = "head") -> Iterator[Database]:
    """Yield a Database migrated to ``revision``: a SQLite file in ``tmp_path`` (``backend``
    "sqlite") or a scratch PostgreSQL database (``backend`` "postgresql"). Use with ``yield from``."""
    for url in blank_database(backend, tmp_path, prefix):
        d = Database(url)
        try:
            migrate(d.engine, revision)
            yield d
        finally:
            d.dispose()
