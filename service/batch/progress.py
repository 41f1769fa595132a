"""Progress on a terminal: ``ProgressBar``, the one progress line of the ``mediacheck``
command (the batch's and the fix's) — a bar and a text redrawn in place on a terminal, plain
lines (at most one every few seconds, and the last) when the output is a file or a pipe —
and ``BatchProgress``, what a batch has done so far shown through it. A batch's ETA comes
from bytes, not files: entries range from kilobytes to gigabytes."""

from __future__ import annotations

import shutil
import time
import unicodedata
from collections import Counter
from typing import TextIO

LINE_INTERVAL_S = 5.0
"""Seconds between plain progress lines when not on a terminal."""

BAR_INTERVAL_S = 0.2
"""Seconds between redraws of the bar on a terminal."""

BAR_WIDTH = 20
"""Characters of the bar itself."""


def _fit(text: str, columns: int) -> str:
    """``text`` cut to ``columns`` terminal cells (CJK characters take two), so the bar
    never wraps and ``\\r`` keeps redrawing the same line."""
    out, used = [], 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > columns:
            break
        out.append(ch)
        used += w
    return "".join(out)


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class ProgressBar:
    """One progress line on ``stream``. On a terminal (``tty``, by default ``stream.isatty()``)
    a bar and a text, redrawn in place at most every BAR_INTERVAL_S and cut to the terminal's
    width; otherwise plain lines, at most one every LINE_INTERVAL_S and never the same
    fraction twice. The end (a fraction of 1) is always shown."""

    def __init__(self, stream: TextIO, *, tty: bool | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.drawn = False
        self._last = 0.0
        self._shown: float | None = None

    def show(self, fraction: float, text: str, *, plain: str | None = None, force: bool = False) -> None:
        """``fraction`` (0–1) done: ``text`` beside the bar on a terminal, ``plain`` (default:
        ``text``) as a line otherwise. ``force``: now, whatever the interval."""
        now = time.monotonic()
        interval = BAR_INTERVAL_S if self.tty else LINE_INTERVAL_S
        if not force and now - self._last < interval and fraction < 1:
            return
        if self._shown == fraction and not self.tty:
            return
        self._last, self._shown = now, fraction
        if self.tty:
            filled = int(BAR_WIDTH * min(max(fraction, 0.0), 1.0))
            bar = "█" * filled + "░" * (BAR_WIDTH - filled)
            columns = shutil.get_terminal_size((100, 24)).columns - 1
            self.stream.write("\r\x1b[K" + _fit(f"{bar} {text}", columns))
            self.drawn = True
        else:
            self.stream.write((text if plain is None else plain) + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """A line of its own (over the bar on a terminal: redraw the bar after it)."""
        self.stream.write(("\r\x1b[K" if self.tty else "") + text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """Leave the bar's line on a terminal (the next output starts on a line of its own)."""
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


class BatchProgress:
    """What a batch has checked so far: files, bytes and verdicts, with the rate and the ETA,
    on a ``ProgressBar``."""

    def __init__(self, total_files: int, total_bytes: int, stream: TextIO, *, tty: bool | None = None,
                 known: Counter[str] | None = None) -> None:
        """``total_files``/``total_bytes``: what is left to check; ``known``: verdicts already
        settled (skipped, rejected, reused from an earlier run), shown in the counts."""
        self.total_files, self.total_bytes = total_files, max(total_bytes, 1)
        self.bar = ProgressBar(stream, tty=tty)
        self.done = 0
        self.bytes = 0
        self.verdicts: Counter[str] = Counter(known or {})
        self.start = time.monotonic()

    def add(self, verdict: str, size: int) -> None:
        self.done += 1
        self.bytes += size
        self.verdicts[verdict] += 1
        self.show()

    def eta(self) -> float | None:
        elapsed = time.monotonic() - self.start
        if self.bytes <= 0 or elapsed <= 0:
            return None
        return max(self.total_bytes - self.bytes, 0) / (self.bytes / elapsed)

    def line(self) -> str:
        v = self.verdicts
        eta = self.eta()
        eta_s = _clock(eta) if eta is not None else "--:--"
        rate = self.bytes / max(time.monotonic() - self.start, 1e-6) / 2**20
        counts = (f"通过 pass {v['pass']} · 警告 warn {v['warn']} · 不通过 fail {v['fail']} · "
                  f"出错 error {v['error']} · 跳过 skipped {v['skipped']}")
        return f"{self.done}/{self.total_files}  {counts}  {rate:.1f} MiB/s  剩余 ETA {eta_s}"

    def show(self, *, force: bool = False) -> None:
        line = self.line()
        self.bar.show(self.done / max(self.total_files, 1), line, plain=f"mediacheck batch: {line}", force=force)

    def message(self, text: str) -> None:
        """A line of its own (above the bar on a terminal)."""
        self.bar.message(text)
        if self.bar.tty:
            self.show(force=True)

    def finish(self) -> None:
        if self.total_files == 0:
            return
        self.show(force=True)
        self.bar.finish()
