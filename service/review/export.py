"""The campaign spreadsheet: one row per entry with its facts, verdict, failed rules and
warnings, and the reviewer's decision; XLSX (openpyxl) and CSV. Headers are Chinese by
default (``lang="en"`` for English). Pure apart from writing the file it is given, which
appears complete or not at all (written beside it, then renamed).

Columns: the fixed ones (``FIXED_COLUMNS``), then one per rule seen in the campaign
("检查：时长" …), in a stable order (metadata rules, then content rules), holding that
rule's status (通过 / 警告 / 不符合 / 未检查 / 已豁免).

A campaign's export is made from the entries' summary rows (``campaign_rows``: rows of
``EXPORT_COLUMNS``, no report parsed) and streamed (``csv_stream``, ``xlsx_stream``): rows go
out as they are made, each by the one row function of the export (``export_rows.row_maker``).

File names come from submitters: a cell that would start a formula (= + - @) is written as
text, in both formats (CSV cells get a leading apostrophe, as OWASP advises); that guard,
the byte-order mark, the styles and the atomic replace are ``sheets``, shared with the
batch summary."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Text, cast

from service.core.entry_fields import FieldSpec
from service.core.labels import (
    CONTENT_RULES,
    RULE_LABELS,
    label,
)
from service.core.report import Report
from service.core.summaries import MAX_SEGMENTS, effective
from service.review import listing
from service.review.details_columns import details_headers
from service.review.export_rows import RowMaker, row_maker
from service.store import sheets
from service.store.database import Database, aware
from service.store.durable import replace_atomically
from service.store.models import Submission, SubmissionSummary

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


@dataclass(slots=True)
class ExportRow:
    """What one row is made of, read from a report (``of_entry``: the CLI's export of report
    files) or from an entry's summary row (``of_summary``: the campaign export, no report
    parsed). ``checks`` in the compact form of core.summaries (rule, status; messages and first
    segments of the failed and warned ones)."""

    entry_id: str | None
    file_name: str
    size_bytes: int
    size_unit: str
    duration_s: float | None
    width: int | None
    height: int | None
    report_verdict: str
    checks: Sequence[dict[str, Any]]
    waived: tuple[str, ...] = ()
    decision: ExportDecision | None = None
    details: Mapping[str, Any] | None = None
    """The entry details (field key → value): one column per field of the campaign."""
    extra: tuple[object, ...] = ()
    """Cells after the rule columns (the hand-over manifest's name in the zip and copy)."""


def of_entry(entry: ExportEntry) -> ExportRow:
    r, m = entry.report, entry.report.media
    checks = []
    for c in r.checks:
        item: dict[str, Any] = {"rule": c.rule, "status": c.status}
        if c.status in ("fail", "warn"):
            item |= {"zh": c.message.get("zh-CN", ""), "en": c.message.get("en", ""),
                     "seg": [list(s) for s in (c.segments or [])[:MAX_SEGMENTS]]}
        checks.append(item)
    return ExportRow(entry_id=entry.entry_id, file_name=r.file.name, size_bytes=r.file.size_bytes,
                     size_unit=r.profile.size_unit or "binary", duration_s=m.duration_s if m else None,
                     width=m.width if m else None, height=m.height if m else None, report_verdict=r.verdict,
                     checks=checks, waived=tuple(entry.waived), decision=entry.decision, details=entry.details)


EXPORT_COLUMNS = (SubmissionSummary.submission_id.label("entry_id"), SubmissionSummary.file_name,
                  SubmissionSummary.size_bytes, SubmissionSummary.size_unit, SubmissionSummary.duration_s,
                  SubmissionSummary.width, SubmissionSummary.height, SubmissionSummary.report_verdict,
                  cast(SubmissionSummary.checks, Text).label("checks"),
                  cast(SubmissionSummary.waived, Text).label("waived"), SubmissionSummary.decision,
                  SubmissionSummary.decision_by, SubmissionSummary.decision_at, SubmissionSummary.decision_note,
                  cast(Submission.details, Text).label("details"))
"""What a row of the export reads (the summary row, and the entry details of its submission,
joined), in the order of ``parts``: a row of these columns is the row's parts as it comes from
the database. The JSON columns come as their text and are decoded by ``row_maker``'s rows (the
database layer's own JSON decoding took three times as long as json.loads: 27 µs of a CSV
row's 66, on SQLite)."""


def parts(e: ExportRow) -> tuple[Any, ...]:
    """An ExportRow as the export's parts (the order of ``EXPORT_COLUMNS``)."""
    d = e.decision
    return (e.entry_id, e.file_name, e.size_bytes, e.size_unit, e.duration_s, e.width, e.height, e.report_verdict,
            e.checks, e.waived, d.decision if d else None, d.by if d else None, d.at if d else None,
            d.note if d else None, e.details)


def _decoded(value: Any) -> Any:
    """A JSON column read as text (``EXPORT_COLUMNS``), or already decoded."""
    return json.loads(value) if isinstance(value, str) else value


def of_summary(s: Any) -> ExportRow:
    """A row of ``EXPORT_COLUMNS`` as an ExportRow (the hand-over's manifest)."""
    decision = (ExportDecision(decision=s.decision, by=s.decision_by or "",
                               at=aware(s.decision_at) or "", note=s.decision_note)
                if s.decision not in (None, "none") else None)
    return ExportRow(entry_id=s.entry_id, file_name=s.file_name, size_bytes=s.size_bytes,
                     size_unit=s.size_unit, duration_s=s.duration_s, width=s.width, height=s.height,
                     report_verdict=s.report_verdict or "error", checks=_decoded(s.checks),
                     waived=tuple(_decoded(s.waived)), decision=decision, details=_decoded(s.details))


def rule_order(rules: Iterable[str]) -> list[str]:
    """The rule columns: metadata rules, then content rules, each in the labels' order."""
    seen = set(rules) - {"readable", "media_kind"}
    known = list(RULE_LABELS)
    return sorted(seen, key=lambda r: (r in CONTENT_RULES, known.index(r) if r in known else len(known), r))


def headers(rules: Sequence[str], lang: str = "zh-CN", fields: Sequence[FieldSpec] = (),
            extra: Sequence[str] = ()) -> list[str]:
    """The fixed columns, the entry details' (``fields``), one per rule, then ``extra``."""
    en = lang.startswith("en")
    prefix = "Check: " if en else "检查："
    fixed = [c[2] if en else c[1] for c in FIXED_COLUMNS]
    return fixed + details_headers(fields, lang) + [prefix + label(RULE_LABELS, r, lang) for r in rules] + [*extra]


def verdict_of_row(e: ExportRow) -> str:
    return effective(e.checks, e.report_verdict, e.waived)["verdict"]  # type: ignore[no-any-return]


def row(index: int, entry: ExportRow | ExportEntry | Sequence[Any], rules: Sequence[str], lang: str = "zh-CN",
        fields: Sequence[FieldSpec] = ()) -> list[object]:
    """The cells of one entry (an ExportRow, an ExportEntry, or a row of ``EXPORT_COLUMNS``), in the
    order of ``headers``."""
    return _made(row_maker(rules, lang, fields), index, entry)[0]


def _made(make: RowMaker, index: int, e: ExportRow | ExportEntry | Sequence[Any]) -> tuple[list[object], str]:
    if isinstance(e, ExportEntry):
        e = of_entry(e)
    if not isinstance(e, ExportRow):
        return make(index, e)
    cells, verdict = make(index, parts(e))
    cells.extend(e.extra)
    return cells, verdict


def table(entries: Sequence[ExportEntry], lang: str = "zh-CN", fields: Sequence[FieldSpec] = ()
          ) -> tuple[list[str], list[list[object]]]:
    """Headers and rows (pure); the entry details' columns (``fields``) follow the fixed ones."""
    rules = rule_order(c.rule for e in entries for c in e.report.checks)
    return headers(rules, lang, fields), [row(i, e, rules, lang, fields) for i, e in enumerate(entries, start=1)]


COLUMN_WIDTHS = {"file_name": 36, "failed": 24, "warnings": 24, "content_warnings": 36, "details": 60,
                 "note": 30, "decided_at": 18}
"""Widths of the fixed columns that need more than ``DEFAULT_WIDTH``; rule columns keep Excel's."""
DEFAULT_WIDTH = 12


def _layout(lang: str, title: str | None) -> sheets.SheetLayout:
    return sheets.SheetLayout(title or ("作品" if not lang.startswith("en") else "Entries"),
                              widths=[COLUMN_WIDTHS.get(key, DEFAULT_WIDTH) for key, _, _ in FIXED_COLUMNS],
                              freeze="D2", wrap_head=True, filter_rows=True)


_VERDICT_COL = [c[0] for c in FIXED_COLUMNS].index("verdict")


def _styled_rows(rows: Iterable[ExportRow | Sequence[Any]], rules: Sequence[str], lang: str,
                 fields: Sequence[FieldSpec]) -> Iterator[list[object]]:
    make = row_maker(rules, lang, fields)
    for i, e in enumerate(rows, start=1):
        values, verdict = _made(make, i, e)
        values[_VERDICT_COL] = sheets.Styled(values[_VERDICT_COL], fill=_VERDICT_FILL.get(verdict))
        yield values


def csv_stream(rows: Iterable[ExportRow | Sequence[Any]], rules: Sequence[str], lang: str = "zh-CN",
               fields: Sequence[FieldSpec] = ()) -> Iterator[bytes]:
    """The CSV as bytes while the rows come (one row made at a time)."""
    make = row_maker(rules, lang, fields)
    return sheets.csv_chunks(headers(rules, lang, fields), (_made(make, i, e)[0] for i, e in enumerate(rows, start=1)))


def xlsx_stream(rows: Iterable[ExportRow | Sequence[Any]], rules: Sequence[str], lang: str = "zh-CN",
                title: str | None = None, fields: Sequence[FieldSpec] = (),
                extra: Sequence[str] = ()) -> Iterator[bytes]:
    """The workbook as bytes while the rows come: bold frozen header with filters, verdicts
    coloured; ``extra``: the headers of the rows' ``extra`` cells, last (the hand-over's names)."""
    return sheets.xlsx_chunks(headers(rules, lang, fields, extra), _styled_rows(rows, rules, lang, fields),
                              _layout(lang, title))


def write_csv(entries: Sequence[ExportEntry], path: str | os.PathLike[str], lang: str = "zh-CN",
              fields: Sequence[FieldSpec] = ()) -> Path:
    """CSV in UTF-8 with a byte-order mark (so Excel shows the Chinese), one row per entry."""
    head, rows = table(entries, lang, fields)
    return sheets.write_csv(path, head, rows)


def write_xlsx(entries: Sequence[ExportEntry], path: str | os.PathLike[str], lang: str = "zh-CN",
               title: str | None = None, fields: Sequence[FieldSpec] = (),
               extra: Sequence[tuple[str, Sequence[object]]] = ()) -> Path:
    """An Excel workbook: one sheet, bold frozen header with filters, verdicts coloured;
    ``extra`` columns (header, one value per entry) go last."""
    rules = rule_order(c.rule for e in entries for c in e.report.checks)
    rows = [of_entry(e) for e in entries]
    for i, r in enumerate(rows):
        r.extra = tuple(values[i] for _, values in extra)
    return sheets.write_xlsx(path, headers(rules, lang, fields, [h for h, _ in extra]),
                             _styled_rows(rows, rules, lang, fields), _layout(lang, title))


def campaign_rows(db: Database, campaign_id: str) -> tuple[list[str], Iterator[Sequence[Any]]]:
    """The rule columns of a campaign's export and its rows (checked entries, oldest first, with
    their entry details) as rows of ``EXPORT_COLUMNS`` (``of_summary`` makes one an ExportRow),
    read from the summary rows a batch at a time in a session of their own, held while the rows
    are drawn."""
    q = listing.Query(campaign_id=campaign_id, limit=listing.EXPORT_BATCH)
    with db.session() as s:
        rules = rule_order(listing.rule_ids(s, q))

    def rows() -> Iterator[Sequence[Any]]:
        with db.session() as s:
            for summary in listing.every(s, q, EXPORT_COLUMNS, join=True):
                if summary.report_verdict is not None:
                    yield summary

    return rules, rows()


def file_name(title: str, campaign_id: str, fmt: str, lang: str, stamp: str) -> tuple[str, str]:
    """The download's name (the campaign's title) and its ASCII fallback (the campaign id)."""
    return f"{title}-{'entries' if lang == 'en' else '作品'}-{stamp}.{fmt}", f"{campaign_id}-{stamp}.{fmt}"


def write_campaign(db: Database, campaign_id: str, path: str | os.PathLike[str], fmt: str, lang: str = "zh-CN",
                   title: str | None = None, fields: Sequence[FieldSpec] = ()) -> tuple[Path, int]:
    """A campaign's export as a file (the background export job): written beside its name and
    renamed into place. Returns the path and the number of entries."""
    rules, rows = campaign_rows(db, campaign_id)
    n = 0

    def counted() -> Iterator[Sequence[Any]]:
        nonlocal n
        for r in rows:
            n += 1
            yield r

    chunks = (xlsx_stream(counted(), rules, lang, title, fields) if fmt == "xlsx"
              else csv_stream(counted(), rules, lang, fields))

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            for chunk in chunks:
                fh.write(chunk)

    return replace_atomically(path, write), n
