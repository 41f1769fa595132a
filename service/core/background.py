"""Work started in a thread now and collected later: the overlaps that make a check or a fix
quicker (the SHA-256 of a file beside the CLI's imports or beside a probe, MediaInfo beside
ffprobe, the data sync of a fixed file beside its re-check). Threads, because the work either
lets go of the GIL (hashlib, file reads, ctypes, fdatasync) or waits. Imports only
``threading``: the CLI starts one before its heavy imports."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Background(Generic[T]):
    """``fn(*args)`` running in a daemon thread from construction on. ``result`` waits for it
    and gives its value, or raises what it raised (in the caller's thread). A daemon, so that
    a call into a native library that never returns cannot keep the process from ending."""

    def __init__(self, name: str, fn: Callable[..., T], *args: object) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = threading.Thread(
            target=self._run, args=(fn, args), name=name, daemon=True)
        self._thread.start()

    @classmethod
    def finished(cls, value: T) -> Background[T]:
        """One that has already returned ``value`` (no thread is started)."""
        done = cls.__new__(cls)
        done._value, done._error, done._thread = value, None, None
        return done

    def _run(self, fn: Callable[..., T], args: tuple[object, ...]) -> None:
        try:
            self._value = fn(*args)
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread by result()
            self._error = e

    def done(self) -> bool:
        return self._thread is None or not self._thread.is_alive()

    def result(self, timeout: float | None = None) -> T:
        """The value, waiting at most ``timeout`` seconds (None: as long as it takes); raises
        TimeoutError when it is still running then (the thread is left to end by itself)."""
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"{self._thread.name} still running after {timeout} s")
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def join(self) -> None:
        """Until ``fn`` has ended, whatever its outcome (when its result is no longer wanted)."""
        if self._thread is not None:
            self._thread.join()
