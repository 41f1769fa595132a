"""Running a job: ``run_job`` (``jobs.RUN_JOB``, the function RQ workers and the in-process
executor both run, by that name) loads the job's row, dispatches on its kind through the task
registry (workers/registry.py) and records its state, progress, result or failure reason;
``on_failure`` (``jobs.ON_FAILURE``) records what a killed work horse could not. Tasks stay thin
(load → call the core → save). ``TASK_MODULES`` is the one list of the task modules: importing
this module registers every kind."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from service.core.errors import MediaCheckError
from service.store.jobs import JobProgress
from service.store.models import Job, Submission
from service.store.runtime import Context, context
from service.store.summaries import refresh as refresh_summary
from workers import check, deep, export, fix_task, recheck
from workers.registry import TASKS

log = logging.getLogger(__name__)

TASK_MODULES = (check, deep, fix_task, recheck, export)
"""Every module that registers tasks (``@task``): imported here, so every kind is known to run_job."""

OUTCOME_STATES = {"cancelled": "cancelled", "failed": "failed", "unfixable": "failed"}
"""A task's result ``status`` that ends its job in another state than ``finished`` (a fix that was
cancelled, failed or proved unfixable); the job's ``error`` is then the result's ``error``."""


def _progress_saver(ctx: Context, job_id: str) -> Callable[[float], None]:
    def save(value: float) -> None:
        with ctx.db.session() as s:
            row = s.get(Job, job_id)
            if row is not None:
                row.progress = value
        try:
            from rq import get_current_job

            rq_job = get_current_job()
        except Exception:  # noqa: BLE001 - not under RQ
            rq_job = None
        if rq_job is not None:
            rq_job.meta["progress"] = value
            rq_job.save_meta()

    return save


def _reason(exc: BaseException) -> dict[str, Any]:
    msg = getattr(exc, "message", None)
    if not isinstance(msg, dict):
        msg = {"zh-CN": f"任务失败：{exc}", "en": f"The job failed: {exc}"}
    return {
        "type": type(exc).__name__,
        "message": msg,
        "detail": str(exc)[-2000:],
        "traceback": "".join(traceback.format_exception(exc))[-4000:],
    }


def _record_failure(ctx: Context, job_id: str, reason: dict[str, Any], *, final: bool | None = None) -> None:
    with ctx.db.session() as s:
        row = s.get(Job, job_id)
        if row is None or row.state == "finished":
            return
        final = row.attempts > row.retries if final is None else final
        row.state = "failed" if final else "queued"
        row.error = reason
        row.finished_at = datetime.now(UTC) if final else None
        if final and row.kind == "check" and row.submission_id:
            sub = s.get(Submission, row.submission_id)
            if sub is not None and sub.status != "refused":
                sub.status = "error"
                refresh_summary(s, sub.id)


RECORD_RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
"""Waits between attempts to record a job's failure while the database does not answer (PostgreSQL
restarting): without them the job would stay `started` for good."""


def _record_failure_patiently(ctx: Context, job_id: str, reason: dict[str, Any]) -> None:
    for delay in (*RECORD_RETRY_DELAYS_S, None):
        try:
            _record_failure(ctx, job_id, reason)
            return
        except SQLAlchemyError:
            if delay is None:
                log.exception("could not record the failure of job %s: the database does not answer", job_id)
                return
            time.sleep(delay)


def run_job(job_id: str, ctx: Context | None = None) -> dict[str, Any]:
    """Run one job to the end, recording state, progress, result or failure reason."""
    ctx = ctx or context()
    with ctx.db.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise LookupError(f"job {job_id} not found")
        if job.state == "cancelled":  # cancelled while it waited in the queue
            return {"status": "cancelled"}
        job.state, job.started_at, job.attempts = "started", datetime.now(UTC), job.attempts + 1
        s.flush()
        s.expunge(job)
    fn = TASKS.get(job.kind)
    progress = JobProgress(_progress_saver(ctx, job_id))
    try:
        if fn is None:
            raise MediaCheckError(f"no task for job kind {job.kind!r}")
        result = fn(ctx, job, progress)
    except BaseException as exc:
        _record_failure_patiently(ctx, job_id, _reason(exc))
        raise
    try:
        _record_result(ctx, job_id, result)
    except SQLAlchemyError as exc:  # the database went away (a restart): recorded when it is back, then retried
        _record_failure_patiently(ctx, job_id, _reason(exc))
        raise
    return result


def _record_result(ctx: Context, job_id: str, result: dict[str, Any]) -> None:
    with ctx.db.session() as s:
        row = s.get(Job, job_id)
        assert row is not None
        row.state = OUTCOME_STATES.get(str(result.get("status")), "finished")
        row.progress = 1.0 if row.state == "finished" else row.progress
        row.result, row.finished_at = result, datetime.now(UTC)
        row.error = result.get("error") if row.state == "failed" else None


def on_overrun(job_id: str, budget_s: int, ctx: Context | None = None) -> None:
    """The in-process executor gave up job ``job_id`` past its time budget (store.jobs.ON_OVERRUN):
    recorded failed at once, with a reason a person can read; should it end after all, its result
    is recorded then."""
    message = {"zh-CN": f"任务超过时限（{budget_s} 秒）仍未完成，已放弃：文件可能异常，请检查文件后重新提交。",
               "en": f"The job did not finish within its time limit ({budget_s} s) and was given up: the "
                     "file may be malformed; check it and submit it again."}
    _record_failure(ctx or context(), job_id, {"type": "JobTimeout", "message": message,
                                               "detail": f"in-process budget {budget_s} s", "traceback": ""},
                    final=True)


ABANDONED_MESSAGE = {
    "zh-CN": "处理此任务的进程意外终止（被强制结束或内存不足），任务未完成。",
    "en": "The process running this job was ended abruptly (killed or out of memory), so the job did not finish.",
}
"""The reason of a job whose worker died (RQ's ``AbandonedJobError``, which carries no message); when the
job has a retry left it runs again and this stays only as the last error."""


def on_failure(job: Any, connection: Any, exc_type: Any, exc_value: Any, tb: Any) -> None:
    """RQ's failure callback: records what the task itself could not (a killed work horse, a worker
    that died: RQ's cleanup calls it for the abandoned job, store/abandoned.py)."""
    ctx = context()
    with ctx.db.session() as s:
        row = s.get(Job, job.id)
        recorded = row is not None and row.error is not None and row.state != "started"
    if not recorded:
        exc = exc_value if isinstance(exc_value, BaseException) else RuntimeError(str(exc_value))
        reason = _reason(exc)
        if type(exc).__name__ == "AbandonedJobError":
            reason["message"] = ABANDONED_MESSAGE
        _record_failure(ctx, job.id, reason)
