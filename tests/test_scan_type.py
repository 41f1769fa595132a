"""The scan type when ffprobe and MediaInfo disagree on an H.264 stream: the stream's own SPS
flags decide (service/core/h264.py), and the report says which tool was overridden. Real
x264 streams (progressive, MBAFF), remuxed into Matroska with a field order that contradicts
the stream, give each disagreement for real."""

from __future__ import annotations

import subprocess

import pytest

from service.core.facts import parse_av_facts, scan_needs_sps
from service.core.h264 import Sps, find_sps, parse_sps, without_emulation_prevention
from service.core.judge import judge
from service.core.profiles import ProfileStore
from service.media.probe import h264_sps_command, probe
from tests.support.media import ffmpeg_media

PROGRESSIVE = ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=1", "-c:v", "libx264", "-preset", "ultrafast",
               "-pix_fmt", "yuv420p"]
MBAFF = [*PROGRESSIVE, "-flags", "+ildct+ilme", "-x264-params", "interlaced=1:tff=1"]
HIGH_MBAFF = ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=1", "-c:v", "libx264", "-preset", "fast",
              "-profile:v", "high", "-pix_fmt", "yuv420p", "-flags", "+ildct+ilme",
              "-x264-params", "interlaced=1:tff=1:cqm=jvt"]  # a High-profile SPS with scaling matrices


def _remux(field_order: str) -> list[list[str]]:
    return [["-i", "{in}", "-c", "copy", "-field_order", field_order]]


def _sps_of(path) -> Sps | None:
    out = subprocess.run(h264_sps_command(path, 0), capture_output=True, check=True).stdout
    return find_sps(out)


@pytest.mark.parametrize(("args", "expected"), [
    (PROGRESSIVE, Sps(66, frame_mbs_only=True, mb_adaptive_frame_field=False)),
    (MBAFF, Sps(77, frame_mbs_only=False, mb_adaptive_frame_field=True)),
    (HIGH_MBAFF, Sps(100, frame_mbs_only=False, mb_adaptive_frame_field=True)),
    ([*PROGRESSIVE, "-x264-params", "fake-interlaced=1"], Sps(77, frame_mbs_only=False, mb_adaptive_frame_field=False)),
])
def test_the_sps_flags_of_x264_streams(args: list[str], expected: Sps) -> None:
    assert _sps_of(ffmpeg_media("sps.mp4", args)) == expected


def test_sps_parser_refuses_what_is_not_an_sps() -> None:
    with pytest.raises(ValueError, match="not an SPS"):
        parse_sps(b"\x68\xee\x3c\x80")  # a PPS
    with pytest.raises(ValueError, match="ends early"):
        parse_sps(b"\x67\x4d")
    assert without_emulation_prevention(b"\x00\x00\x03\x01") == b"\x00\x00\x01"
    assert find_sps(b"\x00\x00\x00\x01\x09\xf0") is None


def test_ffprobe_progressive_mediainfo_mbaff_the_sps_says_interlaced() -> None:
    path = ffmpeg_media("mbaff-said-progressive.mkv", MBAFF, then=_remux("progressive"))
    facts = probe(path).facts
    assert facts.scan_type == "interlaced"
    assert facts.scan_detail is not None and "MBAFF" in facts.scan_detail
    assert "ffprobe overridden" in facts.scan_detail
    assert any("mb_adaptive_frame_field_flag=1" in n and "ffprobe overridden" in n for n in facts.disagreements)


def test_ffprobe_interlaced_mediainfo_progressive_the_sps_says_progressive() -> None:
    path = ffmpeg_media("progressive-said-tt.mkv", PROGRESSIVE, then=_remux("tt"))
    facts = probe(path).facts
    assert facts.scan_type == "progressive"
    assert any("frame_mbs_only_flag=1" in n and "ffprobe overridden" in n for n in facts.disagreements)


@pytest.mark.parametrize(("args", "scan"), [(PROGRESSIVE, "progressive"), (MBAFF, "interlaced")])
def test_when_the_tools_agree_no_sps_is_read(args: list[str], scan: str) -> None:
    facts = probe(ffmpeg_media("agree.mp4", args)).facts
    assert facts.scan_type == scan and facts.disagreements == ()
    assert "SPS" not in (facts.scan_detail or "")


def test_the_report_says_which_tool_was_overridden() -> None:
    path = ffmpeg_media("mbaff-said-progressive.mkv", MBAFF, then=_remux("progressive"))
    profile = ProfileStore("profiles").get("shanxi-2023-microvideo")
    check = next(c for c in judge(probe(path).facts, profile) if c.rule == "scan_type")
    assert check.status == "fail"
    assert "ffprobe overridden" in str(check.actual)


def _v(field_order: str | None) -> dict:
    return {"format": {"format_name": "matroska,webm", "duration": "1"},
            "streams": [{"index": 0, "codec_type": "video", "codec_name": "h264", "width": 320, "height": 240,
                         "field_order": field_order}]}


def test_mediainfo_overridden_when_the_sps_agrees_with_ffprobe() -> None:
    mi = [{"track_type": "Video", "scan_type": "MBAFF"}]
    assert scan_needs_sps(_v("progressive"), mi) == 0
    f = parse_av_facts(_v("progressive"), mi, size_bytes=1, sps=Sps(100, True, False))
    assert f.scan_type == "progressive" and "MediaInfo overridden" in f.disagreements[0]
    mi_stream = [{"track_type": "Video", "scan_type": "Interlaced", "original_scan_type": "Progressive"}]
    assert scan_needs_sps(_v("tt"), mi_stream) == 0  # MediaInfo's stream view, not the container's
    assert scan_needs_sps(_v("tt"), [{"track_type": "Video", "scan_type": "Interlaced"}]) is None
    hevc = _v("progressive")
    hevc["streams"][0]["codec_name"] = "hevc"
    assert scan_needs_sps(hevc, mi) is None
    f = parse_av_facts(_v("progressive"), mi, size_bytes=1)  # no SPS read: ffprobe's, the note says both
    assert f.scan_type == "progressive" and f.disagreements == ("scan type: ffprobe field order 'progressive' "
                                                                "vs MediaInfo 'MBAFF'",)
