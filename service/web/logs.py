"""Logging of the service: receipt tokens are capabilities, so they never reach a log line
(uvicorn's access log prints every path with its query string); nor do uploaded file names
(``?name=``), which a campaign's naming rule builds from entry details (title, author: personal
data). The details themselves travel in headers, form fields and tus metadata, never logged."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"((?<![A-Za-z_])(?:token|name)=)[^&\s\"]+", re.IGNORECASE)


def redact(text: str) -> str:
    return _TOKEN.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Replaces ``token=…`` in a record's message arguments with ``token=[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in access.filters):
        access.addFilter(RedactTokens())
