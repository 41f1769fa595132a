"""Fixes through the API, in-process (the embedded executor): a MOV uploaded to a campaign
that wants MP4 with the index first is fixed and downloaded as an MP4 that passes; an
unfixable file is refused with its reasons; a running re-encode is cancelled; another
submitter's token can neither start nor download; a campaign with auto-fix fixes by itself."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import quote

import pytest

from service.media.checker import check_file
from service.store.models import FixedCopy, Job, ReportRow
from service.submissions.campaigns import create_campaign
from tests.support.fixapi import mov, mpeg4_720p, short_mov, upload, wait_job, write_fix_profiles
from tests.support.server import live_server


@pytest.fixture
def fix_settings(service_settings, profiles_dir: Path):
    write_fix_profiles(profiles_dir)
    return service_settings


@pytest.fixture
def fix_live(fix_settings):
    with live_server(fix_settings) as server:
        yield server


def test_a_mov_is_fixed_into_an_mp4_that_passes_and_downloads_with_its_name(fix_live, tmp_path: Path) -> None:
    src = mov()
    original_bytes = src.read_bytes()
    with fix_live.client() as c:
        sub = upload(c, "test-fix", src, "作品.mov")
        assert sub["verdict"] == "fail"
        token, sid = sub["receipt_token"], sub["id"]
        assert c.get(f"/api/submissions/{sid}/fixed", params={"token": token}).status_code == 404
        r = c.post(f"/api/submissions/{sid}/fix", params={"token": token})
        assert r.status_code == 202, r.text
        started = r.json()
        assert started["job"]["kind"] == "transcode" and started["actions"] == ["remux"]  # no re-encode
        job = wait_job(c, started["links"]["job"])
        assert job["state"] == "finished", job
        assert job["result"]["status"] == "fixed" and job["result"]["verdict"] == "pass"
        assert job["progress"] == 1.0 and job["detail"]["percent"] == 100.0
        got = c.get(f"/api/submissions/{sid}/fixed", params={"token": token})
        view = c.get(f"/api/submissions/{sid}", params={"token": token}).json()
    assert got.status_code == 200 and got.headers["content-type"] == "video/mp4"
    assert f"filename*=UTF-8''{quote('作品.mp4')}" in got.headers["content-disposition"]
    out = tmp_path / "作品.mp4"
    out.write_bytes(got.content)
    profile = fix_live.services.store.get("test-fix")
    report = check_file(out, profile)
    assert report.verdict == "pass" and report.media is not None and report.media.container == "mp4"
    assert report.media.faststart is True
    # both reports: the original's (fails) and the fixed copy's (passes)
    assert view["verdict"] == "fail" and view["reports"]["original"]["verdict"] == "fail"
    assert view["reports"]["fixed"]["verdict"] == "pass" and view["fixed"]["file_name"] == "作品.mp4"
    assert view["fixed"]["sha256"] == report.file.sha256
    # the original is untouched
    with fix_live.services.db.session() as s:
        from service.store.models import Submission

        row = s.get(Submission, sid)
        assert fix_live.services.storage.path(row.storage_key).read_bytes() == original_bytes
        copy = s.query(FixedCopy).filter_by(submission_id=sid).one()
        assert copy.storage_key.startswith(f"derived/{sid}/")
        subjects = [r.subject for r in s.query(ReportRow).filter_by(submission_id=sid).order_by(ReportRow.id)]
    assert subjects == ["original", "fixed"]


def test_an_unfixable_file_is_refused_with_bilingual_reasons(fix_live) -> None:
    with fix_live.client() as c:
        sub = upload(c, "test-fix", short_mov(), "short.mov")
        r = c.post(f"/api/submissions/{sub['id']}/fix", params={"token": sub["receipt_token"]})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "not_fixable"
    assert [x["rule"] for x in body["reasons"]] == ["duration"]
    assert body["message"]["zh-CN"].startswith("无法自动修复") and "fixed" in body["message"]["en"]
    with fix_live.services.db.session() as s:
        assert s.query(Job).filter_by(submission_id=sub["id"], kind="transcode").count() == 0


def test_nothing_to_fix_is_a_409_too(fix_live, small_video) -> None:
    with fix_live.client() as c:
        sub = upload(c, "test-video", small_video, "ok.mp4")
        r = c.post(f"/api/submissions/{sub['id']}/fix", headers={"X-Receipt-Token": sub["receipt_token"]})
        paths = c.get("/openapi.json").json()["paths"]
    assert r.status_code == 409 and r.json()["code"] == "nothing_to_fix"
    assert {"/api/submissions/{sub_id}/fix", "/api/jobs/{job_id}/cancel", "/api/submissions/{sub_id}/fixed"} <= set(
        paths
    )


def test_a_running_fix_is_cancelled_and_leaves_no_fixed_file(fix_live) -> None:
    with fix_live.client() as c:
        sub = upload(c, "test-fix-slow", mpeg4_720p(), "慢.mp4")
        token, sid = sub["receipt_token"], sub["id"]
        started = c.post(f"/api/submissions/{sid}/fix", params={"token": token}).json()
        job = c.get(started["links"]["job"]).json()
        deadline = time.monotonic() + 30
        while job["state"] == "queued" or (job["state"] == "started" and not job["detail"]):
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
            job = c.get(started["links"]["job"]).json()
        assert job["state"] == "started", job  # running: progress is showing
        assert 0 <= job["detail"]["percent"] < 100 and job["detail"]["stage"]
        t0 = time.monotonic()
        r = c.post(started["links"]["cancel"])
        assert r.status_code == 202 and r.json()["cancel_requested"] is True
        job = wait_job(c, started["links"]["job"], timeout=20)
        stopped_in = time.monotonic() - t0
        fixed = c.get(f"/api/submissions/{sid}/fixed", params={"token": token})
        again = c.post(started["links"]["cancel"])
    assert job["state"] == "cancelled" and job["result"]["status"] == "cancelled", job
    assert stopped_in < 5
    assert fixed.status_code == 404 and fixed.json()["code"] == "no_fixed_copy"
    assert again.status_code == 409 and again.json()["code"] == "job_over"
    derived = fix_live.services.storage.root / "derived" / sid
    assert not derived.exists() or list(derived.iterdir()) == []


def test_another_submitters_token_can_neither_start_nor_download(fix_live) -> None:
    with fix_live.client() as c:
        mine = upload(c, "test-fix", mov(), "mine.mov")
        theirs = upload(c, "test-fix", short_mov(), "theirs.mov")
        r1 = c.post(f"/api/submissions/{mine['id']}/fix", params={"token": theirs["receipt_token"]})
        r2 = c.get(f"/api/submissions/{mine['id']}/fixed", params={"token": theirs["receipt_token"]})
        r3 = c.post(f"/api/submissions/{mine['id']}/fix")
        started = c.post(f"/api/submissions/{mine['id']}/fix", params={"token": mine["receipt_token"]}).json()
        r4 = c.post(f"/api/jobs/{started['job']['id']}/cancel", params={"token": theirs["receipt_token"]})
        wait_job(c, started["links"]["job"])
        r5 = c.get(f"/api/submissions/{mine['id']}/fixed", params={"token": theirs["receipt_token"]})
        check_job = mine["job"]["id"]
        r6 = c.post(f"/api/jobs/{check_job}/cancel", params={"token": mine["receipt_token"]})
    assert r1.status_code == 404 and r1.json()["code"] == "submission_not_found"
    assert r2.status_code == 404 and r3.status_code == 401
    assert r4.status_code == 404 and r4.json()["code"] == "job_not_found"
    assert r5.status_code == 404
    assert r6.status_code == 409 and r6.json()["code"] == "not_cancellable"


def test_a_reviewer_of_the_campaign_may_start_a_fix(fix_live) -> None:
    from service.submissions.access import create_api_key

    with fix_live.services.db.session() as s:
        _, key = create_api_key(s, name="评审", role="reviewer", campaigns=["test-fix"])
        _, other = create_api_key(s, name="other", role="reviewer", campaigns=["test-video"])
    with fix_live.client() as c:
        sub = upload(c, "test-fix", mov(), "r.mov")
        denied = c.post(f"/api/submissions/{sub['id']}/fix", headers={"Authorization": f"Bearer {other}"})
        r = c.post(f"/api/submissions/{sub['id']}/fix", headers={"Authorization": f"Bearer {key}"})
        job = wait_job(c, f"/api/jobs/{r.json()['job']['id']}?token={sub['receipt_token']}")
    assert denied.status_code == 404
    assert r.status_code == 202 and job["state"] == "finished" and job["result"]["status"] == "fixed"


def test_a_campaign_with_auto_fix_fixes_a_failing_upload_by_itself(fix_live) -> None:
    with fix_live.services.db.session() as s:
        create_campaign(s, fix_live.services.store, campaign_id="auto-fix", profiles=["test-fix"], autofix=True)
    with fix_live.client() as c:
        sub = upload(c, "auto-fix", mov(), "自动.mov")
        unfixable = upload(c, "auto-fix", short_mov(), "短.mov")
        check = c.get(sub["links"]["job"]).json()
        fix_id = check["result"]["fix_job"]
        job = wait_job(c, f"/api/jobs/{fix_id}?token={sub['receipt_token']}")
        fixed = c.get(f"/api/submissions/{sub['id']}/fixed", params={"token": sub["receipt_token"]})
        other = c.get(unfixable["links"]["self"]).json()
    assert job["kind"] == "transcode" and job["state"] == "finished" and job["result"]["status"] == "fixed"
    assert fixed.status_code == 200 and "filename*=UTF-8''" + quote("自动.mp4") in fixed.headers["content-disposition"]
    assert [j["kind"] for j in other["jobs"]] == ["check"] and other["fixed"] is None
