"""The SHA-256 of a file, and the same started in a background thread so that a caller can
overlap it with other work (the CLI hashes the first file while its models are being
built; ``check_file`` hashes while ffprobe runs). hashlib and file reads release the GIL,
so the thread runs on another core, taking the GIL back twice per block read."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from typing import Protocol

from service.core.background import Background

HASH_CHUNK = 1 << 20
"""Bytes read at a time while hashing."""

BACKGROUND_CHUNK = 4 << 20
"""Bytes read at a time by background_sha256, whose thread competes with busy Python code for
the GIL, twice per block: alongside the CLI's imports, 1 MiB blocks hashed a 187 MB file in
~365 ms, 4 MiB ones in ~320 ms; 16 MiB ones were no faster and cost ~35 ms more CPU (a block
larger than the cache is read back from memory to be hashed)."""


def sha256_file(path: str | os.PathLike[str], chunk: int = HASH_CHUNK) -> str:
    """The hex SHA-256 of the file at ``path``; raises OSError when it cannot be read or is
    not a regular file (opened without blocking, so that a FIFO is refused, not waited on)."""
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
    except BaseException:
        os.close(fd)
        raise
    with open(fd, "rb", buffering=0) as fh:
        buf = bytearray(chunk)
        view = memoryview(buf)
        while n := fh.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


class PendingDigest(Protocol):
    """A digest still being computed elsewhere (a ``Background``): ``result`` waits for it."""

    def result(self) -> str | None: ...


def background_sha256(path: str | os.PathLike[str]) -> Background[str | None]:
    """``sha256_file(path)`` running in a thread from now on; its result is None when the file
    could not be read."""
    return Background("sha256", _sha256_or_none, os.fspath(path))


def _sha256_or_none(path: str) -> str | None:
    try:
        return sha256_file(path, BACKGROUND_CHUNK)
    except OSError:
        return None
