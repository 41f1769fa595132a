"""The summary row of a submission (``SubmissionSummary``), kept current: every code path that
writes a report (the quick check, the deep analysis, the re-check of a fixed copy), a decision
or a waiver (the review trail), or changes a submission's status (intake, a refused or failed
check) calls ``refresh`` in the same transaction. ``refresh`` reads the newest report of the
original once, the trail of that one submission, and writes the row; the values come from
``core.summaries.summarise``. Listing pages, the API and the export read these rows only.
It also keeps the campaign's counts (``store/summary_counts``): the row's bucket is read (and on
PostgreSQL locked) before anything it is computed from, and the entry moved to its new bucket.
And it keeps the sort keys of the entry's details (``store/sort_keys``), written when they changed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.summaries import fold, search_text, summarise
from service.store import sort_keys
from service.store.models import ApiKey, Decision, ReportRow, Submission, SubmissionSummary
from service.store.storage import Storage
from service.store.summary_counts import bucket, current, move

THUMBNAIL = "thumbnail.jpg"
"""The picture whose presence the row records (written by the deep job into derived/<id>/)."""


def trail_state(rows: Iterable[Any]) -> tuple[Any | None, tuple[str, ...]]:
    """The latest decision row and the waived rules of a trail's rows (any order): a rule is
    waived when its latest waive/unwaive row is a waiver (as ``review.ledger.state_from``)."""
    decision = None
    waived: dict[str, bool] = {}
    for r in sorted(rows, key=lambda x: x.id):
        kind = r.kind or "decision"
        if kind == "decision":
            decision = r
        elif r.rule:
            waived[r.rule] = kind == "waive"
    return decision, tuple(sorted(k for k, on in waived.items() if on))


def values(sub: Any, report: dict[str, Any] | None, trail: Iterable[Any], *, thumbnail: bool,
           fixed_verdict: str | None, names: dict[str, str] | None = None) -> dict[str, Any]:
    """Every column of the summary row of ``sub`` (a Submission or a row with its columns)."""
    decision, waived = trail_state(trail)
    v = summarise(report, waived=waived, decision=decision.decision if decision is not None else None)
    by = None
    if decision is not None:
        by = decision.reviewer or (names or {}).get(decision.key_id) or decision.key_id
    return v | {
        "submission_id": sub.id, "campaign_id": sub.campaign_id, "status": sub.status,
        "created_at": sub.created_at, "file_name": sub.file_name, "name_key": fold(sub.file_name)[:300],
        "size_bytes": sub.size_bytes, "duration_key": v["duration_s"] if v["duration_s"] is not None else -1.0,
        "thumbnail": thumbnail, "fixed_verdict": fixed_verdict,
        "decision_by": by, "decision_at": decision.created_at if decision is not None else None,
        "decision_note": decision.note if decision is not None else None,
        "search_text": search_text(sub.file_name, sub.details), "updated_at": datetime.now(UTC),
    }


def refresh(session: Session, submission_id: str, *, storage: Storage | None = None,
            thumbnail: bool | None = None) -> SubmissionSummary | None:
    """Write the summary row of one submission from what the database holds now. ``thumbnail``:
    whether its thumbnail exists (the deep job knows); else looked up in ``storage``, else the
    row keeps what it said."""
    session.flush()
    sub = session.get(Submission, submission_id)
    if sub is None:
        return None
    old = current(session, submission_id)  # first: a concurrent writer of this row has committed by now
    report = session.scalar(select(ReportRow.report)
                            .where(ReportRow.submission_id == submission_id, ReportRow.subject != "fixed")
                            .order_by(ReportRow.id.desc()).limit(1))
    fixed_verdict = session.scalar(select(ReportRow.verdict)
                                   .where(ReportRow.submission_id == submission_id, ReportRow.subject == "fixed")
                                   .order_by(ReportRow.id.desc()).limit(1))
    trail = session.scalars(select(Decision).where(Decision.submission_id == submission_id)).all()
    unnamed = {r.key_id for r in trail if not r.reviewer}
    names = dict(session.execute(select(ApiKey.id, ApiKey.name).where(ApiKey.id.in_(unnamed))).all()) \
        if unnamed else {}
    row = session.get(SubmissionSummary, submission_id, populate_existing=True)  # as locked, not as cached
    if thumbnail is None:
        if storage is not None:
            thumbnail = storage.path(storage.derived_key(submission_id, THUMBNAIL)).is_file()
        else:
            thumbnail = bool(row and row.thumbnail)
    cols = values(sub, report, trail, thumbnail=thumbnail, fixed_verdict=fixed_verdict, names=names)
    if row is None:
        row = SubmissionSummary(**cols)
        session.add(row)
    else:
        for k, v in cols.items():
            setattr(row, k, v)
    session.flush()
    move(session, old, bucket(cols))
    sort_keys.write(session, submission_id, sub.campaign_id, sub.details)
    return row
