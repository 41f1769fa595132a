"""What a reviewer's pages need from a report, apart from the web stack (pure): the verdict
once some rules are waived, the content warnings, and a timeline of flagged segments a
player can jump to. The dashboard and the spreadsheet export draw on the same functions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from service.core.analysis import timecode
from service.core.checks import Check
from service.core.labels import CONTENT_RULES, RULE_LABELS, names
from service.core.report import Report, Verdict, verdict_of


def effective_checks(report: Report, waived: Iterable[str] = ()) -> list[Check]:
    """The report's checks with the waived rules (creative intent) set aside."""
    skip = set(waived)
    return [c for c in report.checks if c.rule not in skip]


def effective_verdict(report: Report, waived: Iterable[str] = ()) -> Verdict:
    """The verdict once ``waived`` rules no longer count (an unreadable file stays 'error')."""
    if report.verdict == "error":
        return "error"
    return verdict_of(effective_checks(report, waived))


def content_warnings(report: Report, waived: Iterable[str] = ()) -> list[Check]:
    """The failed or warned content checks (black, frozen, silence …), waived ones left out."""
    return [c for c in effective_checks(report, waived)
            if c.rule in CONTENT_RULES and c.status in ("fail", "warn")]


@dataclass(frozen=True)
class Mark:
    """One flagged stretch on the timeline: where it is (seconds and share of the running
    time, for drawing) and what it is."""

    rule: str
    status: str
    start_s: float
    end_s: float
    left: float
    width: float
    label_zh: str
    label_en: str

    @property
    def timecode(self) -> str:
        return timecode(self.start_s)


MIN_MARK_WIDTH = 0.005
"""Shortest mark drawn, as a share of the timeline (so a 1 s stretch of 3 minutes shows)."""


def timeline(report: Report, waived: Iterable[str] = ()) -> list[Mark]:
    """Every flagged segment of the report's checks, in time order."""
    duration = (report.media.duration_s if report.media else None) or (
        report.analysis.duration_s if report.analysis else None)
    if not duration:
        return []
    marks = []
    for c in effective_checks(report, waived):
        if c.status not in ("fail", "warn") or not c.segments:
            continue
        zh, en = names(RULE_LABELS, c.rule)
        for start, end in c.segments:
            left = max(0.0, min(1.0, start / duration))
            width = max(MIN_MARK_WIDTH, min(1.0 - left, (end - start) / duration))
            marks.append(Mark(rule=c.rule, status=c.status, start_s=start, end_s=end, left=round(left, 4),
                              width=round(width, 4), label_zh=zh, label_en=en))
    return sorted(marks, key=lambda m: (m.start_s, m.rule))
