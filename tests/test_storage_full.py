"""A full disk, for real: the storage of a live server is a small filesystem of its own (an ext4
loop device with no root reserve, so O_DIRECT is used as in production; else tmpfs, where it
falls back to buffered writes), filled with a file. An upload that runs out of room answers 507
``storage_full`` and leaves nothing behind (raw, multipart, tus), the server keeps answering, new
uploads are refused before the free space goes under the reserve (in-flight tus uploads count),
and /readyz says why it fails."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from service.store.storage import free_bytes
from service.submissions.campaigns import create_campaign
from tests.support.server import live_server

MiB = 1 << 20
CAMPAIGN = "disk-test"
URL = f"/api/campaigns/{CAMPAIGN}/submissions"
TUS = {"Tus-Resumable": "1.0.0", "Upload-Metadata": "filename " + base64.b64encode(b"t.mp4").decode()}
OFFSET = {"Content-Type": "application/offset+octet-stream"}


def _mount(mnt: Path, image: Path) -> str | None:
    """Mount a 48 MiB filesystem on ``mnt``: ext4 on a loop device, else tmpfs; None if neither may be."""
    if shutil.which("mkfs.ext4"):
        with open(image, "wb") as fh:
            fh.truncate(48 * MiB)
        made = subprocess.run(["mkfs.ext4", "-q", "-m", "0", str(image)], capture_output=True)
        if made.returncode == 0 and subprocess.run(["mount", "-o", "loop", str(image), str(mnt)],
                                                   capture_output=True).returncode == 0:
            return "ext4"
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mnt)],
                      capture_output=True).returncode == 0:
        return "tmpfs"
    return None


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    kind = _mount(mnt, tmp_path / "disk.img")
    if kind is None:
        pytest.skip("mounting a filesystem is not permitted here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Grow the filler file until about ``leave`` bytes are free on ``disk``."""
    filler = disk / "filler"
    with open(filler, "ab") as fh:
        fh.truncate(0)
        need = free_bytes(disk) - leave
        block = b"\0" * MiB
        while need > 0:
            fh.write(block[: min(need, MiB)])
            need -= MiB
        fh.flush()
        os.fsync(fh.fileno())
    return filler


def body(n: int) -> Iterator[bytes]:
    """A streamed body (no Content-Length: the size is known only at the end)."""
    sent = 0
    while sent < n:
        k = min(256 * 1024, n - sent)
        yield os.urandom(k)
        sent += k


def leftovers(storage_root: Path) -> list[str]:
    return sorted(os.listdir(storage_root / "tmp"))


@pytest.mark.parametrize("direct_io", [True, False], ids=["o_direct", "buffered"])
def test_full_disk_answers_507_and_leaves_nothing(small_disk, service_settings, small_video, direct_io):
    settings = replace(service_settings, data_dir=small_disk / "data", free_space_reserve=0, direct_io=direct_io,
                       database_url=f"sqlite:///{service_settings.data_dir.parent / 'db.sqlite'}")
    with live_server(settings) as live, live.client() as c:
        with live.services.db.session() as s:
            create_campaign(s, live.services.store, campaign_id=CAMPAIGN, profiles=["test-video"],
                            max_upload_bytes=64 * MiB)
        root = live.services.storage.root
        fill(small_disk, 10 * MiB)
        free_before = free_bytes(small_disk)
        # raw: 20 MiB into 10 free (O_DIRECT blocks of 8 MiB on ext4)
        raw = c.post(URL, params={"name": "big.mp4"}, content=body(20 * MiB))
        assert raw.status_code == 507, raw.text
        problem = raw.json()
        assert problem["code"] == "storage_full" and problem["message"]["zh-CN"] and problem["message"]["en"]
        assert leftovers(root) == []
        assert free_bytes(small_disk) >= free_before - MiB  # the partial's room came back
        # multipart, streamed
        boundary = "xyzzy"

        def form() -> Iterator[bytes]:
            yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mp4\"\r\n"
                   "Content-Type: video/mp4\r\n\r\n").encode()
            yield from body(20 * MiB)
            yield f"\r\n--{boundary}--\r\n".encode()

        multi = c.post(URL, content=form(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert multi.status_code == 507 and multi.json()["code"] == "storage_full", multi.text
        assert leftovers(root) == []
        # tus: admitted (6 MiB of 10 free), then the disk fills under it: the PATCH is refused and
        # taken back to its offset, the upload can resume once there is room
        created = c.post(f"/files/{CAMPAIGN}/", headers=TUS | {"Upload-Length": str(6 * MiB)})
        assert created.status_code == 201, created.text
        url = created.headers["location"]
        fill(small_disk, 2 * MiB)
        patch = c.patch(url, content=os.urandom(6 * MiB), headers=TUS | OFFSET | {"Upload-Offset": "0"})
        assert patch.status_code == 507 and patch.json()["code"] == "storage_full", patch.text
        assert c.head(url, headers=TUS).headers["upload-offset"] == "0"
        assert c.delete(url, headers=TUS).status_code == 204
        # the server keeps answering, and a small upload goes through once the filler is gone
        assert c.get("/healthz").status_code == 200
        (small_disk / "filler").unlink()
        ok = c.post(URL, params={"name": "small.mp4"}, content=small_video.read_bytes())
        assert ok.status_code == 201 and ok.json()["verdict"] == "pass", ok.text
        assert leftovers(root) == []


def test_reserve_refuses_uploads_before_the_disk_is_full(small_disk, service_settings, small_video):
    settings = replace(service_settings, data_dir=small_disk / "data", free_space_reserve=4 * MiB,
                       database_url=f"sqlite:///{service_settings.data_dir.parent / 'db.sqlite'}")
    with live_server(settings) as live, live.client() as c:
        with live.services.db.session() as s:
            create_campaign(s, live.services.store, campaign_id=CAMPAIGN, profiles=["test-video"],
                            max_upload_bytes=64 * MiB)
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["storage"]["free_bytes"] > 4 * MiB
        filler = fill(small_disk, 12 * MiB)
        # tus: the first 6 MiB upload leaves 12 - 6 >= 4; the second would leave 0 → 507 at creation
        first = c.post(f"/files/{CAMPAIGN}/", headers=TUS | {"Upload-Length": str(6 * MiB)})
        assert first.status_code == 201, first.text
        second = c.post(f"/files/{CAMPAIGN}/", headers=TUS | {"Upload-Length": str(6 * MiB)})
        assert second.status_code == 507 and second.json()["code"] == "storage_full", second.text
        raw = c.post(URL, params={"name": "a.mp4"}, content=os.urandom(3 * MiB))  # with Content-Length
        assert raw.status_code == 507, raw.text
        # no length declared: stopped once it would eat into the reserve (12 MiB free, 10 sent, 4 kept)
        chunked = c.post(URL, params={"name": "a.mp4"}, content=body(10 * MiB))
        assert chunked.status_code == 507 and chunked.json()["code"] == "storage_full", chunked.text
        assert leftovers(live.services.storage.root) == []
        assert c.delete(first.headers["location"], headers=TUS).status_code == 204
        again = c.post(f"/files/{CAMPAIGN}/", headers=TUS | {"Upload-Length": str(6 * MiB)})
        assert again.status_code == 201, again.text
        assert c.delete(again.headers["location"], headers=TUS).status_code == 204
        # under the reserve: /readyz fails and says why; uploads are refused at once
        fill(small_disk, 2 * MiB)
        ready = c.get("/readyz")
        assert ready.status_code == 503
        assert "under the reserve" in ready.json()["checks"]["storage"]
        assert ready.json()["storage"]["free_bytes"] < 4 * MiB
        small = c.post(URL, params={"name": "s.mp4"}, content=small_video.read_bytes())
        assert small.status_code == 507, small.text
        filler.unlink()
        assert c.get("/readyz").status_code == 200
        ok = c.post(URL, params={"name": "s.mp4"}, content=small_video.read_bytes())
        assert ok.status_code == 201, ok.text
        assert leftovers(live.services.storage.root) == []


def test_incoming_on_a_full_disk_raises_storage_full_and_discards(small_disk):
    """The O_DIRECT writer (ext4) or the buffered one (tmpfs): ENOSPC is StorageFullError, and
    discarding after it removes the partial (it raised BufferError with O_DIRECT and kept it)."""
    from service.core.errors import StorageFullError
    from service.store.storage import Storage

    storage = Storage(small_disk / "storage")
    fill(small_disk, 10 * MiB)
    incoming = storage.incoming(None)
    with pytest.raises(StorageFullError) as raised:
        try:
            for _ in range(6):
                incoming.write_many([os.urandom(4 * MiB)])
            incoming.close()
        finally:
            incoming.discard()  # as the upload route does, while the error is on its way
    assert raised.value.status == 507
    assert not incoming.path.exists() and os.listdir(small_disk / "storage" / "tmp") == []
