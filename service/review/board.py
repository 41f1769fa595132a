"""What a reviewer sees of a campaign, read from the database and storage: each entry's
latest report of the original (the deep one once it is there), its review state (current
decision, waived rules, the trail), its verdict after waivers, its content warnings and
the pictures that exist, for an entry's page and the review API. Lists of entries (the
dashboard, the listing API, the export) read summary rows instead (``listing``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.report import Report, Verdict
from service.review import ledger
from service.review.verdicts import content_warnings, effective_verdict
from service.store.models import Job, ReportRow, Submission
from service.store.storage import Storage

PICTURES = {"poster": "poster.jpg", "contact_sheet": "contact-sheet.jpg", "thumbnail": "thumbnail.jpg"}
"""The pictures the deep job writes into a submission's derived folder."""

ORIGINAL_SUBJECTS = ("original", "deep", "recheck")
"""Report subjects that describe the original (a ``fixed`` report describes the fixed copy)."""


@dataclass(frozen=True)
class BoardEntry:
    sub: Submission
    report: Report | None
    state: ledger.ReviewState
    pictures: dict[str, Path]
    fixed: Path | None
    deep_job: str | None = None
    """State of the latest deep job (queued, started, finished, failed), None when there is none."""
    deep_error: dict[str, str] | None = None
    """Why the deep job failed (bilingual message), when it did."""
    fixed_verdict: str | None = None
    """Verdict of the latest report of the fixed copy (subject ``fixed``), when there is one."""

    @property
    def verdict(self) -> Verdict | None:
        """The verdict once the waived rules no longer count."""
        return effective_verdict(self.report, self.state.waived) if self.report else None

    @property
    def analysing(self) -> bool:
        """The deep job is queued or running."""
        return self.deep_job in ("queued", "started")

    @property
    def deep(self) -> bool:
        return self.report is not None and self.report.analysis is not None

    @property
    def warnings(self) -> list[str]:
        """Rule ids of the content warnings (waived ones left out)."""
        return [c.rule for c in content_warnings(self.report, self.state.waived)] if self.report else []

    @property
    def duration_s(self) -> float | None:
        return self.report.media.duration_s if self.report and self.report.media else None


def _derived(storage: Storage, sub_id: str) -> Path:
    return storage.path(f"derived/{sub_id}")


def _pictures(storage: Storage, sub_id: str) -> dict[str, Path]:
    d = _derived(storage, sub_id)
    return {k: d / n for k, n in PICTURES.items() if (d / n).is_file()}


def _fixed(storage: Storage, sub_id: str) -> Path | None:
    """The fixed copy: the file ``derived/<id>/fixed…`` (the transcode task writes it there)."""
    d = _derived(storage, sub_id)
    if not d.is_dir():
        return None
    found = sorted(p for p in d.iterdir() if p.is_file() and p.name.startswith("fixed"))
    return found[0] if found else None


def fixed_copy(storage: Storage, sub_id: str) -> Path | None:
    """The path of a submission's fixed copy, None when there is none."""
    return _fixed(storage, sub_id)


def _latest_reports(session: Session, ids: list[str],
                    subjects: tuple[str, ...] = ORIGINAL_SUBJECTS) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if not ids:
        return out
    rows = session.execute(select(ReportRow.submission_id, ReportRow.report)
                           .where(ReportRow.submission_id.in_(ids), ReportRow.subject.in_(subjects))
                           .order_by(ReportRow.id)).all()
    for sub_id, report in rows:
        out[sub_id] = report  # the last one wins
    return out


def _deep_jobs(session: Session, ids: list[str]) -> dict[str, tuple[str, dict[str, Any] | None]]:
    out: dict[str, tuple[str, dict[str, Any] | None]] = {}
    if ids:
        rows = session.execute(select(Job.submission_id, Job.state, Job.error)
                               .where(Job.submission_id.in_(ids), Job.kind == "deep").order_by(Job.created_at)).all()
        for sub_id, state, error in rows:
            out[sub_id] = (state, error)  # the last one wins
    return out


def details_of(session: Session, ids: list[str]) -> dict[str, dict[str, Any] | None]:
    """The entry details of a page's submissions (one query by ids)."""
    if not ids:
        return {}
    return dict(session.execute(select(Submission.id, Submission.details).where(Submission.id.in_(ids))).all())


def deep_job_states(session: Session, ids: list[str]) -> dict[str, str]:
    """The state of each submission's latest deep job (for a page of rows)."""
    return {k: state for k, (state, _) in _deep_jobs(session, ids).items()}


def _entries(session: Session, storage: Storage, subs: list[Submission]) -> list[BoardEntry]:
    ids = [s.id for s in subs]
    reports = _latest_reports(session, ids)
    states = ledger.states_of(session, ids)
    jobs = _deep_jobs(session, ids)
    fixed = _latest_reports(session, ids, ("fixed",))
    out = []
    for s in subs:
        job_state, error = jobs.get(s.id, (None, None))
        out.append(BoardEntry(sub=s, report=Report.model_validate(reports[s.id]) if s.id in reports else None,
                              state=states[s.id], pictures=_pictures(storage, s.id), fixed=_fixed(storage, s.id),
                              deep_job=job_state, deep_error=(error or {}).get("message") if job_state == "failed"
                              else None, fixed_verdict=fixed.get(s.id, {}).get("verdict")))
    return out


def entry(session: Session, storage: Storage, sub: Submission) -> BoardEntry:
    return _entries(session, storage, [sub])[0]
