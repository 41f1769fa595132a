"""The headers of a tus upload (service/web/routes/tus.py), read strictly: ``Upload-Length`` and
``Upload-Offset`` are ASCII digits of bounded length; ``Upload-Metadata`` is bounded in size, keys
and values (it is stored with the upload and sent back by HEAD). Every refusal is a 4xx
RequestError with a bilingual message."""

from __future__ import annotations

import base64
import binascii
import re

from service.core.errors import RequestError

MAX_METADATA = 4096
"""Largest ``Upload-Metadata`` header (bytes): it is stored with the upload and sent back by HEAD."""

MAX_METADATA_VALUE = 1024
"""Largest decoded value of one ``Upload-Metadata`` key (bytes)."""

MAX_METADATA_KEYS = 16
"""Most keys in ``Upload-Metadata``."""

DIGITS = re.compile(r"[0-9]{1,18}")
"""An ``Upload-Length`` or ``Upload-Offset``: ASCII digits, at most 18 (below 2**63)."""


def parse_count(name: str, raw: str) -> int:
    """A byte count from header ``name``: ASCII digits only (``isdigit`` would take '²'), at most 18."""
    if not DIGITS.fullmatch(raw):
        raise RequestError(
            400,
            "tus_header_invalid",
            f"{name} 头无效：须为不超过 18 位的十进制数字。",
            f"The {name} header is invalid: it must be a decimal number of at most 18 digits.",
        )
    return int(raw)


def _metadata_error(zh: str, en: str) -> RequestError:
    return RequestError(400, "tus_metadata_invalid", f"Upload-Metadata 无效：{zh}", f"Invalid Upload-Metadata: {en}")


def parse_metadata(raw: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs, at most MAX_METADATA bytes,
    MAX_METADATA_KEYS keys and MAX_METADATA_VALUE bytes a value."""
    if raw and len(raw) > MAX_METADATA:  # headers arrive as latin-1: one character a byte
        raise _metadata_error(f"超过 {MAX_METADATA} 字节。", f"longer than {MAX_METADATA} bytes.")
    out: dict[str, str] = {}
    for pair in (raw or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, value = pair.partition(" ")
        if len(out) >= MAX_METADATA_KEYS:
            raise _metadata_error(f"键多于 {MAX_METADATA_KEYS} 个。", f"more than {MAX_METADATA_KEYS} keys.")
        try:
            data = base64.b64decode(value.strip(), validate=True) if value else b""
            if len(data) > MAX_METADATA_VALUE:
                raise _metadata_error(
                    f"{key} 的值超过 {MAX_METADATA_VALUE} 字节。",
                    f"the value of {key} is over {MAX_METADATA_VALUE} bytes.",
                )
            out[key] = data.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise _metadata_error("不是 base64 编码的 UTF-8。", "a value is not base64-encoded UTF-8.") from None
    return out


def past_length(length: int, offset: int) -> RequestError:
    return RequestError(
        413,
        "tus_past_length",
        f"数据超出了声明的 Upload-Length（{length} 字节，本段从偏移 {offset} 开始），本段未保存。",
        f"The data goes past the declared Upload-Length of {length} bytes (this PATCH started at offset "
        f"{offset}); this chunk was not kept.",
        upload_length=length,
        upload_offset=offset,
    )
