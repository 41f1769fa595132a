"""What a listing row holds of an entry, worked out once when a report, a decision or a
waiver is written (pure: the report as stored JSON and the review state in, plain values
out), so the dashboard, the listing API and the export never parse a report.

``summarise`` gives the columns of ``submission_summaries`` (service/store/summaries.py
writes them): the verdict after waivers, the failed and warned rule ids, the content flags
with their first timecode, duration, size, resolution, and ``checks``, the compact form of
every check the export needs (rule, status; messages and the first segments of the failed
and warned ones). ``search_text`` is what a search matches: the file name and the entry's
detail values, NFKC-folded and lower-cased (``fold`` folds the query the same way)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from service.core.labels import CONTENT_RULES

VERDICT_ORDER = ("fail", "error", "warn", "pass", "pending")
"""Sort order of verdicts (worst first); ``pending`` is an entry not checked yet."""

DECISION_ORDER = ("none", "needs_fix", "reject", "accept")
"""Sort order of decisions (undecided first)."""

MAX_SEGMENTS = 3
"""Segments kept per flagged check (the export shows the first three)."""


def fold(text: str) -> str:
    """Text as searches compare it: NFKC (full-width letters and digits become ASCII) and lower-cased."""
    return unicodedata.normalize("NFKC", text).casefold()


def search_text(file_name: str, details: Mapping[str, Any] | None) -> str:
    """The file name and the detail values, folded, one per line."""
    values = [file_name] + [str(v) for v in (details or {}).values() if v not in (None, "")]
    return "\n".join(fold(v) for v in values)


def compact_checks(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every check as ``{"rule", "status"}``; failed and warned ones also with their message
    (``zh``, ``en``) and first segments (``seg``)."""
    out = []
    for c in report.get("checks") or []:
        item: dict[str, Any] = {"rule": c["rule"], "status": c["status"]}
        if c["status"] in ("fail", "warn"):
            msg = c.get("message") or {}
            item |= {"zh": msg.get("zh-CN", ""), "en": msg.get("en", "")}
            if c.get("segments"):
                item["seg"] = [list(s) for s in c["segments"][:MAX_SEGMENTS]]
        out.append(item)
    return out


def effective(checks: Iterable[Mapping[str, Any]], report_verdict: str | None,
              waived: Iterable[str]) -> dict[str, Any]:
    """The verdict, failed, warned and content flags once ``waived`` rules no longer count."""
    skip = set(waived)
    kept = [c for c in checks if c["rule"] not in skip]
    failed = [c["rule"] for c in kept if c["status"] == "fail"]
    warned = [c["rule"] for c in kept if c["status"] == "warn"]
    if report_verdict is None:
        verdict = "pending"
    elif report_verdict == "error":
        verdict = "error"
    else:
        verdict = "fail" if failed else "warn" if warned else "pass"
    content = [{"rule": c["rule"], "start": (c.get("seg") or [[None]])[0][0]}
               for c in kept if c["rule"] in CONTENT_RULES and c["status"] in ("fail", "warn")]
    return {"verdict": verdict, "verdict_rank": VERDICT_ORDER.index(verdict), "failed": failed,
            "warned": warned, "content": content, "warnings_count": len(content),
            "content_rules": " " + " ".join(c["rule"] for c in content) + " "}


def summarise(report: Mapping[str, Any] | None, *, waived: Iterable[str] = (),
              decision: str | None = None) -> dict[str, Any]:
    """The summary columns of an entry from its latest report of the original (None while it
    is being checked) and its review state."""
    checks = compact_checks(report) if report else []
    media = (report or {}).get("media") or {}
    profile = (report or {}).get("profile") or {}
    waived = tuple(sorted(set(waived)))
    return {
        "report_verdict": report.get("verdict") if report else None,
        "checks": checks,
        "rule_ids": " ".join(c["rule"] for c in checks),
        "duration_s": media.get("duration_s"),
        "width": media.get("width"),
        "height": media.get("height"),
        "size_unit": profile.get("size_unit") or "binary",
        "deep": bool(report and report.get("analysis")),
        "waived": list(waived),
        "decision": decision or "none",
        "decision_rank": DECISION_ORDER.index(decision or "none"),
        **effective(checks, report.get("verdict") if report else None, waived),
    }
