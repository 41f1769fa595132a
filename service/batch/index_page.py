"""index.html of a batch, as values for ``batch/index.html`` (service/pages): counts per
verdict, the most frequent failures, and a row per file linking to its report page.
Self-contained (inline style, no scripts), bilingual headings, every name escaped by the
template. Drawn from the same records as the spreadsheets, written row by row."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from service.batch.summary import Stats
from service.batch.task import Record
from service.core.labels import BATCH_VERDICT_LABELS, RULE_LABELS, names
from service.pages import BOTH, stream
from service.store.durable import replace_atomically

TOP_FAILURES = 10
"""How many of the most frequent failed rules the index lists."""


def _failures(stats: Stats) -> list[tuple[tuple[str, str], int, str]]:
    checked = sum(stats.verdicts.get(v, 0) for v in ("pass", "warn", "fail", "error")) or 1
    return [(names(RULE_LABELS, rule), n, f"{100 * n / checked:.0f}%")
            for rule, n in stats.failures.most_common(TOP_FAILURES)]


def _row(i: int, r: Record) -> dict[str, Any]:
    if r.report is not None:
        failed = "、".join(names(RULE_LABELS, c.rule)[0] for c in r.report.checks if c.status == "fail")
        text = r.report.summary.get("zh-CN", "")
    else:
        failed, text = "", (r.reason or {}).get("zh-CN", "")
    return {"number": i, "name": r.entry.name, "href": quote(r.html) if r.html else None, "verdict": r.verdict,
            "verdict_names": names(BATCH_VERDICT_LABELS, r.verdict), "failed": failed, "summary": text}


def index_view(records: Iterable[Record], stats: Stats, *, profile: str, created_at: str) -> dict[str, Any]:
    """The values of the page (``rows`` a generator: one record at a time)."""
    rows: Iterator[dict[str, Any]] = (_row(i, r) for i, r in enumerate(records, 1))
    return {
        "lang": BOTH, "page_class": "batch", "self_contained": True, "title": "批量检查结果 / Batch check results",
        "profile": profile, "created_at": created_at,
        "counts": [(v, names(BATCH_VERDICT_LABELS, v), stats.verdicts.get(v, 0))
                   for v in ("pass", "warn", "fail", "error", "skipped")],
        "total": stats.total, "failures": _failures(stats), "rows": rows,
    }


def write_index(path: str | os.PathLike[str], records: Iterable[Record], stats: Stats, *, profile: str,
                created_at: str) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.writelines(stream("batch/index.html",
                                 **index_view(records, stats, profile=profile, created_at=created_at)))
    replace_atomically(path, write)
