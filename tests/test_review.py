"""Reviewer helpers: verdict after waivers, content warnings, the timeline (pure)."""

from __future__ import annotations

import pytest

from service.core.analysis import Analysis
from service.core.checks import Check
from service.core.facts import MediaFacts
from service.core.report import FileInfo, build_report
from service.review.verdicts import content_warnings, effective_verdict, timeline


def check(rule, status, segments=None):
    return Check(rule=rule, status=status, severity="recommended" if status == "warn" else "required",
                 message={"zh-CN": rule, "en": rule}, segments=segments)


@pytest.fixture
def report(store):
    facts = MediaFacts(kind="video", size_bytes=1, duration_s=200.0)
    checks = [check("duration", "pass"), check("borders", "fail"),
              check("black_segments", "warn", [(0.0, 12.0)]),
              check("silence", "warn", [(50.0, 51.0), (20, 40)])]
    profile = store.get("shanxi-2023-microvideo")
    return build_report(file=FileInfo(name="a.mp4", size_bytes=1), profile=profile, media=facts,
                        checks=checks, tools={}, timings_ms={},
                        analysis=Analysis(duration_s=200.0, video_analyzed=True, audio_analyzed=True))


def test_waivers_change_the_verdict_not_the_report(report):
    assert report.verdict == "fail"
    assert effective_verdict(report, ["borders"]) == "warn"
    assert effective_verdict(report, ["borders", "black_segments", "silence"]) == "pass"
    assert report.verdict == "fail"


def test_content_warnings(report):
    assert [c.rule for c in content_warnings(report)] == ["borders", "black_segments", "silence"]
    assert [c.rule for c in content_warnings(report, ["borders"])] == ["black_segments", "silence"]


def test_timeline_marks_in_time_order(report):
    marks = timeline(report)
    assert [(m.rule, m.start_s) for m in marks] == [("black_segments", 0), ("silence", 20), ("silence", 50)]
    first = marks[0]
    assert (first.left, first.width, first.label_zh, first.timecode) == (0.0, 0.06, "黑场", "00:00:00.0")
    assert marks[2].width == 0.005  # a 1 s stretch still shows
    assert timeline(report, ["silence"])[-1].rule == "black_segments"
