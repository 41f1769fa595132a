"""File names that survive the jury's computer: a Windows desktop that may unpack a zip in
GBK. ``safe_name`` strips what Windows refuses (``<>:"/\\|?*``, control characters, trailing
dots and spaces, the device names CON, PRN, AUX, NUL, COM1–9, LPT1–9), replaces characters GBK
cannot encode, and bounds the length; ``unique_names`` makes names distinct in one folder."""

from __future__ import annotations

import re
import unicodedata

MAX_STEM_CHARS = 100
"""Longest stem (characters) kept; with the extension and a counter well under Windows' 255."""

MAX_NAME_BYTES = 240
"""Longest name in GBK bytes (a zip member's name as an old unzip tool writes it)."""

_RESERVED_CHARS = re.compile(r'[<>:"/\\|?*]')
_DEVICE = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$", re.IGNORECASE)


def _gbk_safe(c: str) -> str:
    try:
        c.encode("gbk")
    except UnicodeEncodeError:
        return "_"
    return c


def safe_name(name: str, fallback: str = "entry") -> str:
    """``name`` made safe for Windows and GBK, extension kept (lower-case, ASCII only)."""
    name = unicodedata.normalize("NFC", name)
    stem, dot, ext = name.rpartition(".")
    if not dot or not re.fullmatch(r"[A-Za-z0-9]{1,8}", ext):
        stem, ext = name, ""
    stem = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") else c for c in stem)
    stem = _RESERVED_CHARS.sub("_", stem)
    stem = "".join(_gbk_safe(c) for c in stem)
    stem = re.sub(r"\s+", " ", stem).strip(" .") or fallback
    if _DEVICE.match(stem.split(".")[0]):
        stem = f"_{stem}"
    stem = stem[:MAX_STEM_CHARS].rstrip(" .") or fallback
    suffix = f".{ext.lower()}" if ext else ""
    while len((stem + suffix).encode("gbk")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem + suffix


def unique_names(names: list[str]) -> list[str]:
    """The names with ``(2)``, ``(3)`` … added before the extension where one repeats
    (compared case-insensitively, as Windows does)."""
    seen: set[str] = set()
    out: list[str] = []
    for n in names:
        stem, dot, ext = n.rpartition(".")
        if not dot:
            stem, ext = n, ""
        candidate, i = n, 1
        while candidate.casefold() in seen:
            i += 1
            candidate = f"{stem} ({i})" + (f".{ext}" if ext else "")
        seen.add(candidate.casefold())
        out.append(candidate)
    return out
