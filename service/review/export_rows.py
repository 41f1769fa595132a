"""One row of the campaign export, made from its parts (the values of ``export.EXPORT_COLUMNS``,
in that order: a summary row as the database gives it, or an ExportRow taken apart). ``row_maker``
gives the function that makes every row of one export: it runs once per entry, so every label
is looked up once per export, the row keeps to local names, walks an entry's checks once, and
decodes the JSON columns itself (json.loads; the entry details only when the campaign has
fields)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from service.core.analysis import timecode
from service.core.entry_fields import FieldSpec
from service.core.labels import CONTENT_RULES, DECISION_LABELS, RULE_LABELS, STATUS_LABELS, VERDICT_LABELS, joined
from service.core.summaries import MAX_SEGMENTS
from service.review.details_columns import details_cells

PARTS = 15
"""How many of a row's first values are its parts (a database row may carry more after them)."""


@dataclass(frozen=True)
class _Words:
    """The labels of one language as plain lookups, made once per export rather than once per
    cell (a 50,000-row export asks for about a million of them)."""

    rule: dict[str, str]
    status: dict[str, str]
    verdict: dict[str, str]
    decision: dict[str, str]
    sep: str
    """Between the names of a list (、 or a comma)."""
    key: str
    """The message's key in a compact check (zh or en)."""


@lru_cache(maxsize=4)
def _words(lang: str) -> _Words:
    i = 1 if lang.startswith("en") else 0

    def of(table: Mapping[str, tuple[str, str]]) -> dict[str, str]:
        return {k: v[i] for k, v in table.items()}

    return _Words(rule=of(RULE_LABELS), status=of(STATUS_LABELS), verdict=of(VERDICT_LABELS),
                  decision=of(DECISION_LABELS), sep=joined(("", ""), lang),
                  key="en" if i else "zh")


RowMaker = Callable[[int, Sequence[Any]], tuple[list[object], str]]
"""Makes one row's cells and its verdict after waivers from the row's parts (``row_maker``)."""


def row_maker(rules: Sequence[str], lang: str, fields: Sequence[FieldSpec]) -> RowMaker:
    """The function that makes each row of one export: (index, parts) → (cells, verdict after
    waivers). A 50,000-row export asks for about a million labels: they are looked up here."""
    w = _words(lang)
    names, sep, key = w.rule, w.sep, w.key
    status_words = {None: None} | w.status
    verdict_words, decision_words = w.verdict, w.decision
    loads, content_rules = json.loads, CONTENT_RULES

    def name(c: Mapping[str, Any]) -> str:
        return names.get(c["rule"], c["rule"])

    def content_text(c: Mapping[str, Any]) -> str:
        spans = ", ".join(f"{timecode(a)}–{timecode(b)}" for a, b in (c.get("seg") or [])[:MAX_SEGMENTS])
        return name(c) + (f" {spans}" if spans else "")

    def make(index: int, p: Sequence[Any]) -> tuple[list[object], str]:
        (entry_id, file_name, size_bytes, size_unit, duration_s, width, height, report_verdict, checks, waived,
         decision, by, at, note, details) = p[:PARTS]
        if checks.__class__ is str:
            checks = loads(checks)
        if waived.__class__ is str:
            waived = loads(waived) if waived != "[]" else ()
        status: dict[str, str] = {}
        flagged: list[Mapping[str, Any]] = []
        for c in checks:
            st = status[c["rule"]] = c["status"]
            if st == "fail" or st == "warn":
                flagged.append(c)
        if waived:
            waived = set(waived)
            flagged = [c for c in flagged if c["rule"] not in waived]
            status |= {r: "waived" for r in waived if r in status}
        failed = [c for c in flagged if c["status"] == "fail"]
        warned = [c for c in flagged if c["status"] == "warn"] if len(failed) < len(flagged) else []
        verdict = ("pending" if report_verdict is None else "error" if report_verdict == "error"
                   else "fail" if failed else "warn" if warned else "pass")
        decided = decision is not None and decision != "none"
        if decided and at.__class__ is datetime:
            at = (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat(timespec="minutes")
        cells: list[object] = [
            index, entry_id, file_name, round(size_bytes / (2**20 if size_unit == "binary" else 10**6), 1),
            round(duration_s, 1) if duration_s is not None else None,
            f"{width}×{height}" if width and height else None,
            verdict_words.get(verdict, verdict), sep.join([name(c) for c in failed]),
            sep.join([name(c) for c in warned]),
            "; ".join([content_text(c) for c in flagged if c["rule"] in content_rules]),
            sep.join([names.get(r, r) for r in sorted(waived)]),
            "\n".join([c.get(key, "") for c in failed] + [c.get(key, "") for c in warned]),
            decision_words.get(decision, decision) if decided else None, note if decided else None,
            (by or "") if decided else None, at if decided else None,
        ]
        if fields:
            cells += details_cells(fields, loads(details) if details.__class__ is str else details)
        cells += [status_words.get(s, s) for s in map(status.get, rules)]
        return cells, verdict

    return make
