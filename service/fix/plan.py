"""What a fix plan is, as data: ``FixPlan`` — its ``mode`` (none, remux, reencode, image,
unfixable), its ``steps`` (each with the rules it answers), the output it must produce
(``VideoTarget``: frame, picture, frame rate, codecs, bitrate, size window; ``ImageTarget``
for photos) and the ``Reason``s a failure cannot be fixed. Pure.

Who fills it in: ``plan_fix`` (service/fix/planner.py) decides what the fixer answers;
video_plan.py chooses remux or re-encode, photo_plan.py plans a photo; the transcoder
(service/fix/transcode.py) only carries the plan out. Policy: docs/fixing.md."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["none", "remux", "reencode", "image", "unfixable"]


class FixStep(BaseModel):
    """One thing the fix does, and the rules it answers."""

    model_config = ConfigDict(frozen=True)

    action: str
    rules: tuple[str, ...] = ()
    params: dict[str, Any] = Field(default_factory=dict)


class Reason(BaseModel):
    """Why a failure cannot be fixed (bilingual)."""

    model_config = ConfigDict(frozen=True)

    rule: str
    message: dict[str, str]


class Loudnorm(BaseModel):
    model_config = ConfigDict(frozen=True)

    integrated: float
    true_peak: float
    loudness_range: float


class VideoTarget(BaseModel):
    """What the output of a video fix must be."""

    model_config = ConfigDict(frozen=True)

    container: Literal["mp4", "mov"] = "mp4"
    copy_video: bool = False
    width: int | None = None
    height: int | None = None
    picture_width: int | None = Field(None, description="the source picture, scaled, inside the frame")
    picture_height: int | None = None
    fit: Literal["pad", "crop"] = "pad"
    scale: bool = False
    upscaled: bool = False
    deinterlace: bool = False
    fps: str | None = Field(None, description="constant output rate (rational); None keeps the source's")
    preset: str = "fast"
    rate_control: Literal["copy", "cbr", "two_pass", "capped_crf", "crf"] = "copy"
    video_bitrate: int | None = None
    crf: int | None = None
    audio: Literal["aac", "copy", "none"] = "copy"
    audio_bitrate: int | None = None
    sample_rate: int | None = None
    audio_channels: int | None = Field(None, description="AAC channels (down- or upmixed); None keeps the source's")
    loudnorm: Loudnorm | None = None
    audio_end_s: float | None = Field(
        None, description="encoded audio is trimmed here (the source's duration): decoding AAC yields up to "
        "one frame of padding, which would push a file at the maximum duration over it")
    target_bytes: int | None = None
    min_bytes: int | None = None
    max_bytes: int | None = None
    end_s: float | None = Field(None, description="the output ends here (a trim of a video just over its maximum)")


class ImageTarget(BaseModel):
    """What the output of a photo fix must be."""

    model_config = ConfigDict(frozen=True)

    format: Literal["jpeg", "png"]
    width: int
    height: int
    exif_transpose: bool = True
    to_rgb: bool = False
    to_srgb: bool = Field(False, description="convert the pixels to sRGB through the photo's ICC profile")
    quality: int = 90
    dpi: float | None = None
    max_bytes: int | None = None
    upscaled: bool = False


class Crop(BaseModel):
    """How much of the picture a crop keeps: ``kept`` (0–1) of its ``edge``; ``chosen``: the plan
    crops (else the crop is only offered, for the submitter to choose)."""

    model_config = ConfigDict(frozen=True)

    edge: Literal["width", "height"]
    kept: float
    chosen: bool = False
    message: dict[str, str]


class FixPlan(BaseModel):
    """The whole plan. ``mode`` is ``none`` when nothing needs fixing and ``unfixable``
    when a required failure cannot be fixed (``unfixable`` says why)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    mode: Mode
    steps: tuple[FixStep, ...] = ()
    video: VideoTarget | None = None
    image: ImageTarget | None = None
    unfixable: tuple[Reason, ...] = ()
    notes: tuple[dict[str, str], ...] = ()
    warnings: tuple[dict[str, str], ...] = Field(
        (), description="what the fixed file will still be told (e.g. padded where full frame is recommended)")
    crop: Crop | None = Field(None, description="the crop the plan does, or offers for the submitter to choose")
    duration_s: float | None = None

    @property
    def fixable(self) -> bool:
        return self.mode in ("remux", "reencode", "image")

    def actions(self) -> list[str]:
        return [s.action for s in self.steps]


def message(zh: str, en: str) -> dict[str, str]:
    """A note or reason's message: Chinese first, English beside it."""
    return {"zh-CN": zh, "en": en}


def not_fixed(missed: dict[str, str]) -> dict[str, str]:
    """A note for a missed recommendation the fixer leaves alone."""
    return message(f"未修复（建议项）：{missed['zh-CN']}", f"Not fixed (recommendation): {missed['en']}")
