"""Who chooses remux or re-encode: the plan of a video fix. Pure.

- Remux when that suffices (container, faststart): streams are copied, nothing is re-encoded
  (the audio alone may be encoded, for its codec or loudness).
- Otherwise H.264 High yuv420p + AAC-LC 48 kHz in MP4; rotation baked in, square pixels,
  aspect changed by padding (or cropping), interlaced pictures deinterlaced, VFR made CFR; the
  frame comes from service/fix/framing.py.
- Size window: aim at ``size_target`` of the window (the middle), read with both readings
  of 兆 so the result is never ambiguous; constant bitrate with filler guarantees the minimum
  (service/fix/bitrate.py). A window no bitrate can meet is a reason, not a step.
- A picture below the rule is upscaled only where the profile allows it."""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

from service.core.checks import Check
from service.core.facts import MediaFacts
from service.core.fix_spec import FixSpec
from service.core.profiles import KindSpec
from service.core.size_checks import bound_slack
from service.fix.bitrate import MAX_VIDEO_BITRATE, MIN_BITS_PER_PIXEL, size_window, target_bytes, video_bitrate_for
from service.fix.content_plan import choose_frame, deinterlace_wanted, loudness_target
from service.fix.framing import snap_fps, upscale_allowed
from service.fix.plan import FixPlan, FixStep, Loudnorm, Reason, VideoTarget, message, not_fixed

MP4_VIDEO_CODECS = frozenset({"h264", "hevc", "mpeg4", "av1"})
"""Video codecs that can be stream-copied into MP4."""

MP4_AUDIO_CODECS = frozenset({"aac", "mp3", "alac", "ac3", "eac3", "opus"})
"""Audio codecs that can be stream-copied into MP4."""

_REMUX_RULES = frozenset({"container", "faststart", "duration"})
"""Rules a stream-copy remux answers (a duration just over its maximum: the end is cut, ``trim_step``)."""
_AUDIO_RULES = frozenset({"audio_codec", "audio_sample_rate", "audio_channels", "audio_bitrate"})

AAC_FRAME_S = 1024 / 44100
"""One AAC frame at 44.1 kHz: a stream-copy cut may leave the audio up to this long past the cut."""


def plan_video(facts: MediaFacts, open_checks: list[Check], spec: KindSpec, fix: FixSpec,
               reasons: list[Reason], notes: list[dict[str, str]], *, allow_crop: bool = False) -> FixPlan:
    """The plan of a video: remux when that suffices, else re-encode; unfixable with the reasons.
    The frame, loudness and deinterlacing follow the content rules too (content_plan.py);
    ``allow_crop``: the submitter chose to crop where the profile offers it."""
    fixable = {c.rule: c for c in open_checks if c.fixable}
    steps: list[FixStep] = []
    duration = facts.duration_s or 0.0
    allowed = spec.container.allowed if spec.container else ("mp4",)
    container: Literal["mp4", "mov"] | None = \
        "mp4" if "mp4" in allowed else "mov" if "mov" in allowed else None
    if container is None:
        reasons.append(Reason(rule="container", message=message(
            f"无法生成所要求的封装格式（{'/'.join(allowed)}），只能输出 MP4/MOV。",
            f"Cannot write the required container ({'/'.join(allowed)}); only MP4/MOV can be written.")))
        container = "mp4"
    reencode = [r for r in fixable if r not in _REMUX_RULES | _AUDIO_RULES]
    if facts.video_codec not in MP4_VIDEO_CODECS:
        reencode.append("video_codec")
    trim_exact = "duration" in fixable and spec.duration is not None and \
        bound_slack(spec.duration, facts)[0] < AAC_FRAME_S  # no slack: the audio is cut to the sample
    audio_encode = facts.audio_present and (
        any(r in fixable for r in _AUDIO_RULES) or fix.loudnorm or facts.audio_codec not in MP4_AUDIO_CODECS
        or trim_exact)
    res = next((c for c in open_checks if c.rule == "resolution" and not c.fixable), None)
    if res is not None:  # below the rule: only an allowed upscale fixes it
        if upscale_allowed(spec, fix):
            reencode.append("resolution")
        elif res.status == "fail":
            reasons.append(Reason(rule="resolution", message=res.message))
        else:
            notes.append(not_fixed(res.message))
    deint = deinterlace_wanted(facts, spec)
    if deint and (spec.scan_type is not None and "interlaced" in spec.scan_type.allowed
                  or any(c.rule == "interlace_detected" for c in open_checks)):
        reencode.append("interlace_detected")  # only the content rule asks: a remux would keep the combing
    frame = choose_frame(facts, spec, fix, changes_picture=bool(reencode), allow_crop=allow_crop)
    geo = frame.geo
    reasons.extend(frame.reasons)
    notes.extend(frame.notes)
    warnings = tuple(frame.warnings)
    if geo and geo["upscale"] and reencode and not any(r.rule == "resolution" for r in reasons):
        if upscale_allowed(spec, fix):
            notes.append(message(f"已放大：画面从 {facts.width}×{facts.height} 放大到 {geo['picture_width']}×"
                                  f"{geo['picture_height']}（配置允许放大）。",
                                  f"Upscaled: the picture was enlarged from {facts.width}×{facts.height} to "
                                  f"{geo['picture_width']}×{geo['picture_height']} "
                                  "(the profile allows upscaling)."))
        else:
            res = next((c for c in open_checks if c.rule == "resolution"), None)
            reasons.append(Reason(rule="resolution", message=message(
                f"画面 {facts.width}×{facts.height} 低于目标 {geo['width']}×{geo['height']}，"
                "不放大低分辨率画面。",
                f"The picture {facts.width}×{facts.height} is below the target "
                f"{geo['width']}×{geo['height']}; low-resolution pictures are not upscaled.")))
    if reasons:
        return FixPlan(kind="video", mode="unfixable", unfixable=tuple(reasons), notes=tuple(notes),
                       crop=frame.crop, duration_s=facts.duration_s)
    if not fixable and not reencode and not audio_encode:
        return FixPlan(kind="video", mode="none", notes=tuple(notes), duration_s=facts.duration_s)

    lo, hi = size_window(spec.file_size)
    a_rate, a_hz, a_channels = audio_settings(fixable, fix)
    audio_bps = a_rate if facts.audio_present and (reencode or audio_encode) else 0
    loud: Loudnorm | None = None
    loud_rules = ("loudness",) if any(c.rule == "loudness" for c in open_checks) else ()
    if fix.loudnorm and facts.audio_present:
        loud, loud_notes = loudness_target(spec, fix)
        notes.extend(loud_notes)
    audio_mode = audio_mode_of(facts, reencode, audio_encode)
    trim = trim_step(fixable.get("duration"), lossless=not reencode, exact_audio=trim_exact and audio_mode == "aac")
    end_s = trim.params["end_s"] if trim else None
    audio_end = min(facts.duration_s, end_s) if facts.duration_s and end_s else end_s or facts.duration_s
    if not reencode:
        steps.append(FixStep(action="remux", rules=tuple(r for r in fixable if r in _REMUX_RULES - {"duration"}),
                             params={"container": container, "faststart": True}))
        if trim:
            steps.append(trim)
        if audio_mode == "aac":
            steps.append(FixStep(action="encode_audio", rules=tuple(r for r in fixable if r in _AUDIO_RULES),
                                 params={"codec": "aac", "bitrate": audio_bps, "sample_rate": a_hz,
                                         "channels": a_channels}))
        if loud:
            steps.append(FixStep(action="loudnorm", rules=loud_rules, params=loud.model_dump()))
        video = VideoTarget(container=container, copy_video=True, audio=audio_mode, audio_end_s=audio_end,
                            end_s=end_s,
                            audio_bitrate=audio_bps or None, loudnorm=loud, min_bytes=lo, max_bytes=hi,
                            sample_rate=a_hz if audio_mode == "aac" else None,
                            audio_channels=a_channels if audio_mode == "aac" else None)
        return FixPlan(kind="video", mode="remux", steps=tuple(steps), video=video, notes=tuple(notes),
                       warnings=warnings, duration_s=facts.duration_s)

    assert geo is not None
    steps.append(FixStep(action="encode_video", rules=tuple(sorted(set(reencode))),
                         params={"codec": "h264", "profile": "high", "pixel_format": "yuv420p",
                                 "preset": fix.preset}))
    if facts.rotation:
        steps.append(FixStep(action="rotate", rules=("orientation",) if "orientation" in fixable else (),
                             params={"degrees_cw": facts.rotation}))
    if deint:
        steps.append(FixStep(action="deinterlace", rules=tuple(r for r in ("scan_type", "interlace_detected")
                                                                if r in fixable or r in reencode),
                             params={"filter": "bwdif"}))
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
    geo_rules = tuple(r for r in ("resolution", "aspect_ratio", "orientation", "square_pixels") if r in fixable)
    if scale:
        steps.append(FixStep(action="upscale" if geo["upscale"] else "scale", rules=geo_rules,
                             params={"width": geo["picture_width"], "height": geo["picture_height"],
                                     "square_pixels": True}))
    if (geo["width"], geo["height"]) != (geo["picture_width"], geo["picture_height"]):
        steps.append(FixStep(action=frame.fit, rules=geo_rules,
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
            return _unfixable_size(facts, spec, notes, message(
                f"要达到最小文件大小，{duration:.0f} 秒的视频需要超过 "
                f"{MAX_VIDEO_BITRATE // 1_000_000} Mbps 的码率：视频太短，无法靠重新编码满足大小要求。",
                f"Reaching the minimum size would need more than {MAX_VIDEO_BITRATE // 1_000_000} Mbps for "
                f"{duration:.0f} s of video: the video is too short to meet the size rule by re-encoding."))
        if hi is not None and bitrate < floor:
            return _unfixable_size(facts, spec, notes, message(
                f"最大文件大小对 {duration:.0f} 秒、{geo['width']}×{geo['height']} 的视频太小"
                f"（只够 {max(bitrate, 0) / 1000:.0f} kbps），压缩后画面会严重失真。",
                f"The maximum size is too small for {duration:.0f} s at {geo['width']}×{geo['height']} "
                f"(only {max(bitrate, 0) / 1000:.0f} kbps); the picture would break up."))
        steps.append(FixStep(action="set_bitrate", rules=size_rules, params={
            "target_bytes": want, "min_bytes": lo, "max_bytes": hi, "video_bitrate": bitrate,
            "audio_bitrate": audio_bps, "rate_control": rate, "duration_s": duration}))
    elif "video_bitrate" in fixable and spec.video_bitrate is not None:
        bitrate, rate = video_bitrate_in_range(spec.video_bitrate.min, spec.video_bitrate.max)
        steps.append(FixStep(action="set_bitrate", rules=("video_bitrate",), params={
            "video_bitrate": bitrate, "rate_control": rate}))
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
                             params={"codec": "aac", "bitrate": audio_bps, "sample_rate": a_hz,
                                     "channels": a_channels}))
    if loud:
        steps.append(FixStep(action="loudnorm", rules=loud_rules, params=loud.model_dump()))
    if trim:
        steps.append(trim)
    steps.append(FixStep(action="faststart", rules=tuple(r for r in fixable if r in _REMUX_RULES - {"duration"}),
                         params={"container": container}))
    video = VideoTarget(
        container=container, width=geo["width"], height=geo["height"], picture_width=geo["picture_width"],
        picture_height=geo["picture_height"], fit=frame.fit, scale=scale, upscaled=geo["upscale"],
        deinterlace=deint, fps=f"{fps.numerator}/{fps.denominator}" if fps else None, preset=fix.preset,
        rate_control=rate, video_bitrate=bitrate, crf=fix.crf if rate in ("crf", "capped_crf") else None,
        audio=audio_mode, audio_bitrate=audio_bps or None, sample_rate=a_hz if audio_mode == "aac" else None,
        audio_channels=a_channels if audio_mode == "aac" else None,
        loudnorm=loud, audio_end_s=audio_end, end_s=end_s, target_bytes=want, min_bytes=lo, max_bytes=hi)
    return FixPlan(kind="video", mode="reencode", steps=tuple(steps), video=video, notes=tuple(notes),
                   warnings=warnings, crop=frame.crop, duration_s=facts.duration_s)


def _unfixable_size(facts: MediaFacts, spec: KindSpec, notes: list[dict[str, str]],
                    message: dict[str, str]) -> FixPlan:
    return FixPlan(kind="video", mode="unfixable", unfixable=(Reason(rule="file_size", message=message),),
                   notes=tuple(notes), duration_s=facts.duration_s)


def audio_mode_of(facts: MediaFacts, reencode: list[str], audio_encode: bool) -> Literal["aac", "copy", "none"]:
    return "none" if not facts.audio_present else "aac" if (reencode or audio_encode) else "copy"


def trim_step(check: Check | None, *, lossless: bool, exact_audio: bool) -> FixStep | None:
    """The step that cuts the end of a video just over its maximum duration (the duration
    check's ``trim`` fix): by stream copy when nothing else is re-encoded, else in the encode;
    the audio is re-encoded to end on the very sample when the rule leaves no slack."""
    if check is None or check.fix is None or check.fix.action != "trim":
        return None
    return FixStep(action="trim", rules=("duration",),
                   params={**check.fix.params, "lossless": lossless, "exact_audio": exact_audio})


def audio_settings(fixable: dict[str, Check], fix: FixSpec) -> tuple[int, int, int | None]:
    """The AAC encode's bitrate, sample rate and channel count: the profile's ``fix:`` defaults
    (48 kHz, the source's channels), or what a failed audio rule asks for."""
    def wanted(rule: str, key: str) -> object:
        c = fixable.get(rule)
        return c.fix.params.get(key) if c is not None and c.fix is not None else None

    bitrate = wanted("audio_bitrate", "bitrate")
    hz = wanted("audio_sample_rate", "sample_rate")
    channels = wanted("audio_channels", "channels")
    return (int(bitrate) if isinstance(bitrate, int) else fix.audio_bitrate,
            int(hz) if isinstance(hz, int) else 48000, int(channels) if isinstance(channels, int) else None)


def video_bitrate_in_range(lo: int | None, hi: int | None) -> tuple[int, Literal["cbr", "capped_crf"]]:
    """A video bitrate inside a ``video_bitrate`` rule's range (its middle; 10% inside a lone
    bound), constant when there is a minimum to reach, else capped quality."""
    if lo and hi:
        return (lo + hi) // 2, "cbr"
    if lo:
        return int(lo * 1.1), "cbr"
    return int((hi or 0) * 0.9), "capped_crf"
