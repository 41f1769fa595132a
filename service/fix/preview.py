"""What a fix will do, told before it runs (``preview``): remux (lossless, seconds) or
re-encode (lossy, minutes), padded or cropped (and how much a crop keeps), the size it will
land at and how long it will take, in plain bilingual lines for the API's plan view, the
report page next to the button and ``mediacheck fix --dry-run``. Pure.

The time is estimated from the media's duration × a speed factor measured on the build
machine (2 shared cores): see the constants, and docs/fixing.md "Before a fix runs"."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from service.core.facts import MediaFacts
from service.fix.plan import FixPlan, message

ENCODE_S_PER_MEDIA_S = 1.2
"""Seconds of a re-encode (x264 preset ``fast``, one pass, audio beside it) per second of
1080p30 media. Measured: the issue's 2 min 10 s portrait phone video re-encoded to 1920×1080 at
12 Mbit/s in 2 min 33 s (1.18) on the build machine; a synthetic 1080p25 test pattern encodes
at 0.55–0.67 (it is easier to encode than camera footage), so 1.2 errs on the long side."""

PRESET_FACTOR = {"ultrafast": 0.25, "superfast": 0.35, "veryfast": 0.5, "faster": 0.75, "fast": 1.0,
                 "medium": 1.3, "slow": 2.0, "slower": 4.0, "veryslow": 8.0}
"""x264 time per preset, relative to ``fast`` (x264's own preset ladder, rounded)."""

TWO_PASS_FACTOR = 1.5
"""Two-pass rate control: the first pass (fast first pass) costs about half of the second."""

REMUX_BYTES_PER_S = 150e6
"""A remux copies the media data: bytes per second (the box-level rewrite copies in the kernel)."""

AUDIO_S_PER_MEDIA_S = 0.03
"""AAC encoding (or the loudness measurement) of the audio alone, per second of media."""

DEEP_S_PER_MEDIA_S = 0.12
"""The deep re-check (one decode through every detector) per second of 1080p25 media: 21.2 s for
3 minutes on a quiet build machine (docs/benchmarks.md, "Deep analysis")."""

MIN_SECONDS = 1.0
"""No estimate is shorter than this (starting the tools, the re-check's probe)."""


class FixPreview(BaseModel):
    """What the fix will do, in numbers and in lines for people."""

    model_config = ConfigDict(frozen=True)

    mode: str
    lossless: bool = Field(description="the picture is not re-encoded (a remux; the audio may be)")
    estimated_seconds: float | None = None
    estimated_bytes: int | None = Field(None, description="where the size is aimed (None: not known before)")
    size_is_maximum: bool = Field(False, description="estimated_bytes is a ceiling, not an aim")
    fit: str | None = Field(None, description="pad or crop, when the frame changes")
    lines: tuple[dict[str, str], ...] = ()


def _duration_text(seconds: float) -> dict[str, str]:
    if seconds < 90:
        n = max(1, round(seconds))
        return message(f"约 {n} 秒", f"about {n} s")
    minutes = max(2, round(seconds / 60))
    return message(f"约 {minutes} 分钟", f"about {minutes} min")


def _size_text(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 1024:.0f} KiB"


def estimate_seconds(plan: FixPlan, facts: MediaFacts, *, deep: bool = False) -> float | None:
    """How long the fix will take, re-check included (None for a plan that does not run)."""
    v = plan.video
    duration = plan.duration_s or facts.duration_s or 0.0
    if plan.mode == "image":
        return MIN_SECONDS
    if v is None or not plan.fixable:
        return None
    audio = AUDIO_S_PER_MEDIA_S * duration * ((v.audio == "aac") + (v.loudnorm is not None))
    if v.copy_video:
        work = (facts.size_bytes or 0) / REMUX_BYTES_PER_S + audio
        pixel_rate = (facts.width or 1920) * (facts.height or 1080) * (facts.frame_rate_fps or 25.0)
    else:
        fps = facts.frame_rate_fps or 25.0
        if v.fps:
            num, _, den = v.fps.partition("/")
            fps = float(num) / float(den or 1)
        pixel_rate = (v.width or 1920) * (v.height or 1080) * fps
        passes = TWO_PASS_FACTOR if v.rate_control == "two_pass" else 1.0
        work = (duration * ENCODE_S_PER_MEDIA_S * pixel_rate / (1920 * 1080 * 30)
                * PRESET_FACTOR.get(v.preset, 1.0) * passes) + audio
    if deep:
        work += duration * DEEP_S_PER_MEDIA_S * pixel_rate / (1920 * 1080 * 25)
    return round(max(MIN_SECONDS, work), 1)


def estimate_bytes(plan: FixPlan, facts: MediaFacts) -> tuple[int | None, bool]:
    """The size the output will land at (and whether that is only a ceiling)."""
    v = plan.video
    if plan.image is not None:
        return plan.image.max_bytes, plan.image.max_bytes is not None
    if v is None:
        return None, False
    if v.copy_video:
        return facts.size_bytes, False
    if v.target_bytes is not None:
        return v.target_bytes, v.rate_control == "capped_crf" and v.min_bytes is None
    if v.video_bitrate and plan.duration_s:
        return int((v.video_bitrate + (v.audio_bitrate or 0)) * plan.duration_s / 8), False
    return None, False


def preview(plan: FixPlan, facts: MediaFacts, *, deep: bool = False) -> FixPreview:
    """What ``plan`` will do to the file of ``facts``; ``deep``: the re-check runs the deep analysis."""
    seconds = estimate_seconds(plan, facts, deep=deep)
    size, ceiling = estimate_bytes(plan, facts)
    v = plan.video
    lines: list[dict[str, str]] = []
    lossless = v is not None and v.copy_video
    when = _duration_text(seconds) if seconds is not None else None
    if plan.mode == "remux" and when is not None:
        audio_zh = "；音频重新编码为 AAC" if v is not None and v.audio == "aac" else ""
        audio_en = "; the audio is re-encoded to AAC" if v is not None and v.audio == "aac" else ""
        lines.append(message(f"无损重封装：画面不重新编码，不损失画质{audio_zh}（{when['zh-CN']}）。",
                             f"Lossless remux: the picture is not re-encoded, nothing is lost{audio_en} "
                             f"({when['en']})."))
    elif plan.mode == "reencode" and when is not None:
        lines.append(message(f"重新编码（有损）：画面重新压缩为 H.264（{when['zh-CN']}）。",
                             f"Re-encode (lossy): the picture is compressed again as H.264 ({when['en']})."))
    elif plan.mode == "image":
        lines.append(message("转换图片（有损压缩时画质略有下降）。",
                             "The photo is converted (lossy when saved as JPEG)."))
    fit = None
    if v is not None and v.width and v.picture_width and (v.width, v.height) != (v.picture_width, v.picture_height):
        fit = v.fit
        if v.fit == "pad":
            lines.append(message(
                f"加黑边：画面 {v.picture_width}×{v.picture_height} 放在 {v.width}×{v.height} 的画幅中。",
                f"Padded: the picture {v.picture_width}×{v.picture_height} sits in a {v.width}×{v.height} "
                "frame with black bars."))
        elif plan.crop is not None:
            lines.append(plan.crop.message)
    if v is not None and v.upscaled:
        lines.append(message("画面将被放大（清晰度不会提高）。", "The picture is enlarged (it gets no sharper)."))
    if size is not None and plan.fixable:
        word_zh, word_en = ("最大约", "at most about") if ceiling else ("约", "about")
        lines.append(message(f"预计大小：{word_zh} {_size_text(size)}。",
                             f"Expected size: {word_en} {_size_text(size)}."))
    if deep and plan.fixable:
        lines.append(message("修复后按本活动的完整检查（含内容分析）重新检查。",
                             "The fixed file is checked again with the campaign's full check (content analysis "
                             "included)."))
    lines.extend(plan.warnings)
    return FixPreview(mode=plan.mode, lossless=lossless, estimated_seconds=seconds, estimated_bytes=size,
                      size_is_maximum=ceiling, fit=fit, lines=tuple(lines))
