"""The campaign spreadsheet: XLSX opened back with openpyxl, CSV read back with csv."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from service.media.checker import check_file
from service.review.export import FIXED_COLUMNS, ExportDecision, ExportEntry, table, write_csv, write_xlsx
from tests.support.media import copy_as
from tests.support.scenes import LARGE as scenes

CAMPAIGN = ["good", "pillarboxed", "frozen_slide", "black_opening", "silent", "interlaced"]
AT = datetime(2023, 5, 20, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def entries(store):
    """The done-when campaign: a good entry and one per content problem, with decisions."""
    profile = store.get("shanxi-2023-microvideo")
    reports = {n: check_file(getattr(scenes, n)(), profile, display_name=f"{n}.mp4", deep=True)
               for n in CAMPAIGN}
    return [
        ExportEntry(reports["good"], "E001", ExportDecision("accept", "reviewer-li", AT, "画面清晰")),
        ExportEntry(reports["pillarboxed"], "E002", ExportDecision("reject", "reviewer-li", AT, "4:3 加黑边")),
        ExportEntry(reports["frozen_slide"], "E003", ExportDecision("needs_fix", "reviewer-wang", "2023-05-20T10:00")),
        ExportEntry(reports["black_opening"], "E004", waived=("black_segments",)),
        ExportEntry(reports["silent"], "E005"),
        ExportEntry(reports["interlaced"], "E006"),
    ]


def test_xlsx_opens_with_chinese_headers_and_one_row_per_entry(entries, tmp_path):
    path = write_xlsx(entries, tmp_path / "campaign.xlsx")
    ws = load_workbook(path).active
    head = [c.value for c in ws[1]]
    assert head[:len(FIXED_COLUMNS)] == [c[1] for c in FIXED_COLUMNS]
    assert head[:7] == ["序号", "作品编号", "文件名", "大小（兆）", "时长（秒）", "分辨率", "检查结论"]
    for name in ("黑场", "静止画面", "幻灯片式画面", "静音", "响度", "黑边（全画幅）", "隔行锯齿", "时长",
                 "分辨率"):
        assert "检查：" + name in head
    assert ws.max_row == 1 + len(CAMPAIGN)
    rows = {r[1]: dict(zip(head, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["E001"]["文件名"] == "good.mp4" and rows["E001"]["评审决定"] == "接受"
    assert rows["E001"]["决定人"] == "reviewer-li" and rows["E001"]["决定时间"] == "2023-05-20T09:30+00:00"
    assert rows["E002"]["检查：黑边（全画幅）"] == "不符合" and "黑边（全画幅）" in rows["E002"]["不合格项"]
    assert rows["E002"]["评审决定"] == "拒绝" and rows["E002"]["评审备注"] == "4:3 加黑边"
    assert rows["E003"]["检查：幻灯片式画面"] == "警告"
    assert "静止画面 00:00:00.0–00:00:12.0" in rows["E003"]["内容提示"]
    assert rows["E003"]["评审决定"] == "需修改"
    assert rows["E004"]["检查：黑场"] == "已豁免" and rows["E004"]["已豁免"] == "黑场"
    assert "黑场" not in (rows["E004"]["警告项"] or "")
    assert rows["E005"]["检查：静音"] == "警告" and rows["E006"]["检查：隔行锯齿"] == "警告"
    assert rows["E001"]["分辨率"] == "1280×720" and rows["E001"]["时长（秒）"] == 5.0
    assert ws.freeze_panes == "D2" and ws.auto_filter.ref


def test_english_headers(entries, tmp_path):
    ws = load_workbook(write_xlsx(entries, tmp_path / "en.xlsx", lang="en")).active
    head = [c.value for c in ws[1]]
    assert head[:3] == ["No.", "Entry ID", "File name"] and "Check: Black bars (full frame)" in head
    assert ws.cell(row=2, column=13).value == "Accept"


def test_csv_has_bom_and_same_table(entries, tmp_path):
    path = write_csv(entries, tmp_path / "campaign.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the mark
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    head, expected = table(entries)
    assert rows[0] == head and len(rows) == 1 + len(CAMPAIGN)
    assert rows[2][2] == "pillarboxed.mp4" and rows[2][6] == "不通过"


def test_formula_like_file_names_stay_text(store, tmp_path):
    evil = copy_as(scenes.good(), tmp_path, "x.mp4")
    report = check_file(evil, store.get("shanxi-2023-microvideo"), display_name="=HYPERLINK(\"http://x\",\"y\").mp4")
    entries = [ExportEntry(report, "+1", ExportDecision("reject", "@admin", AT, "-2+3"))]
    ws = load_workbook(write_xlsx(entries, tmp_path / "e.xlsx")).active
    cell = ws.cell(row=2, column=3)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    with open(write_csv(entries, tmp_path / "e.csv"), encoding="utf-8-sig", newline="") as fh:
        row = list(csv.reader(fh))[1]
    assert row[1] == "'+1" and row[2].startswith("'=HYPERLINK")
    assert row[13] == "'-2+3" and row[14] == "'@admin"


def test_control_characters_in_a_note_do_not_break_the_export(entries, tmp_path):
    noisy = [ExportEntry(entries[0].report, "E1", ExportDecision("accept", "li", AT, "好\x01作品\x0b"))]
    ws = load_workbook(write_xlsx(noisy, tmp_path / "n.xlsx")).active
    assert ws.cell(row=2, column=14).value == "好作品"
    assert [p.name for p in tmp_path.iterdir()] == ["n.xlsx"]  # no temporary file left


def test_cli_export_from_json_lines(entries, tmp_path):
    import io

    from service.cli.main import main

    jsonl = tmp_path / "reports.jsonl"
    jsonl.write_text("".join(e.report.model_dump_json() + "\n" for e in entries), encoding="utf-8")
    out = io.StringIO()
    assert main(["export", str(jsonl), "-o", str(tmp_path / "c.xlsx")], out) == 0
    assert "6 行" in out.getvalue()
    ws = load_workbook(tmp_path / "c.xlsx").active
    assert ws.max_row == 7 and ws.cell(row=1, column=3).value == "文件名"
    assert main(["export", str(jsonl), "-o", str(tmp_path / "c.txt")], io.StringIO()) == 2
    jsonl.write_text("{not json\n", encoding="utf-8")
    assert main(["export", str(jsonl), "-o", str(tmp_path / "d.csv")], io.StringIO()) == 2
    assert not (tmp_path / "d.csv").exists()
