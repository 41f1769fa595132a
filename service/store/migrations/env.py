"""Alembic environment: the engine is passed in by service.store.database.migrate (or built from
MEDIACHECK_DATABASE_URL / the default SQLite file when alembic runs on its own)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from service.store.database import MIGRATION_LOCK_KEY
from service.store.models import Base
from service.store.search import modelled

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    from service.settings import Settings
    from service.store.database import make_engine

    engine = make_engine(Settings.from_env().db_url)

with engine.connect() as connection:
    context.configure(
        connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True,
        include_name=modelled,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Concurrent migrators (the API and its workers start together) take turns; the
            # version is read after the lock, so a later one finds the work done.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()
    connection.commit()
