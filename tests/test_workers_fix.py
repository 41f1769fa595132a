"""The fix task in-process and on a real Redis (database 14) with real RQ workers, including
a worker killed with SIGKILL in the middle of a transcode."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

from service.core.profiles import load_profile
from service.fix.transcode import JOB_DIR_PREFIX, FixProgress
from service.media.checker import check_file
from tests.support import fixcases as fc
from tests.support.redisdb import clean_redis
from workers.fix import enqueue_fix, request_cancel, run_fix, throttled

REDIS_URL = "redis://127.0.0.1:6379/14"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture()
def redis():
    yield from clean_redis(REDIS_URL)


@pytest.fixture()
def tiny_path(tmp_path: Path) -> Path:
    return fc.write_profile(tmp_path)


def test_throttled_polls_at_most_once_per_interval() -> None:
    calls = []

    def check() -> bool:
        calls.append(1)
        return len(calls) >= 2

    poll = throttled(check, interval=0.2)
    assert [poll() for _ in range(50)] == [False] * 50 and len(calls) == 1
    time.sleep(0.25)
    assert poll() is True and poll() is True and len(calls) == 2


def test_run_fix_in_process_reports_progress_and_can_be_cancelled(tiny_path: Path, tmp_path: Path) -> None:
    prof = load_profile(tiny_path)
    seen: list[FixProgress] = []
    result = run_fix(fc.too_large(), prof, tmp_path / "a.mp4", job_id="job-a", progress=seen.append)
    assert result.status == "fixed" and seen[-1].percent == 100.0
    cancelled = run_fix(fc.too_large(), prof, tmp_path / "b.mp4", job_id="job-b", cancelled=lambda: True)
    assert cancelled.status == "cancelled" and not (tmp_path / "b.mp4").exists()
    assert not list(tmp_path.glob(JOB_DIR_PREFIX + "*"))


@pytest.mark.parametrize("make, name", [(fc.mov, "fixed.mp4"), (fc.rotated, "fixed.mp4"), (fc.vfr, "fixed.mp4"),
                                        (fc.heic_photo, "fixed.jpg")], ids=["mov", "rotated", "vfr", "heic"])
def test_rq_fix_on_a_burst_worker_stores_progress_and_the_result(make, name, redis: Redis, tiny_path: Path,
                                                                 tmp_path: Path) -> None:
    q = Queue("fix", connection=redis)
    dest = tmp_path / name
    job = enqueue_fix(q, str(make()), load_profile(tiny_path), str(dest), profile_ref=str(tiny_path),
                      duration_s=2.0)
    assert job.timeout >= 120  # derived from the media, never RQ's 180 s default for long media
    SimpleWorker([q], connection=redis).work(burst=True)
    job = Job.fetch(job.id, connection=redis)
    assert job.get_status() == JobStatus.FINISHED
    result = job.return_value()
    assert result["status"] == "fixed" and result["after"]["verdict"] == "pass"
    assert job.get_meta(refresh=True)["progress"]["percent"] == 100.0
    assert check_file(dest, load_profile(tiny_path)).verdict == "pass"


def test_a_cancel_request_stops_the_rq_fix(redis: Redis, tiny_path: Path, tmp_path: Path) -> None:
    q = Queue("fix", connection=redis)
    dest = tmp_path / "fixed.mp4"
    job = enqueue_fix(q, str(fc.too_large()), load_profile(tiny_path), str(dest), profile_ref=str(tiny_path))
    request_cancel(redis, job.id)
    SimpleWorker([q], connection=redis).work(burst=True)
    result = Job.fetch(job.id, connection=redis).return_value()
    assert result["status"] == "cancelled" and not dest.exists()


KILL_PROFILE = """\
id: fix-kill
version: "1"
title: {zh-CN: 中断测试, en: kill test}
kinds:
  video:
    container: {allowed: [mp4]}
    file_size: {min: 3MiB, max: 5MiB}
    fix: {rate_control: two_pass, preset: medium}
"""


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def test_a_worker_killed_mid_transcode_leaves_no_output_and_the_job_is_retried(redis: Redis, tmp_path: Path) -> None:
    profile_path = tmp_path / "fix-kill.yaml"
    profile_path.write_text(KILL_PROFILE, encoding="utf-8")
    src = fc.clip("fix-kill-720p.mp4", size="1280x720", seconds=8, extra_v=["-movflags", "+faststart"])
    digest = fc.sha256(src)
    out_dir = tmp_path / "fixed"
    out_dir.mkdir()
    dest = out_dir / "entry.mp4"
    q = Queue("fix", connection=redis)
    job = enqueue_fix(q, str(src), load_profile(profile_path), str(dest), profile_ref=str(profile_path),
                      retries=1, duration_s=8.0)
    worker = subprocess.Popen([sys.executable, "-m", "rq.cli", "worker", "--url", REDIS_URL, "--burst", "fix"],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until ffmpeg is writing the output
            progress = (Job.fetch(job.id, connection=redis).get_meta(refresh=True).get("progress") or {})
            if progress.get("stage") == "pass2" and 0 < progress.get("percent", 0) < 90:
                break
            assert worker.poll() is None, "the worker ended before it could be killed"
            time.sleep(0.1)
        else:
            pytest.fail("the transcode never reached its second pass")
        assert list(out_dir.glob(JOB_DIR_PREFIX + "*/output.mp4"))  # a partial output exists, hidden
        horses = _children(worker.pid)
        ffmpegs = [c for h in horses for c in _children(h)]
        assert ffmpegs, "ffmpeg should be running under the work horse"
        for pid in [worker.pid, *horses, *ffmpegs]:  # the machine dies: everything at once
            os.kill(pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    time.sleep(0.3)
    for pid in ffmpegs:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    assert not dest.exists()  # no partial output became visible
    assert fc.sha256(src) == digest  # the original is intact
    assert Job.fetch(job.id, connection=redis).get_status() == JobStatus.STARTED  # nobody knows yet

    # the next worker's maintenance finds the abandoned job once its heartbeat has expired
    StartedJobRegistry(queue=q).cleanup(timestamp=time.time() + job.timeout + 600)
    job = Job.fetch(job.id, connection=redis)
    assert job.get_status() in (JobStatus.QUEUED, JobStatus.SCHEDULED)  # retried, not stuck
    assert job.retries_left == 0
    SimpleWorker([q], connection=redis).work(burst=True)
    job = Job.fetch(job.id, connection=redis)
    assert job.get_status() == JobStatus.FINISHED, job.latest_result()
    assert job.return_value()["status"] == "fixed"
    assert check_file(dest, load_profile(profile_path)).verdict in ("pass", "warn")
    assert not list(out_dir.glob(JOB_DIR_PREFIX + "*"))  # the dead attempt's directory is gone too
    assert fc.sha256(src) == digest
