"""The deep job under RQ: a separate worker process runs the quick check, which queues the
content analysis for a campaign that asks for it; the same worker runs it, and the
submission's latest report carries the content checks (the in-process runner is covered by
the review tests' campaign, tests/support/review_setup.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import replace

from sqlalchemy import select

from service.store.models import Job, ReportRow
from service.submissions.campaigns import create_campaign
from tests.support.jobs import worker_env
from tests.support.scenes import SMALL
from tests.support.server import live_server

REDIS_URL = "redis://127.0.0.1:6379/10"
"""This module's spare Redis database (the ``redis_db`` fixture, tests/support/jobs.py)."""


def test_rq_worker_runs_the_deep_job_after_the_check(service_settings, redis_db):
    settings = replace(service_settings, redis_url=REDIS_URL, queue_name="mediacheck-deep-test")
    env = worker_env(settings)
    with live_server(settings) as live:
        with live.services.db.session() as s:
            create_campaign(s, live.services.store, campaign_id="deep-rq", profiles=["test-deep"], deep=True)
        worker = subprocess.Popen([sys.executable, "-m", "service.cli", "worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            with live.client() as c:
                r = c.post("/api/campaigns/deep-rq/submissions", params={"name": "片头黑场.mp4"},
                           content=SMALL.black_opening().read_bytes())
                assert r.status_code == 201, r.text
            sub_id = r.json()["id"]
            deadline = time.monotonic() + 60
            while True:
                with live.services.db.session() as s:
                    jobs = {j.kind: j for j in s.scalars(select(Job).where(Job.submission_id == sub_id))}
                if "deep" in jobs and jobs["deep"].state in ("finished", "failed"):
                    break
                assert time.monotonic() < deadline, {k: j.state for k, j in jobs.items()}
                time.sleep(0.2)
        finally:
            worker.send_signal(signal.SIGTERM)
            _, err = worker.communicate(timeout=30)
    deep = jobs["deep"]
    assert deep.state == "finished" and deep.backend == "rq", deep.error
    assert deep.result["contact_sheet"] == "contact-sheet.jpg" and deep.result["verdict"] == "fail"
    assert jobs["check"].result["deep_job"] == deep.id
    with live.services.db.session() as s:
        rows = s.scalars(select(ReportRow).where(ReportRow.submission_id == sub_id).order_by(ReportRow.id)).all()
    assert [x.subject for x in rows] == ["original", "deep"]
    checks = {c["rule"]: c for c in rows[-1].report["checks"]}
    assert checks["black_segments"]["status"] == "fail" and checks["black_segments"]["segments"][0][0] == 0.0
    assert rows[-1].report["analysis"]["black_segments"]
    assert (settings.storage_dir / "derived" / sub_id / "poster.jpg").is_file()
    assert b"Traceback" not in err
