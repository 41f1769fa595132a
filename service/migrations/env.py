"""Alembic environment: the engine is passed in by service.database.migrate (or built from
MEDIACHECK_DATABASE_URL / the default SQLite file when alembic runs on its own)."""

from __future__ import annotations

from alembic import context

from service.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    from service.database import make_engine
    from service.settings import Settings

    engine = make_engine(Settings.from_env().db_url)

with engine.connect() as connection:
    context.configure(
        connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
