"""Judging content findings against profile thresholds (pure)."""

from __future__ import annotations

import pytest

from service.core.analysis import Analysis, Borders, Interlace, Loudness, Segment
from service.core.content import judge_content
from service.core.content_rules import ContentRules
from service.core.errors import ProfileError
from service.core.profiles import load_profile


def seg(a: float, b: float) -> Segment:
    return Segment(start_s=a, end_s=b)


def analysis(**kw) -> Analysis:
    base = dict(duration_s=180.0, video_analyzed=True, audio_analyzed=True, static_ratio=0.0,
                loudness=Loudness(integrated_lufs=-16, range_lu=6, true_peak_dbtp=-1.5),
                borders=Borders(frame_width=1920, frame_height=1080, x=0, y=0, width=1920, height=1080,
                                kind="none", aspect=1.7778, aspect_name="16:9", frames=900),
                interlace=Interlace(tff=0, bff=0, progressive=80, undetermined=20, verdict="progressive"))
    return Analysis(**{**base, **kw})


def by_rule(checks):
    return {c.rule: c for c in checks}


@pytest.fixture(scope="module")
def shanxi(store):
    return store.get("shanxi-2023-microvideo").kinds["video"].content


def test_clean_entry_passes_every_content_rule(shanxi):
    checks = judge_content(analysis(), shanxi, scan_type="progressive")
    assert [c.rule for c in checks] == ["black_segments", "frozen_segments", "static_content", "silence",
                                        "loudness", "borders", "interlace_detected"]
    assert {c.status for c in checks} == {"pass"}
    assert all(c.segments is None for c in checks)


def test_black_opening_warns_with_timecode(shanxi):
    c = by_rule(judge_content(analysis(black_segments=[seg(0, 10.2), seg(60, 61)]), shanxi))["black_segments"]
    assert c.status == "warn"
    assert c.segments == [(0, 10.2)]  # the 1 s stretch at 60 s is within the limit
    assert "片头黑场 00:00:00.0–00:00:10.2" in c.message["zh-CN"]
    assert "black opening 00:00:00.0–00:00:10.2 (10.2 s)" in c.message["en"]


def test_black_closing_and_inner_use_their_own_limits(shanxi):
    checks = by_rule(judge_content(analysis(black_segments=[seg(100, 104), seg(176, 180)]), shanxi))
    c = checks["black_segments"]
    assert c.segments == [(100, 104)]  # inner > 3 s; the 4 s closing is within 5 s
    assert "黑场 00:01:40.0" in c.message["zh-CN"]


def test_pillarbox_fails_full_frame_with_real_aspect(shanxi):
    b = Borders(frame_width=1920, frame_height=1080, x=240, y=0, width=1440, height=1080, kind="pillarbox",
                aspect=1.3333, aspect_name="4:3", frames=900)
    c = by_rule(judge_content(analysis(borders=b), shanxi))["borders"]
    assert c.status == "fail" and c.severity == "required"
    assert "1440×1080（4:3）" in c.message["zh-CN"] and "全画幅" in c.message["zh-CN"]
    assert c.actual == "picture 1440×1080 (4:3) at 240,0 in 1920×1080"


def test_borders_only_reported_where_full_frame_is_not_asked(store):
    rules = store.get("shanxi-2023-explainer").kinds["video"].content
    b = Borders(frame_width=1920, frame_height=1080, x=0, y=140, width=1920, height=800, kind="letterbox",
                aspect=2.4, aspect_name="2.39:1", frames=900)
    c = by_rule(judge_content(analysis(borders=b), rules))["borders"]
    assert c.status == "pass" and "上下黑边" in c.message["zh-CN"]


def test_slideshow_warns_static_and_frozen(shanxi):
    frozen = [seg(0, 30), seg(30.5, 90), seg(91, 170)]
    found = analysis(frozen_segments=frozen, static_ratio=0.93, scene_change_count=3)
    c = by_rule(judge_content(found, shanxi))
    assert c["static_content"].status == "warn" and "93%" in c["static_content"].message["zh-CN"]
    assert "PPT" in c["static_content"].message["zh-CN"]
    assert c["frozen_segments"].status == "warn"
    assert c["frozen_segments"].segments == [(0, 30), (30.5, 90), (91, 170)]


def test_silence(shanxi):
    c = by_rule(judge_content(analysis(silence=[seg(20, 29), seg(50, 52)]), shanxi))["silence"]
    assert c.status == "warn" and c.segments == [(20, 29)]
    whole = by_rule(judge_content(analysis(silence=[seg(0, 180)],
                                           loudness=Loudness(integrated_lufs=None, range_lu=0)), shanxi))
    assert whole["silence"].status == "warn" and "全程无声" in whole["silence"].message["zh-CN"]
    assert whole["loudness"].status == "warn"


def test_loudness_bounds(shanxi):
    loud = Loudness(integrated_lufs=-35, range_lu=3, true_peak_dbtp=0.8)
    c = by_rule(judge_content(analysis(loudness=loud), shanxi))["loudness"]
    assert c.status == "warn"
    assert "-35 LUFS" in c.message["zh-CN"] and "0.8 dBTP" in c.message["zh-CN"]
    assert c.message["en"].startswith("Integrated loudness -35 LUFS is low") and "0.8 dBTP" in c.message["en"]


def test_interlace_combs_in_a_progressive_flagged_file_only_warn(store):
    rules = store.get("shanxi-2023-microvideo").kinds["video"].content
    strict = rules.model_copy(update={"interlace_detected": rules.interlace_detected.model_copy(
        update={"severity": "required"})})
    il = Interlace(tff=60, bff=1, progressive=2, undetermined=10, verdict="interlaced")
    c = by_rule(judge_content(analysis(interlace=il), strict, scan_type="progressive"))["interlace_detected"]
    assert c.status == "warn" and c.severity == "required"  # idet alone never fails an entry
    assert "top field first" in c.message["en"] and "flagged progressive" in c.message["en"]
    assert "TFF 上场优先" in c.message["zh-CN"]
    confirmed = by_rule(judge_content(analysis(interlace=il), strict, scan_type="interlaced"))
    assert confirmed["interlace_detected"].status == "fail"


def test_interlaced_flag_on_progressive_picture_is_told(shanxi):
    c = by_rule(judge_content(analysis(), shanxi, scan_type="interlaced"))["interlace_detected"]
    assert c.status == "pass" and "only the flag is wrong" in c.message["en"]


def test_no_audio_skips_sound_rules(shanxi):
    c = by_rule(judge_content(analysis(audio_analyzed=False, loudness=None), shanxi))
    assert c["silence"].status == "skip" and c["loudness"].status == "skip"


def test_profile_without_content_section_has_no_content_rules(store):
    assert store.get("kepuri-2023-history-photo").kinds["image"].content is None
    assert judge_content(analysis(), ContentRules()) == []


def test_bad_content_threshold_is_refused_with_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("id: bad\nversion: '1'\ntitle: {zh-CN: 坏, en: bad}\nkinds:\n  video:\n    content:\n"
                 "      static_content:\n        max_ratio: 1.5\n", encoding="utf-8")
    with pytest.raises(ProfileError) as e:
        load_profile(p)
    assert e.value.line == 8 and "max_ratio" in str(e.value)


def test_guangxi_bars_only_warn_and_base_defaults_are_inherited(store):
    rules = store.get("guangxi-2023-kexuepai-video").kinds["video"].content
    b = Borders(frame_width=1920, frame_height=1080, x=656, y=0, width=608, height=1080, kind="pillarbox",
                aspect=0.563, aspect_name="9:16", frames=900)
    c = by_rule(judge_content(analysis(borders=b), rules))
    assert c["borders"].status == "warn" and "9:16" in c["borders"].message["zh-CN"]
    assert rules.black_segments is not None and rules.black_segments.max_opening == 3.0  # from base-video


def test_loudness_of_a_very_short_clip_is_skipped_not_called_silent(shanxi):
    short = Loudness(integrated_lufs=None, range_lu=0, true_peak_dbtp=-17.7)
    c = by_rule(judge_content(analysis(loudness=short), shanxi))["loudness"]
    assert c.status == "skip" and "太短" in c.message["zh-CN"]
