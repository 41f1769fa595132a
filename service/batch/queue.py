"""Fan a batch out to RQ workers on other machines that share the storage, and gather
their records (``mediacheck batch --queue redis://…``). The task is
``workers.batch.check_entry_job`` (enqueued by its name); the records come back as job results and are written
by the machine that runs the batch, exactly as in a local run."""

from __future__ import annotations

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


class QueueDispatcher:
    def __init__(self, url: str, options: TaskOptions, *, queue_name: str = QUEUE_NAME,
                 connection: Any = None) -> None:
        from redis import Redis
        from rq import Queue

        self.options = options
        self.redis = connection or Redis.from_url(url)
        self.queue = Queue(queue_name, connection=self.redis)
        self.jobs: dict[str, BatchEntry] = {}
        self._last_poll = 0.0

    def submit(self, entry: BatchEntry, sha256: str | None) -> None:
        job = self.queue.enqueue_call(CHECK_ENTRY_JOB, args=(entry.model_dump_json(), self.options, sha256),
                                      timeout=JOB_TIMEOUT_S + entry.size // JOB_BYTES_PER_S,
                                      result_ttl=RESULT_TTL_S, failure_ttl=RESULT_TTL_S,
                                      description=f"mediacheck batch: {entry.name}")
        self.jobs[job.id] = entry

    def collect(self, timeout: float) -> list[tuple[BatchEntry, Record]]:
        from rq.job import Job, JobStatus

        wait = self._last_poll + timeout - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_poll = time.monotonic()
        out = []
        ids = list(self.jobs)
        for job_id, job in zip(ids, Job.fetch_many(ids, connection=self.redis), strict=True):
            entry = self.jobs[job_id]
            if job is None:
                out.append((entry, self._failed(entry, "job vanished from Redis")))
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
        return len(self.jobs)

    def capacity(self) -> int:
        return MAX_IN_FLIGHT

    def cancel_pending(self) -> None:
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
