"""Pure: facts + profile → checks. Bounds, severities, the 兆 band, alternatives."""

import pytest

from service.core.facts import MediaFacts
from service.core.judge import judge
from service.core.report import FileInfo, build_report

MIB = 2**20


def video(**kw) -> MediaFacts:
    base = dict(kind="video", container="mp4", size_bytes=200 * MIB, duration_s=180.0, duration_source="container",
                width=1920, height=1080, coded_width=1920, coded_height=1080, orientation="landscape",
                frame_rate="25/1", frame_rate_fps=25.0, frame_rate_mode="constant", scan_type="progressive",
                video_codec="h264", pixel_format="yuv420p", audio_present=True, audio_streams=1,
                audio_codec="aac", faststart=True, bitrate=9_000_000)
    base.update(kw)
    return MediaFacts(**base)


def image(**kw) -> MediaFacts:
    base = dict(kind="image", container="jpeg", image_format="jpeg", size_bytes=3 * MIB, width=4000, height=3000,
                orientation="landscape", color_mode="RGB", frames=1, animated=False, dpi=(300.0, 300.0))
    base.update(kw)
    return MediaFacts(**base)


def by_rule(checks):
    return {c.rule: c for c in checks}


def statuses(checks):
    return {c.rule: c.status for c in checks if c.status != "pass"}


def test_compliant_video_passes_every_rule(store):
    checks = judge(video(), store.get("shanxi-2023-microvideo"))
    assert statuses(checks) == {}
    assert {"container", "video_codec", "audio_codec", "resolution", "aspect_ratio", "orientation", "scan_type",
            "frame_rate", "frame_rate_mode", "duration", "file_size", "audio_present", "pixel_format",
            "faststart", "readable", "media_kind"} <= set(by_rule(checks))


@pytest.mark.parametrize(("facts", "failed", "warned"), [
    (video(container="mov"), {"container"}, set()),
    (video(video_codec="hevc"), set(), {"video_codec"}),
    (video(audio_codec="mp3"), set(), {"audio_codec"}),
    (video(audio_present=False, audio_streams=0, audio_codec=None), {"audio_present"}, set()),
    (video(width=1280, height=720), {"resolution"}, set()),
    (video(width=1080, height=1920, orientation="portrait", rotation=90),
     {"orientation", "aspect_ratio"}, set()),
    (video(width=1440, height=1080), {"aspect_ratio"}, set()),
    (video(scan_type="interlaced"), {"scan_type"}, set()),
    (video(duration_s=119.9), {"duration"}, set()),
    (video(duration_s=300.1), {"duration"}, set()),
    (video(size_bytes=320 * MIB), {"file_size"}, set()),
    (video(frame_rate_mode="variable"), set(), {"frame_rate_mode"}),
    (video(faststart=False), set(), {"faststart"}),
    (video(pixel_format="yuv420p10le"), set(), {"pixel_format"}),
])
def test_each_failure_is_named(store, facts, failed, warned):
    checks = judge(facts, store.get("shanxi-2023-microvideo"))
    got = statuses(checks)
    assert {r for r, s in got.items() if s == "fail"} == failed
    assert {r for r, s in got.items() if s == "warn"} == warned


@pytest.mark.parametrize(("duration", "ok", "fixable"), [
    (120.0, True, False), (300.0, True, False),
    (119.99, True, False), (300.03, True, False),  # within one frame (25 fps) of the bound: meets it
    (119.9, False, False),  # short: never fixed
    (300.5, False, True),  # just over: the end can be cut (trim_max 1 s)
    (301.5, False, False)])
def test_duration_bounds_are_inclusive_with_one_frame_of_slack(store, duration, ok, fixable):
    c = by_rule(judge(video(duration_s=duration), store.get("shanxi-2023-microvideo")))["duration"]
    assert (c.status == "pass") is ok
    assert c.fixable is fixable
    assert (c.fix is not None and c.fix.action == "trim") is fixable


def test_exactly_1080_lines_pass_and_displayed_size_counts(store):
    p = store.get("shanxi-2023-microvideo")
    assert by_rule(judge(video(width=1920, height=1080), p))["resolution"].status == "pass"
    assert by_rule(judge(video(width=1918, height=1078), p))["resolution"].status == "fail"


@pytest.mark.parametrize(("size", "status", "ambiguous"), [
    (200 * MIB, "pass", False),
    (100 * MIB, "pass", False),              # exactly the binary bound: included
    (102_000_000, "fail", True),             # between 100 MB and 100 MiB: fails binary, passes decimal
    (99_000_000, "fail", False),             # below both readings
    (310_000_000, "warn", True),             # between 300 MB and 300 MiB: passes binary, not decimal
    (315_000_000, "fail", False),
])
def test_zhao_band_is_flagged_never_silent(store, size, status, ambiguous):
    c = by_rule(judge(video(size_bytes=size), store.get("shanxi-2023-microvideo")))["file_size"]
    assert c.status == status
    assert c.ambiguous is ambiguous
    assert "104,857,600" in c.expected and "100,000,000" in c.expected  # both readings shown
    if ambiguous:
        assert "兆" in c.message["zh-CN"] and "兆" in c.message["en"]


def test_about_with_tolerance(store):
    p = store.get("shanxi-2023-explainer")
    assert by_rule(judge(video(duration_s=245), p))["duration"].status == "pass"
    assert by_rule(judge(video(duration_s=260), p))["duration"].status == "warn"  # within ±30 s, not ±10 s
    assert by_rule(judge(video(duration_s=271), p))["duration"].status == "fail"
    assert by_rule(judge(video(duration_s=209), p))["duration"].status == "fail"


def test_wrong_kind_stops_at_media_kind(store):
    checks = judge(image(), store.get("shanxi-2023-microvideo"))
    assert [c.rule for c in checks] == ["readable", "media_kind"]
    assert checks[1].status == "fail"
    assert "视频" in checks[1].message["zh-CN"] and "video" in checks[1].message["en"]


def test_profile_with_two_kinds_takes_both(store):
    p = store.get("kepuri-2023-activity-evidence")
    assert statuses(judge(image(), p)) == {}
    assert statuses(judge(video(width=1080, height=1920, orientation="portrait"), p)) == {}


def test_alternatives_pass_when_any_option_passes(store):
    p = store.get("kepuri-2023-history-photo")
    small_but_big_pixels = image(size_bytes=500_000, width=3000, height=2000)
    big_file_few_pixels = image(size_bytes=2 * MIB, width=1200, height=800)
    neither = image(size_bytes=300_000, width=1200, height=800)
    assert by_rule(judge(small_but_big_pixels, p))["photo_quality"].status == "pass"
    assert by_rule(judge(big_file_few_pixels, p))["photo_quality"].status == "pass"
    c = by_rule(judge(neither, p))["photo_quality"]
    assert c.status == "fail" and " OR " in c.expected


@pytest.mark.parametrize(("facts", "failed", "warned"), [
    (image(image_format="webp", container="webp"), {"image_format"}, set()),
    (image(color_mode="CMYK"), set(), {"color_mode"}),
    (image(animated=True, frames=12), {"animated"}, set()),
    (image(dpi=None), set(), {"dpi"}),
    (image(dpi=(72.0, 72.0)), set(), {"dpi"}),
    (image(size_bytes=25 * MIB), {"file_size"}, set()),
])
def test_photo_rules(store, facts, failed, warned):
    p = store.get("kepuri-2023-history-photo")
    got = statuses(judge(facts, p))
    assert {r for r, s in got.items() if s == "fail"} == failed
    assert {r for r, s in got.items() if s == "warn"} == warned


def test_filename_rule(store):
    p = store.get("shanxi-2023-experiment")
    ok = by_rule(judge(video(), p, "科学实验展演-大气压力.mp4"))["filename"]
    bad = by_rule(judge(video(), p, "VID_0001.mp4"))["filename"]
    assert ok.status == "pass"
    assert bad.status == "warn" and "VID_0001.mp4" in bad.message["zh-CN"]


def test_fix_actions_are_data(store):
    checks = by_rule(judge(video(container="mov", scan_type="interlaced", width=1440, height=1080,
                                 frame_rate_mode="variable"), store.get("shanxi-2023-microvideo")))
    assert checks["container"].fix.action == "remux" and checks["container"].fix.params == {"container": "mp4"}
    assert checks["scan_type"].fix.action == "deinterlace"
    assert checks["aspect_ratio"].fix.action == "pad" and checks["aspect_ratio"].fix.params["aspect"] == "16:9"
    assert checks["frame_rate_mode"].fix.action == "constant_frame_rate"


def test_unfixable_failures_say_why(store):
    checks = by_rule(judge(video(duration_s=30, audio_present=False, audio_codec=None, width=1280, height=720),
                           store.get("shanxi-2023-microvideo")))
    for rule in ("duration", "audio_present", "resolution"):
        assert checks[rule].status == "fail" and checks[rule].fixable is False
    assert "不会凭空生成" in checks["audio_present"].message["zh-CN"]
    assert "never invented" in checks["audio_present"].message["en"]


def test_report_verdicts_and_schema(store, validate_report):
    p = store.get("shanxi-2023-microvideo")
    info = FileInfo(name="a.mp4", size_bytes=1, sha256="0" * 64)
    ok = build_report(file=info, profile=p, media=video(), checks=judge(video(), p), tools={}, timings_ms={})
    warn_facts = video(video_codec="hevc")
    warn = build_report(file=info, profile=p, media=warn_facts, checks=judge(warn_facts, p), tools={},
                        timings_ms={})
    bad_facts = video(container="mov")
    bad = build_report(file=info, profile=p, media=bad_facts, checks=judge(bad_facts, p), tools={}, timings_ms={})
    assert (ok.verdict, warn.verdict, bad.verdict) == ("pass", "warn", "fail")
    assert bad.fixable is True
    assert bad.summary == {"zh-CN": "不符合 1 项要求：封装格式。均可自动修复。",
                           "en": "Fails 1 rule(s): Container. All can be fixed automatically."}
    assert warn.summary["zh-CN"].startswith("符合必需要求，但有 1 项建议未满足：视频编码")
    for r in (ok, warn, bad):
        data = validate_report(r)
        assert data["profile"] == {"id": "shanxi-2023-microvideo", "version": "2023.1",
                                   "title": p.title.as_dict(), "size_unit": "binary"}
