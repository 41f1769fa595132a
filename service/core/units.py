"""Parsing of the quantities notices are written in: sizes, durations, aspect ratios,
resolutions, frame rates and bitrates. Pure functions; every one raises ``ValueError``
with the offending text, which the profile loader turns into a file:line error.

Size units (see docs/profiles.md):
- ``B``; ``KB``/``MB``/``GB`` are decimal (10^3, 10^6, 10^9); ``KiB``/``MiB``/``GiB`` binary;
- ``兆`` (and a bare ``M``) is ambiguous in Chinese notices: the profile's ``size_unit``
  decides (``binary`` by default, as Windows and Chinese usage read it), and the other
  reading is kept so that reports can show both and flag files between them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

SizeReading = Literal["binary", "decimal"]

_DECIMAL = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9}
_BINARY = {"kib": 2**10, "mib": 2**20, "gib": 2**30}
# Ambiguous units: (binary factor, decimal factor)
_AMBIGUOUS = {"兆": (2**20, 10**6), "兆字节": (2**20, 10**6), "m": (2**20, 10**6), "g": (2**30, 10**9),
              "k": (2**10, 10**3)}

_NUM = r"(\d+(?:\.\d+)?)"


@dataclass(frozen=True)
class Size:
    """A size bound as written, in bytes under the profile's reading.

    ``alt_bytes`` is the other reading when the unit was ambiguous (兆, M), else None."""

    text: str
    bytes: int
    alt_bytes: int | None = None
    reading: SizeReading | None = None

    @property
    def readings(self) -> tuple[int, int]:
        """The lower and the upper of the two readings (equal when unambiguous)."""
        other = self.bytes if self.alt_bytes is None else self.alt_bytes
        return (min(self.bytes, other), max(self.bytes, other))


def parse_size(text: str | int, reading: SizeReading = "binary") -> Size:
    """Parse ``100MB``, ``100 MiB``, ``300兆``, ``5M`` or a plain byte count."""
    if isinstance(text, int):
        return Size(str(text), text)
    s = str(text).strip()
    m = re.fullmatch(_NUM + r"\s*([A-Za-z兆字节]*)", s)
    if not m:
        raise ValueError(f"not a size: {text!r} (examples: 100MB, 100MiB, 300兆)")
    value, unit = Fraction(m.group(1)), m.group(2).lower()
    if unit in _DECIMAL:
        return Size(s, int(value * _DECIMAL[unit]))
    if unit in _BINARY:
        return Size(s, int(value * _BINARY[unit]))
    if unit in _AMBIGUOUS:
        binary, decimal = _AMBIGUOUS[unit]
        main, alt = (binary, decimal) if reading == "binary" else (decimal, binary)
        return Size(s, int(value * main), int(value * alt), reading)
    raise ValueError(f"unknown size unit {m.group(2)!r} in {text!r} (use B, KB, MB, GB, KiB, MiB, GiB or 兆)")


_DURATION_UNITS = {
    "": 1, "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "秒": 1, "秒钟": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60, "分": 60, "分钟": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600, "小时": 3600,
}


def parse_duration(text: str | int | float) -> float:
    """Parse ``2min``, ``4:00``, ``1:02:03``, ``300s``, ``5分钟`` or plain seconds into seconds."""
    if isinstance(text, int | float):
        return float(text)
    s = str(text).strip()
    if ":" in s:
        parts = s.split(":")
        if len(parts) > 3 or not all(re.fullmatch(r"\d+(?:\.\d+)?", p) for p in parts):
            raise ValueError(f"not a duration: {text!r} (examples: 4:00, 1:02:03)")
        total = 0.0
        for p in parts:
            total = total * 60 + float(p)
        return total
    m = re.fullmatch(_NUM + r"\s*([A-Za-z秒钟分小时]*)", s)
    if not m or m.group(2).lower() not in _DURATION_UNITS:
        raise ValueError(f"not a duration: {text!r} (examples: 2min, 4:00, 300s)")
    return float(m.group(1)) * _DURATION_UNITS[m.group(2).lower()]


@dataclass(frozen=True)
class Ratio:
    """An aspect ratio as written (``16:9``) and its value (width / height)."""

    text: str
    value: float


def parse_ratio(text: str | float) -> Ratio:
    """Parse ``16:9``, ``16/9`` or ``1.778``."""
    if isinstance(text, int | float):
        return Ratio(str(text), float(text))
    s = str(text).strip()
    m = re.fullmatch(_NUM + r"\s*[:/：]\s*" + _NUM, s)
    if m:
        w, h = float(m.group(1)), float(m.group(2))
        if w <= 0 or h <= 0:
            raise ValueError(f"aspect ratio must be positive: {text!r}")
        return Ratio(s, w / h)
    if re.fullmatch(_NUM, s) and float(s) > 0:
        return Ratio(s, float(s))
    raise ValueError(f"not an aspect ratio: {text!r} (examples: 16:9, 9:16)")


@dataclass(frozen=True)
class Resolution:
    """A resolution bound. ``1080p`` names only the short edge; ``1920x1080`` both edges.

    Bounds compare edges regardless of orientation (long edge with long edge): whether a
    picture is landscape or portrait is the ``orientation`` rule's business."""

    text: str
    long_edge: int | None
    short_edge: int

    def edges(self) -> tuple[int | None, int]:
        return self.long_edge, self.short_edge


_NAMED = {"4k": 2160, "2k": 1440, "uhd": 2160, "fhd": 1080, "hd": 720, "sd": 480}


def parse_resolution(text: str | int) -> Resolution:
    """Parse ``1080p``, ``720p``, ``4K``, ``1920x1080`` (also ``×`` or ``*``) or a short edge."""
    if isinstance(text, int):
        return Resolution(str(text), None, text)
    s = str(text).strip()
    low = s.lower()
    if low in _NAMED:
        return Resolution(s, None, _NAMED[low])
    m = re.fullmatch(r"(\d+)\s*[pi]?", low)
    if m:
        return Resolution(s, None, int(m.group(1)))
    m = re.fullmatch(r"(\d+)\s*[x×*]\s*(\d+)", low)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        return Resolution(s, max(a, b), min(a, b))
    raise ValueError(f"not a resolution: {text!r} (examples: 1080p, 1920x1080)")


def parse_frame_rate(text: str | int | float) -> Fraction:
    """Parse ``30000/1001``, ``29.97`` or ``25`` into an exact fraction."""
    if isinstance(text, int):
        return Fraction(text)
    if isinstance(text, float):
        return Fraction(str(text))
    s = str(text).strip().lower().removesuffix("fps").strip()
    try:
        value = Fraction(s)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"not a frame rate: {text!r} (examples: 25, 30000/1001)") from None
    if value <= 0:
        raise ValueError(f"frame rate must be positive: {text!r}")
    return value


_BITRATE = {"": 1, "bps": 1, "b/s": 1, "k": 10**3, "kbps": 10**3, "kb/s": 10**3, "kbit/s": 10**3,
            "m": 10**6, "mbps": 10**6, "mb/s": 10**6, "mbit/s": 10**6}


def parse_bitrate(text: str | int) -> int:
    """Parse ``8Mbps``, ``800k`` or bits per second; bitrates are always decimal."""
    if isinstance(text, int):
        return text
    s = str(text).strip()
    m = re.fullmatch(_NUM + r"\s*([A-Za-z/]*)", s)
    if not m or m.group(2).lower() not in _BITRATE:
        raise ValueError(f"not a bitrate: {text!r} (examples: 8Mbps, 800kbps)")
    return int(Fraction(m.group(1)) * _BITRATE[m.group(2).lower()])


def parse_tolerance(text: str | int | float, base: float, parse: type | object = float) -> float:
    """A tolerance around ``base``: ``5%`` (relative) or an absolute amount parsed by ``parse``."""
    if isinstance(text, str) and text.strip().endswith("%"):
        return abs(base) * float(text.strip()[:-1]) / 100
    return float(parse(text))  # type: ignore[operator]


def human_bytes(n: int) -> str:
    """``314572800`` → ``300.0 MiB (314.6 MB)``: both readings, since notices say 兆."""
    return f"{n / 2**20:.1f} MiB ({n / 1e6:.1f} MB)"


def human_duration(seconds: float, digits: int = 1) -> str:
    """``185.4`` → ``3:05.4``; ``digits`` after the decimal point (``180.02``, 2 → ``3:00.02``)."""
    seconds = round(seconds, digits)
    minutes, sec = divmod(seconds, 60)
    width = 3 + digits if digits else 2
    if minutes >= 60:
        hours, minutes = divmod(minutes, 60)
        return f"{int(hours)}:{int(minutes):02d}:{sec:0{width}.{digits}f}"
    return f"{int(minutes)}:{sec:0{width}.{digits}f}"


def distinct_durations(value: float, bound: float) -> tuple[str, str]:
    """``value`` and ``bound`` shown with the precision that tells them apart (one to three
    decimals): 180.02 against 180 is ``3:00.02`` and ``3:00.00``, never ``3:00.0`` twice."""
    for digits in (1, 2, 3):
        a, b = human_duration(value, digits), human_duration(bound, digits)
        if a != b:
            return a, b
    return human_duration(value, 3), human_duration(bound, 3)
