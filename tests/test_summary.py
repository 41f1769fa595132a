"""Summaries drawn from records: hostile names stay names (no HTML, no formulas)."""

from __future__ import annotations

import csv
import io
from collections import Counter

from openpyxl import load_workbook

from service.batch.entries import BatchEntry
from service.batch.index_page import write_index
from service.batch.report_view import render_report
from service.batch.summary import Stats, collect_stats, headers, write_csv, write_xlsx
from service.batch.task import Record, error_report

EVIL = '=HYPERLINK("http:evil.invalid","点我")<img src=x onerror=alert(1)>.mp4'


def _records(store) -> list[Record]:
    profile = store.get("shanxi-2023-microvideo")
    bad = BatchEntry(id="/x/" + EVIL, source="/x/" + EVIL, name="作品/" + EVIL, size=10, stamp="1")
    skipped = BatchEntry(id="/x/说明.txt", source="/x/说明.txt", name="作品/说明.txt", size=3, stamp="1", action="skip",
                         reason_code="not_media", reason={"zh-CN": "不是音视频或图片文件", "en": "not media"})
    msg = {"zh-CN": "坏了", "en": "broken"}
    return [Record(entry=bad, status="checked", report=error_report(bad, profile, "truncated", msg),
                   html="reports/abc.html"),
            Record(entry=skipped, status="skipped", reason=skipped.reason)]


def test_counts(store):
    stats = collect_stats(_records(store))
    assert stats.total == 2
    assert dict(stats.verdicts) == {"error": 1, "skipped": 1}
    assert stats.failures == {"readable": 1}
    assert stats.rule_columns == ["readable"]


def test_xlsx_cells_are_text_not_formulas(tmp_path, store):
    records = _records(store)
    write_xlsx(tmp_path / "s.xlsx", records, collect_stats(records))
    ws = load_workbook(tmp_path / "s.xlsx").active
    cell = ws.cell(row=2, column=2)
    assert cell.value == "作品/" + EVIL and cell.data_type == "s"
    assert ws.cell(row=2, column=1).value == 1
    assert ws.cell(row=1, column=14).value == "可读取 Readable"
    assert ws.cell(row=2, column=14).value.startswith("✗ 不符合")
    assert ws.cell(row=3, column=3).value == "已跳过 Skipped"
    assert ws.cell(row=3, column=4).value == "不是音视频或图片文件"


def test_csv_neutralises_formulas(tmp_path, store):
    records = _records(store)
    cut = BatchEntry(id="/x/=1+1.mp4", source="/x/=1+1.mp4", name="=1+1.mp4", size=1, stamp="1", action="skip")
    records.append(Record(entry=cut, status="skipped"))
    write_csv(tmp_path / "s.csv", records, collect_stats(records))
    rows = list(csv.reader(io.StringIO((tmp_path / "s.csv").read_text(encoding="utf-8-sig"))))
    assert rows[1][1] == "作品/" + EVIL  # starts with 作品/, harmless as is
    assert rows[3][1] == "'=1+1.mp4"


def test_index_escapes_names(tmp_path, store):
    records = _records(store)
    write_index(tmp_path / "index.html", records, collect_stats(records), profile="p <b>", created_at="now")
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "p &lt;b&gt;" in html
    assert 'href="reports/abc.html"' in html


def test_report_page_escapes_and_is_bilingual(store):
    (rec, _) = _records(store)
    assert rec.report is not None
    page = render_report(rec.report, back_href="../index.html", source="/x/<y>")
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "无法检查" in page and "Could not check" in page
    assert "/x/&lt;y&gt;" in page
    assert page.startswith("<!DOCTYPE html>") and 'charset="utf-8"' in page


def test_control_characters_in_a_name_do_not_break_the_xlsx(tmp_path):
    odd = BatchEntry(id="/x/a\x01b.txt", source="/x/a\x01b.txt", name="a\x01b\x0b.txt", size=3, stamp="1",
                     action="skip")
    records = [Record(entry=odd, status="skipped")]
    write_xlsx(tmp_path / "s.xlsx", records, collect_stats(records))
    assert load_workbook(tmp_path / "s.xlsx").active.cell(row=2, column=2).value == "ab.txt"
    write_csv(tmp_path / "s.csv", records, collect_stats(records))
    assert "a\x01b\x0b.txt" in (tmp_path / "s.csv").read_text(encoding="utf-8-sig")  # CSV keeps what it can
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "s.xlsx"]


def test_rule_columns_use_the_one_label_table():
    """Content rules (--deep) have names, as on the reviewers' pages; unknown ids stay ids."""
    stats = Stats(failures=Counter({"borders": 1, "duration": 2, "new_rule": 1}), warnings=Counter({"silence": 1}))
    assert stats.rule_columns == ["duration", "silence", "borders", "new_rule"]  # labels.py's order
    assert headers(stats)[-4:] == ["时长 Duration", "静音 Silence", "黑边（全画幅） Black bars (full frame)",
                                   "new_rule new_rule"]
