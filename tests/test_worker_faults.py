"""An RQ worker killed (``kill -9`` of its work horse and of the worker itself) in the middle of a
re-encode: a new worker finds the job at once (service/store/abandoned.py) and RQ runs it again
(``FIX_RETRIES`` = 1); it ends finished with one fixed copy, not ``started`` for the ten minutes RQ's own
maintenance would take. And a worker whose Redis went away while its work horse ended lives on (RQ's
died with a ConnectionError). A Redis of the test's own (tests/support/own_redis.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from service.settings import Settings
from service.store.models import FixedCopy, Job
from tests.support.fixapi import mpeg4_720p, upload, wait_job, write_fix_profiles
from tests.support.jobs import worker_env
from tests.support.own_redis import OwnRedis
from tests.support.own_redis import own_redis as own_redis  # noqa: F401 - the fixture
from tests.support.server import live_server


def _worker(settings: Settings) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "service.cli", "worker"], env=worker_env(settings),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        out += [int(x) for x in (task / "children").read_text().split()]
    return out


def _state(live: Any, job_id: str) -> str:
    with live.services.db.session() as s:
        row = s.get(Job, job_id)
        assert row is not None
        return str(row.state)


def test_a_fix_whose_worker_was_killed_runs_again_at_once(own_redis: OwnRedis, service_settings: Settings,
                                                         profiles_dir: Path) -> None:
    write_fix_profiles(profiles_dir)
    settings = replace(service_settings, redis_url=own_redis.url, queue_name="mediacheck-worker-killed")
    with live_server(settings) as live:
        first = _worker(settings)
        second = None
        try:
            with live.client() as c:
                sub = upload(c, "test-fix-slow", mpeg4_720p(), "慢.mp4")
                token = sub["receipt_token"]
                deadline = time.monotonic() + 60
                while (r := c.post(f"/api/submissions/{sub['id']}/fix", params={"token": token})).status_code != 202:
                    assert time.monotonic() < deadline, r.text  # its check first
                    time.sleep(0.2)
                job_url = r.json()["links"]["job"]
                job = c.get(job_url).json()
                while not (job["state"] == "started" and (job["detail"] or {}).get("percent", 0) > 0):
                    assert time.monotonic() < deadline and job["state"] in ("queued", "started"), job
                    time.sleep(0.1)
                    job = c.get(job_url).json()
                horses = _children(first.pid)
                for pid in [*horses, first.pid]:
                    os.kill(pid, signal.SIGKILL)
                first.wait()
                assert first.stderr is not None
                first.stderr.close()
                assert c.get(job_url).json()["state"] == "started"  # nobody recorded the kill
                second = _worker(settings)
                done = wait_job(c, job_url, timeout=90)
                fixed = c.get(f"/api/submissions/{sub['id']}/fixed", params={"token": token})
            with live.services.db.session() as s:
                row = s.get(Job, job["id"])
                assert row is not None
                attempts = row.attempts
                copies = s.query(FixedCopy).filter(FixedCopy.submission_id == sub["id"]).all()
                keys = [cp.storage_key for cp in copies]
        finally:
            err = b""
            if first.poll() is None:
                first.kill()
                first.communicate(timeout=30)
            if second is not None:
                second.send_signal(signal.SIGTERM)
                _, err = second.communicate(timeout=30)
    assert len(horses) == 1
    assert b"Traceback" not in err, err.decode(errors="replace")
    assert done["state"] == "finished" and done["result"]["status"] == "fixed", done
    assert attempts == 2  # run again, once
    assert fixed.status_code == 200 and len(copies) == 1 and keys[0].endswith(f"fixed-{job['id']}.mp4")
    derived = Path(settings.storage_dir) / keys[0]
    assert derived.read_bytes() == fixed.content  # the whole file, not the killed attempt's half


def test_the_worker_outlives_a_redis_restart_under_a_running_fix(own_redis: OwnRedis, service_settings: Settings,
                                                                 profiles_dir: Path) -> None:
    write_fix_profiles(profiles_dir)
    settings = replace(service_settings, redis_url=own_redis.url, queue_name="mediacheck-worker-redis")
    with live_server(settings) as live:
        worker = _worker(settings)
        try:
            with live.client() as c:
                sub = upload(c, "test-fix-slow", mpeg4_720p(), "慢.mp4")
                token = sub["receipt_token"]
                deadline = time.monotonic() + 60
                while (r := c.post(f"/api/submissions/{sub['id']}/fix", params={"token": token})).status_code != 202:
                    assert time.monotonic() < deadline, r.text
                    time.sleep(0.2)
                job_url = r.json()["links"]["job"]
                job = c.get(job_url).json()
                while not (job["state"] == "started" and (job["detail"] or {}).get("percent", 0) > 0):
                    assert time.monotonic() < deadline and job["state"] in ("queued", "started"), job
                    time.sleep(0.1)
                    job = c.get(job_url).json()
                own_redis.stop()  # until the work horse has ended: the worker then writes to a Redis that is away
                while _state(live, job["id"]) == "started":
                    assert time.monotonic() < deadline + 60
                    time.sleep(0.2)
                time.sleep(3)
                own_redis.start()
                done = wait_job(c, job_url, timeout=90)
                alive = worker.poll() is None  # was: the worker died with redis.exceptions.ConnectionError
        finally:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
            try:
                _, err = worker.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                _, err = worker.communicate(timeout=30)
                err += b"\n(did not stop on SIGTERM)"
    assert alive, err.decode(errors="replace")[-2000:]
    assert done["state"] == "finished" and done["result"]["status"] == "fixed", done
    assert "lost Redis" in err.decode(errors="replace")
