"""The review trail of a submission: decisions (accept / reject / needs fix) and waivers of
single rules ("creative intent"), each a new row with who and when. The trail is never
rewritten: rows are only added (``record``); the ORM refuses to flush a change or a deletion
of one, and the database's triggers (migration 0002) refuse UPDATE and DELETE from anyone
else. What counts now is read from the whole trail (``state_of``): the current decision is
the latest decision row; a rule is waived when its latest waive/unwaive row is a waiver."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from service.core.errors import TrailRewriteError
from service.store.database import aware
from service.store.models import ApiKey, Decision
from service.store.summaries import refresh as refresh_summary

DECISIONS = ("accept", "reject", "needs_fix")
"""What a reviewer can decide."""

KINDS = ("decision", "waive", "unwaive")
"""Kinds of trail rows: a decision, a rule waived, a waiver withdrawn."""

MAX_NOTE_CHARS = 2000
"""Longest note kept with a row."""


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Decision) and (obj in session.deleted or session.is_modified(obj)):
            raise TrailRewriteError("the review trail is append-only: rows are never changed or deleted")


@dataclass(frozen=True)
class Line:
    """One row of the trail, as pages and the API show it."""

    id: int
    kind: str
    decision: str | None
    rule: str | None
    note: str | None
    by: str
    key_id: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "decision": self.decision, "rule": self.rule, "note": self.note,
                "by": self.by, "key_id": self.key_id, "at": self.at.isoformat()}


@dataclass(frozen=True)
class ReviewState:
    """What the trail says now."""

    decision: Line | None
    waived: tuple[str, ...]
    lines: tuple[Line, ...]


def record(session: Session, *, submission_id: str, key: ApiKey, kind: str, decision: str | None = None,
           rule: str | None = None, note: str | None = None) -> Line:
    """Add one row to the trail (the only way rows come in)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    if kind == "decision" and decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}")
    if kind != "decision" and not rule:
        raise ValueError("a waiver names the rule it waives")
    note = (note or "").strip()[:MAX_NOTE_CHARS] or None
    row = Decision(submission_id=submission_id, key_id=key.id, reviewer=key.name, kind=kind,
                   decision=decision if kind == "decision" else None, rule=rule if kind != "decision" else None,
                   note=note, created_at=datetime.now(UTC))
    session.add(row)
    refresh_summary(session, submission_id)
    return _line(row)


def _line(row: Decision, names: dict[str, str] | None = None) -> Line:
    at = aware(row.created_at)
    assert at is not None
    by = row.reviewer or (names or {}).get(row.key_id) or row.key_id  # rows written without the name
    return Line(id=row.id, kind=row.kind or "decision", decision=row.decision, rule=row.rule, note=row.note,
                by=by, key_id=row.key_id, at=at)


def state_from(lines: Iterable[Line]) -> ReviewState:
    """The current decision and waived rules of a trail given oldest first (pure)."""
    ordered = tuple(sorted(lines, key=lambda x: x.id))
    decision = None
    waived: dict[str, bool] = {}
    for x in ordered:
        if x.kind == "decision":
            decision = x
        elif x.rule:
            waived[x.rule] = x.kind == "waive"
    return ReviewState(decision=decision, waived=tuple(sorted(r for r, on in waived.items() if on)), lines=ordered)


def state_of(session: Session, submission_id: str) -> ReviewState:
    return states_of(session, [submission_id])[submission_id]


def states_of(session: Session, submission_ids: Sequence[str]) -> dict[str, ReviewState]:
    """The review state of several submissions in one query."""
    by_sub: dict[str, list[Line]] = {i: [] for i in submission_ids}
    if submission_ids:
        rows = session.scalars(select(Decision).where(Decision.submission_id.in_(list(submission_ids)))
                               .order_by(Decision.id)).all()
        unnamed = {r.key_id for r in rows if not r.reviewer}
        names: dict[str, str] = {}
        if unnamed:
            names = {i: n for i, n in session.execute(select(ApiKey.id, ApiKey.name).where(ApiKey.id.in_(unnamed)))}
        for r in rows:
            by_sub[r.submission_id].append(_line(r, names))
    return {i: state_from(lines) for i, lines in by_sub.items()}
