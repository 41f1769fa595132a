"""Run a batch: collect the entries, reuse what a previous run finished, check the rest in
parallel (a local pool, or RQ workers with ``--queue``), stream each record to
results.jsonl as it finishes, then write the summaries.

Ctrl-C: the first press stops handing out files, lets the ones in progress finish
(a result that is an error after the stop is dropped: the signal also reached ffprobe)
and exits 130 without summaries; the second press stops at once. Running the same
command again resumes. Summaries are written (each to a temporary file, then renamed)
only when every entry has a record, so a stopped run never looks finished."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TextIO

from service.batch.entries import BatchEntry, collect_entries
from service.batch.index_page import write_index
from service.batch.pool import Kind, PoolDispatcher
from service.batch.progress import BatchProgress
from service.batch.report_view import render_report
from service.batch.state import BatchState
from service.batch.summary import collect_stats, write_csv, write_xlsx
from service.batch.task import Record, TaskOptions, check_entry, default_tools_key, resolve_step
from service.core.profiles import Profile
from service.store.durable import replace_atomically

EXIT_OK, EXIT_FAIL, EXIT_INTERRUPTED = 0, 1, 130

OUTPUT_NAMES = ("summary.csv", "summary.xlsx", "index.html")
"""Summaries removed when a run starts and written again only when it completes."""

REPORTS_DIR = "reports"
"""Folder in the output folder for the per-file HTML reports."""

POLL_S = 0.25
"""How often the main loop wakes up to notice Ctrl-C and collect results."""

JOBS_PER_CORE = 2
"""Default files in flight per core: a file's hashing waits on the disk while another's
ffprobe runs (measured in docs/benchmarks.md, "## Batch")."""


def default_jobs() -> int:
    return JOBS_PER_CORE * (os.cpu_count() or 1)


@dataclass
class BatchOptions:
    paths: list[str]
    out_dir: Path
    profile: Profile
    jobs: int = field(default_factory=default_jobs)
    steps: tuple[str, ...] = ()
    queue_url: str | None = None
    executor: Kind = "process"
    """processes by default: as fast as threads or faster in docs/benchmarks.md, flatter
    memory over 1,000 files, and a crash in a native library costs one file, not the batch."""
    fsync: bool = True
    """Steps that write files (``--fix``) make them durable before they appear (``MEDIACHECK_FSYNC``)."""


@dataclass
class BatchResult:
    exit_code: int
    total: int
    checked: int
    reused: int
    interrupted: bool
    verdicts: dict[str, int]


class Dispatcher(Protocol):
    """Hands entries to whatever checks them and gives back records as they finish."""

    def submit(self, entry: BatchEntry, sha256: str | None) -> None: ...
    def collect(self, timeout: float) -> list[tuple[BatchEntry, Record]]: ...
    def in_flight(self) -> int: ...
    def capacity(self) -> int: ...
    def cancel_pending(self) -> None: ...
    def close(self, *, kill: bool) -> None: ...


def report_page_name(entry: BatchEntry) -> str:
    """reports/<hash of the entry id>.html: stable across runs, ASCII whatever the name."""
    return f"{REPORTS_DIR}/{hashlib.sha256(entry.id.encode('utf-8')).hexdigest()[:20]}.html"


def _source_label(entry: BatchEntry) -> str:
    return f"{entry.source} :: {entry.name}" if entry.member is not None else entry.source


def write_report_page(out_dir: Path, record: Record) -> Record:
    """Write the record's HTML page (atomically) and return the record pointing to it."""
    if record.report is None:
        return record
    rel = report_page_name(record.entry)
    html = render_report(record.report, back_href="../index.html", source=_source_label(record.entry))
    replace_atomically(out_dir / rel, lambda tmp: tmp.write_text(html, encoding="utf-8"))
    return record.model_copy(update={"html": rel})


class _Interrupt:
    """Counts Ctrl-C presses; installed only when running in the main thread."""

    def __init__(self) -> None:
        self.presses = 0
        self.event = threading.Event()
        self._old: Callable[..., object] | int | None = None

    def _handler(self, signum: int, frame: object) -> None:
        self.presses += 1
        self.event.set()

    def __enter__(self) -> _Interrupt:
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def make_dispatcher(opts: BatchOptions, task: TaskOptions) -> Dispatcher:
    if opts.queue_url:
        from service.batch.queue import QueueDispatcher

        return QueueDispatcher(opts.queue_url, task)
    return PoolDispatcher(task, opts.jobs, opts.executor)


def run_batch(opts: BatchOptions, *, stream: TextIO, tty: bool | None = None,
              stop: threading.Event | None = None) -> BatchResult:
    """Run the batch described by ``opts``; progress goes to ``stream``. ``stop`` lets a
    caller (a test, the web service) request the same clean stop as Ctrl-C."""
    for step in opts.steps:
        resolve_step(step)  # fail before any work when --deep/--fix is not available
    out = opts.out_dir
    out.mkdir(parents=True, exist_ok=True)
    state = BatchState(out)
    state.lock()
    try:
        return _run_locked(opts, state, stream, tty, stop)
    finally:
        state.unlock()


def _run_locked(opts: BatchOptions, state: BatchState, stream: TextIO, tty: bool | None,
                stop: threading.Event | None) -> BatchResult:
    out = opts.out_dir
    state.load()
    entries = collect_entries(opts.paths, exclude=out)
    task = TaskOptions(profile=opts.profile, out_dir=str(out), work_dir=str(state.work_dir),
                       tools_key=default_tools_key(), steps=opts.steps, fsync=opts.fsync)
    for name in OUTPUT_NAMES:
        (out / name).unlink(missing_ok=True)
    todo: list[tuple[BatchEntry, str | None]] = []
    reused = 0
    known: Counter[str] = Counter()
    state.open()
    try:
        for entry in entries:
            if entry.action != "check":
                record = write_report_page(out, check_entry(entry, task))
                state.append(record)
                known[record.verdict] += 1
                continue
            old = state.reusable(entry, task)
            if old is not None:
                reused += 1
                known[old.verdict] += 1
                if old.html and not (out / old.html).exists():
                    write_report_page(out, old)
                continue
            todo.append((entry, state.known_sha256(entry)))
        progress = BatchProgress(len(todo), sum(e.size for e, _ in todo), stream, tty=tty, known=known)
        if reused:
            progress.message(f"mediacheck batch: 续跑，{reused} 个文件已有结果 / resuming, {reused} file(s) already "
                             "done")
        checked, interrupted = _dispatch(opts, task, state, todo, progress, stop)
        progress.finish()
    finally:
        state.close()
    if interrupted:
        stream.write(f"mediacheck batch: 已中断，完成 {reused + checked}/{reused + len(todo)}；再次运行同一命令即可"
                     f"继续 / interrupted, {reused + checked}/{reused + len(todo)} done; run the same command again "
                     "to resume\n")
        return BatchResult(EXIT_INTERRUPTED, len(entries), checked, reused, True, {})
    state.compact(entries)
    stats = collect_stats(state.records())
    write_csv(out / "summary.csv", state.records(), stats)
    write_xlsx(out / "summary.xlsx", state.records(), stats)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    write_index(out / "index.html", state.records(), stats,
                profile=f"{opts.profile.id} {opts.profile.version} · {opts.profile.title.zh}", created_at=created)
    bad = stats.verdicts.get("fail", 0) + stats.verdicts.get("error", 0)
    return BatchResult(EXIT_FAIL if bad else EXIT_OK, len(entries), checked, reused, False, dict(stats.verdicts))


def _dispatch(opts: BatchOptions, task: TaskOptions, state: BatchState, todo: list[tuple[BatchEntry, str | None]],
              progress: BatchProgress, stop: threading.Event | None) -> tuple[int, bool]:
    """Hand out ``todo`` and store the records as they come back. Returns (files checked,
    interrupted)."""
    if not todo:
        return 0, False
    dispatcher = make_dispatcher(opts, task)
    hint = getattr(dispatcher, "hint", None)
    if hint is not None and (text := hint()):
        progress.message(text)
    queue = list(reversed(todo))
    checked = 0
    stopping = False
    with _Interrupt() as sigint:
        kill = True
        try:
            while queue or dispatcher.in_flight():
                requested = sigint.event.is_set() or (stop is not None and stop.is_set())
                if requested and not stopping:
                    stopping = True
                    queue.clear()
                    dispatcher.cancel_pending()
                    progress.message("mediacheck batch: 正在停止，等待进行中的文件完成（再按 Ctrl-C 立即停止）/ "
                                     "stopping after the files in progress (Ctrl-C again to stop now)")
                if sigint.presses >= 2:
                    break
                while queue and dispatcher.in_flight() < dispatcher.capacity():
                    entry, sha = queue.pop()
                    dispatcher.submit(entry, sha)
                for entry, record in dispatcher.collect(POLL_S):
                    # ask again, not the flag of the loop's top: the handler may have run during collect
                    interrupted = sigint.event.is_set() or (stop is not None and stop.is_set())
                    if interrupted and record.verdict == "error":
                        continue  # may be the signal's doing (ffprobe got it too): redo it next run
                    state.append(write_report_page(state.out_dir, record))
                    checked += 1
                    progress.add(record.verdict, entry.size)
            else:
                kill = False
        finally:
            dispatcher.close(kill=kill)
    return checked, stopping
