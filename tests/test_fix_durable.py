"""A fixed copy is on the disk before it appears under its name: its bytes are fdatasync'ed
in the job directory, then it is renamed, then the directory is fsynced (so a power cut never
leaves an empty file that the database records as fixed). ``MEDIACHECK_FSYNC=0`` (durable=False)
skips both syncs. The syncs are seen by wrapping os.fdatasync/os.fsync and reading each
descriptor's path from /proc/self/fd."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from service.fix.transcode import JOB_DIR_PREFIX, fix_file
from service.store.storage import Storage
from tests.support import fixcases as fc
from tests.support.fixapi import mov, upload, wait_job, write_fix_profiles
from tests.support.server import live_server


@dataclass(frozen=True)
class Synced:
    call: str
    """fdatasync or fsync"""
    path: Path
    size: int
    dest_existed: bool
    """whether the fix's destination existed when the sync ran (it must not for the data)"""


class SyncLog:
    """Records every fdatasync/fsync of the process (then runs the real one)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[Synced] = []
        self.dest: Path | None = None
        self._lock = threading.Lock()
        for name in ("fdatasync", "fsync"):
            monkeypatch.setattr(os, name, self._wrap(name, getattr(os, name)))

    def _wrap(self, name: str, real):  # type: ignore[no-untyped-def]
        def synced(fd: int) -> None:
            path = Path(os.readlink(f"/proc/self/fd/{fd}"))
            entry = Synced(name, path, os.fstat(fd).st_size, self.dest is not None and self.dest.exists())
            with self._lock:
                self.calls.append(entry)
            real(fd)

        return synced

    def under(self, root: Path) -> list[Synced]:
        return [c for c in self.calls if c.path.is_relative_to(root)]


@pytest.fixture
def syncs(monkeypatch: pytest.MonkeyPatch) -> SyncLog:
    return SyncLog(monkeypatch)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    from service.core.profiles import load_profile

    return load_profile(fc.write_profile(tmp_path_factory.mktemp("profiles")))


def _assert_durable(log: SyncLog, root: Path, dest: Path) -> None:
    """The output's data was synced in the job directory, at its final size, before the rename;
    the destination's directory after it."""
    calls = log.under(root)
    data = [c for c in calls if c.call == "fdatasync"]
    assert data, calls
    last = data[-1]
    assert last.path.parent.name.startswith(JOB_DIR_PREFIX) and last.path.stem == "output", last
    assert not last.dest_existed and last.size == dest.stat().st_size
    dirs = [c for c in calls if c.call == "fsync" and c.path == dest.parent]
    assert dirs and dirs[-1].dest_existed, calls
    assert calls.index(last) < calls.index(dirs[-1])


@pytest.mark.parametrize("make, out, mode", [
    (fc.mov, "fixed.mp4", "remux"),          # box-level remux, written by this process
    (fc.mkv, "fixed.mp4", "remux"),          # ffmpeg stream copy, written by another process
    (fc.too_large, "fixed.mp4", "reencode"),
    (fc.heic_photo, "fixed.jpg", "image"),   # Pillow
], ids=["box-remux", "ffmpeg-remux", "reencode", "photo"])
def test_the_fixed_output_is_synced_before_it_appears_and_its_directory_after(
        make, out, mode, tiny, tmp_path: Path, syncs: SyncLog) -> None:
    src = make()
    dest = tmp_path / "out" / out
    dest.parent.mkdir()
    syncs.dest = dest
    result = fix_file(src, tiny, dest)
    assert result.status == "fixed" and result.plan.mode == mode, result.reason
    _assert_durable(syncs, tmp_path, dest)
    assert "publish" in result.timings_ms


def test_a_retried_encode_syncs_the_output_of_its_last_attempt(tmp_path: Path, syncs: SyncLog) -> None:
    from service.core.profiles import load_profile

    prof = load_profile(fc.write_profile(tmp_path, "fix-edge", fix="size_target: 0.001"))
    dest = tmp_path / "out" / "fixed.mp4"
    dest.parent.mkdir()
    syncs.dest = dest
    result = fix_file(fc.too_small(), prof, dest)
    assert result.status == "fixed" and result.attempts == 2, result.reason
    _assert_durable(syncs, tmp_path, dest)


def test_without_durability_nothing_is_synced(tiny, tmp_path: Path, syncs: SyncLog) -> None:
    for make, out in ((fc.mov, "a.mp4"), (fc.heic_photo, "b.jpg")):
        result = fix_file(make(), tiny, tmp_path / out, durable=False)
        assert result.status == "fixed", result.reason
    assert syncs.under(tmp_path) == []


def test_a_derived_file_is_synced_when_storage_fsyncs(tmp_path: Path, syncs: SyncLog) -> None:
    src = tmp_path / "thumb.jpg"
    src.write_bytes(b"x" * 1000)
    key = Storage(tmp_path / "on", fsync=True).write_derived("sub1", "thumb.jpg", src)
    dest = tmp_path / "on" / key
    assert dest.read_bytes() == src.read_bytes()
    calls = syncs.under(tmp_path / "on")
    assert [c.call for c in calls] == ["fsync", "fdatasync", "fsync"], calls
    assert calls[0].path == dest.parent.parent  # the new folder derived/sub1's own entry
    assert calls[1].path.parent == dest.parent and calls[1].size == 1000 and calls[1].path != dest
    assert calls[2].path == dest.parent
    Storage(tmp_path / "off", fsync=False).write_derived("sub1", "thumb.jpg", src)
    assert syncs.under(tmp_path / "off") == []


@pytest.mark.parametrize("fsync", [True, False], ids=["fsync", "no-fsync"])
def test_the_fix_job_follows_the_fsync_setting(fsync: bool, service_settings, profiles_dir: Path,
                                               syncs: SyncLog) -> None:
    write_fix_profiles(profiles_dir)
    settings = replace(service_settings, fsync=fsync)
    with live_server(settings) as live, live.client() as c:
        sub = upload(c, "test-fix", mov(), "作品.mov")
        r = c.post(f"/api/submissions/{sub['id']}/fix", params={"token": sub["receipt_token"]})
        job = wait_job(c, r.json()["links"]["job"])
    assert job["state"] == "finished", job
    derived = settings.storage_dir / "derived"
    calls = syncs.under(derived)
    if fsync:  # the submission's new derived folder, the output in its job folder, the rename
        assert [(c.call, c.path.parent.name[:len(JOB_DIR_PREFIX)]) for c in calls] == [
            ("fsync", "storage"), ("fdatasync", JOB_DIR_PREFIX), ("fsync", "derived")], calls
        assert calls[0].path == derived and calls[2].path == derived / sub["id"]
    else:
        assert calls == []


@pytest.mark.parametrize("env, durable", [("1", True), ("0", False)], ids=["default", "MEDIACHECK_FSYNC=0"])
def test_mediacheck_fix_and_batch_fix_follow_the_fsync_setting(env: str, durable: bool, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               syncs: SyncLog) -> None:
    import io

    from service.cli.main import main

    monkeypatch.setenv("MEDIACHECK_FSYNC", env)
    profile = str(fc.write_profile(tmp_path))
    fixed = tmp_path / "cli" / "fixed.mp4"
    fixed.parent.mkdir()
    assert main(["fix", str(fc.mov()), "-p", profile, "-o", str(fixed)], out=io.StringIO()) == 0
    entries = tmp_path / "in"
    entries.mkdir()
    (entries / "作品.mov").write_bytes(fc.mov().read_bytes())
    out = tmp_path / "batch"
    main(["batch", str(entries), "-p", profile, "--out", str(out), "--fix", "--executor", "thread"],
         out=io.StringIO())
    assert len(list((out / "fixed").glob("*/作品.mp4"))) == 1
    for root in (fixed.parent, out / "fixed"):
        data = [c for c in syncs.under(root) if c.call == "fdatasync"]
        assert bool(data) is durable, (root, syncs.calls)
