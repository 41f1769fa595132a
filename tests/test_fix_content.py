"""Auto-fix honours the whole profile, on generated media: where the content rules require a full
frame, a portrait or 4:3 entry is refused (padding would add the bars the rule forbids) unless
the submitter chooses the crop the profile offers; where full frame is only recommended it is
padded with a warning; and the re-check is the campaign's own check, deep included, so a fixed
copy that fails a content rule is never presented as fixed (fix_file, CLI, API and page)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from service.cli.main import main
from service.core.profiles import Profile, load_profile
from service.fix.transcode import fix_file
from service.media.checker import check_file
from service.submissions.campaigns import create_campaign
from tests.support import fixcases as fc
from tests.support.browser import ARGS, CHROMIUM, needs_chromium
from tests.support.fixapi import upload, wait_job
from tests.support.media import ffmpeg_media
from tests.support.server import live_server

FULL_FRAME = """\
    content:
      borders: {{full_frame: true, severity: {severity}}}
"""

CROP_ALLOWED = """\
    fix: {crop: allowed}
"""

SILENCE = """\
    content:
      silence: {max_duration: 0.5s, severity: required}
"""


def write(directory: Path, profile_id: str, block: str) -> Path:
    """TINY_PROFILE (320×180 and up, 16:9 landscape, 150–400 KiB) with ``block`` under ``video``."""
    path = directory / f"{profile_id}.yaml"
    path.write_text(fc.TINY_PROFILE.format(id=profile_id, video_fix=block.rstrip("\n")), encoding="utf-8")
    return path


def profile(tmp_path: Path, block: str, profile_id: str = "full-frame") -> Profile:
    return load_profile(write(tmp_path, profile_id, block))


def portrait_640() -> Path:
    """Coded 640×360 with a 90° flag: a 360×640 portrait when played, big enough to crop to 16:9."""
    return fc.clip("fix-rotated-640.mp4", size="640x360", extra_v=["-movflags", "+faststart"],
                   then=[["-i", "{in}", "-c", "copy", "-metadata:s:v:0", "rotate=90", "-movflags", "+faststart"]])


def silent_mov() -> Path:
    """A 2 s MOV (fails only the container and index rules) whose audio track is digital silence."""
    return ffmpeg_media("fix-silent-track.mov", ["-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=2", "-f", "lavfi",
                                                 "-i", "anullsrc=r=48000:cl=stereo", "-t", "2", *fc.CBR,
                                                 "-c:a", "aac", "-b:a", "96k", "-f", "mov"])


@pytest.mark.parametrize("make", [fc.rotated, fc.four_by_three], ids=["portrait", "4:3"])
def test_full_frame_required_refuses_to_pad_with_the_reason(make, tmp_path: Path) -> None:
    prof = profile(tmp_path, FULL_FRAME.format(severity="required"))
    result = fix_file(make(), prof, tmp_path / "out.mp4", deep=True)
    assert result.status == "unfixable" and not (tmp_path / "out.mp4").exists()
    assert [r.rule for r in result.plan.unfixable] == ["borders"]
    assert result.reason is not None
    assert "全画幅" in result.reason["zh-CN"] and "re-shoot in landscape" in result.reason["en"]


def test_full_frame_recommended_pads_and_the_result_warns(tmp_path: Path) -> None:
    prof = profile(tmp_path, FULL_FRAME.format(severity="recommended"))
    result = fix_file(fc.rotated(), prof, tmp_path / "out.mp4", deep=True)
    assert result.status == "fixed" and result.deep, result.reason
    assert result.after is not None and result.after.verdict == "warn"
    borders = next(c for c in result.after.checks if c.rule == "borders")
    assert borders.status == "warn"  # the deep re-check sees the bars the plan warned about
    assert "pad" in result.plan.actions()
    assert len(result.warnings) == 1 and "recommends a full frame" in result.warnings[0]["en"]


def test_crop_allowed_is_refused_until_chosen_then_crops_and_passes_deep(tmp_path: Path) -> None:
    prof = profile(tmp_path, FULL_FRAME.format(severity="required") + CROP_ALLOWED)
    src = portrait_640()
    refused = fix_file(src, prof, tmp_path / "out.mp4", deep=True)
    assert refused.status == "unfixable" and refused.plan.crop is not None
    assert refused.plan.crop.edge == "height" and round(refused.plan.crop.kept, 2) == 0.32
    assert "keeps 32% of the height" in refused.plan.crop.message["en"]
    result = fix_file(src, prof, tmp_path / "out.mp4", deep=True, allow_crop=True)
    assert result.status == "fixed", result.reason
    assert "crop" in result.plan.actions() and "pad" not in result.plan.actions()
    after = result.after
    assert after is not None and after.verdict == "pass" and after.media is not None
    assert (after.media.width, after.media.height) == (360, 202)  # the cut-out at its own size: no upscale
    assert next(c for c in after.checks if c.rule == "borders").status == "pass"
    assert after.analysis is not None  # the re-check ran the content analysis


def test_the_deep_recheck_catches_a_fixed_copy_that_fails_a_content_rule(tmp_path: Path) -> None:
    prof = profile(tmp_path, SILENCE, "silence")
    src = silent_mov()
    before = check_file(src, prof)  # the quick check (the deep one of the original has not run)
    assert {c.rule for c in before.failed()} == {"container", "faststart"}
    quick = fix_file(src, prof, tmp_path / "quick.mp4", before=before)
    assert quick.status == "fixed"  # the quick re-check alone would let it through
    deep = fix_file(src, prof, tmp_path / "deep.mp4", before=before, deep=True)
    assert deep.status == "failed" and deep.deep and not (tmp_path / "deep.mp4").exists()
    assert deep.after is not None and [c.rule for c in deep.after.failed()] == ["silence"]
    assert deep.reason is not None and "silence" in deep.reason["en"]


def test_cli_dry_run_says_what_the_fix_will_do_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "crop", FULL_FRAME.format(severity="required") + CROP_ALLOWED)
    buf = io.StringIO()
    assert main(["fix", str(portrait_640()), "-p", str(path), "--dry-run"], out=buf) == 1
    refused = json.loads(buf.getvalue())
    assert refused["plan"]["mode"] == "unfixable" and refused["plan"]["crop"]["kept"] == pytest.approx(0.316, 0.01)
    buf = io.StringIO()
    assert main(["fix", str(portrait_640()), "-p", str(path), "--dry-run", "--crop", "-f", "table", "--lang", "en"],
                out=buf) == 0
    text = buf.getvalue()
    assert "Re-encode (lossy)" in text and "keeps 32% of the height" in text and "Expected size: about" in text
    assert "full check (content analysis included)" in text and "FIXABLE (dry run" in text
    buf = io.StringIO()
    assert main(["fix", str(fc.mov()), "-p", str(path), "--dry-run", "-f", "table", "--lang", "en"], out=buf) == 0
    assert "Lossless remux" in buf.getvalue()
    assert list(tmp_path.glob("*.mp4")) == []


def test_cli_fix_checks_with_the_profiles_content_rules(tmp_path: Path) -> None:
    # the profile judges content: the original is checked deep too, and its silence is no fix's to make
    path = write(tmp_path, "silence", SILENCE)
    buf = io.StringIO()
    code = main(["fix", str(silent_mov()), "-p", str(path), "-o", str(tmp_path / "o.mp4")], out=buf)
    result = json.loads(buf.getvalue())
    assert code == 1 and result["status"] == "unfixable" and result["deep"] is True
    assert [r["rule"] for r in result["plan"]["unfixable"]] == ["silence"]
    assert not (tmp_path / "o.mp4").exists()


def test_api_plan_view_crop_choice_and_deep_recheck(service_settings, profiles_dir: Path) -> None:
    write(profiles_dir, "crop-ff", FULL_FRAME.format(severity="required") + CROP_ALLOWED)
    with live_server(service_settings) as live:
        with live.services.db.session() as s:
            create_campaign(s, live.services.store, campaign_id="deep-ff", profiles=["crop-ff"], deep=True)
        with live.client() as c:
            sub = upload(c, "deep-ff", portrait_640(), "竖屏.mp4")
            sid, token = sub["id"], sub["receipt_token"]
            wait_job(c, sub["links"]["job"])
            plan = c.get(f"/api/submissions/{sid}/fix", params={"token": token}).json()
            refused = c.post(f"/api/submissions/{sid}/fix", params={"token": token})
            page = c.get(f"/api/submissions/{sid}/report", params={"token": token, "format": "html"}).text
            cropped = c.get(f"/api/submissions/{sid}/fix", params={"token": token, "allow_crop": "true"}).json()
            started = c.post(f"/api/submissions/{sid}/fix", params={"token": token, "allow_crop": "true"})
            job = wait_job(c, started.json()["links"]["job"])
    assert plan["fixable"] is False and plan["crop"]["edge"] == "height" and plan["crop"]["chosen"] is False
    assert [r["rule"] for r in plan["reasons"]] == ["borders"]
    assert refused.status_code == 409 and refused.json()["crop"]["kept"] == pytest.approx(0.316, 0.01)
    assert 'id="fix-crop"' in page and "保留画面高度的 32%" in page and 'id="fix-start" type="button" disabled' in page
    assert cropped["fixable"] is True and cropped["deep_recheck"] is True
    assert cropped["preview"]["fit"] == "crop" and cropped["preview"]["lossless"] is False
    assert cropped["preview"]["estimated_seconds"] >= 1 and cropped["preview"]["estimated_bytes"] > 0
    assert started.status_code == 202
    assert job["state"] == "finished" and job["result"]["status"] == "fixed", job
    assert job["result"]["deep"] is True and job["result"]["verdict"] == "pass"


def test_batch_fix_with_deep_rechecks_deep_and_keeps_the_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "advised", FULL_FRAME.format(severity="recommended"))
    d = tmp_path / "in"
    d.mkdir()
    (d / "竖屏.mp4").write_bytes(fc.rotated().read_bytes())
    out = tmp_path / "o"
    main(["batch", str(d), "--profile", str(path), "--out", str(out), "--fix", "--deep"], out=io.StringIO())
    [fix_json] = list((out / "fixed").glob("*/fix.json"))
    result = json.loads(fix_json.read_text(encoding="utf-8"))
    assert result["status"] == "fixed" and result["deep"] is True, result.get("reason")
    assert [c["status"] for c in result["after"]["checks"] if c["rule"] == "borders"] == ["warn"]
    assert len(result["warnings"]) == 1


@needs_chromium
def test_the_page_fixes_only_once_the_crop_is_ticked(service_settings, profiles_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    write(profiles_dir, "crop-page", FULL_FRAME.format(severity="required") + CROP_ALLOWED)
    with live_server(service_settings) as live, sync_playwright() as p:
        with live.client() as c:
            sub = upload(c, "crop-page", portrait_640(), "竖屏.mp4")
            wait_job(c, sub["links"]["job"])
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(locale="en")
            page.goto(f"{live.url}/s/{sub['id']}?token={sub['receipt_token']}&lang=en")
            disabled = page.is_disabled("#fix-start")
            plan = page.inner_text("#fix-plan")
            reasons = page.inner_text("#fix-reasons")
            page.check("#fix-crop")
            page.click("#fix-start")
            page.wait_for_selector("#fix-download", state="visible", timeout=30_000)
            status = page.inner_text("#fix-status")
        finally:
            browser.close()
    assert disabled and "requires a full frame" in reasons
    assert "Re-encode (lossy)" in plan and "keeps 32% of the height" in plan
    assert status.startswith("Fixed")


@needs_chromium
def test_the_page_says_a_fix_padded_where_full_frame_is_recommended(service_settings, profiles_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    write(profiles_dir, "pad-page", FULL_FRAME.format(severity="recommended"))
    with live_server(service_settings) as live, sync_playwright() as p:
        with live.client() as c:
            sub = upload(c, "pad-page", fc.rotated(), "竖屏.mp4")
            wait_job(c, sub["links"]["job"])
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(locale="zh-CN")
            page.goto(f"{live.url}/s/{sub['id']}?token={sub['receipt_token']}")
            plan = page.inner_text("#fix-plan")
            page.click("#fix-start")
            page.wait_for_selector("#fix-download", state="visible", timeout=30_000)
            status = page.inner_text("#fix-status")
        finally:
            browser.close()
    assert "重新编码（有损）" in plan and "加黑边" in plan and "本活动建议全画幅" in plan
    assert status.startswith("修复完成") and "已加黑边" in status


def test_the_report_page_does_not_promise_a_fix_the_plan_refuses() -> None:
    from service.store.models import Submission
    from service.web.report_view import report_view

    sub = Submission(id="s1", campaign_id="c", file_name="竖屏.mp4", size_bytes=10, sha256="0" * 64)
    report = {"verdict": "fail", "checks": [{"rule": "aspect_ratio", "status": "fail", "fixable": True}],
              "summary": {"zh-CN": "不符合 1 项要求：画面比例。均可自动修复。",
                          "en": "Fails 1 rule(s): aspect ratio. All can be fixed automatically."}}
    refused = report_view(sub, report, plan={"fixable": False})
    offered = report_view(sub, report, plan={"fixable": True})
    assert "均可自动修复" not in refused["summary"]["zh-CN"] and "fixed automatically" not in refused["summary"]["en"]
    assert refused["summary"]["zh-CN"].startswith("不符合 1 项要求")
    assert [p["fixable"] for p in refused["problems"]] == [False]
    assert offered["summary"] == report["summary"]
