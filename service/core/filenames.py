"""Submitters' file names: metadata, never paths. Validated (no path parts, no control
characters, bounded length; Chinese kept as is) and served back with RFC 6266 ``filename*``."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from service.core.errors import RequestError

MAX_NAME_CHARS = 255
"""Longest file name accepted (characters), the usual limit of file systems."""


def _bad(zh: str, en: str) -> RequestError:
    return RequestError(400, "invalid_file_name", f"文件名无效：{zh}", f"Invalid file name: {en}")


def parse_file_name(raw: str | None) -> str:
    """The submitter's file name, normalised to NFC, or a 400 problem saying what is wrong."""
    if raw is None or not raw.strip():
        raise _bad("缺少文件名。", "the file name is missing.")
    name = unicodedata.normalize("NFC", raw.strip())
    if len(name) > MAX_NAME_CHARS:
        raise _bad(f"超过 {MAX_NAME_CHARS} 个字符。", f"longer than {MAX_NAME_CHARS} characters.")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in name):
        raise _bad("含有控制字符。", "it contains control characters.")
    if "/" in name or "\\" in name or name in (".", ".."):
        raise _bad("不能包含路径（/ 或 \\）。", "it must not contain a path (/ or \\).")
    return name


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """RFC 6266: an ASCII fallback ``filename`` and the UTF-8 ``filename*``."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_" for c in name) or "download"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
