"""The queue edge: jobs recorded in the database and run either by RQ workers (when
MEDIACHECK_REDIS_URL is set) or by an in-process executor running the very same task
function (``workers.tasks.run_job``). The database row is the record; RQ's own results
expire."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from queue import Queue
from typing import Any

from sqlalchemy.orm import Session

from service.core.errors import RequestError
from service.store.ids import new_id
from service.store.models import Job, Submission

RUN_JOB = "workers.tasks.run_job"
"""The one task function every job runs (it dispatches on the job's kind). Named, never imported:
RQ workers import it by this name, and so does the in-process executor (runtime.run_in_process)."""

ON_FAILURE = "workers.tasks.on_failure"
"""Called by RQ when a job fails in a way the task could not record (killed, timed out)."""

BASE_TIMEOUT_S = 120
"""Seconds every job gets before its media is considered (start-up, probing, saving)."""

SECONDS_PER_MEDIA_SECOND = {"check": 0.5, "transcode": 6.0, "deep": 3.0}
"""Time allowed per second of media, by job kind (``job_timeout``, the one timeout of every job):
a check reads headers and a few frames; a transcode of slow presets on two cores takes several
times real time; the deep analysis decodes the whole file once through every detector and then
seeks for the pictures: a 3-minute 1080p25 file took 21–108 s (medians, two cores, quiet to
heavily loaded; docs/benchmarks.md, "Deep analysis"), up to 0.6 s per media second, so 3 s leaves
room for larger pictures, slower disks and busier machines."""

BYTES_PER_SECOND = 20 * 2**20
"""Reading speed assumed for work that scales with file size (hashing, copying)."""

PROGRESS_INTERVAL_S = 1.0
"""Progress is written (database and RQ meta) at most once per this many seconds."""

WATCHDOG_INTERVAL_S = 1.0
"""How often the in-process executor looks for jobs past their time budget."""

MAX_OVERRUN_THREADS = 4
"""In-process jobs given up past their budget whose threads may still be running (each took a
replacement thread); beyond it the queue waits for them rather than growing without bound."""

RETRY_DELAYS_S = (3.0, 15.0)
"""Waits before the in-process executor tries a failed job again (first retry, later ones): a job that
failed because the database was restarting runs again once it is back."""

ENQUEUE_RETRY_DELAYS_S = (0.25, 0.5, 1.0, 2.0, 4.0)
"""Waits between attempts to hand a job to a Redis that does not answer (about 8 s: a restart)."""

ON_OVERRUN = "workers.tasks.on_overrun"
"""Called (by name, as ``RUN_JOB``) when an in-process job runs past its time budget: records it failed."""

RESULT_TTL_S = 24 * 3600
"""How long RQ keeps results and failures; the database keeps them for good."""


def job_timeout(kind: str, *, duration_s: float | None = None, size_bytes: int | None = None) -> int:
    """A timeout derived from the media: RQ's default of 180 s would kill a transcode."""
    per = SECONDS_PER_MEDIA_SECOND.get(kind, 3.0)
    t = BASE_TIMEOUT_S + per * (duration_s or 0) + (size_bytes or 0) / BYTES_PER_SECOND
    return int(t)


def create_job(
    session: Session,
    *,
    kind: str,
    submission_id: str | None,
    params: dict[str, Any] | None = None,
    timeout_s: int,
    retries: int = 0,
    backend: str,
) -> Job:
    job = Job(
        id=new_id(),
        kind=kind,
        submission_id=submission_id,
        params=params or {},
        state="queued",
        progress=0.0,
        attempts=0,
        retries=retries,
        timeout_s=timeout_s,
        backend=backend,
        created_at=datetime.now(UTC),
    )
    session.add(job)
    return job


def submit_job(db: Any, queue: JobBackend, *, kind: str, submission_id: str | None,
               params: dict[str, Any] | None = None, duration_s: float | None = None,
               size_bytes: int | None = None, retries: int = 0) -> str:
    """Record a job and hand it to the backend; the timeout is derived from the media.
    ``db`` is a service.store.database.Database. Returns the job id (``GET /api/jobs/{id}``)."""
    timeout = job_timeout(kind, duration_s=duration_s, size_bytes=size_bytes)
    with db.session() as s:
        job = create_job(s, kind=kind, submission_id=submission_id, params=params, timeout_s=timeout,
                         retries=retries, backend=queue.backend)
    queue.enqueue(job.id, timeout_s=timeout, retries=retries)
    return job.id


class JobProgress:
    """Reports a job's progress (0…1), throttled to PROGRESS_INTERVAL_S: ``save`` writes it
    (the runner gives a function that updates the database row and, under RQ, the job meta)."""

    def __init__(self, save: Callable[[float], None], interval: float = PROGRESS_INTERVAL_S) -> None:
        self._save = save
        self._interval = interval
        self._last = 0.0
        self.value = 0.0

    def __call__(self, fraction: float, *, force: bool = False) -> None:
        self.value = max(0.0, min(1.0, fraction))
        now = time.monotonic()
        if force or now - self._last >= self._interval:
            self._last = now
            self._save(self.value)


ORPHANED_REASON = {
    "type": "ServiceRestarted",
    "message": {"zh-CN": "服务在此任务排队或运行时停止，任务未完成：请重新提交文件。",
                "en": "The service stopped while this job was waiting or running, so it did not finish: "
                      "submit the file again."},
    "detail": "an in-process job left queued or started by a service that stopped (killed, crashed, restarted)",
    "traceback": "",
}
"""The failure recorded for an in-process job its process did not live to finish."""


def fail_orphaned_jobs(db: Any, before: datetime) -> list[str]:
    """In-process jobs created before ``before`` (this process's start) and still queued or started
    belong to a process that is gone (killed, crashed, restarted): they can no longer end, so they
    are recorded failed (``ORPHANED_REASON``), the check's submission as ``error``. Not retried: a file
    that brought the process down would bring it down again. Their ids."""
    with db.session() as s:
        rows = s.query(Job).filter(Job.backend == "inprocess", Job.state.in_(("queued", "started")),
                                   Job.created_at < before).all()
        now = datetime.now(UTC)
        for row in rows:
            row.state, row.error, row.finished_at = "failed", ORPHANED_REASON, now
            if row.kind == "check" and row.submission_id:
                sub = s.get(Submission, row.submission_id)
                if sub is not None and sub.status not in ("refused", "checked"):
                    sub.status = "error"
        return [row.id for row in rows]


class InProcessQueue:
    """Runs jobs in ``workers`` threads of this process: the embedded default, no Redis needed.
    Retries are kept. A thread cannot be killed, so a job's time budget (its ``timeout_s``,
    ``job_timeout``) is kept by a watchdog: past it the job is recorded failed with a clear
    reason (``on_overrun``) and a fresh thread takes its place, so one costly file cannot stall
    every other check; the late thread ends when its job does (at most ``MAX_OVERRUN_THREADS``
    such threads at once: beyond, the queue waits for one of them). The child processes of an
    overrun job still end by their own timeouts."""

    backend = "inprocess"

    def __init__(self, runner: Callable[[str], Any], workers: int = 2,
                 on_overrun: Callable[[str, int], None] | None = None) -> None:
        self._runner = runner
        self._on_overrun = on_overrun
        self._workers = workers
        self._todo: Queue[tuple[str, int, int] | None] = Queue()
        self._pending = 0
        self._lock = threading.Lock()
        self._running: dict[threading.Thread, tuple[str, float, int]] = {}  # thread: job, deadline, budget
        self._overrun: set[threading.Thread] = set()
        self._threads: list[threading.Thread] = []
        self._closed = threading.Event()
        for _ in range(workers):
            self._spawn()
        self._watchdog = threading.Thread(target=self._watch, name="mediacheck-job-watchdog", daemon=True)
        self._watchdog.start()

    def _spawn(self) -> None:
        t = threading.Thread(target=self._work, name="mediacheck-job", daemon=True)
        self._threads.append(t)
        t.start()

    def enqueue(self, job_id: str, *, timeout_s: int, retries: int) -> None:
        with self._lock:
            self._pending += 1
        self._todo.put((job_id, timeout_s, retries))

    def _work(self) -> None:
        me = threading.current_thread()
        while (item := self._todo.get()) is not None:
            job_id, timeout_s, retries = item
            with self._lock:
                self._running[me] = (job_id, time.monotonic() + timeout_s, timeout_s)
            try:
                for attempt in range(retries + 1):
                    try:
                        self._runner(job_id)
                        break
                    except Exception:  # noqa: BLE001 - recorded in the job row by the runner
                        if me in self._overrun:
                            break
                        if attempt < retries:  # (a database that restarts needs a moment)
                            time.sleep(RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S) - 1)])
            finally:
                with self._lock:
                    self._running.pop(me, None)
                    self._pending -= 1
                    late = me in self._overrun
                    self._overrun.discard(me)
            if late:
                return  # its replacement serves the queue now

    def _watch(self) -> None:
        while not self._closed.wait(WATCHDOG_INTERVAL_S):
            self.check_budgets()

    def check_budgets(self) -> list[str]:
        """Give up the jobs past their budget (record them failed, replace their threads);
        their ids. The watchdog calls this every WATCHDOG_INTERVAL_S."""
        now = time.monotonic()
        with self._lock:
            late = [(t, job) for t, job in self._running.items() if now > job[1] and t not in self._overrun]
            late = late[:max(0, MAX_OVERRUN_THREADS - len(self._overrun))]
            for t, _job in late:
                self._overrun.add(t)
                self._spawn()
        for _t, (job_id, _deadline, budget) in late:
            if self._on_overrun is not None:
                self._on_overrun(job_id, budget)
        return [job_id for _t, (job_id, _d, _b) in late]

    def depth(self) -> int:
        return self._pending

    def cancel(self, job_id: str) -> bool:
        """Nothing to take out: a thread that reaches a job cancelled in the database skips it
        (workers.tasks.run_job). False: the job is not removed from anywhere."""
        return False

    def ping(self) -> None:
        return None

    def shutdown(self) -> None:
        """Run what is queued, then stop (jobs past their budget are not waited for)."""
        with self._lock:
            live = [t for t in self._threads if t.is_alive() and t not in self._overrun]
        for _ in live:
            self._todo.put(None)
        for t in live:
            t.join()
        self._closed.set()


class RqQueue:
    """Sends jobs to RQ; ``mediacheck worker`` runs them in separate processes."""

    backend = "rq"

    def __init__(self, redis_url: str, name: str) -> None:
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(redis_url)
        self.queue = Queue(name, connection=self.connection)

    def enqueue(self, job_id: str, *, timeout_s: int, retries: int) -> None:
        """Hand the job to RQ. A Redis that does not answer (restarting) is asked again for a few
        seconds (``ENQUEUE_RETRY_DELAYS_S``); then a 503 ``queue_unavailable`` (was: a 500)."""
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
        from rq import Callback, Retry

        for delay in (*ENQUEUE_RETRY_DELAYS_S, None):
            try:
                self.queue.enqueue(
                    RUN_JOB,
                    job_id,
                    job_id=job_id,
                    job_timeout=timeout_s,
                    retry=Retry(max=retries) if retries else None,
                    on_failure=Callback(ON_FAILURE),
                    result_ttl=RESULT_TTL_S,
                    failure_ttl=RESULT_TTL_S,
                    description=f"mediacheck {job_id}",
                )
                return
            except (RedisConnectionError, RedisTimeoutError):
                if delay is None:
                    raise RequestError(503, "queue_unavailable",
                                       "文件已收到，但检查队列暂时不可用，无法开始检查：请稍后重新上传。",
                                       "The file was received, but the check queue is unavailable, so its check "
                                       "could not start: upload it again later.", job_id=job_id) from None
                time.sleep(delay)

    def depth(self) -> int:
        return int(self.queue.count)

    def cancel(self, job_id: str) -> bool:
        """Take a job that is still waiting out of its RQ queue (into RQ's canceled registry), so
        that it neither counts in the queue's depth nor occupies a worker, even briefly. True when
        it was taken out; False when RQ no longer has it or a worker already took it (the task then
        skips or stops it through the database row, which stays the record)."""
        from rq.exceptions import InvalidJobOperation, NoSuchJobError
        from rq.job import Job as RqJob
        from rq.job import JobStatus

        try:
            job = RqJob.fetch(job_id, connection=self.connection)
            waiting = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)  # no worker took it yet
            if job.get_status(refresh=False) not in waiting:
                return False
            job.cancel()
        except (NoSuchJobError, InvalidJobOperation):
            return False
        return True

    def ping(self) -> None:
        self.connection.ping()

    def meta(self, job_id: str) -> dict[str, Any]:
        from rq.exceptions import NoSuchJobError
        from rq.job import Job as RqJob

        try:
            return dict(RqJob.fetch(job_id, connection=self.connection).get_meta(refresh=True))
        except NoSuchJobError:
            return {}

    def shutdown(self) -> None:
        self.connection.close()


JobBackend = InProcessQueue | RqQueue
