"""The report page's fix button in real headless Chromium: a MOV's page offers
"自动修复", shows progress, then the link to the fixed copy, which downloads an MP4 that passes."""

from __future__ import annotations

from pathlib import Path

from service.media.checker import check_file
from service.web.fix_view import fix_section
from tests.support.browser import ARGS, CHROMIUM, needs_chromium
from tests.support.fixapi import mov, upload, write_fix_profiles
from tests.support.server import live_server


def test_the_section_offers_a_button_only_when_every_failure_is_fixable() -> None:
    failing = {"verdict": "fail", "fixable": True}
    assert 'id="fix-start"' in fix_section("abc", failing, None, lang="zh-CN", token="t")
    assert fix_section("abc", failing | {"fixable": False}, None, lang="zh-CN", token="t") == ""
    assert fix_section("abc", {"verdict": "pass", "fixable": True}, None, lang="en", token="t") == ""
    assert fix_section("abc", failing, None, lang="zh-CN", token=None) == ""  # a reviewer's view: no button
    done = fix_section("abc", failing, {"file_name": "作品.mp4"}, lang="en", token="t")
    assert 'id="fix-start"' not in done and "/api/submissions/abc/fixed?token=t" in done


@needs_chromium
def test_the_fix_button_fixes_and_offers_the_download(service_settings, profiles_dir: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    write_fix_profiles(profiles_dir)
    with live_server(service_settings) as live, sync_playwright() as p:
        with live.client() as c:
            sub = upload(c, "test-fix", mov(), "作品.mov")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(locale="zh-CN")
            page.goto(f"{live.url}/s/{sub['id']}?token={sub['receipt_token']}")
            assert page.inner_text("#fix-start") == "自动修复"
            page.click("#fix-start")
            page.wait_for_selector("#fix-download", state="visible", timeout=30_000)
            status = page.inner_text("#fix-status")
            with page.expect_download() as info:
                page.click("#fix-download")
            download = info.value
            out = tmp_path / download.suggested_filename
            download.save_as(out)
        finally:
            browser.close()
    assert status.startswith("修复完成")
    assert out.name == "作品.mp4"
    assert check_file(out, live.services.store.get("test-fix")).verdict == "pass"
