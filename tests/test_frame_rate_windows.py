"""Frame-rate mode over the whole file: the video stream's packet timestamps read in three
windows (start, middle, end; service/media/probe.py), judged together (core/facts.py), at a
bounded cost (issue 11.5: a file of one-byte audio packets)."""

from __future__ import annotations

import subprocess
from fractions import Fraction

import pytest

from service.core.facts import detect_frame_rate_mode, parse_av_facts, parse_mp4_boxes
from service.core.picture_checks import frame_rate_mode
from service.core.rules import FrameRateModeRule
from service.media.mp4box import read_video_sample_times, video_sample_times
from service.media.probe import VFR_WINDOW_PACKETS, packet_windows, packets_command, probe, read_packets
from tests.support.media import ffmpeg_media

SEGMENTS = [(25, 6), (30, 3), (25, 3), (30, 3), (25, 3), (30, 2)]
"""25 fps for 6 s (all the start window sees), then 3-second clips switching 30 ↔ 25: 20 s."""


def _switching(container: str = "mp4"):
    chains = [f"testsrc2=s=160x90:r={r}:d={d}[s{i}]" for i, (r, d) in enumerate(SEGMENTS)]
    joined = "".join(f"[s{i}]" for i in range(len(SEGMENTS)))
    graph = ";".join(chains) + f";{joined}concat=n={len(SEGMENTS)}:v=1:a=0,settb=1/15360"
    return ffmpeg_media(f"switching-25-30.{container}", ["-filter_complex", graph, "-fps_mode", "vfr",
                                                         "-c:v", "libx264", "-preset", "ultrafast", "-g", "50"])


def _pts(path, intervals: str) -> list[int]:
    out = subprocess.run(packets_command(path, 0, intervals), capture_output=True, check=True, text=True).stdout
    return [int(x) for x in out.split()]


def test_windows_scale_with_the_duration() -> None:
    assert packet_windows(None, 25) == f"%+#{3 * VFR_WINDOW_PACKETS}"
    assert packet_windows(2, 25) == "%+#72"  # 50 packets: all of them (3 windows of the minimum 24)
    assert packet_windows(4, 25) == "%+#24,1.520%+#24,3.040%+#24"
    assert packet_windows(20, 27.5) == "%+#91,8.345%+#91,16.691%+#91"
    assert packet_windows(600, 30) == "%+#300,295.000%+#300,590.000%+#300"


def test_a_clip_switching_rate_after_the_start_is_variable() -> None:
    """Matroska: no index of every frame's time, so ffprobe reads the three windows."""
    path = _switching("mkv")
    facts = probe(path).facts
    assert facts.frame_rate_mode == "variable"
    windows = packet_windows(facts.duration_s, 27.0).split(",")
    tb = Fraction(1, 1000)
    assert detect_frame_rate_mode(_pts(path, windows[0]), tb) == "constant"  # the start alone would miss it
    assert detect_frame_rate_mode(_pts(path, windows[1]), tb) == "variable"  # 8.3 s on: 30 → 25 at 9 s
    assert detect_frame_rate_mode(_pts(path, windows[2]), tb) == "variable"  # 25 → 30 at 18 s


def test_an_mp4_index_gives_every_frame_time_without_a_process() -> None:
    path = _switching("mp4")
    boxes = [(b[0], b[1], b[2]) for b in _boxes(path)]
    times = read_video_sample_times(path, boxes)
    assert times is not None and times.timescale == 15360
    assert len(times.times) == sum(r * d for r, d in SEGMENTS)  # every frame, 25 × 6 + 30 × 3 + …
    assert detect_frame_rate_mode(list(times.times), Fraction(1, 15360)) == "variable"
    assert probe(path).facts.frame_rate_mode == "variable"
    steady = ffmpeg_media("steady-25.mp4", ["-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=20", "-c:v", "libx264",
                                            "-preset", "ultrafast"])
    times = read_video_sample_times(steady, _boxes(steady))
    assert times is not None and len(times.times) == 500
    assert probe(steady).facts.frame_rate_mode == "constant"


@pytest.mark.parametrize("moov", [
    b"\x00\x00\x00\x10moov" + b"\x00" * 8,  # no track
    b"\x00\x00\x00\x18moov\x00\x00\x00\x10trak\x00\x00\x00\x08mdia",  # a track with nothing in it
    b"\x00\x00\x00\x10moov\xff\xff\xff\xfftrak",  # a box running past its parent
])
def test_a_damaged_index_gives_no_times(moov: bytes) -> None:
    assert video_sample_times(moov) is None


def _boxes(path) -> list[tuple[str, int, int]]:
    with open(path, "rb") as fh:
        def header_at(offset: int) -> bytes:
            fh.seek(offset)
            return fh.read(16)
        return parse_mp4_boxes(header_at, path.stat().st_size)


def test_gaps_between_windows_are_not_frame_intervals() -> None:
    tb = Fraction(1, 15360)
    window = [i * 614 for i in range(90)]  # 25 fps
    constant = window + [15360 * 300 + p for p in window] + [15360 * 590 + p for p in window]
    assert detect_frame_rate_mode(constant, tb) == "constant"
    faster = [15360 * 300 + i * 512 for i in range(90)]  # 30 fps in the middle
    assert detect_frame_rate_mode(window + faster + [15360 * 590 + p for p in window], tb) == "variable"


@pytest.mark.parametrize(("mediainfo", "note"), [
    ("CFR", "frame rate mode: timestamps say variable vs MediaInfo CFR"), ("VFR", None)])
def test_disagreement_with_mediainfo_is_reported(mediainfo: str, note: str | None) -> None:
    data = {"format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "20"},
            "streams": [{"index": 0, "codec_type": "video", "codec_name": "h264", "width": 160, "height": 90,
                         "time_base": "1/15360", "avg_frame_rate": "27/1"}],
            "packets": [{"stream_index": 0, "pts": p} for p in _pts(_switching(), "%+#600")]}
    facts = parse_av_facts(data, [{"track_type": "Video", "frame_rate_mode": mediainfo}], size_bytes=1)
    assert facts.frame_rate_mode == "variable"
    assert [n for n in facts.disagreements if n.startswith("frame rate mode")] == ([note] if note else [])
    rule = FrameRateModeRule(allowed=("constant",))
    outcome = frame_rate_mode(rule, facts)
    assert outcome.ok is False
    assert outcome.actual == ("variable (packet timestamps over the file; MediaInfo says CFR)" if note else "variable")


def test_one_byte_audio_packets_cost_nothing_to_the_frame_rate_mode() -> None:
    """Issue 11.5: 20 s of 8 kHz PCM in one-byte packets (160,000 of them) beside a small video:
    only the video packets' timestamps are read, and only in the windows."""
    path = ffmpeg_media("pcm-one-byte.mkv", [
        "-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=20", "-f", "lavfi", "-i", "sine=sample_rate=8000:d=20",
        "-filter_complex", "[1:a]asetnsamples=n=1:p=0[a]", "-map", "0:v", "-map", "[a]",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "pcm_u8", "-ac", "1"])
    data = {"format": {"duration": "20"}, "streams": [
        {"index": 0, "codec_type": "video", "avg_frame_rate": "25/1"}, {"index": 1, "codec_type": "audio"}]}
    packets = read_packets(path, data, timeout=30)
    assert 3 * 24 <= len(packets) <= 3 * VFR_WINDOW_PACKETS
    assert {p["stream_index"] for p in packets} == {0}
    out = subprocess.run(packets_command(path, 0, packet_windows(20, 25)), capture_output=True, check=True).stdout
    assert len(out) < 4000  # a few hundred timestamps, not megabytes of JSON
    facts = probe(path).facts
    assert facts.frame_rate_mode == "constant" and facts.audio_codec == "pcm_u8"
