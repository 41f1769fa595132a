"""The SHA-256 of a file, and the same started in a background thread so that a caller can
overlap it with other work (the CLI hashes the first file while its models are being
built; ``check_file`` hashes while ffprobe runs). hashlib and file reads release the GIL,
so the thread runs on another core, taking the GIL back twice per block read."""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Protocol

HASH_CHUNK = 1 << 20
"""Bytes read at a time while hashing."""

BACKGROUND_CHUNK = 4 << 20
"""Bytes read at a time by BackgroundDigest, whose thread competes with busy Python code for
the GIL, twice per block: alongside the CLI's imports, 1 MiB blocks hashed a 187 MB file in
~365 ms, 4 MiB ones in ~320 ms; 16 MiB ones were no faster and cost ~35 ms more CPU (a block
larger than the cache is read back from memory to be hashed)."""


def sha256_file(path: str | os.PathLike[str], chunk: int = HASH_CHUNK) -> str:
    """The hex SHA-256 of the file at ``path``; raises OSError when it cannot be read."""
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(chunk)
        view = memoryview(buf)
        while n := fh.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


class PendingDigest(Protocol):
    """A digest still being computed elsewhere (a Future, a BackgroundDigest): ``result`` waits for it."""

    def result(self) -> str | None: ...


class BackgroundDigest:
    """``sha256_file(path)`` running in a daemon thread from construction on."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._digest: str | None = None
        self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._digest = sha256_file(self.path, BACKGROUND_CHUNK)
        except OSError:
            self._digest = None

    def result(self) -> str | None:
        """The digest, waiting for it; None when the file could not be read."""
        self._thread.join()
        return self._digest
