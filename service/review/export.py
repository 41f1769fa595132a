"""The campaign spreadsheet: one row per entry with its facts, verdict, failed rules and
warnings, and the reviewer's decision; XLSX (openpyxl) and CSV. Headers are Chinese by
default (``lang="en"`` for English). Pure apart from writing the file it is given, which
appears complete or not at all (written beside it, then renamed).

Columns: the fixed ones (``FIXED_COLUMNS``), then one per rule seen in the campaign
("检查：时长" …), in a stable order (metadata rules, then content rules), holding that
rule's status (通过 / 警告 / 不符合 / 未检查 / 已豁免).

File names come from submitters: a cell that would start a formula (= + - @) is written as
text, in both formats (CSV cells get a leading apostrophe, as OWASP advises); that guard,
the byte-order mark, the styles and the atomic replace are ``sheets``, shared with the
batch summary."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from service.core.analysis import timecode
from service.core.entry_fields import FieldSpec
from service.core.labels import (
    CONTENT_RULES,
    DECISION_LABELS,
    RULE_LABELS,
    STATUS_LABELS,
    VERDICT_LABELS,
    label,
    rule_names,
)
from service.core.report import Report
from service.review.details_columns import details_cells, details_headers
from service.review.verdicts import effective_verdict
from service.store import sheets

FIXED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("index", "序号", "No."),
    ("entry_id", "作品编号", "Entry ID"),
    ("file_name", "文件名", "File name"),
    ("size_mb", "大小（兆）", "Size (MB)"),
    ("duration_s", "时长（秒）", "Duration (s)"),
    ("resolution", "分辨率", "Resolution"),
    ("verdict", "检查结论", "Verdict"),  # after waivers
    ("failed", "不合格项", "Failed rules"),
    ("warnings", "警告项", "Warnings"),
    ("content_warnings", "内容提示", "Content warnings"),
    ("waived", "已豁免", "Waived"),
    ("details", "问题说明", "Details"),
    ("decision", "评审决定", "Decision"),
    ("note", "评审备注", "Note"),
    ("decided_by", "决定人", "Decided by"),
    ("decided_at", "决定时间", "Decided at"),
)
"""(key, Chinese header, English header) of the columns every export has."""

_VERDICT_FILL = {"pass": "DCFCE7", "warn": "FEF3C7", "fail": "FEE2E2", "error": "E5E7EB"}

DecisionKind = Literal["accept", "reject", "needs_fix"]


@dataclass(frozen=True)
class ExportDecision:
    """A reviewer's latest decision on an entry (the full trail stays in the database)."""

    decision: DecisionKind
    by: str
    at: datetime | str
    note: str | None = None


@dataclass(frozen=True)
class ExportEntry:
    """One row of the campaign spreadsheet: an entry's report, its id, the reviewer's latest
    decision and the rules waived."""

    report: Report
    entry_id: str | None = None
    decision: ExportDecision | None = None
    waived: tuple[str, ...] = field(default=())
    """Rule ids a reviewer waived (creative intent): shown as waived, not as failed."""
    details: dict[str, str] | None = None
    """The entry details (field key → value), one column per field of the campaign."""


def _rule_order(entries: Sequence[ExportEntry]) -> list[str]:
    seen: list[str] = []
    for e in entries:
        for c in e.report.checks:
            if c.rule not in seen and c.rule not in ("readable", "media_kind"):
                seen.append(c.rule)
    known = list(RULE_LABELS)
    return sorted(seen, key=lambda r: (r in CONTENT_RULES, known.index(r) if r in known else len(known), r))


def headers(rules: Sequence[str], lang: str = "zh-CN") -> list[str]:
    en = lang.startswith("en")
    prefix = "Check: " if en else "检查："
    fixed = [c[2] if en else c[1] for c in FIXED_COLUMNS]
    return fixed + [prefix + label(RULE_LABELS, r, lang) for r in rules]


def row(index: int, entry: ExportEntry, rules: Sequence[str], lang: str = "zh-CN") -> list[object]:
    """The cells of one entry, in the order of ``headers``."""
    r = entry.report
    key = "en" if lang.startswith("en") else "zh-CN"
    waived = set(entry.waived)
    failed = [c for c in r.checks if c.status == "fail" and c.rule not in waived]
    warned = [c for c in r.checks if c.status == "warn" and c.rule not in waived]
    content = [c for c in r.checks if c.rule in CONTENT_RULES and c.status in ("fail", "warn")
               and c.rule not in waived]
    unit = 2**20 if (r.profile.size_unit or "binary") == "binary" else 10**6
    m = r.media
    d = entry.decision
    status = {c.rule: c.status for c in r.checks}
    at = d.at.isoformat(timespec="minutes") if d and isinstance(d.at, datetime) else d.at if d else None

    def content_text(c) -> str:  # type: ignore[no-untyped-def]
        spans = ", ".join(f"{timecode(a)}–{timecode(b)}" for a, b in (c.segments or [])[:3])
        return label(RULE_LABELS, c.rule, lang) + (f" {spans}" if spans else "")

    cells: list[object] = [
        index, entry.entry_id, r.file.name, round(r.file.size_bytes / unit, 1),
        round(m.duration_s, 1) if m and m.duration_s is not None else None,
        f"{m.width}×{m.height}" if m and m.width and m.height else None,
        label(VERDICT_LABELS, effective_verdict(r, waived), lang), rule_names((c.rule for c in failed), lang),
        rule_names((c.rule for c in warned), lang), "; ".join(content_text(c) for c in content),
        rule_names(sorted(waived), lang), "\n".join(c.message[key] for c in [*failed, *warned]),
        label(DECISION_LABELS, d.decision, lang) if d else None, d.note if d else None,
        d.by if d else None, at,
    ]
    for rule in rules:
        s = status.get(rule)
        cells.append(None if s is None else label(STATUS_LABELS, "waived" if rule in waived else s, lang))
    return cells


def table(entries: Sequence[ExportEntry], lang: str = "zh-CN", fields: Sequence[FieldSpec] = ()
          ) -> tuple[list[str], list[list[object]]]:
    """Headers and rows (pure); the entry details' columns (``fields``) follow the fixed ones."""
    rules = _rule_order(entries)
    n = len(FIXED_COLUMNS)
    head = headers(rules, lang)
    rows = [row(i, e, rules, lang) for i, e in enumerate(entries, start=1)]
    head[n:n] = details_headers(fields, lang)
    for e, r in zip(entries, rows, strict=True):
        r[n:n] = details_cells(fields, e.details)
    return head, rows


COLUMN_WIDTHS = {"file_name": 36, "failed": 24, "warnings": 24, "content_warnings": 36, "details": 60,
                 "note": 30, "decided_at": 18}
"""Widths of the fixed columns that need more than ``DEFAULT_WIDTH``; rule columns keep Excel's."""
DEFAULT_WIDTH = 12


def write_csv(entries: Sequence[ExportEntry], path: str | os.PathLike[str], lang: str = "zh-CN",
              fields: Sequence[FieldSpec] = ()) -> Path:
    """CSV in UTF-8 with a byte-order mark (so Excel shows the Chinese), one row per entry."""
    head, rows = table(entries, lang, fields)
    return sheets.write_csv(path, head, rows)


def write_xlsx(entries: Sequence[ExportEntry], path: str | os.PathLike[str], lang: str = "zh-CN",
               title: str | None = None, fields: Sequence[FieldSpec] = (),
               extra: Sequence[tuple[str, Sequence[object]]] = ()) -> Path:
    """An Excel workbook: one sheet, bold frozen header with filters, verdicts coloured;
    ``extra`` columns (header, one value per entry) go last (the hand-over's file names)."""
    head, rows = table(entries, lang, fields)
    for name, values in extra:
        head.append(name)
        for r, v in zip(rows, values, strict=True):
            r.append(v)
    verdict_col = [c[0] for c in FIXED_COLUMNS].index("verdict")
    for entry, values in zip(entries, rows, strict=True):
        fill = _VERDICT_FILL.get(effective_verdict(entry.report, entry.waived))
        values[verdict_col] = sheets.Styled(values[verdict_col], fill=fill)
    layout = sheets.SheetLayout(title or ("作品" if not lang.startswith("en") else "Entries"),
                           widths=[COLUMN_WIDTHS.get(key, DEFAULT_WIDTH) for key, _, _ in FIXED_COLUMNS],
                           freeze="D2", wrap_head=True, filter_rows=True)
    return sheets.write_xlsx(path, head, rows, layout)
