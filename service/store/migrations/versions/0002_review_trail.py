"""review trail: decisions, waivers of single rules, who; append-only

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 00:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = (
    "CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions "
    "BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END",
    "CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions "
    "BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END",
)
_PG_TRIGGERS = (
    "CREATE FUNCTION decisions_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'decisions are append-only'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER decisions_no_change BEFORE UPDATE OR DELETE ON decisions "
    "FOR EACH ROW EXECUTE FUNCTION decisions_append_only()",
)


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), server_default="decision", nullable=False))
        batch_op.add_column(sa.Column("rule", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("reviewer", sa.String(length=100), nullable=True))
        batch_op.alter_column("decision", existing_type=sa.String(length=20), nullable=True)
    dialect = op.get_bind().dialect.name
    for sql in _SQLITE_TRIGGERS if dialect == "sqlite" else _PG_TRIGGERS if dialect == "postgresql" else ():
        op.execute(sql)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS decisions_no_update")
        op.execute("DROP TRIGGER IF EXISTS decisions_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS decisions_no_change ON decisions")
        op.execute("DROP FUNCTION IF EXISTS decisions_append_only()")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.alter_column("decision", existing_type=sa.String(length=20), nullable=False)
        batch_op.drop_column("reviewer")
        batch_op.drop_column("rule")
        batch_op.drop_column("kind")
