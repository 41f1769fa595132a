"""search: a text index over the summary rows' search_text, so a search reads its matches
rather than every entry of the campaign (issue 14)

SQLite: ``summary_search``, an FTS5 table with the trigram tokenizer holding a copy of each
summary row's ``search_text`` under the row's rowid, kept in step by three triggers on
``submission_summaries`` and filled from the rows already there. PostgreSQL: pg_trgm and a GIN
index (``gin_trgm_ops``) on ``search_text``, which ``LIKE '%…%'`` uses. Where either is missing
(SQLite older than 3.34 or built without FTS5; pg_trgm not installable), the migration says so
once and leaves it out: searches then read the campaign's rows, as before.

Why triggers and not rows written by ``store.summaries.refresh``: the triggers run inside every
write to ``submission_summaries`` whoever makes it — refresh, the bulk inserts of migration 0005's
fill and of benchmarks/bench_scale.py, an UPDATE typed by hand — in the same statement, so the
index cannot fall behind the rows; an UPDATE that leaves ``search_text`` and the rowid as they were
does nothing. Why a copy of the text and not an external-content table over the summary rows: an
external-content index is updated by handing it the old text, and any write that reached it with
other text would corrupt it silently; this one deletes and replaces its own rows. The copy (3.5 MB
at 50,000 entries) is also what a search too short for trigrams scans, instead of the wide summary
rows. The rowid it shares with the summary rows survives VACUUM: a table with indexes keeps its
rowids (its index entries hold them and are copied as they are). A later migration that rebuilds
``submission_summaries`` on SQLite (Alembic's batch mode copies the rows into a new table: new
rowids, and the triggers go with the old table) must create the triggers again and refill the
copy; tests/test_listing.py compares the copy with the rows at head.

Revision ID: 0007_search
Revises: 0006_counts
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0007_search"
down_revision = "0006_counts"
branch_labels = None
depends_on = None

log = logging.getLogger("mediacheck")

FTS_TABLE = "summary_search"
TRGM_INDEX = "ix_summaries_search_trgm"

_SQLITE_TRIGRAM = (3, 34, 0)
"""The first SQLite with FTS5's trigram tokenizer."""

_SQLITE_CREATE = (
    # case_sensitive 1: the text and the query are folded already (core.summaries.fold); the
    # tokenizer keeps every character as it is, so a phrase matches exactly what LIKE matches
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(search_text, tokenize='trigram case_sensitive 1')",
    f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON submission_summaries BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON submission_summaries BEGIN "
    f"DELETE FROM {FTS_TABLE} WHERE rowid = old.rowid; END",
    f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE ON submission_summaries "
    "WHEN new.search_text IS NOT old.search_text OR new.rowid != old.rowid BEGIN "
    f"DELETE FROM {FTS_TABLE} WHERE rowid = old.rowid; "
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) SELECT rowid, search_text FROM submission_summaries",
)


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        _sqlite(conn)
    elif conn.dialect.name == "postgresql":
        _postgresql(conn)


def _sqlite(conn: sa.Connection) -> None:
    version = tuple(int(x) for x in conn.execute(sa.text("SELECT sqlite_version()")).scalar_one().split("."))
    fts5 = conn.execute(sa.text("SELECT sqlite_compileoption_used('ENABLE_FTS5')")).scalar_one()
    if version < _SQLITE_TRIGRAM or not fts5:
        log.warning("search index left out: SQLite %s %s; searches read every entry of the campaign",
                    ".".join(map(str, version)), "has no FTS5" if not fts5 else "is older than 3.34 (no trigram)")
        return
    for sql in _SQLITE_CREATE:
        conn.execute(sa.text(sql))


def _postgresql(conn: sa.Connection) -> None:
    try:
        with conn.begin_nested():  # a refusal must not abort the migration's transaction
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as e:
        log.warning("search index left out: pg_trgm could not be installed (%s); searches read every entry "
                    "of the campaign (docs/operations.md: the two statements an administrator can run later)",
                    str(e.orig or e).strip().splitlines()[0])
        return
    schema = conn.execute(sa.text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                                  "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")).scalar_one()
    ops = f'"{schema}".gin_trgm_ops'  # the extension may live outside the search path (managed databases)
    if conn.execute(sa.text(f"SELECT cardinality(\"{schema}\".show_trgm('王同学'))")).scalar_one() == 0:
        ctype = conn.execute(sa.text("SHOW lc_ctype")).scalar_one()
        log.warning("search index: LC_CTYPE %s makes no trigrams of Chinese characters; Chinese searches read "
                    "every entry of the campaign (docs/operations.md)", ctype)
    conn.execute(sa.text(f"CREATE INDEX {TRGM_INDEX} ON submission_summaries USING gin (search_text {ops})"))


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for suffix in ("insert", "delete", "update"):
            conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{suffix}"))
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {FTS_TABLE}"))
    elif conn.dialect.name == "postgresql":
        conn.execute(sa.text(f"DROP INDEX IF EXISTS {TRGM_INDEX}"))  # pg_trgm stays: others may use it
