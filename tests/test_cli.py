"""The CLI as a user runs it, on files of every kind the core issue names, against
shanxi-2023-microvideo: the right verdict and exactly the right failed rules."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.media import ffmpeg_media, written

MEDIACHECK = str(Path(sys.executable).with_name("mediacheck"))
PROFILE = "shanxi-2023-microvideo"
SECONDS = 130  # 2:10, inside 2–5 min
CBR = ["-b:v", "8M", "-minrate", "8M", "-maxrate", "8M", "-bufsize", "4M", "-x264-params", "nal-hrd=cbr"]


def run(*args, check_rc=None):
    proc = subprocess.run([MEDIACHECK, *args], capture_output=True, text=True, timeout=120)
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stderr
    return proc


def segment(name, size="1920x1080", vf=None, x264=None, rate="25"):
    """Two seconds of 8 Mbps constant-bitrate H.264, to be looped by stream copy."""
    args = ["-f", "lavfi", "-i", f"testsrc2=s={size}:r={rate}:d=2",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *CBR]
    if vf:
        args += ["-vf", vf]
    return ffmpeg_media(name, args + (x264 or []))


def looped(name, seg, *extra):
    """``seg`` looped by stream copy to 2:10 (about 130 MB) with an AAC tone, moov first.
    The video-only segment loops without timestamp gaps (an A/V segment would not)."""
    return ffmpeg_media(name, ["-stream_loop", "-1", "-i", str(seg), "-f", "lavfi", "-i",
                               f"sine=d={SECONDS}:sample_rate=48000", "-t", str(SECONDS), "-c:v", "copy",
                               "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", *extra])


@pytest.fixture(scope="module")
def good():
    return looped("good.mp4", segment("seg-good.mp4"))


def media_cases(good):
    return {
        "good": (good, "pass", set(), set()),
        "mov": (ffmpeg_media("good.mov", ["-i", str(good), "-c", "copy", "-movflags", "+faststart"]), "fail",
                {"container"}, set()),
        "rotated": (ffmpeg_media("rotated.mp4", ["-i", str(good), "-c", "copy", "-metadata:s:v:0", "rotate=90",
                                                 "-movflags", "+faststart"]),
                    "fail", {"orientation", "aspect_ratio"}, set()),
        "anamorphic": (looped("anamorphic.mp4", segment("seg-sar.mp4", size="1440x1080", vf="setsar=4/3")),
                       "pass", set(), set()),
        "interlaced": (looped("interlaced.mp4", segment(
            "seg-il.mp4", vf="tinterlace=4,setfield=tff", rate="50",
            x264=["-flags", "+ildct+ilme", "-x264opts", "tff=1"])), "fail", {"scan_type"}, set()),
        "720p": (looped("720p.mp4", segment("seg-720.mp4", size="1280x720")), "fail", {"resolution"}, set()),
        "silent": (ffmpeg_media("silent.mp4", ["-i", str(good), "-c", "copy", "-an", "-movflags", "+faststart"]),
                   "fail", {"audio_present"}, set()),
        "short": (ffmpeg_media("short.mp4", ["-i", str(good), "-t", "2", "-c", "copy", "-movflags", "+faststart"]),
                  "fail", {"duration", "file_size"}, set()),
        "moov-last": (ffmpeg_media("moovlast-big.mp4", ["-i", str(good), "-c", "copy"]), "warn", set(),
                      {"faststart"}),
    }


CASES = ["good", "mov", "rotated", "anamorphic", "interlaced", "720p", "silent", "short", "moov-last"]


@pytest.mark.parametrize("case", CASES)
def test_verdict_and_failed_rules(good, case, validate_report):
    path, verdict, failed, warned = media_cases(good)[case]
    proc = run("check", str(path), "--profile", PROFILE, "--format", "json")
    report = json.loads(proc.stdout)
    validate_report(report)
    assert report["verdict"] == verdict, report["summary"]
    assert {c["rule"] for c in report["checks"] if c["status"] == "fail"} == failed
    assert {c["rule"] for c in report["checks"] if c["status"] == "warn"} == warned
    assert proc.returncode == (1 if verdict == "fail" else 0)
    assert report["file"]["sha256"] and len(report["file"]["sha256"]) == 64
    assert report["profile"]["id"] == PROFILE
    for c in report["checks"]:
        assert c["message"]["zh-CN"] and c["message"]["en"]


def test_rotated_phone_video_reports_displayed_and_coded_size(good):
    path = media_cases(good)["rotated"][0]
    media = json.loads(run("check", str(path), "-p", PROFILE, "-f", "json").stdout)["media"]
    assert (media["width"], media["height"]) == (1080, 1920)
    assert (media["coded_width"], media["coded_height"]) == (1920, 1080)
    assert media["rotation"] in (90, 270) and media["orientation"] == "portrait"


@pytest.mark.parametrize(("name", "data", "code"), [
    ("zero.mp4", b"", "empty"),
    ("text.mp4", "不是视频 not a video\n".encode() * 50, "unrecognised"),
    ("random.bin", bytes((i * 7919 + 13) % 251 for i in range(50000)), "unrecognised"),
])
def test_unreadable_files_give_error_verdict(name, data, code, validate_report):
    proc = run("check", str(written(name, data)), "--profile", PROFILE, "--format", "json", check_rc=1)
    report = validate_report(json.loads(proc.stdout))
    assert report["verdict"] == "error" and report["error"]["code"] == code
    assert "Traceback" not in proc.stderr


def test_truncated_mp4_is_an_error(good):
    seg = ffmpeg_media("seg-moovlast.mp4", ["-i", str(good), "-t", "2", "-c", "copy"])
    cut = written("cut-seg.mp4", seg.read_bytes()[:500_000])
    report = json.loads(run("check", str(cut), "-p", PROFILE, "-f", "json", check_rc=1).stdout)
    assert report["verdict"] == "error" and report["error"]["code"] == "truncated"


def test_photo_to_a_video_campaign():
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "blue").save(buf, "JPEG")
    report = json.loads(run("check", str(written("p.jpg", buf.getvalue())), "-p", PROFILE, "-f", "json",
                            check_rc=1).stdout)
    assert report["verdict"] == "fail"
    assert [c["rule"] for c in report["checks"] if c["status"] == "fail"] == ["media_kind"]


def test_json_lines_in_input_order_and_exit_code(good):
    short = media_cases(good)["short"][0]
    proc = run("check", str(good), str(short), str(good), "-p", PROFILE, "-f", "json", check_rc=1)
    lines = proc.stdout.strip().splitlines()
    assert [json.loads(x)["verdict"] for x in lines] == ["pass", "fail", "pass"]
    run("check", str(good), "-p", PROFILE, "-f", "json", check_rc=0)


def test_table_in_both_languages(good):
    cases = media_cases(good)
    zh = run("check", str(cases["mov"][0]), "-p", PROFILE, "-f", "table", check_rc=1).stdout
    en = run("check", str(cases["mov"][0]), "-p", PROFILE, "-f", "table", "--lang", "en", check_rc=1).stdout
    assert "不通过" in zh and "封装格式为 mov，要求 mp4" in zh and "可自动修复" in zh
    assert "FAIL" in en and "The container is mov; expected mp4." in en and "[fixable]" in en
    assert "通过" in run("check", str(good), "-p", PROFILE, "-f", "table").stdout


def test_table_verdict_words_are_the_core_labels():
    """One table of verdict words: the table's are the core's, in capitals in English."""
    from service.cli.terminal import verdict_word
    from service.core.labels import VERDICT_LABELS

    assert {v: (verdict_word(v, True), verdict_word(v, False)) for v in VERDICT_LABELS} == {
        "pass": ("通过", "PASS"), "warn": ("通过（有警告）", "PASS WITH WARNINGS"),
        "fail": ("不通过", "FAIL"), "error": ("无法检查", "COULD NOT CHECK")}


def test_usage_and_profile_errors_exit_2(tmp_path, good):
    assert run("check", str(good)).returncode == 2                         # no --profile
    p = run("check", str(good), "-p", "no-such-profile")
    assert p.returncode == 2 and "no-such-profile" in p.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nversion: 1\ntitle: {zh-CN: 坏, en: bad}\nkinds:\n  video:\n    duration: {min: x}\n")
    v = run("profile", "validate", str(bad))
    assert v.returncode == 2 and "bad.yaml:6" in v.stderr


def test_profiles_list_show_validate(tmp_path):
    out = run("profiles", check_rc=0).stdout
    for pid in ("shanxi-2023-microvideo", "guangxi-2023-kexuepai-photo", "kepuri-2023-activity-evidence"):
        assert pid in out
    assert "base-video" not in out
    shown = json.loads(run("profiles", "show", PROFILE, check_rc=0).stdout)
    assert shown["kinds"]["video"]["container"]["allowed"] == ["mp4"]
    assert "OK shanxi-2023-microvideo" in run("profile", "validate", f"profiles/{PROFILE}.yaml",
                                               check_rc=0).stdout


def test_probe_prints_facts(good):
    data = json.loads(run("probe", str(good), check_rc=0).stdout)
    assert data["media"]["container"] == "mp4" and data["media"]["duration_s"] == pytest.approx(SECONDS, abs=0.1)
    assert data["tools"]["ffprobe"] and data["tools"]["mediainfo"]


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path, validate_report):
    """Issue 11.8: opening a FIFO blocks until a writer comes; check and probe refuse it first."""
    import os

    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    proc = run("check", str(fifo), "-p", PROFILE, "-f", "json", check_rc=1)
    report = validate_report(json.loads(proc.stdout))
    assert report["verdict"] == "error" and report["error"]["code"] == "not_regular_file"
    assert "FIFO" in report["error"]["message"]["en"] and "命名管道" in report["error"]["message"]["zh-CN"]
    proc = run("probe", str(fifo), check_rc=1)
    assert "不是普通文件" in proc.stderr and "Not a regular file" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("check", "/dev/zero", "-p", PROFILE, "-f", "json", check_rc=1)
    assert json.loads(proc.stdout)["error"]["code"] == "not_regular_file"
