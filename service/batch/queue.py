"""Fan a batch out to RQ workers on other machines that share the storage, and gather
their records (``mediacheck batch --queue redis://…``). The task is
``workers.batch.check_entry_job`` (enqueued by its name); the records come back as job results and are written
by the machine that runs the batch, exactly as in a local run."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from service.batch.entries import BatchEntry
from service.batch.task import Record, TaskOptions, error_report

QUEUE_NAME = "mediacheck-batch"
"""The RQ queue batch workers listen on."""

CHECK_ENTRY_JOB = "workers.batch.check_entry_job"
"""The task that checks one entry, named (RQ workers import it by this name; the service never does)."""

JOB_TIMEOUT_S = 600
"""Base time a worker may spend on one file, before the size allowance."""

JOB_BYTES_PER_S = 20 * 2**20
"""Size allowance: a file gets one more second per this many bytes (slow shared storage)."""

RESULT_TTL_S = 7 * 24 * 3600
"""How long finished job results stay in Redis (a batch may be gathered days later)."""

MAX_IN_FLIGHT = 10_000
"""Most jobs enqueued at once; the rest follow as these finish."""

REDIS_OUTAGE_S = 120.0
"""How long the batch waits for a Redis that does not answer (a restart) before it lists every file still
in flight as failed; until then it keeps waiting instead of stopping with a traceback."""

RESUBMITS = 1
"""How many times a job that vanished from Redis (a restart without persistence loses every job) is sent
again before its file is listed as failed."""


class QueueDispatcher:
    def __init__(self, url: str, options: TaskOptions, *, queue_name: str = QUEUE_NAME,
                 connection: Any = None) -> None:
        from redis import Redis
        from rq import Queue

        self.options = options
        self.redis = connection or Redis.from_url(url)
        self.queue = Queue(queue_name, connection=self.redis)
        self.jobs: dict[str, BatchEntry] = {}
        self._sha256: dict[str, str | None] = {}  # by entry name: what a job sent again needs
        self._resent: dict[str, int] = {}  # by entry name
        self._unsent: list[BatchEntry] = []  # taken while Redis did not answer: sent when it is back
        self._down_since: float | None = None
        self._last_poll = 0.0

    def submit(self, entry: BatchEntry, sha256: str | None) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        self._sha256[entry.name] = sha256
        try:
            self._enqueue(entry)
        except (RedisConnectionError, RedisTimeoutError):
            self._unsent.append(entry)  # sent at the next collect once Redis answers (or listed failed)
            self._down_since = self._down_since or time.monotonic()

    def _enqueue(self, entry: BatchEntry) -> None:
        job = self.queue.enqueue_call(CHECK_ENTRY_JOB,
                                      args=(entry.model_dump_json(), self.options, self._sha256.get(entry.name)),
                                      timeout=JOB_TIMEOUT_S + entry.size // JOB_BYTES_PER_S,
                                      result_ttl=RESULT_TTL_S, failure_ttl=RESULT_TTL_S,
                                      description=f"mediacheck batch: {entry.name}")
        self.jobs[job.id] = entry

    def collect(self, timeout: float) -> list[tuple[BatchEntry, Record]]:
        """The records of the jobs that ended. A Redis that does not answer (restarting) is waited for
        (``REDIS_OUTAGE_S``), then every file still in flight is listed as failed; a job that vanished
        (Redis restarted without persistence) is sent again (``RESUBMITS``), then listed as failed. Each
        entry comes back once: its job id leaves ``jobs`` when its record is returned or it is sent again."""
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        wait = self._last_poll + timeout - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_poll = time.monotonic()
        try:
            while self._unsent:
                self._enqueue(self._unsent[0])
                self._unsent.pop(0)
            out = self._gather()
        except (RedisConnectionError, RedisTimeoutError) as exc:
            self._down_since = self._down_since or time.monotonic()
            if time.monotonic() - self._down_since < REDIS_OUTAGE_S:
                return []
            reason = f"Redis did not answer for {REDIS_OUTAGE_S:.0f} s ({exc})"
            out = [(e, self._failed(e, reason)) for e in [*self.jobs.values(), *self._unsent]]
            self.jobs.clear()
            self._unsent.clear()
            return out
        self._down_since = None
        return out

    def _fetch(self, ids: list[str]) -> list[Any]:
        """The jobs of ``ids`` (None for those Redis no longer holds, or holds only in part: a worker that
        wrote its result into a Redis restarted without the job)."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            return Job.fetch_many(ids, connection=self.redis)
        except NoSuchJobError:
            out: list[Any] = []
            for job_id in ids:
                try:
                    out.append(Job.fetch(job_id, connection=self.redis))
                except NoSuchJobError:
                    out.append(None)
            return out

    def _gather(self) -> list[tuple[BatchEntry, Record]]:
        from rq.job import JobStatus

        out = []
        ids = list(self.jobs)
        for job_id, job in zip(ids, self._fetch(ids), strict=True):
            entry = self.jobs[job_id]
            if job is None:
                if self._resent.get(entry.name, 0) < RESUBMITS:
                    self._resent[entry.name] = self._resent.get(entry.name, 0) + 1
                    del self.jobs[job_id]  # before it is sent again: never two jobs for one entry
                    self._enqueue(entry)
                    continue
                out.append((entry, self._failed(entry, "job vanished from Redis (restarted?)")))
            else:
                status = job.get_status(refresh=False)
                if status == JobStatus.FINISHED:
                    out.append((entry, Record.model_validate_json(str(job.return_value()))))
                elif status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
                    latest = job.latest_result()
                    text = (latest.exc_string if latest is not None else None) or f"job {status.value}"
                    reason = text.strip().splitlines()[-1]
                    out.append((entry, self._failed(entry, reason)))
                else:
                    continue
            del self.jobs[job_id]
        return out

    def _failed(self, entry: BatchEntry, reason: str) -> Record:
        msg = {"zh-CN": f"队列任务失败：{reason}", "en": f"the queued job failed: {reason}"}
        return Record(entry=entry, status="checked",
                      report=error_report(entry, self.options.profile, "worker_failed", msg))

    def hint(self) -> str | None:
        """A line for the person at the terminal when no worker listens on the queue yet."""
        from rq import Worker

        if Worker.count(queue=self.queue) > 0:
            return None
        name = self.queue.name
        command = f"rq worker --url <redis> {name}"
        return (f"mediacheck batch: 队列 {name} 上还没有 worker，请在共享存储的机器上启动：{command} / "
                f"no RQ worker listens on {name} yet; start one on a machine that shares the storage: {command}")

    def in_flight(self) -> int:
        return len(self.jobs) + len(self._unsent)

    def capacity(self) -> int:
        return MAX_IN_FLIGHT

    def cancel_pending(self) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        self._unsent.clear()
        with contextlib.suppress(RedisConnectionError, RedisTimeoutError):  # a Redis that is away lost them
            self._cancel_queued()

    def _cancel_queued(self) -> None:
        from rq.job import Job, JobStatus

        ids = list(self.jobs)
        for job_id, job in zip(ids, Job.fetch_many(ids, connection=self.redis), strict=True):
            if job is not None and job.get_status(refresh=False) == JobStatus.QUEUED:
                job.cancel()
                del self.jobs[job_id]

    def close(self, *, kill: bool) -> None:
        if kill:
            self.cancel_pending()
            self.jobs.clear()
