"""The job runner's context and how a job is run in this process.

``Context`` is what the tasks need from the outside world (settings, database, storage, profile
store, and the queue follow-up jobs go to), made once per process: by ``mediacheck worker`` for
its RQ worker (``use_context``), by the web app for its in-process executor. The app, the worker
command and the tasks (``workers/``) share it by importing it from here, downwards.

A job's function is named, never imported: RQ workers import ``jobs.RUN_JOB`` by its dotted name,
and the in-process executor resolves that very name the same way (``run_in_process``), so both
modes run the same function and nothing in ``service`` imports ``workers``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.core.profiles import ProfileStore
from service.settings import Settings
from service.store.database import Database
from service.store.jobs import ON_OVERRUN, RUN_JOB, InProcessQueue, JobBackend, RqQueue, fail_orphaned_jobs
from service.store.storage import Storage


@dataclass
class Context:
    """What tasks need from the outside world, built once per process."""

    settings: Settings
    db: Database
    storage: Storage
    store: ProfileStore
    queue: JobBackend | None = None
    """Where follow-up jobs go (the deep analysis after a check); None: no follow-ups."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Context:
        return cls(
            settings=settings,
            db=Database(settings.db_url),
            storage=Storage(settings.storage_dir, fsync=settings.fsync),
            store=ProfileStore(*settings.profile_dirs),
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
    """Make ``ctx`` this process's context (None: build it from the environment when next asked)."""
    global _context
    _context = ctx


def run_in_process(job_id: str, ctx: Context) -> Any:
    """Run job ``job_id`` here, with ``ctx``: the in-process executor's runner. The function is the
    one RQ workers run, found by its name (``RUN_JOB``) as RQ's worker finds it."""
    from rq.utils import import_attribute

    return import_attribute(RUN_JOB)(job_id, ctx)


def in_process_queue(ctx: Context) -> InProcessQueue:
    """The in-process executor of ``ctx``: runs ``RUN_JOB`` and, for a job past its time budget,
    ``ON_OVERRUN`` (both found by name), with ``ctx``. The in-process jobs a previous process left
    unfinished (it was killed or crashed) are recorded failed first (``fail_orphaned_jobs``)."""
    from datetime import UTC, datetime

    from rq.utils import import_attribute

    fail_orphaned_jobs(ctx.db, datetime.now(UTC))

    def overrun(job_id: str, budget_s: int) -> None:
        import_attribute(ON_OVERRUN)(job_id, budget_s, ctx)

    return InProcessQueue(lambda job_id: run_in_process(job_id, ctx), on_overrun=overrun)
