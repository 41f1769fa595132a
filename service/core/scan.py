"""The scan type of a video stream, from ffprobe's field order and MediaInfo's scan type,
and, when the two disagree on an H.264 stream, from the stream's own SPS flags (h264.py),
saying which tool was overridden (docs/profiles.md, "How the scan type is decided"). Pure;
core/facts.py calls it while building MediaFacts."""

from __future__ import annotations

from typing import Any, Literal

from service.core.h264 import Sps

ScanType = Literal["progressive", "interlaced", "unknown"]

_FIELD_ORDERS = {"progressive": "progressive", "tt": "interlaced", "bb": "interlaced", "tb": "interlaced",
                 "bt": "interlaced"}


def scan_views(v: dict[str, Any], mi_video: dict[str, Any]) -> tuple[str | None, str | None]:
    """(ffprobe's, MediaInfo's) reading of the scan type: progressive, interlaced or None.
    MediaInfo's is the stream's own (``original_scan_type``) when a container says otherwise;
    MBAFF and PAFF are interlaced."""
    ff = _FIELD_ORDERS.get(str(v.get("field_order")))
    mi_scan = str(mi_video.get("original_scan_type") or mi_video.get("scan_type") or "")
    mi = None if not mi_scan else "progressive" if mi_scan == "Progressive" else "interlaced"
    return ff, mi


def decide_scan_type(v: dict[str, Any], mi_video: dict[str, Any], sps: Sps | None,
                     notes: list[str]) -> tuple[ScanType, str | None]:
    """The scan type and what it rests on. ffprobe's field order first, MediaInfo's scan type
    when ffprobe has none; when they disagree on an H.264 stream, its SPS decides and the
    detail says which tool was overridden."""
    field_order = v.get("field_order")
    mi_scan = str(mi_video.get("original_scan_type") or mi_video.get("scan_type") or "") or None
    ff, mi = scan_views(v, mi_video)
    scan: ScanType = "interlaced" if (ff or mi) == "interlaced" else "progressive" if (ff or mi) else "unknown"
    detail = [x for x in (field_order, mi_scan) if x]
    if ff and mi and ff != mi:
        said = f"ffprobe field order {field_order!r} vs MediaInfo {mi_scan!r}"
        if sps is None:
            notes.append(f"scan type: {said}")
        else:
            scan = "progressive" if sps.frame_mbs_only else "interlaced"
            overridden = "ffprobe" if scan != ff else "MediaInfo"
            notes.append(f"scan type: {said}; the stream's {sps.describe} decides: {scan}, {overridden} overridden")
            detail.append(f"{sps.describe}: {overridden} overridden")
    return scan, " / ".join(detail) or None
