"""sort keys: one row per non-empty entry detail of a submission, its value folded for sorting,
with the index (campaign, field, value, id) that the dashboard's sort by an entry field walks
in order (issue 14); filled from the submissions' details already there

The rows are written by ``store.sort_keys.rows``, as ``store.summaries.refresh`` writes them from
now on, so the keys filled here are the keys refresh would write.

Revision ID: 0008_sort_keys
Revises: 0007_search
Create Date: 2026-12-04 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.store.sort_keys import rows

revision = "0008_sort_keys"
down_revision = "0007_search"
branch_labels = None
depends_on = None

BATCH = 1000
"""Submissions read per round trip while filling the table."""

_subs = sa.table("submissions", sa.column("id", sa.String), sa.column("campaign_id", sa.String),
                 sa.column("details", sa.JSON))


def upgrade() -> None:
    table = op.create_table(
        "entry_sort_keys",
        sa.Column("submission_id", sa.String(length=32), sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("field_key", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("value_key", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("submission_id", "field_key"),
    )
    fill(op.get_bind(), table)
    # after the fill: one sorted build of the index instead of an insert into it per row
    op.create_index("ix_entry_sort_keys_order", "entry_sort_keys",
                    ["campaign_id", "field_key", "value_key", "submission_id"])


def fill(conn: sa.Connection, table: sa.Table) -> int:
    """The sort keys of every submission with details, ``BATCH`` submissions at a time (keyset
    on the id), one bulk insert each. Returns how many rows were written."""
    after, n = "", 0
    while True:
        subs = conn.execute(sa.select(_subs).where(_subs.c.id > after, _subs.c.details.is_not(None))
                            .order_by(_subs.c.id).limit(BATCH)).all()
        if not subs:
            return n
        after = subs[-1].id
        batch = [r for s in subs for r in rows(s.id, s.campaign_id, s.details)]
        if batch:
            conn.execute(table.insert(), batch)
            n += len(batch)


def downgrade() -> None:
    op.drop_index("ix_entry_sort_keys_order", table_name="entry_sort_keys")
    op.drop_table("entry_sort_keys")
