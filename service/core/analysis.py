"""Content analysis: what a reviewer sees and metadata cannot. Pure: ``parse_detector_log``
turns the log of ffmpeg's detector filters (blackdetect, freezedetect, silencedetect,
ebur128, cropdetect, idet, scdet: one decode, see service/media/detector.py) into typed findings
with timecodes; ``judge_content`` (service/core/content.py) weighs them against a
profile's ``content:`` thresholds.

Conventions:
- Times are seconds from the start of the file; a segment still open when the stream
  ends, or ending on the last sampled frame, is closed at the file's duration.
- Frozen segments exclude black ones (a black opening is trivially "frozen").
- Borders are found on the scaled-down picture and given back in the file's pixels; the
  picture area is the box holding the picture in 90% of the non-black sampled frames, so
  one full-frame title card does not hide the bars and dark scenes do not invent them.
- ``idet`` prints its summary twice (once while the graph is configured): the last counts.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BORDER_PERCENTILE = 0.10
"""Share of sampled frames allowed to reach beyond the reported picture area."""

IDET_MIN_FRAMES = 20
"""Fewer classified frames than this and the interlace verdict is 'undetermined'."""

IDET_INTERLACED_SHARE = 0.6
"""Share of classified frames that must look interlaced for the verdict 'interlaced'."""

IDET_ORDER_SHARE = 0.9
"""Real interlaced video has one field order: the dominant one must reach this share of the
interlaced frames (synthetic progressive patterns fool idet with a mix of TFF and BFF)."""

MAX_SCENE_CHANGES = 1000
"""Scene-change times kept in a report (their count is always exact)."""

MIN_FROZEN_REMNANT_S = 1.0
"""A frozen stretch that is shorter than this once black is taken out is dropped."""

_LOG_MARKERS = ("black_start:", "lavfi.freezedetect.", "silence_start:", "silence_end:", "lavfi.scd.score",
                "x1:", "frame detection:", "Summary:", " I:", " LRA:", " Peak:")


def is_detector_line(line: str) -> bool:
    """Whether a line of ffmpeg's log belongs to a detector (the rest is not kept)."""
    return any(m in line for m in _LOG_MARKERS)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Segment(_Frozen):
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class Loudness(_Frozen):
    integrated_lufs: float | None = Field(None, description="EBU R128 integrated loudness; None when silent")
    range_lu: float | None = None
    true_peak_dbtp: float | None = Field(None, description="None when there is no signal (-inf)")


class Borders(_Frozen):
    """The picture's real area inside the coded frame (display pixels)."""

    frame_width: int
    frame_height: int
    x: int
    y: int
    width: int
    height: int
    kind: Literal["none", "letterbox", "pillarbox", "windowbox"]
    aspect: float = Field(description="width / height of the picture area")
    aspect_name: str | None = Field(None, description="nearest common ratio, e.g. 4:3, when within 2%")
    frames: int = Field(description="non-black frames the area was measured on")


class Interlace(_Frozen):
    tff: int
    bff: int
    progressive: int
    undetermined: int
    verdict: Literal["progressive", "interlaced", "undetermined"]


class Analysis(_Frozen):
    """Findings of one decode pass. A part that was not analysed (no audio) is None/empty."""

    duration_s: float | None
    video_analyzed: bool
    audio_analyzed: bool
    sample_fps: float | None = Field(None, description="frame rate the picture detectors saw")
    black_segments: list[Segment] = []
    frozen_segments: list[Segment] = Field([], description="black stretches excluded")
    silence: list[Segment] = []
    loudness: Loudness | None = None
    borders: Borders | None = None
    interlace: Interlace | None = None
    scene_changes: list[float] = Field([], description="times of cuts (first MAX_SCENE_CHANGES)")
    scene_change_count: int = 0
    static_ratio: float | None = Field(None, description="share of the running time frozen (black excluded)")
    elapsed_ms: float | None = None


# ------------------------------------------------------------------ helpers

_COMMON_RATIOS = ((16 / 9, "16:9"), (4 / 3, "4:3"), (9 / 16, "9:16"), (3 / 4, "3:4"), (1.0, "1:1"),
                  (1.85, "1.85:1"), (2.39, "2.39:1"), (2.0, "2:1"), (3 / 2, "3:2"), (2 / 3, "2:3"),
                  (21 / 9, "21:9"))


def aspect_name(value: float, tolerance: float = 0.02) -> str | None:
    best = min(_COMMON_RATIOS, key=lambda r: abs(r[0] - value))
    return best[1] if abs(best[0] - value) <= tolerance * best[0] else None


def timecode(seconds: float) -> str:
    """``HH:MM:SS.s`` (tenths), as players show it."""
    tenths = max(0, int(seconds * 10 + 0.5))
    h, rest = divmod(tenths, 36000)
    m, rest = divmod(rest, 600)
    s, t = divmod(rest, 10)
    return f"{h:02d}:{m:02d}:{s:02d}.{t}"


def _num(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if v == v and v not in (float("inf"), float("-inf")) else None


def subtract(segments: list[Segment], holes: list[Segment], min_len: float = 0.0) -> list[Segment]:
    """``segments`` minus the time covered by ``holes``; pieces shorter than ``min_len`` go."""
    out: list[Segment] = []
    for seg in segments:
        pieces = [(seg.start_s, seg.end_s)]
        for h in holes:
            nxt = []
            for a, b in pieces:
                if h.end_s <= a or h.start_s >= b:
                    nxt.append((a, b))
                    continue
                if h.start_s > a:
                    nxt.append((a, h.start_s))
                if h.end_s < b:
                    nxt.append((h.end_s, b))
            pieces = nxt
        out += [Segment(start_s=round(a, 3), end_s=round(b, 3)) for a, b in pieces if b - a >= min_len]
    return out


def _pairs(starts: list[float], ends: list[float], duration: float | None) -> list[Segment]:
    segs = []
    for i, start in enumerate(starts):
        end = ends[i] if i < len(ends) else duration
        if end is None:
            continue
        segs.append(Segment(start_s=round(max(0.0, start), 3), end_s=round(max(end, start), 3)))
    return segs


def _percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered))))]


# ------------------------------------------------------------------ parsing

_BLACK = re.compile(r"black_start:\s*(\S+)\s+black_end:\s*(\S+)")
_FREEZE = re.compile(r"lavfi\.freezedetect\.freeze_(start|end):\s*(\S+)")
_SIL_START = re.compile(r"silence_start:\s*(\S+)")
_SIL_END = re.compile(r"silence_end:\s*(\S+)")
_SCENE = re.compile(r"lavfi\.scd\.score:\s*([\d.]+),\s*lavfi\.scd\.time:\s*(\S+)")
_CROP = re.compile(r"x1:(-?\d+) x2:(-?\d+) y1:(-?\d+) y2:(-?\d+) w:(-?\d+) h:(-?\d+).*?\bt:(\S+)")
_IDET = re.compile(r"Multi frame detection:\s*TFF:\s*(\d+)\s*BFF:\s*(\d+)\s*Progressive:\s*(\d+)\s*"
                   r"Undetermined:\s*(\d+)")
_R128 = re.compile(r"^\s+(I|LRA|Peak):\s+(\S+)")


def _borders(crops: list[tuple[int, int, int, int, float]], black: list[Segment],
             scaled: tuple[int, int], full: tuple[int, int], tolerance: float = 0.03) -> Borders | None:
    sw, sh = scaled
    fw, fh = full
    frames = [c for c in crops if c[1] >= c[0] and c[3] >= c[2]
              and not any(b.start_s <= c[4] < b.end_s for b in black)]
    if not frames or sw <= 0 or sh <= 0:
        return None
    x1 = _percentile([c[0] for c in frames], BORDER_PERCENTILE)
    y1 = _percentile([c[2] for c in frames], BORDER_PERCENTILE)
    x2 = _percentile([c[1] for c in frames], 1 - BORDER_PERCENTILE)
    y2 = _percentile([c[3] for c in frames], 1 - BORDER_PERCENTILE)
    kx, ky = fw / sw, fh / sh
    x, y = round(x1 * kx), round(y1 * ky)
    w = min(fw - x, round((x2 - x1 + 1) * kx))  # x2, y2 are inclusive
    h = min(fh - y, round((y2 - y1 + 1) * ky))
    side = (fw - w) / fw > tolerance
    top = (fh - h) / fh > tolerance
    kind: Literal["none", "letterbox", "pillarbox", "windowbox"] = (
        "windowbox" if side and top else "pillarbox" if side else "letterbox" if top else "none")
    if kind == "none":
        x, y, w, h = 0, 0, fw, fh
    aspect = w / h if h else 0.0
    return Borders(frame_width=fw, frame_height=fh, x=x, y=y, width=w, height=h, kind=kind,
                   aspect=round(aspect, 4), aspect_name=aspect_name(aspect), frames=len(frames))


def _interlace(tff: int, bff: int, prog: int, und: int) -> Interlace:
    determined = tff + bff + prog
    inter = tff + bff
    verdict: Literal["progressive", "interlaced", "undetermined"]
    if determined < IDET_MIN_FRAMES:
        verdict = "undetermined"
    elif inter / determined >= IDET_INTERLACED_SHARE and max(tff, bff) / inter >= IDET_ORDER_SHARE:
        verdict = "interlaced"
    elif prog / determined >= 0.5:
        verdict = "progressive"
    else:
        verdict = "undetermined"
    return Interlace(tff=tff, bff=bff, progressive=prog, undetermined=und, verdict=verdict)


def parse_detector_log(log: str, *, duration_s: float | None, video: bool, audio: bool,
                       scaled_size: tuple[int, int] | None = None, frame_size: tuple[int, int] | None = None,
                       sample_fps: float | None = None, border_tolerance: float = 0.03) -> Analysis:
    """Findings from the detectors' log lines (the output of ``is_detector_line`` is enough).

    ``scaled_size`` is the size cropdetect saw and ``frame_size`` the displayed size of the
    file, to map the picture area back; ``duration_s`` closes segments left open."""
    black: list[Segment] = []
    f_starts: list[float] = []
    f_ends: list[float] = []
    s_starts: list[float] = []
    s_ends: list[float] = []
    scenes: list[float] = []
    crops: list[tuple[int, int, int, int, float]] = []
    idet: tuple[int, int, int, int] | None = None
    r128: dict[str, float | None] = {}
    for line in log.splitlines():
        if (m := _BLACK.search(line)) and (a := _num(m[1])) is not None and (b := _num(m[2])) is not None:
            black.append(Segment(start_s=round(a, 3), end_s=round(b, 3)))
        elif m := _FREEZE.search(line):
            if (v := _num(m[2])) is not None:
                (f_starts if m[1] == "start" else f_ends).append(v)
        elif m := _SIL_START.search(line):
            if (v := _num(m[1])) is not None:
                s_starts.append(v)
        elif m := _SIL_END.search(line):
            if (v := _num(m[1])) is not None:
                s_ends.append(v)
        elif m := _SCENE.search(line):
            if (v := _num(m[2])) is not None:
                scenes.append(round(v, 3))
        elif m := _CROP.search(line):
            t = _num(m[7])
            crops.append((int(m[1]), int(m[2]), int(m[3]), int(m[4]), t if t is not None else -1.0))
        elif m := _IDET.search(line):
            idet = (int(m[1]), int(m[2]), int(m[3]), int(m[4]))
        elif "Summary:" in line:
            r128 = {}
        elif m := _R128.match(line):
            r128[m[1]] = _num(m[2])
    if duration_s and sample_fps:
        # the detectors stop at the last sampled frame, up to one sample before the end
        last = duration_s - 1.0 / sample_fps - 0.05
        black = [Segment(start_s=s.start_s, end_s=duration_s) if s.end_s >= last else s for s in black]
        f_ends = [duration_s if e >= last else e for e in f_ends]
    frozen = subtract(_pairs(f_starts, f_ends, duration_s), black, MIN_FROZEN_REMNANT_S) if video else []
    static = (round(min(1.0, sum(s.duration_s for s in frozen) / duration_s), 4)
              if video and duration_s else None)
    borders = (_borders(crops, black, scaled_size, frame_size, border_tolerance)
               if video and scaled_size and frame_size else None)
    loud = None
    if audio and r128:
        integrated = r128.get("I")
        loud = Loudness(integrated_lufs=integrated if integrated is not None and integrated > -70 else None,
                        range_lu=r128.get("LRA"), true_peak_dbtp=r128.get("Peak"))
    return Analysis(
        duration_s=duration_s, video_analyzed=video, audio_analyzed=audio, sample_fps=sample_fps,
        black_segments=black if video else [], frozen_segments=frozen,
        silence=_pairs(s_starts, s_ends, duration_s) if audio else [], loudness=loud, borders=borders,
        interlace=_interlace(*idet) if video and idet else None,
        scene_changes=scenes[:MAX_SCENE_CHANGES], scene_change_count=len(scenes), static_ratio=static)
