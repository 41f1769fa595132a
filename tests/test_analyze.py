"""The one-pass deep analysis on real generated media, end to end (ffmpeg → findings →
checks → report), and through ``mediacheck check --deep``."""

from __future__ import annotations

import io
import json

import pytest

from service.cli.main import main
from service.core.errors import ToolTimeoutError
from service.media.checker import check_file, deep_checks
from service.media.detector import analyze, plan_analysis
from service.media.probe import probe
from tests.support.media import av, ffmpeg_media
from tests.support.scenes import LARGE as scenes

TOL = 0.3
"""Seconds a detected timecode may be off (the picture detectors sample 5 frames a second)."""

PROFILE = "shanxi-2023-microvideo"


@pytest.fixture(scope="module")
def shanxi(store):
    return store.get(PROFILE)


def content_of(report):
    return {c.rule: c for c in report.checks if c.rule in (
        "black_segments", "frozen_segments", "static_content", "silence", "loudness", "borders",
        "interlace_detected")}


def flagged(report):
    return {rule: c.status for rule, c in content_of(report).items() if c.status != "pass"}


def test_good_entry_has_no_content_warning(shanxi, validate_report):
    report = check_file(scenes.good(), shanxi, deep=True)
    assert flagged(report) == {}
    a = report.analysis
    assert a is not None and a.borders is not None and a.borders.kind == "none"
    assert a.interlace is not None and a.interlace.verdict == "progressive"
    assert a.loudness is not None and a.loudness.integrated_lufs == pytest.approx(-21.8, abs=1.5)
    assert "analysis" in report.timings_ms
    data = validate_report(report)
    assert data["schema_version"] == "1.2" and data["analysis"]["black_segments"] == []


def test_pillarbox_fails_full_frame_with_real_aspect(shanxi, validate_report):
    report = check_file(scenes.pillarboxed(), shanxi, deep=True)
    assert flagged(report) == {"borders": "fail"}
    b = report.analysis.borders
    assert b.kind == "pillarbox" and b.aspect_name == "4:3"
    assert b.x == pytest.approx(160, abs=4) and b.width == pytest.approx(960, abs=8) and b.height == 720
    assert "4:3" in content_of(report)["borders"].message["zh-CN"]
    assert report.verdict == "fail"
    # the 2 s of silence are found (and are below the profile's 8 s)
    [s] = report.analysis.silence
    assert s.start_s == pytest.approx(2, abs=TOL) and s.end_s == pytest.approx(4, abs=TOL)
    validate_report(report)


def test_frozen_slide_warns_static_and_frozen(shanxi):
    report = check_file(scenes.frozen_slide(), shanxi, deep=True)
    assert flagged(report) == {"frozen_segments": "warn", "static_content": "warn"}
    [f] = report.analysis.frozen_segments
    assert f.start_s == pytest.approx(0, abs=TOL) and f.end_s == pytest.approx(12, abs=TOL)
    assert report.analysis.static_ratio == pytest.approx(1.0, abs=0.05)
    assert content_of(report)["frozen_segments"].segments == [(f.start_s, f.end_s)]


def test_black_opening_warns_with_its_timecode(shanxi):
    report = check_file(scenes.black_opening(), shanxi, deep=True)
    assert flagged(report) == {"black_segments": "warn"}
    [b] = report.analysis.black_segments
    assert b.start_s == pytest.approx(0, abs=TOL) and b.end_s == pytest.approx(4, abs=TOL)
    assert "00:00:00.0–00:00:04.0" in content_of(report)["black_segments"].message["zh-CN"]
    assert report.analysis.frozen_segments == []  # black is not counted as frozen
    assert report.analysis.scene_changes == [pytest.approx(4, abs=TOL)]


def test_silent_track_warns(shanxi):
    report = check_file(scenes.silent(), shanxi, deep=True)
    assert flagged(report) == {"silence": "warn", "loudness": "warn"}
    [s] = report.analysis.silence
    assert s.start_s == pytest.approx(0, abs=TOL) and s.end_s == pytest.approx(5, abs=TOL)
    assert report.analysis.loudness.integrated_lufs is None


def test_interlaced_picture_is_seen(shanxi):
    report = check_file(scenes.interlaced(), shanxi, deep=True)
    assert flagged(report) == {"interlace_detected": "warn"}
    il = report.analysis.interlace
    assert il.verdict == "interlaced" and il.tff > 20 and il.bff == 0
    assert report.media.scan_type == "interlaced"  # and the metadata rule says so too
    assert {c.rule: c.status for c in report.checks}["scan_type"] == "fail"


def test_without_deep_there_is_no_analysis(shanxi):
    report = check_file(scenes.black_opening(), shanxi)
    assert report.analysis is None and content_of(report) == {}


def test_one_decode_one_graph(shanxi):
    facts = probe(scenes.good()).facts
    plan = plan_analysis("in.mp4", facts, shanxi.kinds["video"].content)
    assert plan.command.count("-i") == 1 and plan.command.count("-filter_complex") == 1
    graph = plan.command[plan.command.index("-filter_complex") + 1]
    assert graph.count("split") == 1
    # frame rate reduced before scaling, scaled once, before the costly detectors
    assert graph.index("fps=5") < graph.index("scale=480:270") < graph.index("blackdetect")
    assert graph.count("scale=") == 1
    assert "select='lt(mod(n\\,250)\\,25)',idet" in graph  # idet on a sample
    assert "silencedetect=n=-50dB" in graph and "ebur128=peak=true" in graph
    assert plan.scaled_size == (480, 270) and plan.frame_size == (1280, 720)


def test_timeout_kills_and_is_reported_not_raised(shanxi, monkeypatch):
    path = scenes.good()
    facts = probe(path).facts
    with pytest.raises(ToolTimeoutError):
        analyze(path, facts, timeout=0.01)
    monkeypatch.setattr("service.media.detector.TIMEOUT_BASE_S", 0.0)
    monkeypatch.setattr("service.media.detector.TIMEOUT_PER_MEDIA_S", 0.001)
    analysis, checks = deep_checks(path, facts, shanxi)
    assert analysis is None
    assert [(c.rule, c.status) for c in checks] == [("content_analysis", "skip")]
    assert "超时" in checks[0].message["zh-CN"] and "ran out of time" in checks[0].message["en"]


def test_cli_deep():
    out = io.StringIO()
    args = ["check", str(scenes.black_opening()), "--profile", PROFILE, "--deep"]
    code = main([*args, "--format", "json"], out)
    report = json.loads(out.getvalue())
    assert code == 1  # fails the metadata rules (a 7 s, 720p test file)
    rules = {c["rule"]: c for c in report["checks"]}
    assert rules["black_segments"]["status"] == "warn"
    assert rules["black_segments"]["segments"] == [[0.0, pytest.approx(4, abs=TOL)]]
    table = io.StringIO()
    main([*args, "--format", "table"], table)
    assert "black_segments" in table.getvalue() and "00:00:04.0" in table.getvalue()


def test_audio_only_and_video_only_files():
    tone = ffmpeg_media("tone-gap.m4a", ["-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000:d=4",
                                         "-af", "volume=enable='between(t,1,2.5)':volume=0", "-c:a", "aac"])
    facts = probe(tone).facts
    a = analyze(tone, facts)
    assert (a.video_analyzed, a.audio_analyzed) == (False, True)
    [s] = a.silence
    assert s.start_s == pytest.approx(1, abs=0.1) and s.end_s == pytest.approx(2.5, abs=0.1)
    assert a.borders is None and a.black_segments == []

    mute = ffmpeg_media("mute.mp4", av("640x360", seconds=2, audio=False))
    b = analyze(mute, probe(mute).facts)
    assert (b.video_analyzed, b.audio_analyzed) == (True, False) and b.loudness is None and b.silence == []


def test_bars_in_10_bit_video():
    path = ffmpeg_media("pillarbox-10bit.mp4", [
        "-f", "lavfi", "-i", "testsrc2=s=480x360:r=25:d=2",
        "-vf", "gblur=sigma=1,pad=640:360:80:0,format=yuv420p10le",
        "-c:v", "libx264", "-preset", "ultrafast"])
    b = analyze(path, probe(path).facts).borders
    assert b is not None and b.kind == "pillarbox" and b.aspect_name == "4:3"
