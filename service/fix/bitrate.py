"""The bitrate choice of a fix. Pure: a size window (read under both readings of 兆), where
to aim in it, the video bitrate that lands there for a duration, and the correction after an
attempt landed elsewhere."""

from __future__ import annotations

from service.core.rules import SizeRule

CONTAINER_OVERHEAD = 0.01
"""Bytes beyond the nominal bitrate (MP4 index, SEI, x264's CBR landing between -0.3% and +2%), as a fraction."""

MIN_BITS_PER_PIXEL = 0.01
"""Below this video bitrate per pixel and frame the picture breaks up: the size rule is then unfixable."""

MAX_VIDEO_BITRATE = 100_000_000
"""Highest video bitrate the fixer will use to reach a minimum size (H.264 High level 5.1 limits)."""

WIDE_WINDOW_CAP = 2.0
"""In a window whose maximum is far above its minimum, aim no higher than this multiple of the minimum."""


def size_window(rule: SizeRule | None) -> tuple[int | None, int | None]:
    """The byte window that passes under both readings of 兆 (so the result is never ambiguous)."""
    if rule is None:
        return None, None
    if rule.about is not None:
        pct = float((rule.tolerance or "0%").strip()[:-1]) / 100
        readings = [rule.about.bytes] + ([rule.about.alt_bytes] if rule.about.alt_bytes else [])
        return max(int(b * (1 - pct)) for b in readings), min(int(b * (1 + pct)) for b in readings)
    lo = max(rule.min.bytes, rule.min.alt_bytes or 0) if rule.min else None
    hi = min(rule.max.bytes, rule.max.alt_bytes or rule.max.bytes) if rule.max else None
    return lo, hi


def target_bytes(lo: int | None, hi: int | None, position: float) -> int | None:
    """Where to aim inside the window: ``position`` of the way from min to max, capped at
    WIDE_WINDOW_CAP × min; 90% of a lone maximum; 110% of a lone minimum."""
    if lo is not None and hi is not None:
        return int(min(lo + position * (hi - lo), max(lo * WIDE_WINDOW_CAP, lo + 0.1 * (hi - lo))))
    if hi is not None:
        return int(hi * 0.9)
    if lo is not None:
        return int(lo * 1.1)
    return None


def video_bitrate_for(total_bytes: int, duration_s: float, audio_bps: int) -> int:
    """The video bitrate that makes a file of ``total_bytes`` (container overhead included)."""
    return int(total_bytes * 8 / duration_s / (1 + CONTAINER_OVERHEAD)) - audio_bps


def audio_first_needed(target: int | None, lo: int | None, hi: int | None, audio_bps: int,
                       duration_s: float) -> bool:
    """Whether to encode the audio before the video, so that its real size sets the video
    bitrate (AAC lands well under its nominal rate on simple sound). Only where the audio could
    carry the output out of the window: its nominal size is more than half the room between the
    target and the nearer edge. Otherwise audio and video are encoded in one run, side by side;
    a separate audio pass first costs ~0.26 s per 20 s of sound here, serially."""
    if target is None or not audio_bps or duration_s <= 0:
        return False
    room = min(target - lo if lo is not None else target, hi - target if hi is not None else target)
    return audio_bps / 8 * duration_s > room / 2


RETRY_MARGIN = 0.02
"""How far inside the window a second attempt aims, as a fraction of the target: x264's CBR
lands between -0.3% and +2% of its nominal size, and a short clip further off."""


def retry_target(want: int, lo: int | None, hi: int | None) -> int:
    """Where a second attempt aims after the first missed the window: the first target, moved
    inside by RETRY_MARGIN (at most a quarter of the window) when it sat closer to an edge. A
    target at the very edge (a ``size_target`` near 0 or 1) would otherwise be missed again by
    a few bytes."""
    margin = RETRY_MARGIN * want
    if lo is not None and hi is not None:
        margin = min(margin, (hi - lo) / 4)
    aim = float(want)
    if lo is not None:
        aim = max(aim, lo + margin)
    if hi is not None:
        aim = min(aim, hi - margin)
    return int(aim)


def corrected_bitrate(bitrate: int, audio_bps: int, got_bytes: int, want_bytes: int) -> int:
    """After an attempt landed at ``got_bytes``, the bitrate that should land at ``want_bytes``
    (the audio part stays as it was)."""
    total = bitrate + audio_bps
    return max(1, int(total * want_bytes / max(1, got_bytes)) - audio_bps)
