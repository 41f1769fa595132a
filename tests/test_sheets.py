"""The spreadsheet mechanics shared by the batch summary and the campaign export: formulas
stay text in both formats, files appear whole or not at all."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from service.store import durable, sheets

HOSTILE = ["=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://evil.invalid","点我")']
"""One cell for each character that starts a formula in Excel."""


def _read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_csv_neutralises_every_formula_start(tmp_path):
    path = sheets.write_csv(tmp_path / "s.csv", ["名字 Name", "n"], [[v, 1] for v in HOSTILE])
    rows = _read_csv(path)
    assert [r[0] for r in rows[1:]] == ["'" + v for v in HOSTILE]
    assert all(r[1] == "1" for r in rows[1:])


def test_csv_keeps_harmless_cells_and_empties_none(tmp_path):
    path = sheets.write_csv(tmp_path / "s.csv", ["a", "b", "c"], [["作品/=1+1.mp4", None, 2.5]])
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the mark
    assert _read_csv(path)[1] == ["作品/=1+1.mp4", "", "2.5"]


def test_xlsx_stores_every_formula_start_as_text(tmp_path):
    rows = [[v, sheets.Styled(v, fill="FCE8E6"), sheets.Styled(v, link="reports/a.html")] for v in HOSTILE]
    path = sheets.write_xlsx(tmp_path / "s.xlsx", ["a", "b", "c"], rows, sheets.SheetLayout("表"))
    ws = load_workbook(path).active
    for i, v in enumerate(HOSTILE, start=2):
        for col in (1, 2, 3):
            cell = ws.cell(row=i, column=col)
            assert cell.data_type == "s", (v, col)
            assert cell.value.replace("\n", "\r") == v  # XML turns a CR into a line feed
    assert ws.cell(row=2, column=2).fill.fgColor.rgb.endswith("FCE8E6")
    assert ws.cell(row=2, column=3).hyperlink.target == "reports/a.html"


def test_xlsx_layout_numbers_and_control_characters(tmp_path):
    layout = sheets.SheetLayout("x" * 40, widths=(6, 30), freeze="C2", wrap_head=True, filter_rows=True)
    rows = [[1, "好\x01作品\x0b", None], [2.5, "两\n行", "c"]]
    ws = load_workbook(sheets.write_xlsx(tmp_path / "s.xlsx", ["序号", "名字", "c"], rows, layout)).active
    assert ws.title == "x" * 31  # Excel's limit
    assert ws.freeze_panes == "C2" and ws.auto_filter.ref == "A1:C3"
    assert ws.column_dimensions["A"].width == 6 and ws.column_dimensions["B"].width == 30
    assert ws["A1"].font.b and ws["A1"].alignment.wrap_text
    assert ws["A2"].value == 1 and ws["A2"].data_type == "n" and ws["A3"].value == 2.5
    assert ws["B2"].value == "好作品"  # dropped, not a failed workbook
    assert ws["B3"].alignment.wrap_text and not ws["B2"].alignment.wrap_text
    assert ws["C2"].value is None


def test_a_failing_writer_leaves_no_file_and_the_old_one_intact(tmp_path):
    def half(tmp: Path) -> None:
        tmp.write_text("半个文件", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        durable.replace_atomically(tmp_path / "new.csv", half)
    assert list(tmp_path.iterdir()) == []

    old = tmp_path / "old.csv"
    old.write_text("完整的旧文件", encoding="utf-8")
    with pytest.raises(OSError):
        durable.replace_atomically(old, half)
    assert list(tmp_path.iterdir()) == [old] and old.read_text(encoding="utf-8") == "完整的旧文件"


def test_rows_failing_midway_leave_no_spreadsheet(tmp_path):
    def rows():
        yield ["a"]
        raise RuntimeError("records broke")

    for write, name in ((sheets.write_csv, "s.csv"), (sheets.write_xlsx, "s.xlsx")):
        args = (tmp_path / name, ["h"], rows()) + ((sheets.SheetLayout("t"),) if name.endswith("xlsx") else ())
        with pytest.raises(RuntimeError):
            write(*args)  # type: ignore[operator]
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_creates_the_folder_and_uses_the_usual_permissions(tmp_path):
    path = sheets.write_csv(tmp_path / "新建" / "s.csv", ["h"], [])
    assert path.exists() and sorted(p.name for p in path.parent.iterdir()) == ["s.csv"]
    assert path.stat().st_mode & 0o044  # readable by others as umask allows, not a private temp file


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_streamed_sheet_starts_before_the_rows_are_all_made(fmt):
    made = 0

    def rows():
        nonlocal made
        for i in range(5000):
            made += 1
            yield [f"作品{i}.mp4", i, "=1+1", "两行\n文字"]

    head = ["名", "n", "f", "t"]
    if fmt == "csv":
        chunks = sheets.csv_chunks(head, rows())
    else:
        chunks = sheets.xlsx_chunks(head, rows(), sheets.SheetLayout("表", freeze="B2"))
    first = next(chunks)
    assert made <= 1  # the header (and the first row) went out at once
    data = first + b"".join(chunks)
    assert made == 5000
    if fmt == "xlsx":
        import io

        ws = load_workbook(io.BytesIO(data)).active
        assert ws.freeze_panes == "B2" and ws.max_row == 5001
        assert ws["C2"].value == "=1+1" and ws["C2"].data_type == "s"  # text, not a formula
        assert ws["D2"].alignment.wrap_text and ws["B5001"].value == 4999
    else:
        assert data.decode("utf-8-sig").splitlines()[1] == "作品0.mp4,0,'=1+1,\"两行"
