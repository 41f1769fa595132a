"""Receiving files into storage (``service.store.storage.Incoming``): the bytes on disk and the
sha256 are the same whether they go through O_DIRECT or the page cache, whatever the chunk
sizes; a refused O_DIRECT write falls back without losing bytes; the size limit holds."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import random
from pathlib import Path

import pytest

from service.core.errors import UploadTooLargeError
from service.settings import Settings
from service.store.storage import DIRECT_BLOCK, Incoming, Storage


def payload(n: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(n)


def feed(inc: Incoming, data: bytes, seed: int = 2) -> None:
    """Hand ``data`` over in batches of chunks of irregular sizes, as a network would."""
    rng = random.Random(seed)
    pos = 0
    while pos < len(data):
        parts = []
        for _ in range(rng.randint(1, 40)):
            k = rng.choice([1, 17, 4096, 65536, 200_000, 1 << 20])
            parts.append(data[pos : pos + k])
            pos += k
        inc.write_many([p for p in parts if p])


SIZES = [0, 1, 4095, 4096, DIRECT_BLOCK - 1, DIRECT_BLOCK, DIRECT_BLOCK + 1, 2 * DIRECT_BLOCK + 12345]


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "buffered"])
@pytest.mark.parametrize("size", SIZES)
def test_bytes_and_digest_match_the_input(tmp_path: Path, direct: bool, size: int) -> None:
    data = payload(size)
    inc = Incoming(tmp_path, None, fsync=True, direct=direct)
    feed(inc, data)
    inc.close()
    assert inc.size == size
    assert inc.sha256 == hashlib.sha256(data).hexdigest()
    assert inc.path.read_bytes() == data


def test_direct_io_is_used_where_the_filesystem_has_it(tmp_path: Path) -> None:
    inc = Incoming(tmp_path, None, direct=True)
    try:
        assert inc.direct, "O_DIRECT was not taken on the test filesystem"
        assert fcntl.fcntl(inc._fd, fcntl.F_GETFL) & os.O_DIRECT  # type: ignore[arg-type]
    finally:
        inc.discard()
    assert not inc.path.exists()
    assert not Incoming(tmp_path, None, direct=False).direct


def test_a_refused_direct_write_falls_back_to_the_page_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Some filesystems accept O_DIRECT at open and refuse the write (EINVAL): nothing is
    written by the refused call, so the same bytes go again through the page cache."""
    real_write = os.write
    refused = []

    def write(fd: int, data: object) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT and not refused:
            refused.append(fd)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "write", write)
    data = payload(3 * DIRECT_BLOCK + 999)
    inc = Incoming(tmp_path, None, direct=True)
    feed(inc, data)
    assert refused and not inc.direct
    inc.close()
    assert inc.path.read_bytes() == data
    assert inc.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "buffered"])
def test_the_limit_is_enforced_before_anything_past_it_is_written(tmp_path: Path, direct: bool) -> None:
    inc = Incoming(tmp_path, 1000, direct=direct)
    inc.write_many([b"a" * 600])
    with pytest.raises(UploadTooLargeError):
        inc.write_many([b"b" * 300, b"c" * 101])
    assert inc.size == 600
    inc.discard()
    assert not inc.path.exists()
    assert list(tmp_path.iterdir()) == []


def test_the_fsync_happens_unless_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real(fd)))
    for fsync in (True, False):
        inc = Incoming(tmp_path, None, fsync=fsync)
        feed(inc, payload(DIRECT_BLOCK + 5))
        inc.close()
        assert (str(inc.path) in synced) is fsync


def test_settings_and_storage_carry_the_switch(tmp_path: Path) -> None:
    assert Settings.from_env({}).direct_io is True
    assert Settings.from_env({"MEDIACHECK_DIRECT_IO": "0"}).direct_io is False
    assert Settings.from_env({"MEDIACHECK_DIRECT_IO": "off", "MEDIACHECK_FSYNC": "no"}).fsync is False
    storage = Storage(tmp_path / "s", direct_io=False)
    inc = storage.incoming(None)
    assert not inc.direct
    inc.discard()


@pytest.mark.parametrize("fsync", [True, False], ids=["fsync", "no-fsync"])
def test_a_committed_original_is_durable_with_its_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          fsync: bool) -> None:
    """The received bytes are synced at close; commit then syncs the new directory entry, and
    the entries of the folders it had to make (originals/<campaign>/<xx>/)."""
    storage = Storage(tmp_path / "s", fsync=fsync)
    inc = storage.incoming(None)
    feed(inc, payload(5000))
    inc.close()
    synced: list[tuple[str, bool]] = []
    real = os.fsync
    key = storage.original_key("camp", "ab12cd")
    dest = storage.path(key)

    def record(fd: int) -> None:
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), dest.exists()))
        real(fd)

    monkeypatch.setattr(os, "fsync", record)
    assert storage.commit(inc.path, key) == dest
    assert dest.read_bytes() == payload(5000) and not inc.path.exists()
    root = storage.root / "originals"
    if not fsync:
        assert synced == []
        return
    assert synced == [(str(root), False), (str(root / "camp"), False), (str(dest.parent), True)]
