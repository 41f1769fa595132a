"""counts: a campaign's summary rows counted per bucket (status, verdict rank, decision rank, any
warning), kept by the write path from now on, filled from the summary rows already there

Revision ID: 0006_counts
Revises: 0005_scale
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.store.summary_counts import recount

revision = "0006_counts"
down_revision = "0005_scale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "summary_counts",
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("verdict_rank", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("decision_rank", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("warned", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "status", "verdict_rank", "decision_rank", "warned"),
    )
    recount(op.get_bind())  # one GROUP BY over the summary rows (migration 0005 wrote them)


def downgrade() -> None:
    op.drop_table("summary_counts")
