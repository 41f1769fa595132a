"""Normalized media facts, as a viewer sees the file. Pure: ``parse_av_facts`` turns
ffprobe's JSON, MediaInfo's track data and the MP4 top-level box list into ``MediaFacts``;
it cross-checks the two tools and records where they disagree.

Conventions (docs/report.md):
- ``width``/``height`` are the displayed size: after the rotation in the display matrix
  and after the sample aspect ratio (SAR > 1 widens, SAR < 1 heightens the picture).
- ``rotation`` is clockwise degrees, 0/90/180/270. ffprobe ≥ 5 reports the display
  matrix counter-clockwise (-90 or 90 depending on version), the old ``rotate`` tag and
  MediaInfo report clockwise.
- ``duration_s`` is the container's duration (what a player shows); stream durations are
  kept beside it and ``duration_source`` says which one was used.
"""

from __future__ import annotations

import re
from fractions import Fraction
from statistics import median
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.core.h264 import Sps
from service.core.scan import decide_scan_type, scan_views

Kind = Literal["video", "audio", "image", "unknown"]


class MediaFacts(BaseModel):
    """What the probes found. Fields that do not apply to the kind are None."""

    model_config = ConfigDict(frozen=True)

    kind: Kind
    container: str | None = Field(None, description="mp4, mov, mkv, webm, avi, flv, mpegts, jpeg, png, …")
    container_detail: str | None = None
    format_name: str | None = Field(None, description="ffprobe's format name, or Pillow's for images")
    major_brand: str | None = None
    size_bytes: int
    bitrate: int | None = Field(None, description="overall bits per second")
    duration_s: float | None = None
    duration_source: Literal["container", "video_stream", "audio_stream"] | None = None
    video_duration_s: float | None = None
    audio_duration_s: float | None = None
    width: int | None = Field(None, description="displayed width (after rotation and SAR)")
    height: int | None = Field(None, description="displayed height (after rotation and SAR)")
    coded_width: int | None = None
    coded_height: int | None = None
    rotation: int = Field(0, description="clockwise degrees: 0, 90, 180 or 270")
    sample_aspect_ratio: str | None = None
    display_aspect_ratio: float | None = None
    orientation: Literal["landscape", "portrait", "square"] | None = None
    frame_rate: str | None = Field(None, description="rational, e.g. 30000/1001")
    frame_rate_fps: float | None = None
    frame_rate_mode: Literal["constant", "variable", "unknown"] | None = None
    scan_type: Literal["progressive", "interlaced", "unknown"] | None = None
    scan_detail: str | None = Field(None, description="field order / MediaInfo's scan type (e.g. MBAFF), and the "
                                      "H.264 SPS flags when they decided between the two")
    video_codec: str | None = None
    video_profile: str | None = None
    pixel_format: str | None = None
    bit_depth: int | None = None
    video_bitrate: int | None = None
    attached_pictures: int = 0
    audio_present: bool = False
    audio_streams: int = 0
    audio_codec: str | None = None
    audio_profile: str | None = None
    audio_channels: int | None = None
    audio_sample_rate: int | None = None
    audio_bitrate: int | None = Field(None, description="bits per second of the first audio stream")
    faststart: bool | None = Field(None, description="MP4/MOV: the moov box precedes mdat")
    edit_list: Literal["none", "offset", "complex"] | None = Field(
        None, description="MP4/MOV edit lists: none, offset (a shifted start), complex (several segments)")
    truncated: bool = False
    image_format: str | None = None
    color_mode: str | None = None
    dpi: tuple[float, float] | None = None
    frames: int | None = None
    animated: bool | None = None
    exif_orientation: int | None = None
    color_space: str | None = Field(
        None, description="photos: srgb, adobe-rgb, display-p3 … (ICC profile or EXIF ColorSpace); None: untagged")
    exif_tags: int | None = Field(None, description="photos: how many EXIF tags the file carries (0: none)")
    disagreements: tuple[str, ...] = ()


def _int(v: Any) -> int | None:
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None


def _float(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if f == f and f >= 0 else None  # drop NaN and negatives


def _rational(v: Any) -> Fraction | None:
    if not v or not isinstance(v, str):
        return None
    try:
        num, _, den = v.replace(":", "/").partition("/")
        f = Fraction(int(num), int(den or 1))
    except (ValueError, ZeroDivisionError):
        return None
    return f if f > 0 else None


def normalize_rotation(degrees: float) -> int:
    """Any angle → 0/90/180/270, rounding to the nearest quarter turn."""
    return int(round(degrees / 90.0)) % 4 * 90


def _ffprobe_rotation_cw(stream: dict[str, Any]) -> int | None:
    """Clockwise rotation from the display matrix (counter-clockwise there) or the old tag."""
    for sd in stream.get("side_data_list") or ():
        if "rotation" in sd:
            return normalize_rotation(-float(sd["rotation"]))
    tag = (stream.get("tags") or {}).get("rotate")
    if tag is not None and _float(tag) is not None:
        return normalize_rotation(float(tag))
    return None


def _is_attached_pic(stream: dict[str, Any]) -> bool:
    return bool((stream.get("disposition") or {}).get("attached_pic"))


_CONTAINERS = {"matroska,webm": "mkv", "avi": "avi", "flv": "flv", "mpegts": "mpegts", "mpeg": "mpeg-ps",
               "asf": "asf", "ogg": "ogg", "wav": "wav", "mp3": "mp3", "aac": "aac", "flac": "flac",
               "h264": "h264-raw", "hevc": "hevc-raw", "mpegvideo": "mpeg-video"}


def container_from(format_name: str, major_brand: str | None, mi_general: dict[str, Any]) -> tuple[str, str]:
    """The container as its content says, with a detail string. ffprobe's
    ``mov,mp4,m4a,3gp,3g2,mj2`` is split by the ftyp major brand (``qt  `` is QuickTime)."""
    mi_format = str(mi_general.get("format") or "")
    mi_profile = str(mi_general.get("format_profile") or "")
    if format_name.startswith("mov,mp4"):
        brand = (major_brand or "").strip()
        if major_brand is None or major_brand == "qt  " or mi_profile == "QuickTime":
            return "mov", f"QuickTime ({brand or 'no ftyp'})"
        if brand.startswith("3g"):
            return "3gp", f"3GPP ({brand})"
        if brand in ("M4A", "M4B"):
            return "m4a", f"MPEG-4 audio ({brand})"
        return "mp4", f"MPEG-4 Base Media ({brand})"
    if format_name == "matroska,webm":
        return ("webm", "WebM") if mi_format == "WebM" else ("mkv", "Matroska")
    return _CONTAINERS.get(format_name, format_name), mi_format or format_name


WINDOW_GAP = 8
"""An interval this many times the median (and of a second or more) is the gap between two
windows of packets read (or a cut), not a frame's duration: it is not counted."""


def detect_frame_rate_mode(pts: list[int], time_base: Fraction | None = None) -> Literal["constant", "variable",
                                                                                         "unknown"]:
    """Decide from frame timestamps (the ground truth), read in windows over the file:
    variable when more than 5% of the intervals differ from the median interval by more than
    10% (a few splice gaps in a constant-rate stream do not make it variable). Intervals of
    WINDOW_GAP medians and a second or more (``time_base`` converts) are gaps between windows."""
    if len(pts) < 4:
        return "unknown"
    ordered = sorted(set(pts))
    diffs = [b - a for a, b in zip(ordered, ordered[1:], strict=False) if b > a]
    if diffs:
        second = 1 / time_base if time_base else 0
        gap = max(WINDOW_GAP * median(diffs), second)
        diffs = [d for d in diffs if d < gap]
    if len(diffs) < 3:
        return "unknown"
    mid = median(diffs)
    off = sum(1 for d in diffs if abs(d - mid) > 0.1 * mid)
    return "variable" if off > max(1, len(diffs) // 20) else "constant"


def scan_needs_sps(ffprobe: dict[str, Any], mediainfo_tracks: list[dict[str, Any]]) -> int | None:
    """The index of the H.264 video stream whose scan type ffprobe and MediaInfo disagree on
    (its SPS decides), else None."""
    v = main_video_stream(ffprobe)
    mi_video = next((t for t in mediainfo_tracks if t.get("track_type") == "Video"), {})
    if v is None or v.get("codec_name") != "h264" or not isinstance(v.get("index"), int):
        return None
    ff, mi = scan_views(v, mi_video)
    return v["index"] if ff and mi and ff != mi else None


def main_video_stream(ffprobe: dict[str, Any]) -> dict[str, Any] | None:
    """The first real video stream (cover art is never taken for it)."""
    return next((s for s in ffprobe.get("streams") or () if s.get("codec_type") == "video"
                 and not _is_attached_pic(s)), None)


def stream_fps(stream: dict[str, Any]) -> float | None:
    fr = _rational(stream.get("avg_frame_rate")) or _rational(stream.get("r_frame_rate"))
    return float(fr) if fr else None


def _bit_depth(stream: dict[str, Any], mi_video: dict[str, Any]) -> int | None:
    raw = _int(stream.get("bits_per_raw_sample"))
    if raw:
        return raw
    m = re.search(r"p(9|10|12|14|16)(le|be)?$", stream.get("pix_fmt") or "")
    if m:
        return int(m.group(1))
    if stream.get("pix_fmt"):
        return _int(mi_video.get("bit_depth")) or 8
    return _int(mi_video.get("bit_depth"))


def parse_av_facts(
    ffprobe: dict[str, Any],
    mediainfo_tracks: list[dict[str, Any]],
    *,
    size_bytes: int,
    boxes: list[tuple[str, int, int]] | None = None,
    edit_list: Literal["none", "offset", "complex"] | None = None,
    sps: Sps | None = None,
) -> MediaFacts:
    """Build facts for an audio/video file from ffprobe JSON (format, streams and the
    video packets of three windows over the file), MediaInfo tracks (``track.to_data()``), the MP4/MOV
    top-level boxes (type, offset, size), the kind of its edit lists (media/mp4box.py) and, when the
    two tools disagree on the scan type of an H.264 stream (``scan_needs_sps``), the stream's
    sequence parameter set."""
    fmt = ffprobe.get("format") or {}
    streams = ffprobe.get("streams") or []
    mi_general = next((t for t in mediainfo_tracks if t.get("track_type") == "General"), {})
    mi_video = next((t for t in mediainfo_tracks if t.get("track_type") == "Video"), {})
    mi_audio = next((t for t in mediainfo_tracks if t.get("track_type") == "Audio"), {})
    notes: list[str] = []

    videos = [s for s in streams if s.get("codec_type") == "video" and not _is_attached_pic(s)]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    v = videos[0] if videos else None
    a = audios[0] if audios else None

    format_name = str(fmt.get("format_name") or "")
    major_brand = (fmt.get("tags") or {}).get("major_brand")
    container, detail = container_from(format_name, major_brand, mi_general)
    if format_name.startswith("mov,mp4") and mi_general.get("format_profile"):
        mi_says_qt = mi_general.get("format_profile") == "QuickTime"
        if mi_says_qt != (container == "mov"):
            notes.append(f"container: ffprobe brand {major_brand!r} vs MediaInfo {mi_general['format_profile']!r}")

    duration = _float(fmt.get("duration"))
    v_dur = _float(v.get("duration")) if v else None
    a_dur = _float(a.get("duration")) if a else None
    source: Literal["container", "video_stream", "audio_stream"] | None = "container" if duration else None
    if duration is None and (v_dur or a_dur):
        duration, source = (v_dur, "video_stream") if v_dur else (a_dur, "audio_stream")
    mi_dur = _float(mi_general.get("duration"))
    if duration and mi_dur:
        mi_dur_s = mi_dur / 1000.0  # pymediainfo's parsed General duration is in milliseconds
        if abs(mi_dur_s - duration) > max(1.0, 0.01 * duration):
            notes.append(f"duration: ffprobe {duration:.3f}s vs MediaInfo {mi_dur_s:.3f}s")

    kind: Kind = "video" if v else ("audio" if a else "unknown")
    out: dict[str, Any] = {
        "kind": kind, "container": container, "container_detail": detail, "format_name": format_name,
        "major_brand": major_brand, "size_bytes": size_bytes, "bitrate": _int(fmt.get("bit_rate")),
        "duration_s": duration, "duration_source": source, "video_duration_s": v_dur,
        "audio_duration_s": a_dur,
        "attached_pictures": sum(1 for s in streams if _is_attached_pic(s)),
        "audio_present": a is not None, "audio_streams": len(audios),
    }

    if v:
        cw, ch = _int(v.get("width")) or 0, _int(v.get("height")) or 0
        rot = _ffprobe_rotation_cw(v)
        mi_rot = _float(mi_video.get("rotation"))
        if rot is None:
            rot = normalize_rotation(mi_rot) if mi_rot is not None else 0
        elif mi_rot is not None and normalize_rotation(mi_rot) != rot:
            notes.append(f"rotation: ffprobe {rot}° vs MediaInfo {normalize_rotation(mi_rot)}° (clockwise)")
        sar = _rational(v.get("sample_aspect_ratio")) or Fraction(1)
        dw, dh = cw, ch
        if sar > 1:
            dw = round(cw * sar)
        elif sar < 1:
            dh = round(ch / sar)
        if rot in (90, 270):
            dw, dh = dh, dw
        fr = _rational(v.get("avg_frame_rate")) or _rational(v.get("r_frame_rate"))
        scan, scan_detail = decide_scan_type(v, mi_video, sps, notes)
        v_index = v.get("index")
        pts = [p["pts"] for p in ffprobe.get("packets") or ()
               if p.get("stream_index") == v_index and isinstance(p.get("pts"), int)]
        mode = detect_frame_rate_mode(pts, _rational(v.get("time_base")))
        mi_mode = mi_video.get("frame_rate_mode")
        if mode == "unknown" and mi_mode in ("CFR", "VFR"):
            mode = "constant" if mi_mode == "CFR" else "variable"
        elif mi_mode in ("CFR", "VFR") and (mi_mode == "VFR") != (mode == "variable"):
            notes.append(f"frame rate mode: timestamps say {mode} vs MediaInfo {mi_mode}")
        out.update(
            width=dw, height=dh, coded_width=cw, coded_height=ch, rotation=rot,
            sample_aspect_ratio=f"{sar.numerator}:{sar.denominator}",
            display_aspect_ratio=round(dw / dh, 4) if dh else None,
            orientation=None if not dw or not dh else
            ("landscape" if dw > dh else "portrait" if dh > dw else "square"),
            frame_rate=f"{fr.numerator}/{fr.denominator}" if fr else None,
            frame_rate_fps=round(float(fr), 3) if fr else None,
            frame_rate_mode=mode, scan_type=scan, scan_detail=scan_detail,
            video_codec=v.get("codec_name"), video_profile=v.get("profile"), pixel_format=v.get("pix_fmt"),
            bit_depth=_bit_depth(v, mi_video), video_bitrate=_int(v.get("bit_rate")),
        )
    if a:
        out.update(audio_codec=a.get("codec_name"), audio_profile=a.get("profile"),
                   audio_channels=_int(a.get("channels")), audio_sample_rate=_int(a.get("sample_rate")),
                   audio_bitrate=_int(a.get("bit_rate")) or _int(mi_audio.get("bit_rate")))
    if boxes is not None and container in ("mp4", "mov", "3gp", "m4a"):
        types = [b[0] for b in boxes]
        if "moov" in types and "mdat" in types:
            out["faststart"] = types.index("moov") < types.index("mdat")
        out["truncated"] = any(off + size > size_bytes for _, off, size in boxes)
        out["edit_list"] = edit_list
    out["disagreements"] = tuple(notes)
    return MediaFacts(**out)


def parse_mp4_boxes(header_at: Any, size_bytes: int, limit: int = 64) -> list[tuple[str, int, int]]:
    """Walk the top-level boxes of an ISO BMFF/QuickTime file. ``header_at(offset)`` returns
    up to 16 bytes at that offset. Returns (type, offset, size) for each box; a box whose
    size runs past the end of the file is kept (that is how truncation shows)."""
    boxes: list[tuple[str, int, int]] = []
    offset = 0
    while offset + 8 <= size_bytes and len(boxes) < limit:
        head = header_at(offset)
        if len(head) < 8:
            break
        size = int.from_bytes(head[0:4], "big")
        btype = head[4:8].decode("latin-1")
        if size == 1 and len(head) >= 16:
            size = int.from_bytes(head[8:16], "big")
        elif size == 0:
            size = size_bytes - offset
        if size < 8 or not re.fullmatch(r"[\x20-\x7e©]{4}", btype):
            break
        boxes.append((btype, offset, size))
        offset += size
    return boxes
