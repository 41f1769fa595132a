"""A campaign at a glance, for its organisers: entries per day and per verdict (after
waivers), how many have a fixed copy, the jobs waiting, running and failed, the storage its
files use, and the rules most often failed (so the notice or the profile can be fixed).
Read from the database and the storage folder; numbers only, no personal data. Days are
Beijing time's (the organisers' deadlines' default zone)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.review import board
from service.store.database import aware
from service.store.models import FixedCopy, Job, Submission
from service.store.storage import Storage
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
    entries = board.campaign_entries(session, storage, campaign_id)
    zone = ZoneInfo(DEFAULT_TIMEZONE)  # the organisers' days, not UTC's
    days: Counter[date] = Counter(aware(e.sub.created_at).astimezone(zone).date()  # type: ignore[union-attr]
                                  for e in entries)
    verdicts: Counter[str] = Counter(e.verdict or "pending" for e in entries)
    failed: Counter[str] = Counter()
    for e in entries:
        if e.report is not None:
            failed.update(c.rule for c in e.report.checks if c.status == "fail" and c.rule not in e.state.waived)
    ids = [e.sub.id for e in entries]
    fixed = session.scalar(select(func.count(func.distinct(FixedCopy.submission_id)))
                           .where(FixedCopy.submission_id.in_(ids))) if ids else 0
    jobs = dict(session.execute(select(Job.state, func.count()).join(Submission, Submission.id == Job.submission_id)
                                .where(Submission.campaign_id == campaign_id).group_by(Job.state)).all())
    originals = {e.sub.storage_key: e.sub.size_bytes for e in entries}  # duplicates share their bytes
    derived = sum(_dir_size(storage, f"derived/{i}") for i in ids)
    return Overview(entries=len(entries), per_day=sorted(days.items()), per_verdict=dict(verdicts),
                    fixed=int(fixed or 0), jobs={k: int(v) for k, v in jobs.items()},
                    storage_bytes=sum(originals.values()) + derived, failed_rules=failed.most_common(TOP_RULES))
