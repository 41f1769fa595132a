"""Job task functions: thin (load → call the core → save). RQ workers and the in-process
executor run the same ``run_job``; it dispatches on the job's kind through TASKS, where
other modules register theirs (``@task("transcode")``)."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.core.errors import MediaCheckError
from service.core.profiles import ProfileStore
from service.settings import Settings
from service.store.database import Database
from service.store.jobs import Progress
from service.store.models import Job, ReportRow, Submission
from service.store.storage import Storage
from service.submissions.intake import refusal, refuse


@dataclass
class Context:
    """What tasks need from the outside world, built once per process."""

    settings: Settings
    db: Database
    storage: Storage
    store: ProfileStore
    queue: Any = None
    """Where follow-up jobs go (the deep analysis after a check); None: no follow-ups."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Context:
        from service.store.jobs import RqQueue

        return cls(
            settings=settings,
            db=Database(settings.db_url),
            storage=Storage(settings.storage_dir, fsync=settings.fsync),
            store=ProfileStore(settings.profiles_dir),
            queue=RqQueue(settings.redis_url, settings.queue_name) if settings.redis_url else None,
        )


_context: Context | None = None


def context() -> Context:
    """This process's context (from the environment unless ``use_context`` set one)."""
    global _context
    if _context is None:
        _context = Context.from_settings(Settings.from_env())
    return _context


def use_context(ctx: Context | None) -> None:
    global _context
    _context = ctx


OUTCOME_STATES = {"cancelled": "cancelled", "failed": "failed", "unfixable": "failed"}
"""A task's result ``status`` that ends its job in another state than ``finished`` (a fix that was
cancelled, failed or proved unfixable); the job's ``error`` is then the result's ``error``."""

TaskFn = Callable[[Context, Job, Progress], dict[str, Any]]
TASKS: dict[str, TaskFn] = {}
"""Task functions by job kind."""


def task(kind: str) -> Callable[[TaskFn], TaskFn]:
    def register(fn: TaskFn) -> TaskFn:
        TASKS[kind] = fn
        return fn

    return register


@task("check")
def check_task(ctx: Context, job: Job, progress: Progress) -> dict[str, Any]:
    """The quick check of a submission's original: probe, judge, store the report."""
    from service.media.checker import check_file

    with ctx.db.session() as s:
        sub = s.get(Submission, job.submission_id)
        if sub is None:
            raise LookupError(f"submission {job.submission_id} not found")
        sub.status = "checking"
        path, profile_id, name, sha = (
            ctx.storage.path(sub.storage_key),
            sub.profile_id,
            sub.file_name,
            sub.sha256,
        )
    report = check_file(path, ctx.store.get(profile_id), display_name=name, sha256=sha)
    progress(0.9, force=True)
    data = report.model_dump(mode="json")
    with ctx.db.session() as s:
        row = ReportRow(
            submission_id=job.submission_id,
            subject="original",
            verdict=report.verdict,
            report=data,
            created_at=datetime.now(UTC),
        )
        s.add(row)
        sub = s.get(Submission, job.submission_id)
        assert sub is not None
        sub.status, sub.verdict, sub.checked_at = "checked", report.verdict, datetime.now(UTC)
        if refusal(data) is not None:  # not media, or a kind the campaign does not take
            refuse(s, ctx.storage, sub)
        s.flush()
        result = {"verdict": report.verdict, "report_id": row.id}
    from workers.deep import enqueue_deep
    from workers.fix_task import enqueue_autofix

    deep_job = enqueue_deep(ctx, job.submission_id or "", data)  # the campaign asks for content analysis
    fix_job = enqueue_autofix(ctx, job.submission_id or "", data)  # the campaign fixes failing uploads itself
    return result | ({"deep_job": deep_job} if deep_job else {}) | ({"fix_job": fix_job} if fix_job else {})


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


def _record_failure(ctx: Context, job_id: str, reason: dict[str, Any]) -> None:
    with ctx.db.session() as s:
        row = s.get(Job, job_id)
        if row is None or row.state == "finished":
            return
        final = row.attempts > row.retries
        row.state = "failed" if final else "queued"
        row.error = reason
        row.finished_at = datetime.now(UTC) if final else None
        if final and row.kind == "check" and row.submission_id:
            sub = s.get(Submission, row.submission_id)
            if sub is not None and sub.status != "refused":
                sub.status = "error"


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
    progress = Progress(_progress_saver(ctx, job_id))
    try:
        if fn is None:
            raise MediaCheckError(f"no task for job kind {job.kind!r}")
        result = fn(ctx, job, progress)
    except BaseException as exc:
        _record_failure(ctx, job_id, _reason(exc))
        raise
    with ctx.db.session() as s:
        row = s.get(Job, job_id)
        assert row is not None
        row.state = OUTCOME_STATES.get(str(result.get("status")), "finished")
        row.progress = 1.0 if row.state == "finished" else row.progress
        row.result, row.finished_at = result, datetime.now(UTC)
        row.error = result.get("error") if row.state == "failed" else None
    return result


import workers.fix_task  # noqa: E402,F401  (registers the "transcode" task)


def on_failure(job: Any, connection: Any, exc_type: Any, exc_value: Any, tb: Any) -> None:
    """RQ's failure callback: records what the task itself could not (a killed work horse)."""
    ctx = context()
    with ctx.db.session() as s:
        row = s.get(Job, job.id)
        recorded = row is not None and row.error is not None and row.state != "started"
    if not recorded:
        exc = exc_value if isinstance(exc_value, BaseException) else RuntimeError(str(exc_value))
        _record_failure(ctx, job.id, _reason(exc))


import workers.deep  # noqa: E402,F401  (registers the "deep" task)
