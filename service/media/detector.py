"""Deep analysis: every content detector in ONE decode of the file (the edge; the parsing
and judging are pure, in service/core/analysis.py and service/core/content.py).

The filter graph (one ffmpeg run, decoded video split once)::

    [0:v:0] split ─┬─ fps=5 → scale 480 wide → blackdetect → freezedetect → cropdetect → scdet
                   └─ select 25 of every 250 frames (full size) → idet
    [0:a:0] silencedetect → ebur128 (integrated, range, true peak)

The costly per-frame work runs on few, small frames: the frame rate is reduced before
scaling and scaling happens once; idet needs full-size fields, so it sees a sample.
Measured against a bare decode in benchmarks/bench_deep.py (docs/benchmarks.md)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from service.core.analysis import Analysis, is_detector_line, parse_detector_log
from service.core.content_rules import ContentRules
from service.core.facts import MediaFacts
from service.media.process import run_lines

SAMPLE_FPS = 5.0
"""Frames per second the picture detectors see (black, freeze, borders, scene cuts)."""

ANALYSIS_WIDTH = 480
"""Width the sampled frames are scaled down to (borders are mapped back to full size)."""

IDET_CHUNK, IDET_PERIOD = 25, 250
"""idet sees ``IDET_CHUNK`` consecutive full-size frames out of every ``IDET_PERIOD``."""

BLACK_MIN_S = 0.5
"""Shortest black stretch detected (the profile judges which ones matter)."""

BLACK_PIXEL_TH = 0.10
"""Luma (0–1 of the range) below which a pixel counts as black."""

FREEZE_MIN_S = 1.0
"""Shortest still stretch detected."""

FREEZE_NOISE = 0.003
"""Difference between frames (0–1) still counted as 'no change' (encoder noise on a still)."""

SILENCE_MIN_S = 1.0
"""Shortest silence detected."""

SILENCE_NOISE_DB = -50.0
"""Level below which sound counts as silence, unless the profile's ``silence.noise`` says otherwise."""

SCENE_THRESHOLD = 10.0
"""scdet score (0–100) above which a frame starts a new shot."""

CROP_LIMIT = round(24 / 255, 4)
"""cropdetect: values up to this share of the range count as the black of a bar (24 of 255
in 8 bits; video black is 16). A share, not a value, so 10-bit video is judged alike."""

TIMEOUT_BASE_S, TIMEOUT_PER_MEDIA_S = 60.0, 3.0
"""The run is killed after base + factor × the media duration."""


@dataclass(frozen=True)
class Plan:
    """One analysis run: the ffmpeg command and what the parser needs to read its log."""

    command: list[str]
    video: bool
    audio: bool
    scaled_size: tuple[int, int] | None
    frame_size: tuple[int, int] | None
    sample_fps: float | None
    timeout_s: float


def _even(n: float) -> int:
    return max(2, int(round(n / 2)) * 2)


def plan_analysis(path: str | os.PathLike[str], facts: MediaFacts, content: ContentRules | None = None,
                  *, threads: int = 0) -> Plan:
    """The command for ``path`` (pure). ``threads`` 0 lets ffmpeg choose."""
    video = facts.kind == "video" and bool(facts.width and facts.height)
    audio = facts.audio_present and facts.kind in ("video", "audio")
    if not video and not audio:
        raise ValueError("nothing to analyse: no video or audio stream")
    noise = content.silence.noise if content and content.silence else SILENCE_NOISE_DB
    parts: list[str] = []
    maps: list[str] = []
    scaled = frame = None
    fps = None
    if video:
        assert facts.width and facts.height
        frame = (facts.width, facts.height)
        sw = _even(min(ANALYSIS_WIDTH, facts.width))
        sh = _even(sw * facts.height / facts.width)
        scaled = (sw, sh)
        fps = min(SAMPLE_FPS, facts.frame_rate_fps or SAMPLE_FPS)
        parts.append(
            "[0:v:0]split=2[pic][fld];"
            f"[pic]fps={fps:g},scale={sw}:{sh}:flags=fast_bilinear,setsar=1,"
            f"blackdetect=d={BLACK_MIN_S}:pix_th={BLACK_PIXEL_TH},"
            f"freezedetect=n={FREEZE_NOISE}:d={FREEZE_MIN_S},"
            f"cropdetect=limit={CROP_LIMIT}:round=2:reset=1:skip=0,"
            f"scdet=t={SCENE_THRESHOLD}[vout];"
            f"[fld]select='lt(mod(n\\,{IDET_PERIOD})\\,{IDET_CHUNK})',idet[iout]")
        maps += ["-map", "[vout]", "-map", "[iout]"]
    if audio:
        parts.append(f"[0:a:0]silencedetect=n={noise:g}dB:d={SILENCE_MIN_S},"
                     "ebur128=peak=true:framelog=verbose[aout]")
        maps += ["-map", "[aout]"]
    command = ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-v", "info",
               "-threads", str(threads), "-i", str(path),
               "-filter_complex", ";".join(parts), *maps, "-f", "null", "-"]
    timeout = TIMEOUT_BASE_S + TIMEOUT_PER_MEDIA_S * (facts.duration_s or 600.0)
    return Plan(command, video, audio, scaled, frame, fps, timeout)


def analyze(path: str | os.PathLike[str], facts: MediaFacts, content: ContentRules | None = None, *,
            timeout: float | None = None) -> Analysis:
    """Run every detector over ``path`` in one decode and return the findings.
    Raises ToolError (ToolTimeoutError) when ffmpeg fails (or runs past the timeout)."""
    if not (facts.kind == "video" and facts.width and facts.height) and not facts.audio_present:
        return Analysis(duration_s=facts.duration_s, video_analyzed=False, audio_analyzed=False)
    plan = plan_analysis(Path(path), facts, content)
    t0 = time.perf_counter()
    done = run_lines(plan.command, timeout=timeout or plan.timeout_s, keep=is_detector_line)
    tolerance = content.borders.tolerance if content and content.borders else 0.03
    analysis = parse_detector_log(done.stderr, duration_s=facts.duration_s, video=plan.video,
                                  audio=plan.audio, scaled_size=plan.scaled_size, frame_size=plan.frame_size,
                                  sample_fps=plan.sample_fps, border_tolerance=tolerance)
    return analysis.model_copy(update={"elapsed_ms": round((time.perf_counter() - t0) * 1000, 1)})
