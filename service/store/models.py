"""Database tables (SQLAlchemy 2). The database is the record of campaigns, submissions,
reports, jobs, decisions and API keys; Redis and RQ results are not (they expire).
Every change to these tables comes with an Alembic migration in service/store/migrations/."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, datetime: DateTime(timezone=True)}


class Campaign(Base):
    """A campaign created by an admin (shipped profiles also have implicit default campaigns)."""

    __tablename__ = "campaigns"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    profiles: Mapped[list[str]] = mapped_column(JSON)
    deadline: Mapped[datetime | None]
    autofix: Mapped[bool] = mapped_column(Boolean, default=False)
    deep: Mapped[bool] = mapped_column(Boolean, default=False)
    max_upload_bytes: Mapped[int | None] = mapped_column(BigInteger)
    fields: Mapped[list[Any] | None] = mapped_column(
        JSON, doc="the entry details collected on upload: [{key, label: {zh-CN, en}, type, required, max_length, "
        "pattern, help, choices}]")
    limits: Mapped[list[Any] | None] = mapped_column(JSON, doc="[{field, max_entries}]: entries per value of a field")
    file_name_pattern: Mapped[str | None] = mapped_column(String(300), doc="e.g. {作品名称}-{作者}-{单位}")
    closed_at: Mapped[datetime | None] = mapped_column(doc="closed by an organiser before (or without) a deadline")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Submission(Base):
    __tablename__ = "submissions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(64), index=True)
    profile_id: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(300), doc="the submitter's name: metadata, never a path")
    content_type: Mapped[str | None] = mapped_column(
        String(100), doc="the type the client declared: metadata, never the type it is served with"
    )
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300))
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="received", doc="received|checking|checked|error")
    verdict: Mapped[str | None] = mapped_column(String(10))
    duplicate_of: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, doc="the entry details (field key → value): personal "
                                                           "data, never logged")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_submissions_campaign_sha", "campaign_id", "sha256"),)


class ReportRow(Base):
    """One report of a submission: the original's quick check, later re-checks of fixed copies."""

    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    subject: Mapped[str] = mapped_column(String(20), default="original", doc="original|fixed")
    verdict: Mapped[str] = mapped_column(String(10))
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    """Work done apart from the request: a check, a transcode, a deep analysis. Generic by
    ``kind``; ``params`` go in, ``result`` or ``error`` come out."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(12), default="queued", doc="queued|started|finished|failed|cancelled")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0, doc="further attempts allowed after a failure")
    timeout_s: Mapped[int] = mapped_column(Integer, default=180)
    backend: Mapped[str] = mapped_column(String(12), default="inprocess", doc="inprocess|rq")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON, doc="live details of a running job (a fix: percent, "
                                                        "eta_s, stage), written at most once a second")
    cancel_requested_at: Mapped[datetime | None] = mapped_column(doc="set by POST /api/jobs/{id}/cancel; the task "
                                                                 "checks it cooperatively")


class Decision(Base):
    """One line of a submission's review trail: a decision, a waiver of one rule, or a waiver
    withdrawn, with who and when. Append-only (service/review/ledger.py; database triggers refuse
    UPDATE and DELETE): the current decision is the latest decision row."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(10), default="decision", server_default="decision",
                                      doc="decision|waive|unwaive")
    decision: Mapped[str | None] = mapped_column(String(20), doc="accept|reject|needs_fix (kind decision)")
    rule: Mapped[str | None] = mapped_column(String(40), doc="the rule id waived (kinds waive, unwaive)")
    reviewer: Mapped[str | None] = mapped_column(String(100), doc="the key's name when the line was written")
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """A reviewer's or admin's key: only its sha256 is stored."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(10), doc="reviewer|admin")
    campaigns: Mapped[list[str]] = mapped_column(JSON, doc='campaign ids, or ["*"] for all')
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Upload(Base):
    """A resumable (tus) upload in progress. Its bytes so far are the file tus/<id>."""

    __tablename__ = "uploads"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    length: Mapped[int | None] = mapped_column(BigInteger)
    file_name: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str | None] = mapped_column(String(100))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    submission_id: Mapped[str | None] = mapped_column(String(32))
    receipt_token: Mapped[str | None] = mapped_column(
        String(64), doc="the submission's receipt token, kept only until the row expires, so a client whose last "
        "response was lost can ask again (HEAD) with the upload URL, itself a secret")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FixedCopy(Base):
    """A fixed copy of a submission that passed its re-check: a file in the derived area
    (``derived/<submission>/fixed-<job>.<ext>``), never beside or over the original. Its report
    is the ``reports`` row of subject ``fixed``."""

    __tablename__ = "fixed_copies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    job_id: Mapped[str] = mapped_column(String(32))
    storage_key: Mapped[str] = mapped_column(String(300))
    file_name: Mapped[str] = mapped_column(String(300), doc="the download name: the submitted name, new extension")
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SubmissionSummary(Base):
    """What a listing row of an entry needs, kept current by ``store/summaries.refresh`` whenever
    a report, a decision or a waiver of the submission is written (service/core/summaries.py
    works the values out): the dashboard, the listing API and the export read this, never a
    report. One row per submission; ``campaign_id``, ``status``, ``created_at``, the name and
    the size are copied from the submission so every sort has its own index."""

    __tablename__ = "submission_summaries"
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    file_name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(300), doc="the file name folded (NFKC, lower case): its sort key")
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    report_verdict: Mapped[str | None] = mapped_column(String(10), doc="the latest report's verdict, before waivers")
    verdict: Mapped[str] = mapped_column(String(10), doc="after waivers; pending while unchecked")
    verdict_rank: Mapped[int] = mapped_column(Integer, doc="core.summaries.VERDICT_ORDER index: its sort key")
    failed: Mapped[list[str]] = mapped_column(JSON, doc="rule ids failed (waived ones left out)")
    warned: Mapped[list[str]] = mapped_column(JSON, doc="rule ids warned (waived ones left out)")
    content: Mapped[list[Any]] = mapped_column(JSON, doc="content flags: [{rule, start}] (start: first timecode, s)")
    content_rules: Mapped[str] = mapped_column(String(400), doc='" black_segments silence ": filtered with LIKE')
    warnings_count: Mapped[int] = mapped_column(Integer)
    checks: Mapped[list[Any]] = mapped_column(JSON, doc="[{rule, status, zh, en, seg}] (core.summaries)")
    rule_ids: Mapped[str] = mapped_column(Text, doc="the rule ids checked, space-separated: an export's columns")
    duration_s: Mapped[float | None] = mapped_column(Float)
    duration_key: Mapped[float] = mapped_column(Float, doc="duration_s, -1 when unknown: its sort key")
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    size_unit: Mapped[str] = mapped_column(String(10), doc="binary|decimal: the profile's 兆")
    thumbnail: Mapped[bool] = mapped_column(Boolean)
    deep: Mapped[bool] = mapped_column(Boolean, doc="the report carries the deep analysis")
    fixed_verdict: Mapped[str | None] = mapped_column(String(10), doc="the latest fixed copy's re-check")
    waived: Mapped[list[str]] = mapped_column(JSON)
    decision: Mapped[str] = mapped_column(String(20), doc="none|accept|reject|needs_fix")
    decision_rank: Mapped[int] = mapped_column(Integer, doc="core.summaries.DECISION_ORDER index: its sort key")
    decision_by: Mapped[str | None] = mapped_column(String(100))
    decision_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, doc="file name and detail values, folded: searched with LIKE")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        *(Index(f"ix_summaries_{key}", "campaign_id", key, "submission_id")
          for key in ("created_at", "name_key", "size_bytes", "duration_key", "verdict_rank", "decision_rank",
                      "warnings_count")),
        Index("ix_summaries_counts", "campaign_id", "status", "verdict_rank", "decision_rank", "warnings_count"),
    )


class SummaryCount(Base):
    """How many summary rows of a campaign are in one bucket (status, verdict rank, decision rank,
    any content warning): the dashboard's counts read a campaign's few buckets instead of grouping
    its every entry. Kept by the summary rows' one writer, ``store/summaries.refresh``, in the same
    transaction (store/summary_counts.py); a bucket emptied keeps its row with ``n`` 0."""

    __tablename__ = "summary_counts"
    campaign_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    verdict_rank: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    decision_rank: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    warned: Mapped[bool] = mapped_column(Boolean, primary_key=True, doc="warnings_count > 0")
    n: Mapped[int] = mapped_column(Integer)


class EntrySortKey(Base):
    """One entry detail's value folded for sorting (``store/sort_keys``): a row per non-empty
    value of a submission's details, so the dashboard's sort by an entry field (``detail:<key>``)
    walks an index in order instead of reading the campaign's every entry. Kept by the summary
    rows' one writer, ``store/summaries.refresh``, in the same transaction; an entry without the
    value has no row (it sorts last)."""

    __tablename__ = "entry_sort_keys"
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    field_key: Mapped[str] = mapped_column(String(40), primary_key=True, doc="the detail's key (≤ 40: entry_fields)")
    campaign_id: Mapped[str] = mapped_column(String(64), doc="the submission's, copied: the index's first column")
    value_key: Mapped[str] = mapped_column(String(200), doc="the value folded (NFKC, casefold), its first 200 "
                                           "characters: the sort key")

    __table_args__ = (Index("ix_entry_sort_keys_order", "campaign_id", "field_key", "value_key", "submission_id"),)
