"""File storage: the one module that writes uploaded and derived files. Local directory.

Layout under the storage root (``$MEDIACHECK_DATA_DIR/storage``)::

    tmp/                                  uploads being received (deleted on error or disconnect)
    tus/<upload id>                       resumable uploads in progress (bytes so far)
    originals/<campaign>/<id[:2]>/<id>    originals, moved in atomically when complete, read-only
    derived/<submission id>/<name>        fixed copies, thumbnails (never beside the originals)

Names on disk are ids we made; a submitter's file name is metadata in the database,
never part of a path. Everything lives on one filesystem so a finished upload is
moved into place with one ``rename``."""

from __future__ import annotations

import concurrent.futures
import contextlib
import errno
import fcntl
import functools
import hashlib
import mmap
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from service.core.errors import StorageFullError, UploadTooLargeError
from service.store.durable import make_dirs, publish, sync_dir

WRITE_CHUNK = 1 << 20
"""Bytes gathered before one write (and one hash update) on the way to disk."""

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


EXPORTS = "exports"
"""The folder of finished background exports (workers/export.py writes them; cleanup removes old ones)."""

DIRECT_BLOCK = 8 << 20
"""Bytes gathered in a page-aligned buffer before one O_DIRECT write (and one hash update)."""


FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
"""A write failed for want of room: the upload is refused with 507, never a 500."""


def is_full(e: BaseException) -> bool:
    """Whether ``e`` says the filesystem (or the quota) is full."""
    return isinstance(e, OSError) and e.errno in FULL_ERRNOS


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged writer may still put on the filesystem of ``path``."""
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


FREE_CHECK_EVERY = 1 << 20
"""Bytes an upload writes between two looks at the free space (a statvfs: microseconds)."""


@functools.cache
def _writer() -> concurrent.futures.ThreadPoolExecutor:
    """The threads that write O_DIRECT blocks while the receiving thread hashes them."""
    return concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="direct-write")


def _set_direct(fd: int, on: bool) -> bool:
    """Turn O_DIRECT on or off for ``fd``; False where the system or filesystem has none
    (tmpfs refuses it)."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return False
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | flag if on else flags & ~flag)
    except OSError:
        return False
    return True


class Incoming:
    """A file being received: bytes go to a temporary file in ``tmp/`` and into a sha256
    as they arrive; the size limit is enforced on every write. ``commit`` moves it into
    place; ``discard`` deletes it. Not thread-safe: one writer at a time.

    With ``direct`` (the default) the bytes bypass the page cache: they are gathered in an
    8 MiB page-aligned buffer and written with O_DIRECT, so the disk works while the network
    delivers the next block and the fsync at the end has nothing left to flush. Buffered
    writes would instead pile 300 MB of dirty pages up for that last fsync, and crowd the
    page cache with uploads nobody reads again soon. Where the filesystem refuses O_DIRECT
    (tmpfs, some network and overlay filesystems) it falls back to buffered writes."""

    def __init__(self, directory: Path, limit: int | None, fsync: bool = True, direct: bool = True,
                 floor: int = 0) -> None:
        fd, name = tempfile.mkstemp(dir=directory, prefix="up-")
        self.floor = floor
        """Free bytes the filesystem must keep: under them the upload stops with StorageFullError
        (looked at every FREE_CHECK_EVERY bytes; a body whose length was not declared could
        otherwise fill the disk)."""
        self._next_check = FREE_CHECK_EVERY
        self.path = Path(name)
        self._fd: int | None = fd
        self._hash = hashlib.sha256()
        self.limit = limit
        self.size = 0
        self.fsync = fsync
        self._buf: mmap.mmap | None = mmap.mmap(-1, DIRECT_BLOCK) if direct and _set_direct(fd, True) else None
        self._fill = 0
        self._is_direct = self._buf is not None

    @property
    def direct(self) -> bool:
        """Whether bytes are (still) being written with O_DIRECT."""
        return self._is_direct

    def _check_limit(self, n: int) -> None:
        if self.limit is not None and self.size + n > self.limit:
            raise UploadTooLargeError(self.limit)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.write_many([data])

    def write_many(self, parts: list[bytes] | list[bytes | bytearray | memoryview]) -> None:
        """Write several chunks, with one system call where the page cache is used (the size
        limit was checked by the caller chunk by chunk; it is checked again here)."""
        n = sum(len(x) for x in parts)
        self._check_limit(n)
        if self.floor and self.size + n >= self._next_check:
            self._next_check = self.size + n + FREE_CHECK_EVERY
            free = free_bytes(self.path.parent)
            if free < self.floor:
                raise StorageFullError(free)
        try:
            if self._buf is None:
                for x in parts:
                    self._hash.update(x)
                self._writev(parts, n)
            else:
                for x in parts:
                    self._gather(memoryview(x).cast("B"))
        except OSError as e:
            if is_full(e):
                raise StorageFullError() from None
            raise
        self.size += n

    def _writev(self, parts: list[bytes] | list[bytes | bytearray | memoryview], n: int) -> None:
        assert self._fd is not None
        written = os.writev(self._fd, parts)
        if written < n:  # a short write: finish the rest the slow way
            self._write_all(memoryview(b"".join(parts))[written:])

    def _gather(self, view: memoryview) -> None:
        assert self._buf is not None
        while view:
            k = min(len(view), DIRECT_BLOCK - self._fill)
            self._buf[self._fill : self._fill + k] = view[:k]
            self._fill += k
            view = view[k:]
            if self._fill == DIRECT_BLOCK:
                self._write_block(DIRECT_BLOCK)

    def _write_block(self, n: int) -> None:
        """Hash the block while another thread writes it: an O_DIRECT write mostly waits for
        the device, so the two overlap (SHA-256 and the write each run at ~1.6–1.9 GiB/s
        here; one after the other they would halve that)."""
        assert self._buf is not None
        with memoryview(self._buf) as whole, whole[:n] as block:
            if self._is_direct and n == DIRECT_BLOCK:
                writing = _writer().submit(self._write_all, block)
                self._hash.update(block)
                writing.result()
            else:
                self._hash.update(block)
                self._write_all(block)
        self._fill = 0

    def _write_all(self, data: memoryview) -> None:
        assert self._fd is not None
        while data:
            try:
                written = os.write(self._fd, data)
            except OSError as e:
                # EINVAL: the filesystem took O_DIRECT at open but refuses the write (or a short
                # write left the offset unaligned); nothing was written, go on buffered.
                if e.errno != errno.EINVAL or not self._is_direct:
                    raise
                _set_direct(self._fd, False)
                self._is_direct = False
                continue
            data = data[written:]

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def close(self) -> None:
        """Write what is left (the last, unaligned block goes through the page cache), fsync
        unless told not to, and close."""
        if self._fd is None:
            return
        try:
            if self._buf is not None and self._fill:
                if self._is_direct:
                    _set_direct(self._fd, False)
                    self._is_direct = False
                self._write_block(self._fill)
            if self.fsync:
                os.fsync(self._fd)
        except OSError as e:
            if is_full(e):
                raise StorageFullError() from None
            raise
        finally:
            self._release()

    def _release(self) -> None:
        """Close the file and drop the block buffer. A failed write can leave a view of the
        buffer alive in its traceback (``mmap.close`` then raises BufferError): the buffer is
        left to the garbage collector instead, so the file is still removed."""
        fd, self._fd = self._fd, None
        buf, self._buf = self._buf, None
        if fd is not None:
            os.close(fd)
        if buf is not None:
            with contextlib.suppress(BufferError):
                buf.close()

    def discard(self) -> None:
        try:
            self._release()
        finally:
            self.path.unlink(missing_ok=True)


class Storage:
    """The storage root and its layout. Creates its folders on first use."""

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True, direct_io: bool = True) -> None:
        self.root = Path(root).resolve()
        self.fsync = fsync
        self.direct_io = direct_io
        for sub in ("tmp", "tus", "originals", "derived"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    # ---------------------------------------------------------------- paths
    def path(self, key: str) -> Path:
        """The file of a storage key (a relative path we made). Refuses anything else."""
        if not _KEY.fullmatch(key) or ".." in key.split("/"):
            raise ValueError(f"invalid storage key {key!r}")
        return self.root / key

    @staticmethod
    def original_key(campaign_id: str, submission_id: str) -> str:
        return f"originals/{campaign_id}/{submission_id[:2]}/{submission_id}"

    @staticmethod
    def derived_key(submission_id: str, name: str) -> str:
        return f"derived/{submission_id}/{name}"

    def tus_path(self, upload_id: str) -> Path:
        return self.path(f"tus/{upload_id}")

    def free_bytes(self) -> int:
        """Free bytes on the storage filesystem."""
        return free_bytes(self.root)

    # ---------------------------------------------------------------- writing
    def incoming(self, limit: int | None, floor: int = 0) -> Incoming:
        """A file to receive an upload into; ``floor``: the free bytes it must leave (Incoming.floor)."""
        return Incoming(self.root / "tmp", limit, self.fsync, self.direct_io, floor)

    def commit(self, src: Path, key: str) -> Path:
        """Move a complete file into place atomically and make it read-only. Its bytes were
        synced when it was received (``Incoming.close``); with ``fsync`` the new directory entry
        is made durable too (and the entries of folders made for it), so that a recorded
        original does not vanish with a power cut."""
        dst = self.path(key)
        make_dirs(dst.parent, durable=self.fsync)
        os.chmod(src, 0o444)
        os.replace(src, dst)
        if self.fsync:
            sync_dir(dst.parent)
        return dst

    def write_derived(self, submission_id: str, name: str, src: Path) -> str:
        """Copy a derived file (a thumbnail, a contact sheet) in; returns its key. With ``fsync``
        the copy is on the disk before it appears under its name (durable.publish). A fixed copy
        does not come through here: the fixer writes it in the derived folder itself and renames
        it into place (service/fix/transcode.py), with no second copy."""
        key = self.derived_key(submission_id, name)
        dst = self.path(key)
        make_dirs(dst.parent, durable=self.fsync)
        tmp = dst.with_name(f".tmp-{os.getpid()}-{dst.name}")
        try:
            shutil.copyfile(src, tmp)
            publish(tmp, dst, durable=self.fsync)
        finally:
            tmp.unlink(missing_ok=True)
        return key

    def delete(self, key: str) -> None:
        p = self.path(key)
        if p.exists():
            os.chmod(p, 0o644)
            p.unlink()

    def old_exports(self, older_than_s: float) -> list[Path]:
        """Finished background exports (``exports/``) older than ``older_than_s``."""
        folder = self.root / EXPORTS
        cutoff = time.time() - older_than_s
        return sorted(p for p in folder.iterdir() if p.is_file() and p.stat().st_mtime < cutoff) \
            if folder.is_dir() else []

    def stray_temporaries(self, older_than_s: float) -> list[Path]:
        """Files in tmp/ older than ``older_than_s``: left by a server that crashed mid-upload."""
        cutoff = time.time() - older_than_s
        return sorted(p for p in (self.root / "tmp").iterdir() if p.stat().st_mtime < cutoff)
