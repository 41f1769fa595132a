"""The type stored bytes are served with: derived from what the check found (the container or
image format in the report's facts), never from the type the client declared. Anything the
check did not recognise as video, audio or a picture is served as ``application/octet-stream``
and as an attachment, so a browser neither renders nor sniffs it (the web app also sends
``X-Content-Type-Options: nosniff`` and a sandboxing Content-Security-Policy with it)."""

from __future__ import annotations

from typing import Any

OCTET_STREAM = "application/octet-stream"
"""The type of bytes the check could not name."""

MEDIA_TYPES: dict[str, str] = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "3gp": "video/3gpp",
    "m4a": "audio/mp4",
    "mkv": "video/x-matroska",
    "webm": "video/webm",
    "avi": "video/x-msvideo",
    "flv": "video/x-flv",
    "mpegts": "video/mp2t",
    "mpeg-ps": "video/mpeg",
    "mpeg-video": "video/mpeg",
    "asf": "video/x-ms-asf",
    "ogg": "video/ogg",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "heic": "image/heic",
    "heif": "image/heif",
    "avif": "image/avif",
}
"""Containers and picture formats (``MediaFacts.container``) → the type they are served with.
No type a browser runs (HTML, SVG, XML, PDF) is here."""


def served_type(report: dict[str, Any] | None) -> tuple[str, bool]:
    """The media type of a checked file and whether it may be shown inline: from the report's
    ``media.container``; ``(application/octet-stream, False)`` when the report names none we know."""
    media = (report or {}).get("media") or {}
    container = str(media.get("container") or "").lower()
    kind = media.get("kind")
    found = MEDIA_TYPES.get(container)
    if found is None or kind not in ("video", "audio", "image"):
        return OCTET_STREAM, False
    return found, True
