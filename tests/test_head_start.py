"""The CLI's head start: the first file's SHA-256 (service/store/digest.py) and ffprobe run
(process.start via probe.start_ffprobe) begin before the heavy imports. Each piece gives
exactly what the sequential path gives, and the CLI's reports are unchanged by it."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli.check import HeadStart
from service.core.errors import ToolError, ToolTimeoutError
from service.media import process
from service.media.checker import check_file
from service.media.probe import probe, start_ffprobe
from service.store.digest import background_sha256, sha256_file
from tests.support.media import av, ffmpeg_media, written

MEDIACHECK = str(Path(sys.executable).with_name("mediacheck"))
PROFILE = "shanxi-2023-microvideo"


@pytest.fixture(scope="module")
def video() -> Path:
    return ffmpeg_media("head-start.mp4", av("320x180", seconds=1))


@pytest.fixture(scope="module")
def photo() -> Path:
    return ffmpeg_media("head-start.png", ["-f", "lavfi", "-i", "testsrc2=s=64x36", "-frames:v", "1"])


def test_sha256_over_several_blocks(tmp_path):
    data = bytes(range(256)) * 4099  # not a multiple of the block size
    f = tmp_path / "blob.bin"
    f.write_bytes(data)
    want = hashlib.sha256(data).hexdigest()
    assert sha256_file(f, chunk=4096) == want
    assert sha256_file(f) == want
    assert background_sha256(f).result() == want


def test_background_digest_of_a_missing_file_is_none(tmp_path):
    assert background_sha256(tmp_path / "gone.mp4").result() is None


def test_started_run_returns_what_run_returns():
    cmd = ["sh", "-c", "printf out; printf err >&2; exit 3"]
    got = process.start(cmd, timeout=10, check=False).result()
    want = process.run(cmd, timeout=10, check=False)
    assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, want.stderr) == (3, b"out", "err")


def test_started_run_raises_what_run_raises():
    with pytest.raises(ToolError, match="exited with 3"):
        process.start(["sh", "-c", "exit 3"], timeout=10).result()
    with pytest.raises(ToolError, match="not found"):
        process.start(["no-such-tool-mediacheck"], timeout=10).result()
    with pytest.raises(ToolTimeoutError):
        process.start(["sleep", "5"], timeout=0.2).result()


def test_started_ffprobe_gives_the_same_facts(video):
    started = start_ffprobe(video)
    assert started is not None
    assert probe(video, ffprobe=started).facts == probe(video).facts


def test_no_ffprobe_for_images_empty_or_missing_files(photo, tmp_path):
    assert start_ffprobe(photo) is None
    assert start_ffprobe(written("empty.mp4", b"")) is None
    assert start_ffprobe(tmp_path / "gone.mp4") is None


def _comparable(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in ("timings_ms", "created_at")}


def test_cli_reports_are_unchanged_by_the_head_start(store, video, photo, tmp_path, validate_report):
    """The first file gets the head start, the others do not: the same reports either way."""
    missing = tmp_path / "gone.mp4"
    for files in ([video, photo, video], [photo, video], [missing, video]):
        proc = subprocess.run([MEDIACHECK, "check", *map(str, files), "--profile", PROFILE, "--format", "json"],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1, proc.stderr  # these files fail the 2–5 min micro-video rules
        got = [validate_report(json.loads(line)) for line in proc.stdout.splitlines()]
        want = [json.loads(check_file(f, store.get(PROFILE)).model_dump_json()) for f in files]
        assert [_comparable(r) for r in got] == [_comparable(r) for r in want]
        assert [r["file"]["sha256"] for r in got] == [
            None if not f.exists() else hashlib.sha256(f.read_bytes()).hexdigest() for f in files]


def test_the_command_starts_before_pydantic_and_yaml_load():
    """The head start must begin before the heavy imports: the command's modules and its parser
    (every command group) load neither pydantic nor PyYAML nor the models."""
    code = ("import sys; from service.cli.main import build_parser; build_parser();"
            "print(','.join(m for m in ('pydantic', 'yaml', 'service.core.profiles', 'service.core.report',"
            "'service.media.checker') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_head_start_is_used_once_and_leaves_no_ffprobe(store, video):
    head = HeadStart(str(video))
    check = head.wrap(check_file)
    first, again = (check(str(video), store.get(PROFILE)) for _ in range(2))
    digest = hashlib.sha256(video.read_bytes()).hexdigest()
    assert first.file.sha256 == again.file.sha256 == digest
    assert "hash" not in first.timings_ms and "hash" in again.timings_ms  # the same path again: from scratch
    assert first.media == again.media
    head.close()
    assert head.ffprobe is not None and not head.ffprobe._thread.is_alive()


def test_bad_profile_exits_2_after_the_head_start(video):
    proc = subprocess.run([MEDIACHECK, "check", str(video), "--profile", "no-such-profile"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "unknown profile" in proc.stderr


def test_gc_is_back_on_after_every_command(video, capsys):
    import gc

    from service.cli.main import main

    assert main(["check", str(video), "--profile", PROFILE, "--format", "json"]) == 1
    assert gc.isenabled()
    assert main(["check", str(video), "--profile", "no-such-profile"]) == 2
    assert gc.isenabled()
    assert main(["profiles"]) == 0
    assert gc.isenabled()
    assert json.loads(capsys.readouterr().out.splitlines()[0])["file"]["name"] == video.name
