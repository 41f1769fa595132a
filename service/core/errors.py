"""Exceptions of mediacheck. A file that breaks the rules is not an exception: it is a
report with failed checks. An exception means "could not check".

    MediaCheckError
    ├── ProfileError            a profile file is missing or invalid (file, line, reason)
    ├── ArchiveError            a zip archive or one of its members cannot be read safely
    ├── ToolError               an external tool is missing or failed
    │   ├── ToolTimeoutError    it ran past its timeout and was killed
    │   └── ToolCancelledError  its job was cancelled and it was killed
    ├── UnreadableMediaError    the input is not media we can read (empty, random, truncated)
    └── RequestError            the service refuses a request (HTTP status, stable code, bilingual text)
        ├── UploadTooLargeError the body passed the campaign's size limit (413)
        └── StorageFullError    the storage has no room (or not above its reserve) for the upload (507)
    TrailRewriteError           a row of the review trail was to be changed or deleted (append-only)
"""

from __future__ import annotations


class MediaCheckError(Exception):
    """Base of every error mediacheck raises on purpose."""


class ProfileError(MediaCheckError):
    """A profile could not be loaded: carries the file, the line (when known) and the reason."""

    def __init__(self, reason: str, *, file: str | None = None, line: int | None = None) -> None:
        self.reason = reason
        self.file = file
        self.line = line
        where = file or "<profile>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {reason}")


class ArchiveError(MediaCheckError):
    """A zip archive or member cannot be read safely (corrupt, encrypted, unsafe path, zip
    bomb). ``message`` is a bilingual dict (zh-CN, en); ``code`` is a stable id."""

    def __init__(self, zh: str, en: str, *, code: str) -> None:
        self.code = code
        self.message = {"zh-CN": zh, "en": en}
        super().__init__(en)


class ToolError(MediaCheckError):
    """An external process failed: keeps the command, the exit code and the end of stderr."""

    def __init__(self, message: str, *, command: list[str] | None = None, returncode: int | None = None,
                 stderr: str = "") -> None:
        self.command = command or []
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(message)


class ToolTimeoutError(ToolError):
    """An external process ran past its timeout and was killed."""


class ToolCancelledError(ToolError):
    """An external process was killed because its job was cancelled."""


class UnreadableMediaError(MediaCheckError):
    """The input cannot be read as media. ``message`` is a bilingual dict (zh-CN, en)."""

    def __init__(self, zh: str, en: str, *, code: str = "unreadable") -> None:
        self.code = code
        self.message = {"zh-CN": zh, "en": en}
        super().__init__(en)


class RequestError(MediaCheckError):
    """A request the service refuses. Becomes an HTTP problem (RFC 9457) with ``status``,
    a stable ``code`` and a bilingual ``message`` at the edge."""

    def __init__(self, status: int, code: str, zh: str, en: str, **extra: object) -> None:
        self.status = status
        self.code = code
        self.message = {"zh-CN": zh, "en": en}
        self.extra = extra
        super().__init__(f"{code}: {en}")


class UploadTooLargeError(RequestError):
    """The upload passed the campaign's size limit."""

    def __init__(self, limit: int) -> None:
        mib = limit / 2**20
        super().__init__(413, "upload_too_large", f"文件超过本活动允许的最大上传大小（{mib:.0f} 兆）。",
                         f"The file exceeds this campaign's upload limit ({mib:.0f} MiB).", limit_bytes=limit)


class StorageFullError(RequestError):
    """The storage filesystem is full, or would be left with less than its free-space reserve."""

    def __init__(self, free_bytes: int | None = None) -> None:
        extra = {} if free_bytes is None else {"free_bytes": free_bytes}
        super().__init__(507, "storage_full", "服务器存储空间不足，未保存任何内容，请稍后再试。",
                         "The server's storage is full; nothing was kept. Please try again later.", **extra)


class TrailRewriteError(MediaCheckError):
    """Someone tried to change or delete a row of the review trail (it is append-only)."""
