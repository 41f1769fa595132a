"""Plan a fix. Pure: the facts of a file, its checks and the profile in, a ``FixPlan`` out:
what to do (remux only, re-encode, convert a photo), what the output must look like
(frame, picture, frame rate, codecs, bitrate chosen from the size window), and why a
failure cannot be fixed. The transcoder (``service/fix/transcode.py``) only carries it out.

Policy (docs/fixing.md):
- Remux when that suffices (container, faststart): streams are copied, nothing is re-encoded.
- Otherwise H.264 High yuv420p + AAC-LC 48 kHz in MP4; rotation baked in, square pixels,
  aspect changed by padding (or cropping), interlaced pictures deinterlaced, VFR made CFR.
- Size window: aim at ``size_target`` of the window (the middle), read with both readings
  of 兆 so the result is never ambiguous; constant bitrate with filler guarantees the minimum.
- Never invent: duration, missing audio and low resolution (unless upscaling is allowed, and
  then the plan says "upscaled") are reasons, not steps.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import PurePath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.core.checks import Check
from service.core.facts import MediaFacts
from service.core.fix_spec import FixSpec
from service.core.profiles import KindSpec, Profile
from service.fix.bitrate import MAX_VIDEO_BITRATE, MIN_BITS_PER_PIXEL, size_window, target_bytes, video_bitrate_for
from service.fix.framing import bounds_scale, frame_geometry, snap_fps

Mode = Literal["none", "remux", "reencode", "image", "unfixable"]

MP4_VIDEO_CODECS = frozenset({"h264", "hevc", "mpeg4", "av1"})
"""Video codecs that can be stream-copied into MP4."""

MP4_AUDIO_CODECS = frozenset({"aac", "mp3", "alac", "ac3", "eac3", "opus"})
"""Audio codecs that can be stream-copied into MP4."""

_REMUX_RULES = frozenset({"container", "faststart"})
_AUDIO_RULES = frozenset({"audio_codec"})


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
    loudnorm: Loudnorm | None = None
    audio_end_s: float | None = Field(
        None, description="encoded audio is trimmed here (the source's duration): decoding AAC yields up to "
        "one frame of padding, which would push a file at the maximum duration over it")
    target_bytes: int | None = None
    min_bytes: int | None = None
    max_bytes: int | None = None


class ImageTarget(BaseModel):
    """What the output of a photo fix must be."""

    model_config = ConfigDict(frozen=True)

    format: Literal["jpeg", "png"]
    width: int
    height: int
    exif_transpose: bool = True
    to_rgb: bool = False
    quality: int = 90
    dpi: float | None = None
    max_bytes: int | None = None
    upscaled: bool = False


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
    duration_s: float | None = None

    @property
    def fixable(self) -> bool:
        return self.mode in ("remux", "reencode", "image")

    def actions(self) -> list[str]:
        return [s.action for s in self.steps]


# ------------------------------------------------------------------ helpers


def _msg(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


def _not_fixed(message: dict[str, str]) -> dict[str, str]:
    """A note for a missed recommendation the fixer leaves alone."""
    return _msg(f"未修复（建议项）：{message['zh-CN']}", f"Not fixed (recommendation): {message['en']}")


# ------------------------------------------------------------------ planning


def plan_fix(facts: MediaFacts, checks: list[Check], profile: Profile) -> FixPlan:
    """The plan for one file: from its failed (and warned) checks, its facts and the profile."""
    open_checks = [c for c in checks if c.status in ("fail", "warn")]
    if not open_checks:
        return FixPlan(kind=facts.kind, mode="none", duration_s=facts.duration_s)
    spec = profile.kinds.get(facts.kind)  # type: ignore[arg-type]
    if facts.kind not in ("video", "image") or spec is None:
        return FixPlan(kind=facts.kind, mode="unfixable", unfixable=(Reason(rule="media_kind", message=_msg(
            "只能自动修复视频和照片。", "Only videos and photos can be fixed automatically.")),))
    fix = spec.fix or FixSpec()
    reasons: list[Reason] = []
    notes: list[dict[str, str]] = []
    for c in open_checks:
        if c.fixable or c.rule == "resolution":  # resolution is decided by the geometry below
            continue
        if c.rule == "filename" and _renamed_name_passes(c, profile, facts.kind):
            continue  # only the extension was wrong: the fixed file gets the right one
        if c.status == "fail":
            reasons.append(Reason(rule=c.rule, message=c.message))
        else:
            notes.append(_not_fixed(c.message))
    if facts.kind == "image":
        return _plan_image(facts, open_checks, spec, fix, reasons, notes)
    return _plan_video(facts, open_checks, spec, fix, reasons, notes)


def output_suffix(kind: str, profile: Profile) -> str:
    """The extension the fixed file gets: .jpg/.png for photos, .mp4/.mov for videos."""
    spec = profile.kinds.get(kind)  # type: ignore[call-overload]
    if kind == "image":
        allowed = spec.image_format.allowed if spec is not None and spec.image_format else ("jpeg",)
        return ".png" if "jpeg" not in allowed and "png" in allowed else ".jpg"
    allowed = spec.container.allowed if spec is not None and spec.container else ("mp4",)
    return ".mov" if "mp4" not in allowed and "mov" in allowed else ".mp4"


def _renamed_name_passes(check: Check, profile: Profile, kind: str) -> bool:
    if profile.filename is None or not check.actual:
        return False
    renamed = PurePath(check.actual).stem + output_suffix(kind, profile)
    return re.fullmatch(profile.filename.pattern, renamed) is not None


def _upscale_allowed(spec: KindSpec, fix: FixSpec) -> bool:
    if fix.upscale_allowed is not None:
        return fix.upscale_allowed
    return bool(spec.resolution and spec.resolution.upscale_allowed)


def _plan_video(facts: MediaFacts, open_checks: list[Check], spec: KindSpec, fix: FixSpec,
                reasons: list[Reason], notes: list[dict[str, str]]) -> FixPlan:
    fixable = {c.rule: c for c in open_checks if c.fixable}
    steps: list[FixStep] = []
    duration = facts.duration_s or 0.0
    allowed = spec.container.allowed if spec.container else ("mp4",)
    container: Literal["mp4", "mov"] | None = \
        "mp4" if "mp4" in allowed else "mov" if "mov" in allowed else None
    if container is None:
        reasons.append(Reason(rule="container", message=_msg(
            f"无法生成所要求的封装格式（{'/'.join(allowed)}），只能输出 MP4/MOV。",
            f"Cannot write the required container ({'/'.join(allowed)}); only MP4/MOV can be written.")))
        container = "mp4"
    reencode = [r for r in fixable if r not in _REMUX_RULES | _AUDIO_RULES]
    if facts.video_codec not in MP4_VIDEO_CODECS:
        reencode.append("video_codec")
    audio_encode = facts.audio_present and (
        "audio_codec" in fixable or fix.loudnorm or facts.audio_codec not in MP4_AUDIO_CODECS)
    res = next((c for c in open_checks if c.rule == "resolution" and not c.fixable), None)
    if res is not None:  # below the rule: only an allowed upscale fixes it
        if _upscale_allowed(spec, fix):
            reencode.append("resolution")
        elif res.status == "fail":
            reasons.append(Reason(rule="resolution", message=res.message))
        else:
            notes.append(_not_fixed(res.message))
    geo = frame_geometry(facts, spec, fix) if facts.width and facts.height else None
    if geo and geo["upscale"] and reencode and not any(r.rule == "resolution" for r in reasons):
        if _upscale_allowed(spec, fix):
            notes.append(_msg(f"已放大：画面从 {facts.width}×{facts.height} 放大到 {geo['picture_width']}×"
                              f"{geo['picture_height']}（配置允许放大）。",
                              f"Upscaled: the picture was enlarged from {facts.width}×{facts.height} to "
                              f"{geo['picture_width']}×{geo['picture_height']} "
                              "(the profile allows upscaling)."))
        else:
            res = next((c for c in open_checks if c.rule == "resolution"), None)
            reasons.append(Reason(rule="resolution", message=_msg(
                f"画面 {facts.width}×{facts.height} 低于目标 {geo['width']}×{geo['height']}，"
                "不放大低分辨率画面。",
                f"The picture {facts.width}×{facts.height} is below the target "
                f"{geo['width']}×{geo['height']}; low-resolution pictures are not upscaled.")))
    if reasons:
        return FixPlan(kind="video", mode="unfixable", unfixable=tuple(reasons), notes=tuple(notes),
                       duration_s=facts.duration_s)
    if not fixable and not reencode and not audio_encode:
        return FixPlan(kind="video", mode="none", notes=tuple(notes), duration_s=facts.duration_s)

    lo, hi = size_window(spec.file_size)
    audio_bps = fix.audio_bitrate if facts.audio_present and (reencode or audio_encode) else 0
    loud = Loudnorm(integrated=fix.loudness, true_peak=fix.true_peak, loudness_range=fix.loudness_range) \
        if fix.loudnorm and facts.audio_present else None
    audio_mode: Literal["aac", "copy", "none"] = "none" if not facts.audio_present else \
        "aac" if (reencode or audio_encode) else "copy"
    if not reencode:
        steps.append(FixStep(action="remux", rules=tuple(r for r in fixable if r in _REMUX_RULES),
                             params={"container": container, "faststart": True}))
        if audio_mode == "aac":
            steps.append(FixStep(action="encode_audio", rules=tuple(r for r in fixable if r in _AUDIO_RULES),
                                 params={"codec": "aac", "bitrate": audio_bps, "sample_rate": 48000}))
        if loud:
            steps.append(FixStep(action="loudnorm", params=loud.model_dump()))
        video = VideoTarget(container=container, copy_video=True, audio=audio_mode, audio_end_s=facts.duration_s,
                            audio_bitrate=audio_bps or None, loudnorm=loud, min_bytes=lo, max_bytes=hi,
                            sample_rate=48000 if audio_mode == "aac" else None)
        return FixPlan(kind="video", mode="remux", steps=tuple(steps), video=video, notes=tuple(notes),
                       duration_s=facts.duration_s)

    assert geo is not None
    steps.append(FixStep(action="encode_video", rules=tuple(sorted(set(reencode))),
                         params={"codec": "h264", "profile": "high", "pixel_format": "yuv420p",
                                 "preset": fix.preset}))
    if facts.rotation:
        steps.append(FixStep(action="rotate", rules=("orientation",) if "orientation" in fixable else (),
                             params={"degrees_cw": facts.rotation}))
    deint = facts.scan_type == "interlaced" and (
        spec.scan_type is None or "interlaced" not in spec.scan_type.allowed)
    if deint:
        steps.append(FixStep(action="deinterlace", rules=("scan_type",), params={"filter": "bwdif"}))
    fps: Fraction | None = None
    if "frame_rate" in fixable and fixable["frame_rate"].fix is not None:
        fps = snap_fps(float(fixable["frame_rate"].fix.params.get("fps") or facts.frame_rate_fps or 25))
        steps.append(FixStep(action="change_frame_rate", rules=("frame_rate",), params={"fps": str(fps)}))
    if facts.frame_rate_mode == "variable" and (spec.frame_rate_mode is None
                                                or "variable" not in spec.frame_rate_mode.allowed):
        fps = fps or snap_fps(facts.frame_rate_fps or 25.0)
        steps.append(FixStep(action="constant_frame_rate", rules=("frame_rate_mode",),
                             params={"fps": str(fps)}))
    sar_square = facts.sample_aspect_ratio in (None, "1:1", "0:1")
    scale = (geo["picture_width"], geo["picture_height"]) != (facts.width, facts.height) or not sar_square
    geo_rules = tuple(r for r in ("resolution", "aspect_ratio", "orientation") if r in fixable)
    if scale:
        steps.append(FixStep(action="upscale" if geo["upscale"] else "scale", rules=geo_rules,
                             params={"width": geo["picture_width"], "height": geo["picture_height"],
                                     "square_pixels": True}))
    if (geo["width"], geo["height"]) != (geo["picture_width"], geo["picture_height"]):
        steps.append(FixStep(action=fix.fit, rules=geo_rules,
                             params={"width": geo["width"], "height": geo["height"]}))

    rate: Literal["cbr", "two_pass", "capped_crf", "crf"]
    want = target_bytes(lo, hi, fix.size_target)
    bitrate: int | None = None
    size_rules = tuple(r for r in ("file_size", "bitrate") if r in fixable)
    out_fps = float(fps) if fps else (facts.frame_rate_fps or 25.0)
    if want is not None and duration > 0:
        bitrate = video_bitrate_for(want, duration, audio_bps)
        rate = fix.rate_control if lo is not None else "capped_crf"
        floor = MIN_BITS_PER_PIXEL * geo["width"] * geo["height"] * out_fps
        if lo is not None and bitrate > MAX_VIDEO_BITRATE:
            return _unfixable_size(facts, spec, notes, _msg(
                f"要达到最小文件大小，{duration:.0f} 秒的视频需要超过 "
                f"{MAX_VIDEO_BITRATE // 1_000_000} Mbps 的码率：视频太短，无法靠重新编码满足大小要求。",
                f"Reaching the minimum size would need more than {MAX_VIDEO_BITRATE // 1_000_000} Mbps for "
                f"{duration:.0f} s of video: the video is too short to meet the size rule by re-encoding."))
        if hi is not None and bitrate < floor:
            return _unfixable_size(facts, spec, notes, _msg(
                f"最大文件大小对 {duration:.0f} 秒、{geo['width']}×{geo['height']} 的视频太小"
                f"（只够 {max(bitrate, 0) / 1000:.0f} kbps），压缩后画面会严重失真。",
                f"The maximum size is too small for {duration:.0f} s at {geo['width']}×{geo['height']} "
                f"(only {max(bitrate, 0) / 1000:.0f} kbps); the picture would break up."))
        steps.append(FixStep(action="set_bitrate", rules=size_rules, params={
            "target_bytes": want, "min_bytes": lo, "max_bytes": hi, "video_bitrate": bitrate,
            "audio_bitrate": audio_bps, "rate_control": rate, "duration_s": duration}))
    elif spec.bitrate is not None:
        bmin, bmax = spec.bitrate.min, spec.bitrate.max
        total = (bmin + bmax) // 2 if bmin and bmax else int((bmin or 0) * 1.1) or int((bmax or 0) * 0.9)
        bitrate = max(1, total - audio_bps)
        rate = "cbr" if bmin else "capped_crf"
        steps.append(FixStep(action="set_bitrate", rules=size_rules, params={"video_bitrate": bitrate,
                                                                            "rate_control": rate}))
    else:
        rate = "crf"
    if audio_mode == "aac":
        steps.append(FixStep(action="encode_audio", rules=tuple(r for r in fixable if r in _AUDIO_RULES),
                             params={"codec": "aac", "bitrate": audio_bps, "sample_rate": 48000}))
    if loud:
        steps.append(FixStep(action="loudnorm", params=loud.model_dump()))
    steps.append(FixStep(action="faststart", rules=tuple(r for r in fixable if r in _REMUX_RULES),
                         params={"container": container}))
    video = VideoTarget(
        container=container, width=geo["width"], height=geo["height"], picture_width=geo["picture_width"],
        picture_height=geo["picture_height"], fit=fix.fit, scale=scale, upscaled=geo["upscale"],
        deinterlace=deint, fps=f"{fps.numerator}/{fps.denominator}" if fps else None, preset=fix.preset,
        rate_control=rate, video_bitrate=bitrate, crf=fix.crf if rate in ("crf", "capped_crf") else None,
        audio=audio_mode, audio_bitrate=audio_bps or None, sample_rate=48000 if audio_mode == "aac" else None,
        loudnorm=loud, audio_end_s=facts.duration_s, target_bytes=want, min_bytes=lo, max_bytes=hi)
    return FixPlan(kind="video", mode="reencode", steps=tuple(steps), video=video, notes=tuple(notes),
                   duration_s=facts.duration_s)


def _unfixable_size(facts: MediaFacts, spec: KindSpec, notes: list[dict[str, str]],
                    message: dict[str, str]) -> FixPlan:
    return FixPlan(kind="video", mode="unfixable", unfixable=(Reason(rule="file_size", message=message),),
                   notes=tuple(notes), duration_s=facts.duration_s)


def _plan_image(facts: MediaFacts, open_checks: list[Check], spec: KindSpec, fix: FixSpec,
                reasons: list[Reason], notes: list[dict[str, str]]) -> FixPlan:
    fixable = {c.rule: c for c in open_checks if c.fixable}
    w, h = facts.width or 0, facts.height or 0
    k = bounds_scale(max(w, h), min(w, h), spec.resolution, fix.max_long_edge) if w and h else 1.0
    upscaled = k > 1.001
    if upscaled and not _upscale_allowed(spec, fix):
        res = next((c for c in open_checks if c.rule == "resolution"), None)
        if res is not None and res.status == "fail":
            reasons.append(Reason(rule="resolution", message=res.message))
        elif res is not None:
            notes.append(_not_fixed(res.message))
        k = 1.0
        upscaled = False
    if reasons:
        return FixPlan(kind="image", mode="unfixable", unfixable=tuple(reasons), notes=tuple(notes))
    if not fixable and k == 1.0:
        return FixPlan(kind="image", mode="none", notes=tuple(notes))
    allowed = spec.image_format.allowed if spec.image_format else ("jpeg", "png")
    current = facts.image_format or ""
    fmt: Literal["jpeg", "png"] = "jpeg"
    if current in ("jpeg", "png") and current in allowed:
        fmt = current  # type: ignore[assignment]
    elif "jpeg" not in allowed and "png" in allowed:
        fmt = "png"
    steps: list[FixStep] = []
    if current != fmt:
        steps.append(FixStep(action="convert_image", params={"from": current, "to": fmt},
                             rules=("image_format",) if "image_format" in fixable else ()))
    if facts.exif_orientation not in (None, 1):
        steps.append(FixStep(action="apply_exif_orientation", params={"orientation": facts.exif_orientation}))
    to_rgb = "color_mode" in fixable or (fmt == "jpeg" and facts.color_mode not in ("RGB", "L"))
    if to_rgb:
        steps.append(FixStep(action="convert_color", rules=("color_mode",) if "color_mode" in fixable else (),
                             params={"from": facts.color_mode, "to": "RGB (sRGB)"}))
    tw, th = (max(1, round(w * k)), max(1, round(h * k))) if k != 1.0 else (w, h)
    if k != 1.0:
        steps.append(FixStep(action="upscale" if upscaled else "downscale", rules=("resolution",)
                             if "resolution" in fixable else (), params={"width": tw, "height": th}))
        if upscaled:
            notes.append(_msg(f"已放大：照片从 {w}×{h} 放大到 {tw}×{th}（配置允许放大）。",
                              f"Upscaled: the photo was enlarged from {w}×{h} to {tw}×{th} "
                              "(the profile allows it)."))
    dpi = None
    if "dpi" in fixable and fixable["dpi"].fix is not None:
        dpi = float(fixable["dpi"].fix.params["dpi"])
        steps.append(FixStep(action="set_dpi", rules=("dpi",), params={"dpi": dpi}))
    _, hi = size_window(spec.file_size)
    if "file_size" in fixable:
        steps.append(FixStep(action="reduce_size", rules=("file_size",), params={"max_bytes": hi}))
    image = ImageTarget(format=fmt, width=tw, height=th, to_rgb=to_rgb, quality=fix.jpeg_quality, dpi=dpi,
                        max_bytes=hi, upscaled=upscaled)
    return FixPlan(kind="image", mode="image", steps=tuple(steps), image=image, notes=tuple(notes))


