"""Fixes through the API with RQ: a real Redis (database 9, flushed before and after) and a
real ``mediacheck worker`` process (forking work horses). The MOV is fixed on request and,
in a campaign with auto-fix, by itself after its check; a running re-encode is cancelled."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from service.media.checker import check_file
from service.submissions.campaigns import create_campaign
from tests.support.fixapi import mov, mpeg4_720p, upload, wait_job
from tests.support.jobs import worker_env
from tests.support.server import live_server

REDIS_URL = "redis://127.0.0.1:6379/9"
"""This module's spare Redis database (the ``rq_settings`` fixture, tests/support/jobs.py)."""


def test_fixes_run_in_a_worker_process_on_request_and_automatically(rq_settings, tmp_path: Path) -> None:
    with live_server(rq_settings) as live:
        with live.services.db.session() as s:
            create_campaign(s, live.services.store, campaign_id="auto-fix-rq", profiles=["test-fix"], autofix=True)
        worker = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker"],
            env=worker_env(rq_settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            with live.client() as c:
                sub = upload(c, "test-fix", mov(), "作品.mov")
                token = sub["receipt_token"]
                r = c.post(f"/api/submissions/{sub['id']}/fix", params={"token": token})
                assert r.status_code == 202, r.text
                job = wait_job(c, r.json()["links"]["job"])
                got = c.get(f"/api/submissions/{sub['id']}/fixed", params={"token": token})

                auto = upload(c, "auto-fix-rq", mov(), "自动.mov")
                fix_id = c.get(auto["links"]["job"]).json()["result"]["fix_job"]
                auto_job = wait_job(c, f"/api/jobs/{fix_id}?token={auto['receipt_token']}")

                slow = upload(c, "test-fix-slow", mpeg4_720p(), "慢.mp4")
                started = c.post(f"/api/submissions/{slow['id']}/fix", params={"token": slow["receipt_token"]}).json()
                deadline = time.monotonic() + 30
                running = c.get(started["links"]["job"]).json()
                while not (running["state"] == "started" and running["detail"]):
                    assert time.monotonic() < deadline and running["state"] in ("queued", "started"), running
                    time.sleep(0.1)
                    running = c.get(started["links"]["job"]).json()
                c.post(started["links"]["cancel"])
                cancelled = wait_job(c, started["links"]["job"], timeout=20)
                no_fix = c.get(f"/api/submissions/{slow['id']}/fixed", params={"token": slow["receipt_token"]})
        finally:
            worker.send_signal(signal.SIGTERM)
            _, err = worker.communicate(timeout=30)
    assert job["backend"] == "rq" and job["state"] == "finished" and job["result"]["status"] == "fixed", job
    assert job["timeout_s"] > 120  # derived from the media, not RQ's default
    assert got.status_code == 200
    out = tmp_path / "作品.mp4"
    out.write_bytes(got.content)
    report = check_file(out, live.services.store.get("test-fix"))
    assert report.verdict == "pass" and report.media is not None and report.media.faststart is True
    assert auto_job["backend"] == "rq" and auto_job["result"]["status"] == "fixed"
    assert 0 <= running["detail"]["percent"] < 100
    assert cancelled["state"] == "cancelled" and no_fix.status_code == 404
    assert b"Traceback" not in err
