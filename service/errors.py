"""Exceptions of mediacheck. A file that breaks the rules is not an exception: it is a
report with failed checks. An exception means "could not check".

    MediaCheckError
    ├── ProfileError            a profile file is missing or invalid (file, line, reason)
    ├── ArchiveError            a zip archive or one of its members cannot be read safely
    ├── ToolError               an external tool is missing or failed
    │   └── ToolTimeoutError    it ran past its timeout and was killed
    └── UnreadableMediaError    the input is not media we can read (empty, random, truncated)
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


class UnreadableMediaError(MediaCheckError):
    """The input cannot be read as media. ``message`` is a bilingual dict (zh-CN, en)."""

    def __init__(self, zh: str, en: str, *, code: str = "unreadable") -> None:
        self.code = code
        self.message = {"zh-CN": zh, "en": en}
        super().__init__(en)
