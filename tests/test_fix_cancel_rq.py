"""Cancelling a fix that still waits in RQ (a real Redis, database 15, flushed before and after):
the database row says cancelled and the RQ job leaves the queue (RQ's canceled registry), so
no worker ever takes it; a worker run afterwards finds nothing to do and the row stays the
record."""

from __future__ import annotations

import subprocess
import sys

from service.store.models import Job
from tests.support.fixapi import mov
from tests.support.jobs import worker_env
from tests.support.server import live_server

REDIS_URL = "redis://127.0.0.1:6379/15"
"""This module's spare Redis database (the ``rq_settings`` fixture, tests/support/jobs.py)."""

RQ_SETTINGS = {"check_wait_s": 0.2}
"""Uploads answer 202 at once: no worker listens while they are checked."""


def _burst_worker(settings) -> None:
    """A ``mediacheck worker --burst``: runs what is queued, then exits."""
    done = subprocess.run([sys.executable, "-m", "service.cli", "worker", "--burst"], env=worker_env(settings),
                          capture_output=True, timeout=120)
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")


def test_a_queued_fix_that_is_cancelled_leaves_the_rq_queue(rq_settings, redis_db) -> None:
    from rq import Queue
    from rq.job import Job as RqJob
    from rq.job import JobStatus
    from rq.registry import CanceledJobRegistry

    queue = Queue(rq_settings.queue_name, connection=redis_db)
    with live_server(rq_settings) as live, live.client() as c:
        r = c.post("/api/campaigns/test-fix/submissions", params={"name": "作品.mov"}, content=mov().read_bytes())
        assert r.status_code in (201, 202), r.text
        sub = r.json()
        _burst_worker(rq_settings)  # the quick check (no worker listens after it)
        token = sub["receipt_token"]
        started = c.post(f"/api/submissions/{sub['id']}/fix", params={"token": token})
        assert started.status_code == 202, started.text
        job_id = started.json()["job"]["id"]
        assert queue.job_ids == [job_id]
        cancelled = c.post(f"/api/jobs/{job_id}/cancel", params={"token": token})
        assert queue.job_ids == [] and queue.count == 0  # it left the queue
        rq_job = RqJob.fetch(job_id, connection=redis_db)
        assert rq_job.get_status() == JobStatus.CANCELED
        assert job_id in CanceledJobRegistry(rq_settings.queue_name, connection=redis_db).get_job_ids()
        again = c.post(f"/api/jobs/{job_id}/cancel", params={"token": token})
        _burst_worker(rq_settings)  # nothing left for a worker
        job = c.get(f"/api/jobs/{job_id}", params={"token": token}).json()
        fixed = c.get(f"/api/submissions/{sub['id']}/fixed", params={"token": token})
        with live.services.db.session() as s:
            row = s.get(Job, job_id)
            assert row is not None and row.attempts == 0 and row.started_at is None  # never run
    assert cancelled.status_code == 202 and cancelled.json() == {"id": job_id, "state": "cancelled",
                                                                   "cancel_requested": True}
    assert again.status_code == 409 and again.json()["code"] == "job_over"
    assert job["state"] == "cancelled" and job["cancel_requested"] is True
    assert fixed.status_code == 404


def test_the_cancel_stands_when_the_queue_cannot_be_reached(rq_settings, redis_db, monkeypatch) -> None:
    from service.store.jobs import RqQueue

    def down(self, job_id: str) -> bool:
        raise ConnectionError("Redis went away")

    with live_server(rq_settings) as live, live.client() as c:
        r = c.post("/api/campaigns/test-fix/submissions", params={"name": "作品.mov"}, content=mov().read_bytes())
        sub = r.json()
        _burst_worker(rq_settings)
        token = sub["receipt_token"]
        job_id = c.post(f"/api/submissions/{sub['id']}/fix", params={"token": token}).json()["job"]["id"]
        with monkeypatch.context() as m:
            m.setattr(RqQueue, "cancel", down)
            cancelled = c.post(f"/api/jobs/{job_id}/cancel", params={"token": token})
        _burst_worker(rq_settings)  # the job was still queued: the worker takes it and skips it
        job = c.get(f"/api/jobs/{job_id}", params={"token": token}).json()
    assert cancelled.status_code == 202 and cancelled.json()["state"] == "cancelled"
    assert job["state"] == "cancelled" and job["result"] is None


def test_only_a_waiting_rq_job_is_taken_out(redis_db) -> None:
    from service.store.jobs import RqQueue

    queue = RqQueue(REDIS_URL, "mediacheck-cancel-test")
    try:
        queue.enqueue("job-a", timeout_s=60, retries=0)
        assert queue.depth() == 1
        assert queue.cancel("job-a") is True and queue.depth() == 0
        assert queue.cancel("job-a") is False  # cancelled already
        assert queue.cancel("no-such-job") is False
    finally:
        queue.shutdown()
