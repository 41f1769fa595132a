"""Making a finished file durable before it appears under its final name.

A file written and then renamed into place can, after a power cut, be found under its new
name with no data (the rename reached the disk, the bytes did not), while the database
already records it. So the bytes are forced out first (``fdatasync``: the size and the
data, not the times), then the file is renamed, then the directory is forced out so the
rename itself survives. ``durable=False`` (``MEDIACHECK_FSYNC=0``) skips both syncs and
keeps only the atomic rename."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from service.core.background import Background


def sync_data(path: str | os.PathLike[str]) -> None:
    """``fdatasync`` the file at ``path``: its bytes and size reach the disk, whoever wrote
    them (ffmpeg, Pillow, another descriptor). Raises OSError (EIO, ENOSPC) when they cannot."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


def sync_dir(path: str | os.PathLike[str]) -> None:
    """``fsync`` a directory, so that a rename into it (or a file created in it) survives a power cut."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def start_sync(path: str | os.PathLike[str]) -> Background[None]:
    """``sync_data(path)`` in a thread from now on. Started as soon as a file is finished, its
    write-back overlaps whatever comes next (a fix's re-check, which reads the same pages from
    the cache and is not slowed by their write-back); ``result()`` then costs only what is left
    and raises the OSError of the sync when it failed."""
    return Background("fdatasync", sync_data, os.fspath(path))


def make_dirs(path: str | os.PathLike[str], *, durable: bool = True) -> None:
    """``mkdir -p path``; with ``durable`` the parent of each directory it creates is fsynced, so
    that a file later made durable inside it is not lost with its directory's own entry."""
    missing: list[Path] = []
    p = Path(path)
    while not p.is_dir():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir(exist_ok=True)
        if durable:
            sync_dir(d.parent)


def publish(tmp: str | os.PathLike[str], dest: str | os.PathLike[str], *, durable: bool = True,
            synced: Background[None] | None = None) -> None:
    """Move the finished file ``tmp`` onto ``dest`` (same filesystem: atomic). With ``durable``
    its bytes reach the disk before the rename (``synced``, when one was started for it, is
    awaited instead of a new sync) and the directory after it."""
    if durable:
        if synced is not None:
            synced.result()
        else:
            sync_data(tmp)
    os.replace(tmp, dest)
    if durable:
        sync_dir(Path(dest).parent)


def replace_atomically(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write`` with a fresh hidden name beside ``path``, then rename that file onto
    ``path``: a reader sees the old file or the new one, never half of one. When ``write``
    (or the rename) raises, whatever it wrote is removed and the error goes on. The temporary
    name is unique, so two writers of the same file cannot mix their bytes; ``write`` creates
    the file itself, so it gets the usual permissions (umask), not a private temp file's."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{secrets.token_hex(6)}.tmp")
    try:
        write(tmp)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return final
