"""The database edge: engine, sessions and migrations. SQLite by default (a file in the
data directory, no server), PostgreSQL through MEDIACHECK_DATABASE_URL. Schema changes
are Alembic migrations (service/migrations); ``migrate`` brings a database to the head."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""Alembic's script directory."""

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long SQLite waits for a lock held by another process (API and workers share the file)."""

SQLITE_OPTIMIZE_EVERY_S = 600.0
"""How often a process lets SQLite refresh its planner statistics (``PRAGMA optimize``, as a
connection goes back to the pool). Without them SQLite guesses, and at 50,000 entries it
guessed wrong: the dashboard's "any warning" filter sorted 40,000 rows (100 ms) instead of
walking the creation-date index (2 ms). PostgreSQL's autovacuum keeps its own."""

SQLITE_OPTIMIZE_WAIT_MS = 200
"""How long that refresh waits for a lock before it gives up until next time."""


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            # an INSERT OR REPLACE that replaces a summary row fires its delete trigger too, so the
            # search index (migration 0007) loses the old row's text with the row
            cur.execute("PRAGMA recursive_triggers=ON")
            cur.close()

        last = [time.monotonic() - SQLITE_OPTIMIZE_EVERY_S]

        @event.listens_for(engine, "checkin")
        def _optimize(dbapi_conn: Any, _record: Any) -> None:
            # SQLite analyses only the tables this connection's queries used whose statistics are
            # missing or stale: usually nothing; when a table has grown tenfold, ~10 ms per 10,000
            # summary rows
            if dbapi_conn is None or time.monotonic() - last[0] < SQLITE_OPTIMIZE_EVERY_S:
                return
            last[0] = time.monotonic()
            try:
                dbapi_conn.execute(f"PRAGMA busy_timeout={SQLITE_OPTIMIZE_WAIT_MS}")
                dbapi_conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass  # busy: statistics are an optimisation, the next round tries again
            finally:
                with contextlib.suppress(sqlite3.Error):
                    dbapi_conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


MIGRATION_LOCK_KEY = 0x6D6564696163  # "mediac"
"""PostgreSQL advisory lock held while migrating (service/migrations/env.py)."""


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    """An exclusive lock on a file beside a SQLite database while it migrates. SQLite takes its
    write lock only at the first write, after Alembic has read the version: two processes
    would both see an empty database and both create the tables."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (creating the tables on a fresh database). Safe to
    run from several processes at once (the API and its workers each migrate at start): they
    take turns, and the later ones find the database already at ``revision``."""
    from alembic import command

    with _sqlite_migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:
            return None


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.local = self.engine.dialect.name == "sqlite"
        """A file on this machine: short reads may run on the event loop."""
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._pid = os.getpid()

    def _after_fork(self) -> None:
        """A forked RQ work horse must not reuse its parent's connections."""
        if os.getpid() != self._pid:
            self.engine.dispose(close=False)
            self._pid = os.getpid()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        self._after_fork()
        with self._sessions() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def aware(dt: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back: we only store UTC, so say so."""
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt
