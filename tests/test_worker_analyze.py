"""The deep-analysis job (kind ``deep``, workers/deep.py) on the path the service uses: a
submission to a campaign with deep analysis on, staged as after its upload and check, its deep
job queued by ``enqueue_deep`` as the check job queues it, then run through ``run_job`` by its
name under a real (burst) RQ worker on a real Redis, or in-process."""

from __future__ import annotations

import json
from typing import Any

import pytest
from PIL import Image
from rq import SimpleWorker
from rq.job import Job as RqJob
from rq.job import JobStatus
from sqlalchemy import select

from service.settings import Settings
from service.store.jobs import InProcessQueue, RqQueue, job_timeout
from service.store.models import Job, ReportRow, Submission
from service.store.runtime import Context, in_process_queue, use_context
from service.submissions.campaigns import create_campaign
from service.submissions.intake import latest_report
from tests.support.jobs import job_context, stage_submission
from tests.support.media import written
from tests.support.scenes import LARGE as scenes
from workers.deep import REPORT_NAME, derived_dir_key, enqueue_deep, run_analysis

REDIS_URL = "redis://127.0.0.1:6379/11"
"""This module's spare Redis database (the ``redis_db`` fixture, tests/support/jobs.py)."""

REDIS_REQUIRED = True
"""No Redis: these tests fail rather than skip."""

CAMPAIGN = "deep-analysis"


@pytest.fixture
def ctx(service_settings: Settings) -> Context:
    ctx = job_context(service_settings)
    with ctx.db.session() as s:
        create_campaign(s, ctx.store, campaign_id=CAMPAIGN, deep=True,
                        profiles=["shanxi-2023-microvideo", "kepuri-2023-history-photo"])
    return ctx


@pytest.fixture
def rq_ctx(ctx: Context, redis_db) -> Any:
    """``ctx`` with its jobs sent to RQ, and made this process's context (as ``mediacheck worker`` does)."""
    ctx.queue = RqQueue(REDIS_URL, "analysis")
    use_context(ctx)
    try:
        yield ctx
    finally:
        use_context(None)
        ctx.queue.shutdown()


def queue_deep(ctx: Context, sub_id: str) -> str:
    """Queue the deep job of a checked submission as its check job does."""
    with ctx.db.session() as s:
        row = latest_report(s, sub_id)
        assert row is not None
        report = row.report
    job_id = enqueue_deep(ctx, sub_id, report)
    assert job_id is not None
    return job_id


def run_burst(ctx: Context, job_id: str) -> RqJob:
    assert ctx.queue is not None and isinstance(ctx.queue, RqQueue)
    SimpleWorker([ctx.queue.queue], connection=ctx.queue.connection).work(burst=True)
    return RqJob.fetch(job_id, connection=ctx.queue.connection)


def deep_report(ctx: Context, sub_id: str) -> ReportRow:
    with ctx.db.session() as s:
        row = s.scalar(select(ReportRow).where(ReportRow.submission_id == sub_id, ReportRow.subject == "deep"))
        assert row is not None
        s.expunge(row)
        return row


def test_job_writes_report_and_pictures(rq_ctx: Context, validate_report) -> None:
    sub = stage_submission(rq_ctx, scenes.pillarboxed(), "shanxi-2023-microvideo", campaign_id=CAMPAIGN,
                           name="我的作品.mp4")
    job = run_burst(rq_ctx, queue_deep(rq_ctx, sub))
    assert job.get_status() == JobStatus.FINISHED
    assert job.get_meta(refresh=True)["stage"] == "pictures"
    row = deep_report(rq_ctx, sub)
    assert job.return_value() == {"verdict": "fail", "report_id": row.id, "poster": "poster.jpg",
                                  "contact_sheet": "contact-sheet.jpg", "thumbnail": "thumbnail.jpg"}
    out = rq_ctx.storage.path(derived_dir_key(sub))
    assert sorted(p.name for p in out.iterdir()) == ["contact-sheet.jpg", "poster.jpg", "report.json",
                                                     "thumbnail.jpg"]
    report = validate_report(json.loads((out / REPORT_NAME).read_text(encoding="utf-8")))
    assert row.report == report  # the stored report is the one written beside the pictures
    assert report["file"]["name"] == "我的作品.mp4"
    assert report["analysis"]["borders"]["kind"] == "pillarbox"
    assert {c["rule"]: c["status"] for c in report["checks"]}["borders"] == "fail"


def test_job_on_unreadable_file_stores_an_error_report(rq_ctx: Context) -> None:
    """A file the deep analysis cannot read (queued here without its check): the error report is written,
    no picture, and the job fails with its reason (the quick check's report stands)."""
    sub = stage_submission(rq_ctx, written("garbage.mp4", b"\x00garbage" * 500), "shanxi-2023-microvideo",
                           campaign_id=CAMPAIGN, check=False)
    job_id = enqueue_deep(rq_ctx, sub, {"media": {"kind": "video", "duration_s": 10.0}})
    assert job_id is not None
    job = run_burst(rq_ctx, job_id)
    assert job.get_status() == JobStatus.FAILED
    with rq_ctx.db.session() as s:
        row = s.get(Job, job_id)
        assert row is not None and row.state == "failed" and row.attempts == 1
        assert row.error["type"] == "UnreadableMediaError" and row.error["message"]["zh-CN"]
        assert s.scalar(select(ReportRow).where(ReportRow.submission_id == sub)) is None
    out = rq_ctx.storage.path(derived_dir_key(sub))
    assert json.loads((out / REPORT_NAME).read_text(encoding="utf-8"))["error"]["code"]
    assert [p.name for p in out.iterdir()] == ["report.json"]


def test_photo_gets_a_thumbnail_in_process(ctx: Context, tmp_path) -> None:
    src = tmp_path / "photo.jpg"
    Image.new("RGB", (2000, 1500), (40, 90, 200)).save(src, "JPEG")
    queue = in_process_queue(ctx)  # as the web app wires it
    ctx.queue = queue
    sub = stage_submission(ctx, src, "kepuri-2023-history-photo", campaign_id=CAMPAIGN)
    job_id = queue_deep(ctx, sub)
    queue.shutdown()  # waits for the job
    with ctx.db.session() as s:
        row = s.get(Job, job_id)
        assert row is not None and row.state == "finished", row.error
        result = row.result
    assert result is not None and result["thumbnail"] == "thumbnail.jpg"
    out = ctx.storage.path(derived_dir_key(sub))
    with Image.open(out / "thumbnail.jpg") as img:
        assert img.size == (480, 360)
    assert json.loads((out / REPORT_NAME).read_text(encoding="utf-8"))["analysis"] is None
    assert deep_report(ctx, sub).report["analysis"] is None


def test_job_timeout_grows_with_duration(ctx: Context) -> None:
    """The deep job's timeout is the one of every job (jobs.job_timeout, kind ``deep``): 120 s, and
    3 s per media second, well above the up to 0.6 s measured (docs/benchmarks.md)."""
    assert job_timeout("deep", duration_s=10) == 150 and job_timeout("deep", duration_s=300) == 1020
    assert job_timeout("deep", duration_s=300) > 2 * 300 and job_timeout("deep", duration_s=None) >= 120
    sub = stage_submission(ctx, scenes.pillarboxed(), "shanxi-2023-microvideo", campaign_id=CAMPAIGN)
    ctx.queue = queue = InProcessQueue(lambda job_id: None)  # nothing runs: only the row is looked at
    job_id = queue_deep(ctx, sub)
    queue.shutdown()
    with ctx.db.session() as s:
        row, submission = s.get(Job, job_id), s.get(Submission, sub)
        report = latest_report(s, sub)
        assert row is not None and submission is not None and report is not None
        duration = report.report["media"]["duration_s"]
        assert row.timeout_s == job_timeout("deep", duration_s=duration, size_bytes=submission.size_bytes)


def test_run_analysis_reports_progress(store, tmp_path) -> None:
    seen: list[float] = []
    report, pictures, error = run_analysis(scenes.frozen_slide(), store.get("shanxi-2023-microvideo"),
                                           tmp_path, progress=seen.append)
    assert seen == [0.05, 0.8, 1.0] and error is None
    assert pictures.contact_sheet is not None and report.analysis.static_ratio > 0.9
