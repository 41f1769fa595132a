"""The spreadsheets of a batch: summary.csv (UTF-8 with BOM, so Excel on Chinese Windows
reads it right) and summary.xlsx, one row per file, Chinese headers with English beside
them, the verdict, one column per rule that failed or warned anywhere, and a link to the
file's HTML report. Both are drawn from the same records as index.html.

Cells are always text: a file named ``=HYPERLINK(...)`` stays a name (no formula)."""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .batch_task import Record
from .report_html import RULE_TITLES, VERDICT_TITLES, rule_title

BASE_HEADERS = ("序号 No.", "文件 File", "结论 Verdict", "说明 Summary", "大小 MiB", "时长 秒 Duration s",
                "画面 Size", "封装 Container", "视频编码 Video", "音频编码 Audio", "来源 Source", "sha256",
                "报告 Report")
"""The columns before the per-rule columns."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
        order = {r: i for i, r in enumerate(RULE_TITLES)}
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
    return list(BASE_HEADERS) + [f"{zh} {en}" for zh, en in map(rule_title, stats.rule_columns)]


def source_of(r: Record) -> str:
    return f"{r.entry.source} :: {r.entry.name}" if r.entry.member is not None else r.entry.source


def row(i: int, r: Record, stats: Stats) -> list[str]:
    """The cells of one record, as text, in the order of ``headers``."""
    vzh, ven = VERDICT_TITLES[r.verdict]
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


def _text(value: str) -> str:
    """A CSV cell Excel will not run as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def write_csv(path: str | os.PathLike[str], records: Iterable[Record], stats: Stats) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(headers(stats))
            for i, r in enumerate(records, 1):
                w.writerow([_text(c) for c in row(i, r, stats)])
    _atomic(Path(path), write)


def write_xlsx(path: str | os.PathLike[str], records: Iterable[Record], stats: Stats) -> None:
    """summary.xlsx in openpyxl's write-only mode (rows are streamed, not held)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    fills = {"pass": "E6F4EA", "warn": "FFF4D6", "fail": "FCE8E6", "error": "FCE8E6", "skipped": "EEEEEE"}
    link_col = BASE_HEADERS.index("报告 Report")
    name_col = BASE_HEADERS.index("文件 File")
    verdict_col = BASE_HEADERS.index("结论 Verdict")

    def write(tmp: Path) -> None:
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("检查结果")
        ws.freeze_panes = "C2"
        heads = headers(stats)
        widths = [6, 48, 18, 48, 9, 10, 11, 10, 10, 10, 40, 20, 22] + [28] * len(stats.rule_columns)
        for col, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(col)].width = width
        ws.auto_filter.ref = f"A1:{get_column_letter(len(heads))}1"
        bold = Font(bold=True)
        head_cells = []
        for h in heads:
            cell = WriteOnlyCell(ws, value=h)
            cell.font = bold
            head_cells.append(cell)
        ws.append(head_cells)
        for i, r in enumerate(records, 1):
            cells = []
            for col, value in enumerate(row(i, r, stats)):
                cell = WriteOnlyCell(ws, value=int(value) if col == 0 else value)
                if col != 0:
                    cell.data_type = "s"
                if col in (name_col, link_col) and r.html:
                    cell.hyperlink = r.html
                    cell.style = "Hyperlink"
                if col == verdict_col:
                    cell.fill = PatternFill("solid", fgColor=fills.get(r.verdict, "FFFFFF"))
                cells.append(cell)
            ws.append(cells)
        wb.save(tmp)
    _atomic(Path(path), write)


def iter_rows(records: Iterable[Record], stats: Stats) -> Iterator[list[str]]:
    for i, r in enumerate(records, 1):
        yield row(i, r, stats)
