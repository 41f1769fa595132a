"""The one module that runs external processes (ffprobe, ffmpeg). Every run has a
timeout; on timeout or any exception the child is killed and reaped. Children stay in
our process group, so a worker's group kill (RQ's job timeout) reaches them too. A run
may also bound the child's address space (``memory_limit``: RLIMIT_AS, set from here on the
child with prlimit, so nothing runs between fork and exec): past it, its allocations fail
and it ends, instead of growing the machine out of memory."""

from __future__ import annotations

import errno
import queue
import resource
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from service.core.errors import ToolCancelledError, ToolError, ToolTimeoutError, UnreadableMediaError

STDERR_TAIL_CHARS = 2000
"""How much of a failed tool's stderr is kept in the error (its end)."""

OUT_OF_MEMORY_MARKERS = ("Cannot allocate memory", "failed to map segment", "std::bad_alloc", "MemoryError")
"""What a child that hit its ``memory_limit`` prints on the way out (ffmpeg's ENOMEM, the loader, Python)."""


def limit_memory(pid: int, limit: int | None) -> None:
    """Bound the address space of the running child ``pid`` to ``limit`` bytes (None: leave it)."""
    if limit is None:
        return
    try:
        resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))
    except ProcessLookupError:  # already gone
        pass
    except OSError as e:  # pragma: no cover - a kernel without prlimit on other processes
        if e.errno not in (errno.EPERM, errno.ENOSYS):
            raise


def over_budget_error(what_zh: str, what_en: str, limit: int) -> UnreadableMediaError:
    """The error of a file whose check needed more memory than ``limit`` bytes (``what``: the tool)."""
    return UnreadableMediaError(
        f"检查此文件所需的内存超过上限（{what_zh}，{limit / 2**20:.0f} 兆），已停止：文件可能异常。",
        f"Checking this file needs more memory than allowed ({what_en}, {limit / 2**20:.0f} MiB) and was "
        "stopped: the file may be malformed.", code="over_budget")


def out_of_memory(result: Completed, limit: int | None) -> bool:
    """Whether a failed run ended because it reached its ``memory_limit``."""
    return limit is not None and result.returncode != 0 and any(m in result.stderr for m in OUT_OF_MEMORY_MARKERS)


@dataclass(frozen=True)
class Completed:
    command: list[str]
    returncode: int
    stdout: bytes
    stderr: str


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


class Started:
    """``run`` begun now and collected later: a daemon thread runs it (the child is waited
    for outside the GIL), so the caller does other work meanwhile. ``result()`` returns what
    ``run`` returned or raises what it raised; the timeout kill is ``run``'s own."""

    def __init__(self, command: list[str], *, timeout: float, check: bool = True,
                 memory_limit: int | None = None) -> None:
        self.command = command
        self._result: Completed | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(timeout, check, memory_limit), name=command[0],
                                        daemon=True)
        self._thread.start()

    def _run(self, timeout: float, check: bool, memory_limit: int | None) -> None:
        try:
            self._result = run(self.command, timeout=timeout, check=check, memory_limit=memory_limit)
        except BaseException as e:  # noqa: BLE001 - handed to the caller of result()
            self._error = e

    def result(self) -> Completed:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def wait(self) -> None:
        """Wait for the run to end, whatever its outcome (so that no child outlives the caller)."""
        self._thread.join()


def start(command: list[str], *, timeout: float, check: bool = True, memory_limit: int | None = None) -> Started:
    """Start ``run(command)`` in the background; collect it with ``.result()``."""
    return Started(command, timeout=timeout, check=check, memory_limit=memory_limit)


def run(command: list[str], *, timeout: float, check: bool = True, memory_limit: int | None = None) -> Completed:
    """Run ``command`` and return its output; kill it after ``timeout`` seconds; bound its
    address space to ``memory_limit`` bytes when given.

    Raises ToolError when the program is missing or (with ``check``) exits non-zero, and
    ToolTimeoutError when it runs too long."""
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise ToolError(f"{command[0]} not found: install ffmpeg (apt-get install ffmpeg)",
                        command=command) from None
    try:
        limit_memory(proc.pid, memory_limit)
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise ToolTimeoutError(f"{command[0]} ran longer than {timeout:.0f}s and was killed",
                               command=command, returncode=proc.returncode,
                               stderr=_decode(err)[-STDERR_TAIL_CHARS:]) from None
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    result = Completed(command, proc.returncode, out, _decode(err)[-STDERR_TAIL_CHARS:])
    if check and proc.returncode != 0:
        raise ToolError(f"{command[0]} exited with {proc.returncode}: {result.stderr.strip()[-300:]}",
                        command=command, returncode=proc.returncode, stderr=result.stderr)
    return result


def run_lines(command: list[str], *, timeout: float, keep: Callable[[str], bool],
              max_lines: int = 100_000) -> Completed:
    """Run ``command`` and return the stderr lines for which ``keep`` is true (in full, not
    only the tail), for tools whose answer is their log (ffmpeg's detector filters).

    stderr is read line by line as it comes, so a long run holds only the kept lines
    (at most ``max_lines``). stdout is discarded. Killed after ``timeout`` seconds
    (ToolTimeoutError); a non-zero exit raises ToolError with the end of stderr."""
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise ToolError(f"{command[0]} not found: install ffmpeg (apt-get install ffmpeg)",
                        command=command) from None
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    kept: list[str] = []
    tail: deque[str] = deque(maxlen=40)
    try:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = _decode(raw).rstrip("\r\n")
            tail.append(line)
            if len(kept) < max_lines and keep(line):
                kept.append(line)
        proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        timer.cancel()
        if proc.stderr is not None:
            proc.stderr.close()
    err_tail = "\n".join(tail)[-STDERR_TAIL_CHARS:]
    if timed_out.is_set():
        raise ToolTimeoutError(f"{command[0]} ran longer than {timeout:.0f}s and was killed",
                               command=command, returncode=proc.returncode, stderr=err_tail)
    if proc.returncode != 0:
        raise ToolError(f"{command[0]} exited with {proc.returncode}: {err_tail.strip()[-300:]}",
                        command=command, returncode=proc.returncode, stderr=err_tail)
    return Completed(command, proc.returncode, b"", "\n".join(kept))


PROGRESS_POLL_S = 0.25
"""How often a progress-reporting run checks for cancellation and its timeout."""

_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    """libc's prctl, resolved once in the parent: the child must not import or look up anything
    between fork and exec (another thread may have held a lock at fork time)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        fn: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
        return fn
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGKILL when the thread that started it dies (a worker killed with
    SIGKILL must not leave ffmpeg encoding for nobody; ffmpeg ignores SIGPIPE)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, 9, 0, 0, 0)  # 9 = SIGKILL


def run_with_progress(command: list[str], *, timeout: float, on_progress: Callable[[dict[str, str]], None],
                      cancelled: Callable[[], bool] | None = None) -> Completed:
    """Run an ffmpeg ``command`` that writes ``-progress pipe:1`` blocks to stdout; call
    ``on_progress`` with each block (``out_time_us``, ``speed``, ``progress`` …).

    The child is killed when ``cancelled()`` turns true (ToolCancelledError), after
    ``timeout`` seconds (ToolTimeoutError), or on any exception in the caller (a callback
    raising included). A non-zero exit raises ToolError with the end of stderr."""
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE,
                                preexec_fn=_die_with_parent if _PRCTL is not None else None)
    except FileNotFoundError:
        raise ToolError(f"{command[0]} not found: install ffmpeg (apt-get install ffmpeg)",
                        command=command) from None
    lines: queue.Queue[bytes | None] = queue.Queue()
    tail: deque[bytes] = deque(maxlen=64)

    def pump_stdout() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def pump_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            tail.append(line)

    readers = [threading.Thread(target=pump_stdout, daemon=True), threading.Thread(target=pump_stderr, daemon=True)]
    for t in readers:
        t.start()
    deadline = time.monotonic() + timeout
    block: dict[str, str] = {}
    try:
        done = False
        while not done:
            if cancelled is not None and cancelled():
                raise ToolCancelledError(f"{command[0]} was cancelled and killed", command=command)
            if time.monotonic() > deadline:
                raise ToolTimeoutError(f"{command[0]} ran longer than {timeout:.0f}s and was killed",
                                       command=command, stderr=_decode(b"".join(tail))[-STDERR_TAIL_CHARS:])
            try:
                line = lines.get(timeout=PROGRESS_POLL_S)
            except queue.Empty:
                continue
            if line is None:
                done = True
                continue
            key, _, value = _decode(line).strip().partition("=")
            block[key] = value
            if key == "progress":
                on_progress(block)
                block = {}
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        for t in readers:
            t.join(timeout=5)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    err = _decode(b"".join(tail))
    if proc.returncode != 0:
        raise ToolError(f"{command[0]} exited with {proc.returncode}: {err.strip()[-300:]}",
                        command=command, returncode=proc.returncode, stderr=err[-STDERR_TAIL_CHARS:])
    return Completed(command, proc.returncode, b"", err)  # the last 64 lines of stderr, whole
