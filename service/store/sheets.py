"""How mediacheck writes a spreadsheet, whatever its columns: the batch summary
(``summary.py``) and the reviewers' campaign export (``export.py``) both come through here,
so the two cannot drift apart on what protects the people who open them.

- Cells are text, never formulas. File names, notes and reviewer names come from
  submitters; a value starting with = + - @ tab or CR would run in Excel. CSV cells get a
  leading apostrophe (as OWASP advises), XLSX cells are typed as strings.
- CSV is UTF-8 with a byte-order mark: without it Excel on Chinese Windows reads GBK and
  shows the Chinese as mojibake.
- XLSX is written in openpyxl's write-only mode (rows streamed, not held, for exports of
  tens of thousands): bold header, frozen panes, a filter, column widths, optional fills and
  links. The sheet's XML goes straight into its entry of a zip written to a stream, and each
  row is one XML element made here (openpyxl's per-cell writer is most of the time otherwise).
  Characters XLSX cannot store (control characters) are dropped instead of failing the file.
- Either as bytes while the rows come (``csv_chunks``, ``xlsx_chunks``: a response streams
  them) or as a file, which appears complete or not at all: it is written beside its final
  name and renamed over it; when the writer raises, the half-written file is removed.

The callers keep their own columns, rows, colours and widths."""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.store.durable import replace_atomically

if TYPE_CHECKING:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make Excel (or LibreOffice) read a CSV cell as a formula."""

SHEET_TITLE_MAX = 31
"""Excel refuses longer sheet names."""

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


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

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            for chunk in xlsx_chunks(head, rows, layout):
                fh.write(chunk)

    return replace_atomically(path, write)


CHUNK_BYTES = 64 * 1024
"""A streamed spreadsheet is handed on in pieces of about this size."""


def csv_chunks(head: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """The CSV of ``write_csv`` as bytes, a piece at a time as rows come (the first piece, the
    byte-order mark and the header, at once)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([csv_cell(h) for h in head])
    yield "\ufeff".encode() + buf.getvalue().encode("utf-8")
    buf.seek(0)
    buf.truncate()
    starts = frozenset(FORMULA_START)
    for r in rows:  # csv_cell, inlined: this loop runs once per cell of a 50,000-row export (None: csv
        # writes it as the empty string)
        w.writerow([("'" + v if v[:1] in starts else v) if v.__class__ is str else v for v in r])
        if buf.tell() >= CHUNK_BYTES:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


class _Sink:
    """A write-only, unseekable file: the zip's bytes wait here until handed on."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts, self.size = [], 0
        return out


def xlsx_chunks(head: Sequence[str], rows: Iterable[Sequence[object]], layout: SheetLayout) -> Iterator[bytes]:
    """The workbook of ``write_xlsx`` as bytes while it is made: openpyxl's write-only sheet
    writes its XML straight into the sheet's entry of a zip written to a stream (no temporary
    file, nothing held), the header at once; the workbook's other parts follow the rows."""
    from zipfile import ZIP_DEFLATED, ZipFile

    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._writer import WorksheetWriter
    from openpyxl.writer.excel import ExcelWriter

    class _SheetWritten(ExcelWriter):  # type: ignore[misc]
        def write_worksheet(self, ws: WriteOnlyWorksheet) -> None:  # its XML is in the archive already
            ws._drawing = None
            ws._rels = ws._writer._rels
            self.manifest.append(ws)

    sink = _Sink()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(layout.title[:SHEET_TITLE_MAX])
    if layout.freeze:
        ws.freeze_panes = layout.freeze
    for col, width in enumerate(layout.widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    archive = ZipFile(sink, "w", ZIP_DEFLATED, allowZip64=True)
    ws._id = 1  # what ExcelWriter would number it: its part's name
    entry = archive.open(ws.path[1:], "w", force_zip64=True)
    ws._writer = WorksheetWriter(ws, out=entry)
    ws._writer.write_top()
    cells = _Cells(ws)
    ws._rows = _sheet_data(ws)  # instead of ws.append's own: rows go in as elements (_Cells.row)
    next(ws._rows)
    ws._rows.send((cells.head(head, layout.wrap_head), 1))
    n = 0
    try:
        for values in rows:
            row = cells.row(values, n + 2)
            ws._rows.send(row if row is not None else ([cells.cell(v) for v in values], n + 2))
            n += 1
            if sink.size >= CHUNK_BYTES or n == 1:
                yield sink.take()
        last = get_column_letter(max(len(head), 1))
        ws.auto_filter.ref = f"A1:{last}{1 + n if layout.filter_rows else 1}"
        ws.close()
        entry.close()
        _SheetWritten(wb, archive).save()
    except BaseException:  # close what is open, or the garbage collector complains later, anywhere
        for close in (ws.close, entry.close, archive.close):
            with contextlib.suppress(Exception):
                close()
        raise
    yield sink.take()


def _sheet_data(ws: WriteOnlyWorksheet) -> Generator[None, Any, None]:
    """The sheet's rows, as openpyxl's write-only sheet writes them, taking either a row element
    (written as it is) or (cells, row number) (written by openpyxl's row writer)."""
    xf = ws._writer.xf.send(True)
    with xf.element("sheetData"):
        try:
            while True:
                item = yield
                if isinstance(item, tuple):
                    ws._writer.write_row(xf, ws._values_to_row(item[0], item[1]), item[1])  # lazily: it reuses a cell
                else:
                    xf.write(item)
        except GeneratorExit:
            pass
    ws._writer.xf.send(None)


class _Cells:
    """Makes the cells of one sheet: openpyxl's classes looked up once, one fill per colour,
    one wrapped alignment (not an import and a new style object per cell)."""

    def __init__(self, ws: WriteOnlyWorksheet) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.styles import Alignment, Font, PatternFill

        self.ws, self.make, self.illegal = ws, WriteOnlyCell, ILLEGAL_CHARACTERS_RE
        self.fill_of, self.fills = PatternFill, {}  # type: ignore[var-annotated]
        self.wrapped = Alignment(wrap_text=True, vertical="top")
        self.bold = Font(bold=True)
        from openpyxl.compat.strings import safe_string
        from openpyxl.utils import get_column_letter
        from openpyxl.xml.functions import Element, SubElement  # lxml's when it is installed

        self.element, self.sub, self.number, self.letter = Element, SubElement, safe_string, get_column_letter
        self.style_ids: dict[tuple[str | None, bool], str] = {}

    def head(self, head: Sequence[str], wrap: bool) -> list[WriteOnlyCell]:
        cells = [self.styled(Styled(h)) for h in head]
        for cell in cells:
            cell.font = self.bold
            if wrap:
                cell.alignment = self.wrapped
        return cells

    def cell(self, value: object) -> object:
        """One cell: text typed as a string (never a formula) with the characters XLSX cannot
        store dropped, other values as they are, then the ``Styled`` look. A value that needs
        nothing of that goes as it is: openpyxl makes a cell object it passes in through an
        exception, which costs more than the rest of the cell."""
        if isinstance(value, Styled):
            return self.styled(value)
        v = self.illegal.sub("", value) if isinstance(value, str) else value
        if isinstance(v, str) and (v.startswith("=") or "\n" in v):
            return self.styled(Styled(v))
        return v  # openpyxl types it alike (text as text), without a cell object

    def styled(self, styled: Styled) -> WriteOnlyCell:
        v = styled.value
        text = isinstance(v, str)
        if text:
            v = self.illegal.sub("", v)  # type: ignore[arg-type]
        cell = self.make(self.ws, value=v)
        if text:
            cell.data_type = "s"
            if "\n" in v:  # type: ignore[operator]
                cell.alignment = self.wrapped
        if styled.link:
            cell.hyperlink = styled.link
            cell.style = "Hyperlink"  # a named style: set before the alignment and fill it would reset
            if text and "\n" in v:  # type: ignore[operator]
                cell.alignment = self.wrapped
        if styled.fill:
            fill = self.fills.get(styled.fill)
            if fill is None:
                fill = self.fills[styled.fill] = self.fill_of("solid", fgColor=styled.fill)
            cell.fill = fill
        return cell

    def style(self, fill: str | None, wrap: bool) -> str:
        """The workbook's style id of a cell with ``fill`` and wrapped text (registered once)."""
        key = (fill, wrap)
        sid = self.style_ids.get(key)
        if sid is None:
            cell = self.make(self.ws)
            if wrap:
                cell.alignment = self.wrapped
            if fill:
                cell.fill = self.fill_of("solid", fgColor=fill)
            sid = self.style_ids[key] = str(cell.style_id)
        return sid

    def row(self, values: Sequence[object], index: int) -> Any | None:
        """Row ``index`` as one XML element, cells as openpyxl writes them (inline strings, numbers,
        fills and wrapping by style id), without a cell object each; None for a row with a
        hyperlink or a value of another type (openpyxl's writer takes it)."""
        r = str(index)
        row = self.element("row", r=r)
        sub = self.sub
        for col, value in enumerate(values, 1):
            style = None
            v = value
            if isinstance(v, Styled):
                if v.link:
                    return None
                style = self.style(v.fill, isinstance(v.value, str) and "\n" in v.value)
                v = v.value
            if v is None:
                if style is not None:
                    sub(row, "c", r=self.letter(col) + r, s=style)
                continue
            if isinstance(v, str):
                v = self.illegal.sub("", v)
                if style is None and "\n" in v:
                    style = self.style(None, True)
                c = sub(row, "c", r=self.letter(col) + r, t="inlineStr")
                if v:
                    text = sub(sub(c, "is"), "t")
                    text.text = v
                    if v != v.strip():
                        text.set(XML_SPACE, "preserve")
            elif isinstance(v, bool):
                c = sub(row, "c", r=self.letter(col) + r, t="b")
                sub(c, "v").text = str(int(v))
            elif isinstance(v, int | float):
                c = sub(row, "c", r=self.letter(col) + r, t="n")
                sub(c, "v").text = self.number(v)
            else:
                return None
            if style is not None:
                c.set("s", style)
        return row
