"""The reviewer pages in real headless Chromium (the harness of tests/support/browser.py): a
reviewer signs in with their key, sees the campaign's six entries (good, pillarboxed,
frozen slide, black opening, silent, interlaced) each with its flags, filters and sorts
the table, opens an entry, clicks a flagged segment (the player seeks to it), waives a
rule, records a decision, and downloads the spreadsheet. Keys of other campaigns and
submitters' receipts do not get in. Screenshots go to $MEDIACHECK_SCREENSHOTS."""

from __future__ import annotations

import pytest

from tests.support.browser import needs_chromium, shot
from tests.support.review_setup import CAMPAIGN

pytestmark = needs_chromium


@pytest.fixture
def context(browser):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1200, "height": 900}, accept_downloads=True)
    yield ctx
    ctx.close()


def sign_in(page, review, key: str, path: str) -> None:
    page.goto(f"{review.live.url}{path}")
    page.wait_for_selector("#login")  # no session yet: the page asks for the key
    page.fill("#key", key)
    page.click("#login button[type=submit]")


def visible_names(page) -> list[str]:
    page.wait_for_function("!document.body.dataset.loading")  # review.js fetched the new state
    return page.eval_on_selector_all("#entries tbody tr td.name", "els => els.map(e => e.innerText)")


def test_reviewer_sees_flags_decides_and_exports(review, context, tmp_path):
    page = context.new_page()
    sign_in(page, review, review.key, f"/review/c/{CAMPAIGN}")
    page.wait_for_selector("#entries tbody tr")
    assert page.url.endswith(f"/review/c/{CAMPAIGN}")
    assert page.inner_text("#title") == "科普微视频评审演示"
    rows = {tr.get_attribute("data-name"): tr for tr in page.query_selector_all("#entries tbody tr")}
    assert set(rows) == {f"{n}.mp4" for n in review.ids}
    verdicts = {n: tr.get_attribute("data-verdict") for n, tr in rows.items()}
    assert verdicts["good.mp4"] == "pass" and verdicts["black-opening.mp4"] == "fail"
    warnings = {n: tr.get_attribute("data-warnings").split() for n, tr in rows.items()}
    assert warnings["pillarboxed.mp4"] == ["borders"] and warnings["black-opening.mp4"] == ["black_segments"]
    assert {"frozen_segments", "static_content"} <= set(warnings["frozen-slide.mp4"])
    assert "silence" in warnings["silent.mp4"] and "interlace_detected" in warnings["interlaced.mp4"]
    assert "黑场 00:00:00.0" in rows["black-opening.mp4"].inner_text()  # what and when, in the table
    assert "静止画面 00:00:01.0" in rows["frozen-slide.mp4"].inner_text()
    loaded = page.eval_on_selector_all("#entries td.thumb img", "imgs => imgs.map(i => i.complete && i.naturalWidth)")
    assert len(loaded) == 6 and all(w == 320 for w in loaded)  # every thumbnail came through the session
    assert page.inner_text("#count") == "共 6 件，显示 6 件"

    page.select_option("#f-warning", "black_segments")
    assert visible_names(page) == ["black-opening.mp4"]
    assert page.inner_text("#count") == "共 6 件，显示 1 件"
    assert page.url.endswith("?warning=black_segments")  # the view is its URL: it can be shared
    page.select_option("#f-warning", "none")
    assert visible_names(page) == ["good.mp4"]
    assert "无提示 (1)" in page.inner_text("#f-warning")  # counts per choice, from the database
    page.select_option("#f-warning", "")
    page.fill("#search", "ＳＩＬ")  # full-width letters are folded like the names
    assert visible_names(page) == ["silent.mp4"]
    assert page.evaluate("document.activeElement.id") == "search"  # typing goes on
    page.fill("#search", "")
    page.click("th[data-sort=duration] a")  # at once: the sort takes the emptied search along
    assert len(visible_names(page)) == 6
    durations = page.eval_on_selector_all("#entries tbody tr", "trs => trs.map(t => +t.dataset.duration)")
    assert durations == sorted(durations)
    assert page.get_attribute("th[data-sort=duration]", "aria-sort") == "ascending"
    page.click("th[data-sort=duration] a")  # again: the other way
    assert len(visible_names(page)) == 6
    durations = page.eval_on_selector_all("#entries tbody tr", "trs => trs.map(t => +t.dataset.duration)")
    assert durations == sorted(durations, reverse=True) and "sort=duration&dir=desc" in page.url
    shared = page.url
    shot(page, "review-dashboard-zh")

    other = context.new_page()  # the shared link opens the same view, server-rendered
    other.goto(shared)
    assert other.eval_on_selector_all("#entries tbody tr", "trs => trs.map(t => +t.dataset.duration)") == durations
    other.focus("#search")  # and with the keyboard: type, Enter
    other.keyboard.type("black")
    other.keyboard.press("Enter")
    assert visible_names(other) == ["black-opening.mp4"]
    other.close()

    page.click("#entries tr[data-name='frozen-slide.mp4'] td.name a")
    page.wait_for_selector("#player")
    flags = {li.get_attribute("data-rule"): li.inner_text() for li in page.query_selector_all("#flags li")}
    assert "00:00:01.0" in flags["frozen_segments"] and "00:00:05.0" in flags["frozen_segments"]
    assert page.eval_on_selector("#contact-sheet", "i => i.complete && i.naturalWidth") > 0
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    assert page.evaluate("document.getElementById('player').currentTime") == 0
    page.click("#timeline .mark[data-rule=frozen_segments]")
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 1.0) < 0.05")
    left = page.eval_on_selector("#timeline .mark[data-rule=frozen_segments]", "m => parseFloat(m.style.left)")
    assert left == pytest.approx(20.0, abs=1)  # 1 s of 5 s

    page.check("#decide input[value=needs_fix]")
    page.fill("#note", "请去掉静止的幻灯片")
    page.click("#save-decision")
    page.wait_for_selector("#current-decision")
    assert page.get_attribute("#current-decision", "data-decision") == "needs_fix"
    trail = page.inner_text("#trail tbody tr:first-child")
    assert "评审甲" in trail and "需修改" in trail and "请去掉静止的幻灯片" in trail
    shot(page, "review-entry-zh")

    page.goto(f"{review.live.url}/review/s/{review.ids['black-opening']}")
    assert page.get_attribute("#verdict", "data-verdict") == "fail"
    assert "00:00:00.0" in page.inner_text("#flags li[data-rule=black_segments]")
    page.fill("#checks tr[data-rule=black_segments] input[name=note]", "片头黑场是创作意图")
    page.click("#checks tr[data-rule=black_segments] button")
    page.wait_for_selector("#checks tr.waived[data-rule=black_segments]")
    assert page.get_attribute("#verdict", "data-verdict") == "pass"
    assert "豁免" in page.inner_text("#trail tbody tr:first-child")
    assert page.inner_text("#summary") == "已豁免：黑场。"
    shot(page, "review-entry-waived-zh")

    page.goto(f"{review.live.url}/review/c/{CAMPAIGN}")
    page.select_option("#f-decision", "needs_fix")
    assert visible_names(page) == ["frozen-slide.mp4"]
    page.select_option("#f-decision", "")
    page.select_option("#f-verdict", "pass")  # the waiver counts in the summary at once
    passed = visible_names(page)
    assert {"black-opening.mp4", "good.mp4"} <= set(passed) and "frozen-slide.mp4" not in passed
    page.select_option("#f-verdict", "")
    visible_names(page)
    with page.expect_download() as dl:
        page.click("#export-xlsx")
    path = tmp_path / "export.xlsx"
    dl.value.save_as(path)
    assert dl.value.suggested_filename.startswith("科普微视频评审演示-作品-") and path.stat().st_size > 0
    from openpyxl import load_workbook

    rows_x = list(load_workbook(path).active.iter_rows(values_only=True))
    head = rows_x[0]
    assert head[:3] == ("序号", "作品编号", "文件名") and "评审决定" in head and "内容提示" in head
    by_name = {r[2]: dict(zip(head, r, strict=True)) for r in rows_x[1:]}
    assert by_name["frozen-slide.mp4"]["评审决定"] == "需修改"
    assert by_name["frozen-slide.mp4"]["评审备注"] == "请去掉静止的幻灯片"
    assert by_name["black-opening.mp4"]["检查：黑场"] == "已豁免"

    page.click("#lang")
    page.wait_for_selector("html[lang=en]")
    assert "Content warnings" in page.inner_text("#entries thead")
    assert page.inner_text("#count") == "6 of 6 entries"
    shot(page, "review-dashboard-en")


def test_only_reviewers_of_the_campaign_get_in(review, context):
    page = context.new_page()
    token = review.tokens["good"]
    page.goto(f"{review.live.url}/review/c/{CAMPAIGN}?token={token}")  # a submitter's receipt is no key
    page.wait_for_selector("#login")
    assert token not in page.url  # and it is not carried along to the sign-in form
    page.fill("#key", token)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#error")
    assert "密钥无效" in page.inner_text("#error")
    assert not [c for c in context.cookies() if c["name"] == "mediacheck_review"]

    page.fill("#key", review.other_key)  # a reviewer of another campaign
    page.click("#login button[type=submit]")
    page.wait_for_selector("#denied")
    assert page.inner_text("#denied") == "403"
    cookie = next(c for c in context.cookies() if c["name"] == "mediacheck_review")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    r = page.goto(f"{review.live.url}/review/s/{review.ids['good']}")
    assert r.status == 404 and page.inner_text("#denied") == "404"
    for url in (f"/review/s/{review.ids['good']}/media", f"/review/s/{review.ids['good']}/pictures/thumbnail.jpg",
                f"/api/campaigns/{CAMPAIGN}/export.xlsx"):
        assert page.request.get(f"{review.live.url}{url}").status in (403, 404)
    assert page.evaluate("document.cookie") == ""  # HttpOnly: scripts cannot read the session
