"""The one module that runs external processes (ffprobe, ffmpeg). Every run has a
timeout; on timeout or any exception the child is killed and reaped. Children stay in
our process group, so a worker's group kill (RQ's job timeout) reaches them too."""

from __future__ import annotations

import subprocess
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ToolError, ToolTimeoutError

STDERR_TAIL_CHARS = 2000
"""How much of a failed tool's stderr is kept in the error (its end)."""


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

    def __init__(self, command: list[str], *, timeout: float, check: bool = True) -> None:
        import threading  # (already imported by subprocess)

        self.command = command
        self._result: Completed | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(timeout, check), name=command[0], daemon=True)
        self._thread.start()

    def _run(self, timeout: float, check: bool) -> None:
        try:
            self._result = run(self.command, timeout=timeout, check=check)
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


def start(command: list[str], *, timeout: float, check: bool = True) -> Started:
    """Start ``run(command)`` in the background; collect it with ``.result()``."""
    return Started(command, timeout=timeout, check=check)


def run(command: list[str], *, timeout: float, check: bool = True) -> Completed:
    """Run ``command`` and return its output; kill it after ``timeout`` seconds.

    Raises ToolError when the program is missing or (with ``check``) exits non-zero, and
    ToolTimeoutError when it runs too long."""
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise ToolError(f"{command[0]} not found: install ffmpeg (apt-get install ffmpeg)",
                        command=command) from None
    try:
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
