"""entry details: the fields a campaign collects, its per-field limits, its file-name pattern,
its open/closed state, and each submission's details

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fields", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("limits", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("file_name_pattern", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("details")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
        batch_op.drop_column("file_name_pattern")
        batch_op.drop_column("limits")
        batch_op.drop_column("fields")
