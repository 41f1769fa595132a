"""The whole organiser story in real headless Chromium: an organiser signs in with an admin key,
creates a campaign with two entry fields, a per-author limit, a file-name rule and a deadline,
and creates a reviewer key (shown once, with a sign-in link); a submitter fills the fields and
uploads; the reviewer opens the link, sees the details on the dashboard and the entry page and
accepts the entry; the organiser sees the overview and downloads the hand-over zip, whose
manifest is checked file by file. ``MEDIACHECK_DOC_SHOTS=1`` writes the screenshots of docs/img/."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from service.submissions.access import create_api_key
from tests.support.browser import needs_chromium, shot

pytestmark = needs_chromium

DOC_IMAGES = Path(__file__).resolve().parents[1] / "docs" / "img"


def doc_shot(page, name: str) -> None:
    """A screenshot to look at (.cache/screenshots); with MEDIACHECK_DOC_SHOTS=1 also the one in docs/img/ that
    docs/operations.md shows (the viewport, not the full page, so it stays small)."""
    shot(page, name)
    if os.environ.get("MEDIACHECK_DOC_SHOTS") == "1":
        page.screenshot(path=str(DOC_IMAGES / f"{name}.png"))


@pytest.fixture
def admin_key(live) -> str:
    with live.services.db.session() as s:
        _, secret = create_api_key(s, name="组委会", role="admin", campaigns=["*"])
    return secret


def new_context(browser):
    return browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1200, "height": 900},
                               accept_downloads=True)


def test_organiser_runs_a_campaign(browser, live, admin_key, small_video, tmp_path):
    organiser = new_context(browser)
    page = organiser.new_page()
    # sign in: the same form as reviewers
    page.goto(f"{live.url}/organise/")
    page.wait_for_selector("#login")
    page.fill("#key", admin_key)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#new-campaign")
    page.click("#new-campaign")
    # create the campaign
    page.fill("#c-id", "kepu-2026")
    page.fill("#c-title-zh", "2026 科普微视频大赛")
    page.fill("#c-title-en", "2026 Science Video Contest")
    page.check("#c-profiles input[value=test-video]")
    page.fill("#c-deadline", "2099-05-31T18:00")
    for i, (key, zh, en) in enumerate([("title", "作品名称", "Title"), ("author", "第一作者", "First author")]):
        page.fill(f"#f{i}-key", key)
        page.fill(f"#f{i}-zh", zh)
        page.fill(f"#f{i}-en", en)
        page.check(f"#f{i}-required")
    page.fill("#l0-field", "author")
    page.fill("#l0-max", "2")
    page.fill("#c-pattern", "{作品名称}-{第一作者}")
    doc_shot(page, "organise-new-campaign")
    page.click("#save")
    page.wait_for_selector("#overview")
    assert page.url.endswith("/organise/c/kepu-2026")
    assert page.input_value("#f1-zh") == "第一作者"
    # a reviewer key, shown once with its sign-in link
    page.fill("#key-name", "评审王老师")
    page.click("#create-key")
    page.wait_for_selector("#new-key")
    link = page.input_value("#new-key-link")
    assert "/review/login?next=/review/c/kepu-2026#key=mck_" in link
    doc_shot(page, "organise-reviewer-key")

    # a submitter fills the fields and uploads
    submitter = new_context(browser)
    up = submitter.new_page()
    up.goto(f"{live.url}/c/kepu-2026")
    up.wait_for_selector("#field-title")
    assert up.inner_text("#naming") == "文件命名：{作品名称}-{第一作者}（加扩展名）"
    up.fill("#field-title", "星空的秘密")
    up.fill("#field-author", "张三")
    up.set_input_files("#file", {"name": "星空的秘密-张三.mp4", "mimeType": "video/mp4",
                                 "buffer": small_video.read_bytes()})
    up.wait_for_selector("#upload:not([disabled])")
    doc_shot(up, "upload-with-details")
    up.click("#upload")
    up.wait_for_selector("#entry-details", timeout=60000)  # the receipt page
    assert up.inner_text("#entry-details dd[data-field=author]") == "张三"  # on the receipt
    submitter.close()

    # the reviewer follows the link: signed in, sees the details, accepts
    reviewer = new_context(browser)
    rv = reviewer.new_page()
    rv.goto(link)
    assert rv.input_value("#key").startswith("mck_")  # the link filled the key in
    assert "#key=" not in rv.url  # and dropped it from the address bar
    rv.click("#login button[type=submit]")
    rv.wait_for_selector("#entries tbody tr")
    assert "星空的秘密 · 张三" in rv.inner_text("#entries .row-details")
    rv.fill("#search", "张")  # typed, not yet sent: sorting by a field takes it along
    rv.click("#detail-sorts a[data-sort='detail:author']")
    rv.wait_for_selector("#detail-sorts a.asc[data-sort='detail:author']")
    assert "sort=detail%3Aauthor" in rv.url and "q=%E5%BC%A0" in rv.url
    assert "星空的秘密 · 张三" in rv.inner_text("#entries .row-details")
    rv.click("#entries td.name a")
    rv.wait_for_selector("#entry-details")
    assert rv.inner_text("#entry-details dd[data-field=title]") == "星空的秘密"
    rv.check("#decide input[value=accept]")
    rv.click("#save-decision")
    rv.wait_for_selector("#current-decision[data-decision=accept]")
    reviewer.close()

    # the organiser: overview and hand-over
    page.goto(f"{live.url}/organise/c/kepu-2026")
    assert page.inner_text("#n-entries") == "1"
    assert page.query_selector("#per-day rect") is not None
    doc_shot(page, "organise-overview")
    with page.expect_download() as dl:
        page.click("#handover-download")
    path = tmp_path / "handover.zip"
    dl.value.save_as(path)
    zf = zipfile.ZipFile(path)
    assert zf.namelist() == ["manifest.xlsx", "001-星空的秘密-张三.mp4"]
    ws = load_workbook(io.BytesIO(zf.read("manifest.xlsx"))).active
    head = [c.value for c in ws[1]]
    rows = [dict(zip(head, [c.value for c in r], strict=True)) for r in ws.iter_rows(min_row=2)]
    assert len(rows) == len(zf.namelist()) - 1
    for row in rows:  # every row names a file in the zip, with the entry's details and decision
        data = zf.read(row["交付文件名"])
        assert hashlib.sha256(data).hexdigest() == hashlib.sha256(small_video.read_bytes()).hexdigest()
        got = (row["作品名称"], row["第一作者"], row["评审决定"], row["交付版本"])
        assert got == ("星空的秘密", "张三", "接受", "原件")
        assert row["文件名"] == "星空的秘密-张三.mp4"
    organiser.close()
