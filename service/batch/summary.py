"""The spreadsheets of a batch: summary.csv (UTF-8 with BOM, so Excel on Chinese Windows
reads it right) and summary.xlsx, one row per file, Chinese headers with English beside
them, the verdict, one column per rule that failed or warned anywhere, and a link to the
file's HTML report. Both are drawn from the same records as index.html.

Cells are always text: a file named ``=HYPERLINK(...)`` stays a name (no formula); the
mechanics (formula guard, BOM, styles, atomic replace) are ``sheets``, shared with the
campaign export."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from service.batch.task import Record
from service.core.labels import BATCH_VERDICT_LABELS, RULE_LABELS, names
from service.store import sheets

BASE_HEADERS = ("序号 No.", "文件 File", "结论 Verdict", "说明 Summary", "大小 MiB", "时长 秒 Duration s",
                "画面 Size", "封装 Container", "视频编码 Video", "音频编码 Audio", "来源 Source", "sha256",
                "报告 Report")
"""The columns before the per-rule columns."""


@dataclass
class Stats:
    """Counts drawn from the records, for headings and the per-rule columns."""

    total: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)

    @property
    def rule_columns(self) -> list[str]:
        rules = set(self.failures) | set(self.warnings)
        order = {r: i for i, r in enumerate(RULE_LABELS)}
        return sorted(rules, key=lambda r: (order.get(r, len(order)), r))


def collect_stats(records: Iterable[Record]) -> Stats:
    stats = Stats()
    for r in records:
        stats.total += 1
        stats.verdicts[r.verdict] += 1
        if r.report is not None:
            for c in r.report.checks:
                if c.status == "fail":
                    stats.failures[c.rule] += 1
                elif c.status == "warn":
                    stats.warnings[c.rule] += 1
    return stats


def headers(stats: Stats) -> list[str]:
    return list(BASE_HEADERS) + [" ".join(names(RULE_LABELS, r)) for r in stats.rule_columns]


def source_of(r: Record) -> str:
    return f"{r.entry.source} :: {r.entry.name}" if r.entry.member is not None else r.entry.source


def row(i: int, r: Record, stats: Stats) -> list[str]:
    """The cells of one record, as text, in the order of ``headers``."""
    vzh, ven = names(BATCH_VERDICT_LABELS, r.verdict)
    rep = r.report
    m = rep.media if rep is not None else None
    summary = rep.summary.get("zh-CN", "") if rep is not None else (r.reason or {}).get("zh-CN", "")
    size = f"{r.entry.size / 2**20:.1f}"
    duration = f"{m.duration_s:.1f}" if m is not None and m.duration_s is not None else ""
    dims = f"{m.width}×{m.height}" if m is not None and m.width and m.height else ""
    cells = [str(i), r.entry.name, f"{vzh} {ven}", summary, size, duration, dims,
             (m.container or "") if m else "", (m.video_codec or "") if m else "", (m.audio_codec or "") if m else "",
             source_of(r), (rep.file.sha256 or "") if rep else "", r.html or ""]
    by_rule = {c.rule: c for c in rep.checks} if rep is not None else {}
    for rule in stats.rule_columns:
        c = by_rule.get(rule)
        if c is None or c.status not in ("fail", "warn"):
            cells.append("")
            continue
        mark = "✗ 不符合" if c.status == "fail" else "! 警告"
        cells.append(f"{mark}：{c.actual or '—'}（要求 {c.expected or '—'}）")
    return cells


def iter_rows(records: Iterable[Record], stats: Stats) -> Iterator[list[str]]:
    """The cells of each record, numbered from 1, as they are read (a batch is not held)."""
    for i, r in enumerate(records, 1):
        yield row(i, r, stats)


VERDICT_FILLS = {"pass": "E6F4EA", "warn": "FFF4D6", "fail": "FCE8E6", "error": "FCE8E6", "skipped": "EEEEEE"}
"""Verdict → fill of its cell in summary.xlsx."""

WIDTHS = (6, 48, 18, 48, 9, 10, 11, 10, 10, 10, 40, 20, 22)
"""Widths of the ``BASE_HEADERS`` columns in summary.xlsx; each rule column is ``RULE_WIDTH``."""
RULE_WIDTH = 28


def write_csv(path: str | os.PathLike[str], records: Iterable[Record], stats: Stats) -> None:
    sheets.write_csv(path, headers(stats), iter_rows(records, stats))


def xlsx_row(i: int, r: Record, stats: Stats) -> list[object]:
    """``row`` for summary.xlsx: the number as a number, the name and the report linked to
    the report page, the verdict coloured."""
    cells: list[object] = list(row(i, r, stats))
    cells[0] = i
    if r.html:
        for col in (BASE_HEADERS.index("文件 File"), BASE_HEADERS.index("报告 Report")):
            cells[col] = sheets.Styled(cells[col], link=r.html)
    verdict_col = BASE_HEADERS.index("结论 Verdict")
    cells[verdict_col] = sheets.Styled(cells[verdict_col], fill=VERDICT_FILLS.get(r.verdict))
    return cells


def write_xlsx(path: str | os.PathLike[str], records: Iterable[Record], stats: Stats) -> None:
    """summary.xlsx, streamed (rows are not held): header frozen with the first two columns."""
    layout = sheets.SheetLayout("检查结果", widths=WIDTHS + (RULE_WIDTH,) * len(stats.rule_columns), freeze="C2")
    rows = (xlsx_row(i, r, stats) for i, r in enumerate(records, 1))
    sheets.write_xlsx(path, headers(stats), rows, layout)
