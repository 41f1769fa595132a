"""Resumable uploads' files (``tus/<id>`` in storage): appended to under an exclusive lock from
the offset the client says it is at, taken back to that offset when a PATCH is refused, and
deleted only when no PATCH holds them. Used by service/web/routes/tus.py."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from service.core.errors import RequestError, StorageFullError
from service.store.storage import is_full

LOCK_WAIT_S = 5.0
"""How long a PATCH waits for the previous one on the same upload to let go (a client that
resumes right after a broken connection may arrive before the server noticed the break)."""


def _locked() -> RequestError:
    return RequestError(
        423, "tus_locked", "该上传正在被另一个请求写入。", "Another request is writing this upload."
    )


def _terminated() -> RequestError:
    return RequestError(404, "upload_not_found", "找不到该上传（可能已被删除）。",
                        "No such upload (it may have been terminated).")


def remove_unless_writing(path: Path) -> None:
    """Delete a resumable upload's file unless a PATCH holds its lock (423 then: the DELETE
    waits for no one, and a PATCH never writes into a file that vanished under it)."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _locked() from None
        path.unlink(missing_ok=True)


class Appender:
    """Appends to a resumable upload's file (``tus/<id>``) under an exclusive lock, from the
    offset the client says it is at; truncates back to that offset when a PATCH is refused."""

    def __init__(self, path: Path, expected_offset: int) -> None:
        try:
            self.fh = open(path, "r+b", buffering=0)  # noqa: SIM115 - closed in close()
        except FileNotFoundError:
            raise _terminated() from None
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self.fh.close()
                    raise _locked() from None
                time.sleep(0.05)
        st = os.fstat(self.fh.fileno())
        if st.st_nlink == 0:  # terminated while this waited for the lock
            self.close()
            raise _terminated()
        self.start = st.st_size
        if expected_offset != self.start:
            self.close()
            raise RequestError(
                409,
                "tus_offset_mismatch",
                f"偏移量不符：服务器已有 {self.start} 字节。",
                f"Offset mismatch: the server has {self.start} bytes.",
                upload_offset=self.start,
            )
        self.fh.seek(self.start)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[self.fh.write(view) or 0 :]
        except OSError as e:
            if is_full(e):
                raise StorageFullError() from None
            raise

    def truncate_back(self) -> None:
        self.fh.truncate(self.start)

    def size(self) -> int:
        return os.fstat(self.fh.fileno()).st_size

    def close(self) -> None:
        if not self.fh.closed:
            try:
                os.fsync(self.fh.fileno())
            finally:
                fcntl.flock(self.fh, fcntl.LOCK_UN)
                self.fh.close()
