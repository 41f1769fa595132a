"""The submitter pages in real headless Chromium (Debian's /usr/bin/chromium driven by
Playwright): rules in plain words, the browser's pre-check, a resumable upload that survives
a broken connection, and the report in Chinese (English by the switch). Screenshots go to
$MEDIACHECK_SCREENSHOTS (default .cache/screenshots) to look at."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urljoin

import pytest

from service.store.models import Submission
from tests.support.browser import needs_chromium, shot

pytestmark = needs_chromium


@pytest.fixture
def page(browser):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1000, "height": 900})
    pg = ctx.new_page()
    yield pg
    ctx.close()


def test_compliant_video_passes_from_the_page(live, page, small_video):
    page.goto(f"{live.url}/c/test-video")
    page.wait_for_selector("#rules li")
    assert page.inner_text("h1") == "测试视频活动"
    assert "时长" in page.inner_text("#rules")
    page.set_input_files("#file", str(small_video))
    page.wait_for_selector("#precheck-ok:not([hidden])")
    page.click("#upload")
    page.wait_for_url("**/api/submissions/*/report?*format=html*", timeout=30_000)
    assert page.get_attribute("#verdict", "data-verdict") == "pass"
    assert page.inner_text("#verdict") == "通过"
    shot(page, "report-pass-zh")


def test_precheck_says_what_is_wrong_before_uploading(live, page, small_video):
    page.goto(f"{live.url}/c/shanxi-2023-microvideo")
    page.wait_for_selector("#rules li")
    page.set_input_files("#file", str(small_video))
    page.wait_for_selector("#problems li")
    problems = {li.get_attribute("data-rule"): li.inner_text() for li in page.query_selector_all("#problems li")}
    assert {"duration", "resolution", "file_size"} <= set(problems)
    assert "短于要求的 2 分 0 秒" in problems["duration"]
    assert "1080" in problems["resolution"]
    assert page.inner_text("#upload") == "仍然上传"
    shot(page, "upload-precheck-zh")


def test_failing_video_report_lists_rules_in_chinese_and_english(live, page, square_video):
    page.goto(f"{live.url}/c/test-video")
    page.wait_for_selector("#rules li")
    page.set_input_files("#file", str(square_video))
    page.wait_for_selector("#problems li[data-rule=aspect_ratio]")  # 1:1 is seen in the browser
    page.click("#upload")
    page.wait_for_url("**/report?*", timeout=30_000)
    assert page.get_attribute("#verdict", "data-verdict") == "fail"
    rows = {tr.get_attribute("data-rule"): tr.inner_text() for tr in page.query_selector_all("#checks tbody tr")}
    assert {"aspect_ratio", "audio_present"} <= set(rows)
    assert "要求" in page.inner_text("#checks thead") and "16:9" in rows["aspect_ratio"]
    shot(page, "report-fail-zh")
    page.click("nav a")
    page.wait_for_selector("html[lang=en]")
    assert page.inner_text("#verdict") == "Fail"
    assert "Expected" in page.inner_text("#checks thead")
    shot(page, "report-fail-en")


def test_upload_survives_a_broken_connection(live, page, small_video):
    patches: list[str] = []

    def cut_third_patch(route, request):
        if request.method == "PATCH":
            patches.append(request.url)
            if len(patches) == 3:
                route.abort("connectionreset")
                return
        route.continue_()

    page.route("**/files/**", cut_third_patch)
    page.goto(f"{live.url}/c/test-video?chunk=16384")
    page.wait_for_selector("#rules li")
    page.set_input_files("#file", str(small_video))
    page.wait_for_selector("#precheck-ok:not([hidden])")
    page.click("#upload")
    page.wait_for_url("**/report?*", timeout=60_000)
    assert page.get_attribute("#verdict", "data-verdict") == "pass"
    assert len(patches) >= 7  # 6 chunks of 16 KiB + the one cut and resent
    sub_id = page.url.split("/api/submissions/")[1].split("/")[0]
    with live.services.db.session() as s:
        sub = s.get(Submission, sub_id)
    stored = live.services.storage.path(sub.storage_key).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(small_video.read_bytes()).hexdigest()


def _tus_requests(page, size: int, chunk: int = 16384) -> list[dict]:
    """Every tus request the page makes from now on: method, URL, Upload-Offset and the bytes a
    PATCH carries (a chunk from its offset; Chromium does not show a Blob body to the test)."""
    seen: list[dict] = []

    def note(request) -> None:
        if "/files/" in request.url:
            offset = request.headers.get("upload-offset")
            seen.append({"method": request.method, "url": request.url.split("?")[0],
                         "offset": int(offset) if offset is not None else None,
                         "bytes": min(chunk, size - int(offset)) if request.method == "PATCH" and offset else 0})

    page.on("request", note)
    return seen


def test_reloaded_page_resumes_where_it_stopped(live, page, small_video):
    """After a reload the page finds its upload address (saved in the browser), asks the server how
    much arrived, and sends only the rest to the same address (issue 16.2)."""
    state = {"allow": 2}

    def stop_after_two(route, request):
        if request.method == "PATCH":
            if state["allow"] <= 0:
                route.abort("connectionreset")
                return
            state["allow"] -= 1
        route.continue_()

    seen = _tus_requests(page, small_video.stat().st_size)
    page.route("**/files/**", stop_after_two)
    page.goto(f"{live.url}/c/test-video?chunk=16384")
    page.wait_for_selector("#rules li")
    page.set_input_files("#file", str(small_video))
    page.wait_for_selector("#precheck-ok:not([hidden])")
    page.click("#upload")
    page.wait_for_function("document.getElementById('message').className === 'note'")  # retrying
    page.unroute("**/files/**")
    before = list(seen)
    [created] = [r for r in before if r["method"] == "POST"]
    upload_url = next(r["url"] for r in before if r["method"] == "PATCH")
    page.goto(f"{live.url}/c/test-video?chunk=16384")  # the person reloads and picks the file again
    page.wait_for_selector("#rules li")
    page.set_input_files("#file", str(small_video))
    page.wait_for_selector("#precheck-ok:not([hidden])")
    page.click("#upload")
    page.wait_for_url("**/report?*", timeout=60_000)
    assert page.get_attribute("#verdict", "data-verdict") == "pass"
    after = seen[len(before):]
    size = small_video.stat().st_size
    patches = [r for r in after if r["method"] == "PATCH"]
    assert created and not [r for r in after if r["method"] == "POST"]  # no second upload was created
    assert {r["url"] for r in after} == {upload_url}  # HEAD and PATCH to the saved address only
    assert patches[0]["offset"] == 2 * 16384  # continued where the two chunks that arrived ended
    assert sum(r["bytes"] for r in patches) == size - 2 * 16384 < size


def test_english_upload_page(live, page):
    page.goto(f"{live.url}/c/test-video?lang=en")
    page.wait_for_selector("#rules li")
    assert page.inner_text("h1") == "Test video campaign"
    assert page.inner_text("h2") == "Requirements"
    assert "Duration" in page.inner_text("#rules")
    shot(page, "upload-en")


TUS_JS = Path(__file__).resolve().parent / "browser" / "node_modules" / "tus-js-client" / "dist" / "tus.min.js"


@pytest.mark.skipif(not TUS_JS.exists(), reason="run: npm ci --prefix tests/browser")
def test_tus_js_client_resumes_after_a_broken_connection(live, page, small_video):
    """The reference browser client (tus-js-client) against our tus server: one PATCH is cut
    by a connection reset; the client asks the offset, resumes, and the file arrives whole."""
    import base64

    cut = {"patches": 0}

    def reset_second_patch(route, request):
        if request.method == "PATCH":
            cut["patches"] += 1
            if cut["patches"] == 2:
                route.abort("connectionreset")
                return
        route.continue_()

    seen = _tus_requests(page, small_video.stat().st_size)
    page.route("**/files/**", reset_second_patch)
    page.goto(f"{live.url}/c/test-video")
    page.add_script_tag(path=str(TUS_JS))
    data = small_video.read_bytes()
    result = page.evaluate(
        """async (b64) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const file = new File([bytes], "科普视频.mp4", {type: "video/mp4"});
          return await new Promise((resolve, reject) => {
            const up = new tus.Upload(file, {
              endpoint: "/files/test-video/", chunkSize: 16384, retryDelays: [0, 300, 1000],
              metadata: {filename: file.name, filetype: file.type},
              onError: (e) => reject(String(e)),
              onSuccess: (payload) => resolve({
                submission: payload.lastResponse.getHeader("Mediacheck-Submission"),
                verdict: payload.lastResponse.getHeader("Mediacheck-Verdict"),
                url: up.url,
              }),
            });
            up.start();
          });
        }""",
        base64.b64encode(data).decode(),
    )
    assert result["verdict"] == "pass"
    assert cut["patches"] >= 7  # 6 chunks and the one that was reset
    patches = [r for r in seen if r["method"] == "PATCH"]
    assert [r["method"] for r in seen].count("POST") == 1  # one upload, resumed (not created anew)
    assert {r["url"] for r in patches} == {urljoin(live.url, result["url"])}
    assert [r["offset"] for r in patches[:3]] == [0, 16384, 16384]  # the cut chunk is sent again, from 16384
    assert sum(r["bytes"] for r in patches) == len(data) + 16384  # the rest once, only the cut chunk twice
    with live.services.db.session() as s:
        sub = s.get(Submission, result["submission"])
    assert sub.file_name == "科普视频.mp4"
    stored = live.services.storage.path(sub.storage_key).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(data).hexdigest()


def test_wrong_kind_is_explained_on_the_page(live, page, small_photo):
    page.goto(f"{live.url}/c/test-video")
    page.wait_for_selector("#rules li")
    page.set_input_files("#file", str(small_photo))
    page.wait_for_selector("#problems li[data-rule=type]")  # .jpg is not among the video endings
    page.click("#upload")
    page.wait_for_function("document.getElementById('message').textContent.includes('本活动接受视频')")
    assert page.inner_text("#message").startswith("上传失败：")
    shot(page, "upload-wrong-kind-zh")


def test_lost_final_answer_still_leads_to_the_report(live, page, small_video):
    """The server stores the last chunk but its answer never reaches the browser: the page asks
    the upload's state (HEAD), learns the submission and its receipt, and shows the report."""
    size = small_video.stat().st_size
    lost = {"done": False}

    def lose_final_answer(route, request):
        if request.method == "PATCH" and not lost["done"]:
            offset = int(request.headers["upload-offset"])
            if offset + len(request.post_data_buffer or b"") == size:
                route.fetch()  # the server gets it all and records the submission
                lost["done"] = True
                route.abort("connectionreset")
                return
        route.continue_()

    page.route("**/files/**", lose_final_answer)
    page.goto(f"{live.url}/c/test-video?chunk=32768")
    page.wait_for_selector("#rules li")
    page.set_input_files("#file", str(small_video))
    page.wait_for_selector("#precheck-ok:not([hidden])")
    page.click("#upload")
    page.wait_for_url("**/report?*", timeout=60_000)
    assert lost["done"] and page.get_attribute("#verdict", "data-verdict") == "pass"
    with live.services.db.session() as s:
        assert s.query(Submission).count() == 1


def test_campaign_list_and_a_closed_campaign(live, page):
    from datetime import UTC, datetime

    from service.submissions.campaigns import create_campaign

    with live.services.db.session() as s:
        create_campaign(s, live.services.store, campaign_id="closed-page", profiles=["test-video"],
                        title_zh="已截止的活动", title_en="A closed campaign",
                        deadline=datetime(2023, 5, 1, tzinfo=UTC))
    page.goto(f"{live.url}/")
    page.wait_for_selector("#campaigns li")
    titles = page.inner_text("#campaigns")
    assert "2023 山西科技活动周·科普微视频" in titles and "已截止的活动（已截止）" in titles
    page.click("text=测试视频活动")
    page.wait_for_selector("#rules li")
    assert page.url.endswith("/c/test-video")
    page.goto(f"{live.url}/c/closed-page")
    page.wait_for_function("document.getElementById('status').textContent.includes('已截止')")
    assert page.is_hidden("#picker")
    shot(page, "upload-closed-zh")


def test_a_rule_with_two_levels_is_two_lines_and_manual_items_are_marked(live, page):
    page.goto(f"{live.url}/c/shanxi-2023-explainer")
    page.wait_for_selector("#rules li")
    lines = page.locator('#rules li[data-rule="resolution"]')
    assert lines.count() == 2
    assert lines.nth(0).get_attribute("class") == "required" and "720p" in lines.nth(0).inner_text()
    assert lines.nth(1).get_attribute("class") == "recommended" and "1080p" in lines.nth(1).inner_text()
    assert "建议" in lines.nth(1).inner_text()
    manual = page.locator('#rules li[data-rule="manual"]')
    assert manual.count() == 2 and "人工审核" in manual.nth(0).inner_text() and "自主命题" in manual.nth(0).inner_text()
    shot(page, "upload-two-levels-zh")
