"""RQ jobs whose worker died (``kill -9``, out of memory) while running them, found at once.

RQ itself finds such a job only when its entry in the started registry expires (the last heartbeat
plus 60 s) *and* a worker runs its maintenance (at start, then every 10 minutes): a transcode whose
worker was killed stayed ``started`` for minutes after a new worker came up (docs/benchmarks.md,
"Faults under load"). ``expire_abandoned`` marks the entries of dead workers as expired — a worker
whose key is gone, or one on this host whose process no longer exists — and lets RQ's own cleanup
handle them: the job's failure callback (``jobs.ON_FAILURE``) records it, and RQ retries it when it
has retries left (``Retry(max=…)``) or moves it to the failed registry."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

log = logging.getLogger(__name__)

MAINTENANCE_INTERVAL_S = 60
"""How often a ``mediacheck worker`` looks for abandoned jobs (RQ's default: 600 s)."""


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def worker_gone(connection: Any, worker_name: str, host: str | None = None) -> bool:
    """True when the worker named ``worker_name`` is dead: its key expired, or it ran on this host
    (``host``, default this machine's name) and its process no longer exists."""
    from rq.worker import Worker

    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + worker_name, connection=connection)
    if worker is None:
        return True
    pid = getattr(worker, "pid", None)
    return worker.hostname == (host or socket.gethostname()) and pid is not None and not process_alive(int(pid))


def expire_abandoned(queue: Any) -> list[str]:
    """Hand the jobs of ``queue`` (an ``rq.Queue``) whose worker died to RQ's cleanup (the failure
    callback, then a retry or the failed registry); their ids. Call it under the queue's
    maintenance lock, so that two workers starting together do not retry a job twice."""
    from rq.exceptions import NoSuchJobError
    from rq.executions import Execution

    registry = queue.started_job_registry
    conn = queue.connection
    gone: list[str] = []
    for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False):
        try:
            execution = Execution.fetch(execution_id, job_id, conn)
        except (NoSuchJobError, ValueError):
            continue  # its entry expires by itself; RQ's cleanup handles it
        if not execution.worker_name or not worker_gone(conn, execution.worker_name):
            continue
        conn.zadd(registry.key, {execution.composite_key: 1}, xx=True)  # expired: RQ's cleanup takes it
        gone.append(job_id)
    if gone:
        log.warning("jobs abandoned by a worker that died: %s", ", ".join(gone))
        registry.cleanup()
    return gone


def recovering_worker(cls: type) -> type:
    """An RQ worker class (``Worker`` or ``SimpleWorker``) that, at each maintenance (at its start,
    then every ``MAINTENANCE_INTERVAL_S``), first hands the jobs of dead workers to RQ's cleanup."""

    class Recovering(cls):  # type: ignore[valid-type,misc]
        def clean_registries(self) -> None:
            for queue in self.queues:
                if queue.acquire_maintenance_lock():
                    try:
                        expire_abandoned(queue)
                    except Exception:  # noqa: BLE001 - RQ's own maintenance still runs
                        log.exception("could not look for abandoned jobs in %s", queue.name)
                    finally:
                        queue.release_maintenance_lock()
            super().clean_registries()

    Recovering.__name__ = Recovering.__qualname__ = f"Recovering{cls.__name__}"
    return Recovering
