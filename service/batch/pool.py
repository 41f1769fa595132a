"""The local pool of a batch: ``--jobs`` processes (default) or threads running the
per-file task, behind the same ``Dispatcher`` interface as the RQ queue (queue.py)."""

from __future__ import annotations

import multiprocessing
import signal
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from typing import Literal

from service.batch.entries import BatchEntry
from service.batch.task import Record, TaskOptions, check_entry, error_report

Kind = Literal["process", "thread"]


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _crashed(entry: BatchEntry, options: TaskOptions, exc: BaseException) -> Record:
    msg = {"zh-CN": f"检查进程异常退出：{exc}", "en": f"the checking process failed: {exc}"}
    return Record(entry=entry, status="checked", report=error_report(entry, options.profile, "worker_failed", msg))


class PoolDispatcher:
    """A local pool of processes (default) or threads. A process that dies (killed, out of
    memory, a crash in a native library) breaks a process pool: the files it held get an
    ``worker_failed`` record (retried by the next run) and a fresh pool takes the rest."""

    def __init__(self, options: TaskOptions, jobs: int, kind: Kind) -> None:
        self.options = options
        self.jobs = jobs
        self.kind = kind
        self.pool = self._new_pool()
        self.futures: dict[Future[Record], BatchEntry] = {}

    def _new_pool(self) -> Executor:
        if self.kind == "process":
            # forkserver: no fork() of a multi-threaded parent (deprecated in 3.12, default in 3.14)
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["service.batch.task"])
            return ProcessPoolExecutor(max_workers=self.jobs, mp_context=ctx, initializer=_ignore_sigint)
        return ThreadPoolExecutor(max_workers=self.jobs)

    def submit(self, entry: BatchEntry, sha256: str | None) -> None:
        try:
            future = self.pool.submit(check_entry, entry, self.options, sha256=sha256)
        except BrokenExecutor:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._new_pool()
            future = self.pool.submit(check_entry, entry, self.options, sha256=sha256)
        self.futures[future] = entry

    def collect(self, timeout: float) -> list[tuple[BatchEntry, Record]]:
        if not self.futures:
            return []
        done, _ = wait(self.futures, timeout=timeout, return_when=FIRST_COMPLETED)
        out = []
        for f in done:
            entry = self.futures.pop(f)
            if f.cancelled():
                continue
            exc = f.exception()
            out.append((entry, _crashed(entry, self.options, exc) if exc else f.result()))
        return out

    def in_flight(self) -> int:
        return len(self.futures)

    def capacity(self) -> int:
        return self.jobs * 2

    def cancel_pending(self) -> None:
        for f in list(self.futures):
            if f.cancel():
                self.futures.pop(f)

    def close(self, *, kill: bool) -> None:
        if kill:
            self.cancel_pending()
            if isinstance(self.pool, ProcessPoolExecutor):
                procs = getattr(self.pool, "_processes", None) or {}
                for p in list(procs.values()):
                    p.terminate()
            self.futures.clear()
        self.pool.shutdown(wait=not kill, cancel_futures=True)
