"""The fix job (kind ``transcode``, workers/fix_task.py) on the path the service uses: a
submission staged as after its upload and check, the fix started as the API starts it
(``start_fix``), then run through ``run_job`` by its name, in-process and under real RQ workers
on a real Redis (database 14), including a worker killed with SIGKILL in the middle of a
transcode."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import SimpleWorker
from rq.job import Job as RqJob
from rq.job import JobStatus
from rq.registry import StartedJobRegistry
from sqlalchemy import select

from service.fix.submissions import fix_job_timeout, plan_of, start_fix
from service.fix.transcode import JOB_DIR_PREFIX, fix_time_limit
from service.media.checker import check_file
from service.settings import Settings
from service.store.jobs import RqQueue, job_timeout
from service.store.models import FixedCopy, Job, Submission, SubmissionSummary
from service.store.runtime import Context, run_in_process, use_context
from service.submissions.intake import latest_report
from tests.support import fixcases as fc
from tests.support.jobs import job_context, stage_submission, worker_env
from workers.fix_task import throttled

REDIS_URL = "redis://127.0.0.1:6379/14"
"""This module's spare Redis database (the ``redis_db`` fixture, tests/support/jobs.py)."""

QUEUE = "mediacheck-workers-fix"

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
"""Two-pass at preset medium of a 720p clip far below 3 MiB: a transcode long enough to be killed."""


@pytest.fixture
def settings(service_settings: Settings) -> Settings:
    fc.write_profile(service_settings.profiles_dir)  # "fix-test"
    (service_settings.profiles_dir / "fix-kill.yaml").write_text(KILL_PROFILE, encoding="utf-8")
    return service_settings


@pytest.fixture
def ctx(settings: Settings) -> Context:
    return job_context(settings)


@pytest.fixture
def rq_ctx(ctx: Context, redis_db: Redis) -> Any:
    """``ctx`` with its jobs sent to RQ, and made this process's context (as ``mediacheck worker`` does)."""
    queue = RqQueue(REDIS_URL, QUEUE)
    ctx.queue = queue
    use_context(ctx)
    try:
        yield ctx
    finally:
        use_context(None)
        queue.shutdown()


class HeldQueue:
    """An in-process backend that holds the jobs until the test runs them (``run_in_process``)."""

    backend = "inprocess"

    def __init__(self) -> None:
        self.ids: list[str] = []

    def enqueue(self, job_id: str, *, timeout_s: int, retries: int) -> None:
        self.ids.append(job_id)


def start_fix_of(ctx: Context, queue: Any, sub_id: str) -> str:
    """Start the fix of a checked submission as ``POST /api/submissions/{id}/fix`` does."""
    with ctx.db.session() as s:
        sub = s.get(Submission, sub_id)
        row = latest_report(s, sub_id)
        assert sub is not None and row is not None
        report = row.report
        s.expunge(sub)
    plan = plan_of(report, ctx.store.get(sub.profile_id))
    assert plan is not None and plan.fixable, report
    job_id, created = start_fix(ctx.db, queue, sub, plan)
    assert created
    return job_id


def request_cancel(ctx: Context, job_id: str) -> None:
    """What ``POST /api/jobs/{id}/cancel`` records for a fix a worker has taken."""
    with ctx.db.session() as s:
        row = s.get(Job, job_id)
        assert row is not None
        row.cancel_requested_at = datetime.now(UTC)


def job_row(ctx: Context, job_id: str) -> Job:
    with ctx.db.session() as s:
        row = s.get(Job, job_id)
        assert row is not None
        s.expunge(row)
        return row


def fixed_copy(ctx: Context, sub_id: str) -> Path | None:
    with ctx.db.session() as s:
        copy = s.scalar(select(FixedCopy).where(FixedCopy.submission_id == sub_id))
        return ctx.storage.path(copy.storage_key) if copy is not None else None


def derived(ctx: Context, sub_id: str) -> Path:
    return ctx.storage.path(f"derived/{sub_id}")


def test_throttled_polls_at_most_once_per_interval() -> None:
    calls = []

    def check() -> bool:
        calls.append(1)
        return len(calls) >= 2

    poll = throttled(check, interval=0.2)
    assert [poll() for _ in range(50)] == [False] * 50 and len(calls) == 1
    time.sleep(0.25)
    assert poll() is True and poll() is True and len(calls) == 2


def test_a_fix_job_gets_the_larger_of_the_two_timeouts() -> None:
    from service.fix.plan import FixPlan, VideoTarget

    remux = FixPlan(kind="video", mode="remux", video=VideoTarget(copy_video=True), duration_s=60)
    uhd = FixPlan(kind="video", mode="reencode", duration_s=600,
                  video=VideoTarget(rate_control="two_pass", width=3840, height=2160))
    size = 300 * 2**20
    assert fix_job_timeout(remux, size) == job_timeout("transcode", duration_s=60, size_bytes=size)
    assert fix_job_timeout(uhd, size) == int(fix_time_limit(uhd)) > job_timeout("transcode", duration_s=600,
                                                                                  size_bytes=size)


def test_a_fix_job_in_process_reports_progress_and_can_be_cancelled(ctx: Context) -> None:
    queue = HeldQueue()
    sub_a = stage_submission(ctx, fc.too_large(), "fix-test")
    job_a = start_fix_of(ctx, queue, sub_a)
    result = run_in_process(job_a, ctx)  # what the in-process executor's thread runs
    row = job_row(ctx, job_a)
    assert result["status"] == "fixed" and row.state == "finished" and row.meta["percent"] == 100.0
    assert row.progress == 1.0 and fixed_copy(ctx, sub_a) is not None

    sub_b = stage_submission(ctx, fc.too_large(), "fix-test")
    job_b = start_fix_of(ctx, queue, sub_b)
    request_cancel(ctx, job_b)
    cancelled = run_in_process(job_b, ctx)
    assert cancelled["status"] == "cancelled" and job_row(ctx, job_b).state == "cancelled"
    assert fixed_copy(ctx, sub_b) is None and not list(derived(ctx, sub_b).glob("fixed-*"))
    assert queue.ids == [job_a, job_b]
    for sub in (sub_a, sub_b):
        assert not list(derived(ctx, sub).glob(JOB_DIR_PREFIX + "*"))


@pytest.mark.parametrize("make, suffix", [(fc.mov, ".mp4"), (fc.rotated, ".mp4"), (fc.vfr, ".mp4"),
                                          (fc.heic_photo, ".jpg")], ids=["mov", "rotated", "vfr", "heic"])
def test_a_fix_job_on_a_burst_worker_stores_progress_and_the_result(make, suffix: str, rq_ctx: Context) -> None:
    sub = stage_submission(rq_ctx, make(), "fix-test")
    job_id = start_fix_of(rq_ctx, rq_ctx.queue, sub)
    conn = rq_ctx.queue.connection
    job = RqJob.fetch(job_id, connection=conn)
    assert job.timeout >= 120  # derived from the media, never RQ's 180 s default for long media
    assert job.timeout == job_row(rq_ctx, job_id).timeout_s
    SimpleWorker([rq_ctx.queue.queue], connection=conn).work(burst=True)
    job = RqJob.fetch(job_id, connection=conn)
    assert job.get_status() == JobStatus.FINISHED
    result = job.return_value()
    assert result["status"] == "fixed" and result["verdict"] == "pass"
    assert job_row(rq_ctx, job_id).meta["percent"] == 100.0
    dest = fixed_copy(rq_ctx, sub)
    assert dest is not None and dest.suffix == suffix
    assert check_file(dest, rq_ctx.store.get("fix-test")).verdict == "pass"
    with rq_ctx.db.session() as s:  # the re-check of the fixed copy is in the entry's summary row
        summary = s.get(SubmissionSummary, sub)
        assert summary is not None and summary.fixed_verdict == "pass" and summary.report_verdict == "fail"


def test_a_cancel_request_stops_the_fix_job_on_a_worker(rq_ctx: Context) -> None:
    sub = stage_submission(rq_ctx, fc.too_large(), "fix-test")
    job_id = start_fix_of(rq_ctx, rq_ctx.queue, sub)
    request_cancel(rq_ctx, job_id)
    SimpleWorker([rq_ctx.queue.queue], connection=rq_ctx.queue.connection).work(burst=True)
    result = RqJob.fetch(job_id, connection=rq_ctx.queue.connection).return_value()
    assert result["status"] == "cancelled" and job_row(rq_ctx, job_id).state == "cancelled"
    assert fixed_copy(rq_ctx, sub) is None and not list(derived(rq_ctx, sub).glob("fixed-*"))


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def test_a_worker_killed_mid_transcode_leaves_no_output_and_the_job_is_retried(rq_ctx: Context) -> None:
    src = fc.clip("fix-kill-720p.mp4", size="1280x720", seconds=8, extra_v=["-movflags", "+faststart"])
    digest = fc.sha256(src)
    sub = stage_submission(rq_ctx, src, "fix-kill")
    with rq_ctx.db.session() as s:
        row = s.get(Submission, sub)
        assert row is not None
        original = rq_ctx.storage.path(row.storage_key)
    out_dir = derived(rq_ctx, sub)
    job_id = start_fix_of(rq_ctx, rq_ctx.queue, sub)
    env = worker_env(replace(rq_ctx.settings, redis_url=REDIS_URL, queue_name=QUEUE))
    worker = subprocess.Popen([sys.executable, "-m", "service.cli", "worker", "--burst"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until ffmpeg is writing the output
            progress = job_row(rq_ctx, job_id).meta or {}
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
    assert fixed_copy(rq_ctx, sub) is None and not list(out_dir.glob("fixed-*"))  # no partial output visible
    assert fc.sha256(original) == digest  # the original is intact
    conn = rq_ctx.queue.connection
    job = RqJob.fetch(job_id, connection=conn)
    assert job.get_status() == JobStatus.STARTED  # nobody knows yet

    # the next worker's maintenance finds the abandoned job once its heartbeat has expired
    StartedJobRegistry(queue=rq_ctx.queue.queue).cleanup(timestamp=time.time() + job.timeout + 600)
    job = RqJob.fetch(job_id, connection=conn)
    assert job.get_status() in (JobStatus.QUEUED, JobStatus.SCHEDULED)  # retried, not stuck
    assert job.retries_left == 0
    SimpleWorker([rq_ctx.queue.queue], connection=conn).work(burst=True)
    job = RqJob.fetch(job_id, connection=conn)
    assert job.get_status() == JobStatus.FINISHED, job.latest_result()
    assert job.return_value()["status"] == "fixed" and job_row(rq_ctx, job_id).attempts == 2
    dest = fixed_copy(rq_ctx, sub)
    assert dest is not None and check_file(dest, rq_ctx.store.get("fix-kill")).verdict in ("pass", "warn")
    assert not list(out_dir.glob(JOB_DIR_PREFIX + "*"))  # the dead attempt's directory is gone too
    assert fc.sha256(original) == digest


def test_an_attempt_after_one_that_recorded_its_copy_does_not_record_it_twice(ctx: Context) -> None:
    """A work horse killed after it recorded the fixed copy but before the job's result was saved: the
    retry finds the copy and ends, it does not transcode and record a second one."""
    sub = stage_submission(ctx, fc.too_large(), "fix-test")
    job_id = start_fix_of(ctx, HeldQueue(), sub)
    first = run_in_process(job_id, ctx)
    with ctx.db.session() as s:  # as the killed attempt left it: copy recorded, job still started
        row = s.get(Job, job_id)
        assert row is not None
        row.state, row.result, row.finished_at = "started", None, None
    again = run_in_process(job_id, ctx)
    with ctx.db.session() as s:
        copies = s.scalars(select(FixedCopy).where(FixedCopy.submission_id == sub)).all()
        assert [c.job_id for c in copies] == [job_id]
        report_id = copies[0].report_id
    assert first["status"] == "fixed" and again["status"] == "fixed" and again["recorded_by_an_earlier_attempt"]
    assert again["report_id"] == report_id == first["report_id"] and job_row(ctx, job_id).state == "finished"
