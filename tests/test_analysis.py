"""Parsing the detectors' log into findings (pure, canned logs in ffmpeg 5.1's format)."""

from __future__ import annotations

import pytest

from service.core.analysis import Segment, aspect_name, is_detector_line, parse_detector_log, subtract, timecode

# A real log (trimmed) of the one-pass graph over 2 s black + 4 s of a 4:3 picture in a
# 640×360 frame, silent from 3 s to 5 s. ebur128 and idet print a first, empty summary
# while the graph is configured: the last one counts.
LOG = """\
[Parsed_ebur128_11 @ 0x55] Summary:
    I:         -70.0 LUFS
    Threshold:   0.0 LUFS
    LRA:         0.0 LU
    Peak:       -inf dBFS
[Parsed_idet_9 @ 0x55] Multi frame detection: TFF:     0 BFF:     0 Progressive:     0 Undetermined:     0
[cropdetect] x1:479 x2:0 y1:269 y2:0 w:-478 h:-268 x:480 y:270 pts:0 t:0.000000 crop=-478:-268:480:270
[cropdetect] x1:479 x2:0 y1:269 y2:0 w:-478 h:-268 x:480 y:270 pts:5 t:1.000000 crop=-478:-268:480:270
[freezedetect @ 0x55] lavfi.freezedetect.freeze_start: 0
[blackdetect @ 0x55] black_start:0 black_end:2 black_duration:2
[freezedetect @ 0x55] lavfi.freezedetect.freeze_duration: 2
[freezedetect @ 0x55] lavfi.freezedetect.freeze_end: 2
[Parsed_cropdetect_6] x1:60 x2:419 y1:0 y2:269 w:360 h:270 x:60 y:0 pts:10 t:2.000000 crop=360:270:60:0
[scdet @ 0x55] lavfi.scd.score: 32.009, lavfi.scd.time: 2
[Parsed_cropdetect_6] x1:60 x2:419 y1:0 y2:269 w:360 h:270 x:60 y:0 pts:11 t:2.200000 crop=360:270:60:0
[Parsed_cropdetect_6] x1:0 x2:479 y1:0 y2:269 w:480 h:270 x:0 y:0 pts:12 t:2.400000 crop=480:270:0:0
[Parsed_cropdetect_6] x1:60 x2:419 y1:0 y2:269 w:360 h:270 x:60 y:0 pts:13 t:2.600000 crop=360:270:60:0
[Parsed_cropdetect_6] x1:60 x2:419 y1:0 y2:269 w:360 h:270 x:60 y:0 pts:14 t:2.800000 crop=360:270:60:0
[Parsed_cropdetect_6] x1:60 x2:419 y1:0 y2:269 w:360 h:270 x:60 y:0 pts:15 t:3.000000 crop=360:270:60:0
[silencedetect @ 0x55] silence_start: 3.008
[Parsed_cropdetect_6] x1:60 x2:419 y1:0 y2:269 w:360 h:270 x:60 y:0 pts:16 t:3.200000 crop=360:270:60:0
[Parsed_cropdetect_6] x1:64 x2:410 y1:20 y2:240 w:346 h:220 x:64 y:20 pts:17 t:3.400000 crop=346:220:64:20
[Parsed_cropdetect_6] x1:60 x2:419 y1:0 y2:269 w:360 h:270 x:60 y:0 pts:18 t:3.600000 crop=360:270:60:0
[Parsed_cropdetect_6] x1:60 x2:419 y1:0 y2:269 w:360 h:270 x:60 y:0 pts:19 t:3.800000 crop=360:270:60:0
[Parsed_cropdetect_6] x1:60 x2:419 y1:0 y2:269 w:360 h:270 x:60 y:0 pts:20 t:4.000000 crop=360:270:60:0
[Parsed_cropdetect_6] x1:60 x2:419 y1:0 y2:269 w:360 h:270 x:60 y:0 pts:21 t:4.200000 crop=360:270:60:0
[silencedetect @ 0x55] silence_end: 5.01327 | silence_duration: 2.00527
[Parsed_ebur128_11 @ 0x55] Summary:
    I:         -22.1 LUFS
    Threshold: -32.2 LUFS
  Loudness range:
    LRA:         4.5 LU
    LRA low:   -26.6 LUFS
  True peak:
    Peak:      -16.1 dBFS
[Parsed_idet_9 @ 0x55] Single frame detection: TFF:     0 BFF:    29 Progressive:     2 Undetermined:    29
[Parsed_idet_9 @ 0x55] Multi frame detection: TFF:     2 BFF:    48 Progressive:     1 Undetermined:     9
"""


def parse(log: str = LOG, **kw):
    args = dict(duration_s=6.0, video=True, audio=True, scaled_size=(480, 270), frame_size=(640, 360),
                sample_fps=5.0)
    return parse_detector_log(log, **{**args, **kw})


def test_segments_with_timecodes():
    a = parse()
    assert a.black_segments == [Segment(start_s=0, end_s=2)]
    assert a.silence == [Segment(start_s=3.008, end_s=5.013)]
    assert a.scene_changes == [2.0] and a.scene_change_count == 1


def test_frozen_excludes_black():
    a = parse()
    assert a.frozen_segments == []  # the only freeze was the black opening
    assert a.static_ratio == 0


def test_last_summaries_count():
    a = parse()
    assert a.loudness is not None
    assert (a.loudness.integrated_lufs, a.loudness.range_lu, a.loudness.true_peak_dbtp) == (-22.1, 4.5, -16.1)
    assert a.interlace is not None
    assert (a.interlace.tff, a.interlace.bff, a.interlace.verdict) == (2, 48, "interlaced")


def test_borders_mapped_back_to_file_pixels():
    # one full-frame card (t=2.4) and one dark frame (t=3.4) do not move the area
    b = parse().borders
    assert b is not None
    assert (b.kind, b.x, b.y, b.width, b.height) == ("pillarbox", 80, 0, 480, 360)
    assert b.aspect_name == "4:3"
    assert b.frames == 12  # the black frames are left out


def test_full_frame_is_none():
    log = "\n".join(f"[cropdetect] x1:0 x2:479 y1:1 y2:268 w:480 h:268 x:0 y:0 t:{i / 5}" for i in range(20))
    b = parse(log).borders
    assert b is not None and (b.kind, b.width, b.height) == ("none", 640, 360)


def test_letterbox():
    log = "\n".join(f"[cropdetect] x1:0 x2:479 y1:34 y2:235 w:480 h:202 t:{i / 5}" for i in range(20))
    b = parse(log).borders
    assert b is not None and b.kind == "letterbox" and b.aspect_name == "2.39:1"


def test_open_segments_close_at_the_end():
    log = "[freezedetect] lavfi.freezedetect.freeze_start: 2.5\n[silencedetect] silence_start: 4\n"
    a = parse(log)
    assert a.frozen_segments == [Segment(start_s=2.5, end_s=6.0)]
    assert a.silence == [Segment(start_s=4, end_s=6.0)]
    assert a.static_ratio == pytest.approx(3.5 / 6, abs=1e-3)


def test_silent_track_has_no_integrated_loudness():
    log = "[x] Summary:\n    I:         -70.0 LUFS\n    LRA:         0.0 LU\n    Peak:       -inf dBFS\n"
    loud = parse(log).loudness
    assert loud is not None and loud.integrated_lufs is None and loud.true_peak_dbtp is None


@pytest.mark.parametrize(("counts", "verdict"), [
    ((50, 0, 0, 0), "interlaced"),
    ((41, 24, 10, 0), "undetermined"),  # testsrc2 at 640×360: both orders, a synthetic false alarm
    ((0, 0, 50, 10), "progressive"),
    ((3, 2, 5, 0), "undetermined"),  # too few frames
])
def test_interlace_verdict(counts, verdict):
    log = "[idet] Multi frame detection: TFF: {} BFF: {} Progressive: {} Undetermined: {}".format(*counts)
    assert parse(log).interlace.verdict == verdict


def test_audio_only_has_no_picture_findings():
    a = parse(video=False)
    assert a.black_segments == [] and a.borders is None and a.interlace is None and a.static_ratio is None
    assert a.silence


def test_detector_lines_are_kept_others_dropped():
    assert is_detector_line("[blackdetect @ 0x1] black_start:0 black_end:2 black_duration:2")
    assert is_detector_line("    I:         -22.1 LUFS")
    assert not is_detector_line("  Stream #0:0: Video: h264 (High), yuv420p, 1920x1080")
    assert not is_detector_line("    Metadata:")


def test_subtract_and_timecode():
    holes = [Segment(start_s=2, end_s=3), Segment(start_s=9.5, end_s=12)]
    segs = subtract([Segment(start_s=0, end_s=10)], holes, min_len=1.0)
    assert segs == [Segment(start_s=0, end_s=2), Segment(start_s=3, end_s=9.5)]
    assert timecode(3723.45) == "01:02:03.5"
    assert aspect_name(1440 / 1080) == "4:3" and aspect_name(1.5) == "3:2" and aspect_name(1.1) is None


def test_black_on_the_last_sampled_frame_reaches_the_end():
    log = "[blackdetect] black_start:2 black_end:4.8 black_duration:2.8\n"
    assert parse(log, duration_s=5.0).black_segments == [Segment(start_s=2, end_s=5.0)]
    assert parse(log, duration_s=9.0).black_segments == [Segment(start_s=2, end_s=4.8)]
