"""A campaign at a glance, for its organisers: entries per day and per verdict (after
waivers), how many have a fixed copy, the jobs waiting, running and failed, the storage its
files use, and the rules most often failed (so the notice or the profile can be fixed).
Read from the entries' summary rows, the database and the storage folder; numbers only, no personal data. Days are
Beijing time's (the organisers' deadlines' default zone)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from service.core.summaries import VERDICT_ORDER
from service.store.database import aware
from service.store.models import FixedCopy, Job, Submission
from service.store.models import SubmissionSummary as S
from service.store.storage import Storage
from service.store.summary_counts import cells
from service.submissions.campaign_admin import DEFAULT_TIMEZONE

TOP_RULES = 8
"""How many of the most failed rules the overview lists."""


@dataclass(frozen=True)
class Overview:
    entries: int
    per_day: list[tuple[date, int]]
    per_verdict: dict[str, int]
    fixed: int
    jobs: dict[str, int]
    storage_bytes: int
    failed_rules: list[tuple[str, int]] = field(default_factory=list)


def _dir_size(storage: Storage, key: str) -> int:
    root = storage.path(key)
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.is_dir() else 0


def campaign_overview(session: Session, storage: Storage, campaign_id: str) -> Overview:
    """Counted from the entries' summary rows (refused files are not entries): verdicts from
    the campaign's kept counts, the fixed copies by GROUP BY; days and failed rules from one
    small column each."""
    kept = and_(S.campaign_id == campaign_id, S.status != "refused")
    verdicts: dict[str, int] = {}
    for (rank, _, _), n in cells(session, campaign_id).items():
        verdicts[VERDICT_ORDER[rank]] = verdicts.get(VERDICT_ORDER[rank], 0) + n
    zone = ZoneInfo(DEFAULT_TIMEZONE)  # the organisers' days, not UTC's (a zone's date is not portable SQL)
    days: Counter[date] = Counter(aware(at).astimezone(zone).date()  # type: ignore[union-attr]
                                  for at in session.scalars(select(S.created_at).where(kept)))
    failed: Counter[str] = Counter()
    for rules in session.scalars(select(S.failed).where(kept)):
        failed.update(rules)
    fixed = session.scalar(select(func.count(func.distinct(FixedCopy.submission_id)))
                           .join(S, S.submission_id == FixedCopy.submission_id).where(kept))
    jobs = dict(session.execute(select(Job.state, func.count()).join(Submission, Submission.id == Job.submission_id)
                                .where(Submission.campaign_id == campaign_id).group_by(Job.state)).all())
    originals = dict(session.execute(select(Submission.storage_key, Submission.size_bytes)  # duplicates share bytes
                                     .where(Submission.campaign_id == campaign_id, Submission.status != "refused")
                                     .distinct()).all())
    ids = session.scalars(select(S.submission_id).where(kept)).all()
    derived = sum(_dir_size(storage, f"derived/{i}") for i in ids)
    return Overview(entries=sum(verdicts.values()), per_day=sorted(days.items()), per_verdict=verdicts,
                    fixed=int(fixed or 0), jobs={k: int(v) for k, v in jobs.items()},
                    storage_bytes=sum(originals.values()) + derived, failed_rules=failed.most_common(TOP_RULES))
