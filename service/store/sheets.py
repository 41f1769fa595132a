"""How mediacheck writes a spreadsheet, whatever its columns: the batch summary
(``summary.py``) and the reviewers' campaign export (``export.py``) both come through here,
so the two cannot drift apart on what protects the people who open them.

- Cells are text, never formulas. File names, notes and reviewer names come from
  submitters; a value starting with = + - @ tab or CR would run in Excel. CSV cells get a
  leading apostrophe (as OWASP advises), XLSX cells are typed as strings.
- CSV is UTF-8 with a byte-order mark: without it Excel on Chinese Windows reads GBK and
  shows the Chinese as mojibake.
- XLSX is written in openpyxl's write-only mode (rows streamed, not held, for batches of
  thousands): bold header, frozen panes, a filter, column widths, optional fills and links.
  Characters XLSX cannot store (control characters) are dropped instead of failing the file.
- A file appears complete or not at all: it is written beside its final name and renamed
  over it; when the writer raises, the half-written file is removed.

The callers keep their own columns, rows, colours and widths."""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from service.store.durable import replace_atomically

if TYPE_CHECKING:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make Excel (or LibreOffice) read a CSV cell as a formula."""

SHEET_TITLE_MAX = 31
"""Excel refuses longer sheet names."""


def neutralise(value: str) -> str:
    """``value`` as a CSV cell Excel will show rather than run: a leading apostrophe when it
    would start a formula, unchanged otherwise."""
    return "'" + value if value.startswith(FORMULA_START) else value


def csv_cell(value: object) -> object:
    """A value as the csv module should write it: empty for None, neutralised text, numbers
    as they are."""
    if value is None:
        return ""
    return neutralise(value) if isinstance(value, str) else value


def write_csv(path: str | os.PathLike[str], head: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """``head`` and ``rows`` as CSV in UTF-8 with a byte-order mark, every cell through
    ``csv_cell``; rows are written as they come (a generator is not held in memory)."""

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow([csv_cell(h) for h in head])
            for r in rows:
                w.writerow([csv_cell(v) for v in r])

    return replace_atomically(path, write)


@dataclass(frozen=True)
class Styled:
    """A cell value with a look: ``fill`` an RGB colour such as ``"FCE8E6"`` (the verdict
    colours), ``link`` a hyperlink target (shown in the workbook's Hyperlink style)."""

    value: object
    fill: str | None = None
    link: str | None = None


@dataclass(frozen=True)
class SheetLayout:
    """What a sheet looks like apart from its cells.

    ``widths``: of the first columns, in Excel's character units (the others keep Excel's
    default). ``freeze``: the top-left cell that stays scrollable (``"C2"`` keeps the header
    row and two columns in view). ``wrap_head``: header cells wrap and align to the top.
    ``filter_rows``: the filter's range spans every row written, not only the header row
    (Excel treats both alike; kept so each caller's file stays as it was)."""

    title: str
    widths: Sequence[float] = ()
    freeze: str | None = None
    wrap_head: bool = False
    filter_rows: bool = False


def write_xlsx(path: str | os.PathLike[str], head: Sequence[str], rows: Iterable[Sequence[object]],
               layout: SheetLayout) -> Path:
    """A one-sheet workbook: ``head`` in bold, then ``rows`` streamed as they come. A cell is
    a plain value (text, a number, None) or a ``Styled`` value; text is stored as text,
    never as a formula, and wraps when it has more than one line."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    def write(tmp: Path) -> None:
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(layout.title[:SHEET_TITLE_MAX])
        if layout.freeze:
            ws.freeze_panes = layout.freeze
        for col, width in enumerate(layout.widths, 1):
            ws.column_dimensions[get_column_letter(col)].width = width
        ws.append(_head_cells(ws, head, layout.wrap_head))
        n = _append_rows(ws, rows)
        last = get_column_letter(max(len(head), 1))
        ws.auto_filter.ref = f"A1:{last}{1 + n if layout.filter_rows else 1}"
        wb.save(tmp)

    return replace_atomically(path, write)


def _append_rows(ws: WriteOnlyWorksheet, rows: Iterable[Sequence[object]]) -> int:
    """Stream ``rows`` into the sheet; how many there were. When a row cannot be made, the
    sheet's stream is closed before the error goes on: left open, openpyxl complains about
    it later, wherever the garbage collector happens to run."""
    n = 0
    try:
        for values in rows:
            ws.append([_cell(ws, v) for v in values])
            n += 1
    except BaseException:
        with contextlib.suppress(Exception):
            ws.close()
        raise
    return n


def _head_cells(ws: WriteOnlyWorksheet, head: Sequence[str], wrap: bool) -> list[WriteOnlyCell]:
    from openpyxl.styles import Font

    cells = [_cell(ws, h) for h in head]
    for cell in cells:
        cell.font = Font(bold=True)
        if wrap:
            cell.alignment = _wrapped()
    return cells


def _cell(ws: WriteOnlyWorksheet, value: object) -> WriteOnlyCell:
    """One cell: text typed as a string (never a formula) with the characters XLSX cannot
    store dropped, other values as they are, then the ``Styled`` look."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import PatternFill

    styled = value if isinstance(value, Styled) else Styled(value)
    v = styled.value
    if isinstance(v, str):
        v = ILLEGAL_CHARACTERS_RE.sub("", v)
    cell = WriteOnlyCell(ws, value=v)
    if isinstance(v, str):
        cell.data_type = "s"
    if styled.link:
        cell.hyperlink = styled.link
        cell.style = "Hyperlink"  # a named style: set before the alignment and fill it would reset
    if isinstance(v, str) and "\n" in v:
        cell.alignment = _wrapped()
    if styled.fill:
        cell.fill = PatternFill("solid", fgColor=styled.fill)
    return cell


def _wrapped() -> Alignment:
    from openpyxl.styles import Alignment

    return Alignment(wrap_text=True, vertical="top")
