"""A profile's ``fix:`` section: how the auto-fixer makes a failing entry pass
(docs/fixing.md): the frame to produce, pad or crop, loudness, where to aim in the size
window, rate control, x264 preset and quality, photo quality. Every key has a default. The
decisions are taken in service/fix/ (video_plan.py chooses remux or re-encode)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from service.core.profile_values import Bitrate, Frozen, ResolutionBound

PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
"""x264 presets a profile may choose for the fixer."""


class FixSpec(Frozen):
    """How the auto-fixer makes a failing entry pass (docs/fixing.md). Optional, every key
    has a default; rules say what must hold, this section says how to get there."""

    auto: bool = Field(False, description="fix automatically after a failing upload")
    target_resolution: ResolutionBound | None = Field(
        None, description="frame to produce when re-encoding (oriented like the output)")
    fit: Literal["pad", "crop"] = Field("pad", description="aspect change: pad with black bars, or crop")
    crop: Literal["never", "allowed"] = Field(
        "never", description="where the content rules require a full frame (no bars): whether the submitter may "
        "choose to crop instead of padding (the plan says how much of the picture is lost)")
    upscale_allowed: bool | None = Field(None, description="default: the resolution rule's upscale_allowed")
    loudnorm: bool = Field(False, description="EBU R128 loudness normalisation (two-pass loudnorm)")
    loudness: float = Field(-23.0, ge=-70, le=-5, description="integrated loudness target, LUFS")
    true_peak: float = Field(-1.0, ge=-9, le=0, description="true-peak ceiling, dBTP")
    loudness_range: float = Field(7.0, ge=1, le=20, description="loudness range target, LU")
    size_target: float = Field(0.5, gt=0, lt=1, description="where to aim inside the size window (0.5 = middle)")
    rate_control: Literal["cbr", "two_pass"] = Field(
        "cbr", description="when the size window has a minimum: CBR with filler, or two-pass")
    preset: str = Field("fast", description="x264 preset")
    crf: int = Field(20, ge=0, le=51, description="x264 quality when no size window applies")
    audio_bitrate: Bitrate = Field(160_000, description="AAC-LC bitrate when audio is encoded")
    jpeg_quality: int = Field(90, ge=30, le=100, description="JPEG quality of converted photos")
    max_long_edge: int | None = Field(None, gt=0, description="photos: downscale above this long edge")

    @field_validator("preset")
    @classmethod
    def _preset(cls, v: str) -> str:
        if v not in PRESETS:
            raise ValueError(f"unknown x264 preset {v!r} (one of {', '.join(PRESETS)})")
        return v
