"""scale: one summary row per submission (what a listing row shows), with an index per sort,
filled for the submissions already there

Revision ID: 0005_scale
Revises: 0004
Create Date: 2026-11-27 09:50:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from service.store.summaries import values

revision = "0005_scale"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 500
"""Submissions summarised per round trip while filling the table."""

SORT_KEYS = ("created_at", "name_key", "size_bytes", "duration_key", "verdict_rank", "decision_rank",
             "warnings_count")

_subs = sa.table("submissions", sa.column("id", sa.String), sa.column("campaign_id", sa.String),
                 sa.column("status", sa.String), sa.column("created_at", sa.DateTime(timezone=True)),
                 sa.column("file_name", sa.String), sa.column("size_bytes", sa.BigInteger),
                 sa.column("details", sa.JSON))
_reports = sa.table("reports", sa.column("id", sa.Integer), sa.column("submission_id", sa.String),
                    sa.column("subject", sa.String), sa.column("verdict", sa.String), sa.column("report", sa.JSON))
_decisions = sa.table("decisions", sa.column("id", sa.Integer), sa.column("submission_id", sa.String),
                      sa.column("key_id", sa.String), sa.column("kind", sa.String), sa.column("decision", sa.String),
                      sa.column("rule", sa.String), sa.column("reviewer", sa.String), sa.column("note", sa.Text),
                      sa.column("created_at", sa.DateTime(timezone=True)))
_jobs = sa.table("jobs", sa.column("submission_id", sa.String), sa.column("kind", sa.String),
                 sa.column("state", sa.String), sa.column("result", sa.JSON),
                 sa.column("created_at", sa.DateTime(timezone=True)))
_keys = sa.table("api_keys", sa.column("id", sa.String), sa.column("name", sa.String))


def upgrade() -> None:
    table = op.create_table(
        "submission_summaries",
        sa.Column("submission_id", sa.String(length=32), sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("name_key", sa.String(length=300), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("report_verdict", sa.String(length=10), nullable=True),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("verdict_rank", sa.Integer(), nullable=False),
        sa.Column("failed", sa.JSON(), nullable=False),
        sa.Column("warned", sa.JSON(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_rules", sa.String(length=400), nullable=False),
        sa.Column("warnings_count", sa.Integer(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("rule_ids", sa.Text(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("duration_key", sa.Float(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("size_unit", sa.String(length=10), nullable=False),
        sa.Column("thumbnail", sa.Boolean(), nullable=False),
        sa.Column("deep", sa.Boolean(), nullable=False),
        sa.Column("fixed_verdict", sa.String(length=10), nullable=True),
        sa.Column("waived", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("decision_rank", sa.Integer(), nullable=False),
        sa.Column("decision_by", sa.String(length=100), nullable=True),
        sa.Column("decision_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    for key in SORT_KEYS:
        op.create_index(f"ix_summaries_{key}", "submission_summaries", ["campaign_id", key, "submission_id"])
    op.create_index("ix_summaries_counts", "submission_summaries",
                    ["campaign_id", "status", "verdict_rank", "decision_rank", "warnings_count"])
    fill(op.get_bind(), table)


def fill(conn: sa.Connection, table: sa.Table) -> int:
    """Summarise every submission, ``BATCH`` at a time (keyset on the id): one query each for
    their reports, trails and deep jobs, one bulk insert. Returns how many rows were written."""
    names = {k.id: k.name for k in conn.execute(sa.select(_keys.c.id, _keys.c.name))}
    after, n = "", 0
    while True:
        subs = conn.execute(sa.select(_subs).where(_subs.c.id > after).order_by(_subs.c.id).limit(BATCH)).all()
        if not subs:
            return n
        ids = [s.id for s in subs]
        after = ids[-1]
        original: dict[str, Any] = {}
        fixed: dict[str, str] = {}
        for r in conn.execute(sa.select(_reports.c.submission_id, _reports.c.subject, _reports.c.verdict,
                                        _reports.c.report)
                              .where(_reports.c.submission_id.in_(ids)).order_by(_reports.c.id)):
            if r.subject == "fixed":
                fixed[r.submission_id] = r.verdict
            else:
                original[r.submission_id] = r.report  # the newest wins
        trails: dict[str, list[Any]] = {i: [] for i in ids}
        for d in conn.execute(sa.select(_decisions).where(_decisions.c.submission_id.in_(ids))):
            trails[d.submission_id].append(d)
        thumbs: dict[str, bool] = {}
        for j in conn.execute(sa.select(_jobs.c.submission_id, _jobs.c.result)
                              .where(_jobs.c.submission_id.in_(ids), _jobs.c.kind == "deep",
                                     _jobs.c.state == "finished").order_by(_jobs.c.created_at)):
            thumbs[j.submission_id] = bool((j.result or {}).get("thumbnail"))
        conn.execute(table.insert(), [values(s, original.get(s.id), trails[s.id], thumbnail=thumbs.get(s.id, False),
                                             fixed_verdict=fixed.get(s.id), names=names) for s in subs])
        n += len(subs)


def downgrade() -> None:
    op.drop_index("ix_summaries_counts", table_name="submission_summaries")
    for key in SORT_KEYS:
        op.drop_index(f"ix_summaries_{key}", table_name="submission_summaries")
    op.drop_table("submission_summaries")
