"""The fix plan, pure: facts + checks + profile → plan. No media, no tools."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from service.core.errors import ProfileError
from service.core.facts import MediaFacts
from service.core.judge import judge
from service.core.profiles import Profile, load_profile
from service.fix.bitrate import (
    CONTAINER_OVERHEAD,
    audio_first_needed,
    corrected_bitrate,
    retry_target,
    size_window,
    target_bytes,
    video_bitrate_for,
)
from service.fix.framing import snap_fps
from service.fix.plan import FixPlan
from service.fix.planner import plan_fix
from service.fix.steps import describe_step

MiB = 1 << 20

VIDEO_RULES: dict[str, Any] = {
    "container": {"allowed": ["mp4"]},
    "video_codec": {"allowed": ["h264"], "severity": "recommended"},
    "audio_codec": {"allowed": ["aac"], "severity": "recommended"},
    "audio_present": {"required": True},
    "resolution": {"min": "1080p"},
    "aspect_ratio": {"allowed": ["16:9"], "tolerance": 0.01},
    "orientation": {"allowed": ["landscape"]},
    "scan_type": {"allowed": ["progressive"]},
    "frame_rate_mode": {"allowed": ["constant"], "severity": "recommended"},
    "faststart": {"required": True, "severity": "recommended"},
    "duration": {"min": "2min", "max": "5min"},
    "file_size": {"min": "100兆", "max": "300兆"},
}


def profile(kind: str = "video", rules: dict[str, Any] | None = None, fix: dict[str, Any] | None = None,
            size_unit: str = "binary") -> Profile:
    spec = dict(VIDEO_RULES if rules is None and kind == "video" else rules or {})
    if fix is not None:
        spec["fix"] = fix
    data = {"id": "t", "version": "1", "title": {"zh-CN": "测试", "en": "test"}, "size_unit": size_unit,
            "kinds": {kind: spec}}
    return Profile.model_validate(data, context={"size_unit": size_unit})


def video(**over: Any) -> MediaFacts:
    """Facts of a 3-minute 1080p H.264/AAC MP4 of 200 MiB that passes VIDEO_RULES."""
    base: dict[str, Any] = dict(
        kind="video", container="mp4", size_bytes=200 * MiB, duration_s=180.0, width=1920, height=1080,
        coded_width=1920, coded_height=1080, rotation=0, sample_aspect_ratio="1:1", display_aspect_ratio=1.7778,
        orientation="landscape", frame_rate="25/1", frame_rate_fps=25.0, frame_rate_mode="constant",
        scan_type="progressive", video_codec="h264", pixel_format="yuv420p", audio_present=True, audio_streams=1,
        audio_codec="aac", audio_channels=2, audio_sample_rate=48000, faststart=True)
    base.update(over)
    if "width" in over or "height" in over:
        w, h = base["width"], base["height"]
        base["orientation"] = "landscape" if w > h else "portrait" if h > w else "square"
    return MediaFacts(**base)


def image(**over: Any) -> MediaFacts:
    base: dict[str, Any] = dict(kind="image", container="jpeg", image_format="jpeg", size_bytes=3 * MiB,
                                width=4000, height=3000, coded_width=4000, coded_height=3000,
                                orientation="landscape", color_mode="RGB", frames=1, animated=False,
                                exif_orientation=1)
    base.update(over)
    return MediaFacts(**base)


def plan_of(facts: MediaFacts, prof: Profile | None = None) -> FixPlan:
    prof = prof or profile()
    return plan_fix(facts, judge(facts, prof, "entry.mp4"), prof)


def test_a_passing_file_needs_no_fix() -> None:
    plan = plan_of(video())
    assert plan.mode == "none" and plan.steps == () and not plan.fixable


@pytest.mark.parametrize("over, actions", [
    ({"container": "mov", "major_brand": "qt  "}, ["remux"]),
    ({"faststart": False}, ["remux"]),
    ({"container": "mkv", "faststart": None}, ["remux"]),
])
def test_container_and_index_problems_are_remuxed_without_reencoding(over: dict, actions: list[str]) -> None:
    plan = plan_of(video(**over))
    assert plan.mode == "remux"
    assert plan.actions() == actions
    assert plan.video is not None and plan.video.copy_video and plan.video.audio == "copy"
    assert plan.video.container == "mp4"


def test_a_remux_with_foreign_audio_encodes_only_the_audio() -> None:
    plan = plan_of(video(container="mov", audio_codec="pcm_s16le"))
    assert plan.mode == "remux"
    assert plan.actions() == ["remux", "encode_audio"]
    assert plan.video is not None and plan.video.copy_video and plan.video.audio == "aac"
    assert plan.video.sample_rate == 48000


def test_hevc_in_mov_is_reencoded_not_remuxed() -> None:
    plan = plan_of(video(container="mov", video_codec="hevc"))
    assert plan.mode == "reencode"
    assert plan.actions()[0] == "encode_video"
    assert "video_codec" in plan.steps[0].rules


def test_rotated_phone_video_is_turned_and_padded_to_landscape() -> None:
    # coded 1920×1080 with a 90° flag: displayed portrait 1080×1920
    plan = plan_of(video(width=1080, height=1920, rotation=90, container="mov"))
    v = plan.video
    assert plan.mode == "reencode" and v is not None
    assert "rotate" in plan.actions() and "pad" in plan.actions()
    assert (v.width, v.height) == (1920, 1080)
    assert (v.picture_width, v.picture_height) == (608, 1080)
    assert not v.upscaled


def test_four_by_three_is_padded_to_sixteen_by_nine_at_the_same_height() -> None:
    plan = plan_of(video(width=1440, height=1080, display_aspect_ratio=1.3333))
    v = plan.video
    assert plan.mode == "reencode" and v is not None
    assert (v.width, v.height, v.picture_width, v.picture_height) == (1920, 1080, 1440, 1080)
    pad = next(s for s in plan.steps if s.action == "pad")
    assert pad.rules == ("aspect_ratio",)
    assert "scale" not in plan.actions()  # the picture keeps its size


def test_crop_fit_crops_instead_of_padding() -> None:
    rules = {k: v for k, v in VIDEO_RULES.items() if k != "resolution"}
    plan = plan_of(video(width=1440, height=1080), profile(rules=rules, fix={"fit": "crop"}))
    v = plan.video
    assert v is not None and "crop" in plan.actions()
    assert (v.width, v.height, v.picture_width, v.picture_height) == (1440, 810, 1440, 1080)


def test_non_square_pixels_are_scaled_to_square() -> None:
    # 1440×1080 coded with SAR 4:3 displays as 1920×1080
    plan = plan_of(video(coded_width=1440, sample_aspect_ratio="4:3", faststart=False, video_codec="mpeg2video"))
    v = plan.video
    assert v is not None and v.scale and (v.picture_width, v.picture_height) == (1920, 1080)
    assert next(s for s in plan.steps if s.action == "scale").params["square_pixels"] is True


def test_only_an_interlaced_picture_is_deinterlaced() -> None:
    assert "deinterlace" in plan_of(video(scan_type="interlaced")).actions()
    assert "deinterlace" not in plan_of(video(scan_type="progressive", video_codec="hevc")).actions()


def test_variable_frame_rate_becomes_constant_at_a_standard_rate() -> None:
    plan = plan_of(video(frame_rate_mode="variable", frame_rate="2987/100", frame_rate_fps=29.87))
    assert plan.video is not None and plan.video.fps == "30000/1001"
    step = next(s for s in plan.steps if s.action == "constant_frame_rate")
    assert step.rules == ("frame_rate_mode",)


@pytest.mark.parametrize("fps, snapped", [(29.87, Fraction(30000, 1001)), (24.3, Fraction(24)), (25.0, Fraction(25)),
                                          (59.2, Fraction(60000, 1001)), (12.0, Fraction(12))])
def test_snap_fps(fps: float, snapped: Fraction) -> None:
    assert snap_fps(fps) == snapped


@pytest.mark.parametrize("size_mib", [40, 400])
def test_a_size_outside_the_window_gets_a_bitrate_aimed_at_its_middle(size_mib: int) -> None:
    plan = plan_of(video(size_bytes=size_mib * MiB))
    v = plan.video
    assert plan.mode == "reencode" and v is not None and v.rate_control == "cbr"
    lo, hi = 100 * MiB, 300 * 10**6  # both readings of 兆 hold: binary minimum, decimal maximum
    assert (v.min_bytes, v.max_bytes) == (lo, hi)
    assert v.target_bytes == lo + (hi - lo) // 2
    expected = int(v.target_bytes * 8 / 180 / (1 + CONTAINER_OVERHEAD)) - 160_000
    assert v.video_bitrate == expected
    assert "file_size" in next(s for s in plan.steps if s.action == "set_bitrate").rules


def test_two_pass_can_be_chosen_in_the_profile() -> None:
    plan = plan_of(video(size_bytes=40 * MiB), profile(fix={"rate_control": "two_pass", "preset": "medium"}))
    assert plan.video is not None and plan.video.rate_control == "two_pass" and plan.video.preset == "medium"


def test_a_lone_maximum_caps_a_quality_encode() -> None:
    rules = dict(VIDEO_RULES, file_size={"max": "300兆"})
    plan = plan_of(video(size_bytes=400 * MiB), profile(rules=rules))
    assert plan.video is not None and plan.video.rate_control == "capped_crf" and plan.video.crf == 20
    assert plan.video.target_bytes == int(300 * 10**6 * 0.9)


def test_without_a_size_rule_the_encode_is_constant_quality() -> None:
    rules = {k: v for k, v in VIDEO_RULES.items() if k != "file_size"}
    plan = plan_of(video(video_codec="hevc"), profile(rules=rules))
    assert plan.video is not None and plan.video.rate_control == "crf" and plan.video.video_bitrate is None


@pytest.mark.parametrize("over, rule, words", [
    ({"duration_s": 60.0}, "duration", "re-edit"),
    ({"audio_present": False, "audio_streams": 0, "audio_codec": None}, "audio_present", "never invented"),
    ({"width": 1280, "height": 720}, "resolution", "not upscaled"),
])
def test_unfixable_failures_say_why(over: dict, rule: str, words: str) -> None:
    plan = plan_of(video(**over))
    assert plan.mode == "unfixable" and not plan.fixable and plan.steps == ()
    reason = next(r for r in plan.unfixable if r.rule == rule)
    assert words in reason.message["en"] and reason.message["zh-CN"]


def test_upscaling_only_where_the_profile_allows_it_and_then_it_says_so() -> None:
    plan = plan_of(video(width=1280, height=720), profile(fix={"upscale_allowed": True}))
    assert plan.mode == "reencode" and plan.video is not None and plan.video.upscaled
    assert (plan.video.width, plan.video.height) == (1920, 1080)
    assert "upscale" in plan.actions()
    assert any("Upscaled" in n["en"] and "已放大" in n["zh-CN"] for n in plan.notes)


def test_a_maximum_too_small_for_the_duration_is_unfixable() -> None:
    rules = dict(VIDEO_RULES, file_size={"max": "2兆"}, duration={"max": "5min"})
    plan = plan_of(video(), profile(rules=rules))
    assert plan.mode == "unfixable" and plan.unfixable[0].rule == "file_size"
    assert "too small" in plan.unfixable[0].message["en"]


def test_a_minimum_too_large_for_a_short_clip_is_unfixable() -> None:
    rules = dict(VIDEO_RULES, file_size={"min": "1GiB"}, duration={"max": "5min"})
    plan = plan_of(video(duration_s=10.0, size_bytes=MiB), profile(rules=rules))
    assert plan.mode == "unfixable" and "too short" in plan.unfixable[0].message["en"]


def test_loudnorm_is_planned_when_the_profile_asks() -> None:
    plan = plan_of(video(container="mov"), profile(fix={"loudnorm": True, "loudness": -16}))
    assert plan.mode == "remux" and "loudnorm" in plan.actions()
    assert plan.video is not None and plan.video.loudnorm is not None
    assert plan.video.loudnorm.integrated == -16 and plan.video.audio == "aac" and plan.video.sample_rate == 48000


# ---------------------------------------------------------------- numbers


def test_size_window_uses_the_intersection_of_both_readings() -> None:
    prof = profile()
    assert size_window(prof.kinds["video"].file_size) == (100 * MiB, 300_000_000)
    dec = profile(size_unit="decimal")
    assert size_window(dec.kinds["video"].file_size) == (100 * MiB, 300_000_000)


@pytest.mark.parametrize("lo, hi, pos, want", [
    (100, 300, 0.5, 200), (100, 1000, 0.5, 200), (None, 300, 0.5, 270), (100, None, 0.5, 110), (None, None, 0.5, None),
])
def test_target_bytes(lo: int | None, hi: int | None, pos: float, want: int | None) -> None:
    assert target_bytes(lo, hi, pos) == want


def test_bitrate_and_its_correction_land_on_the_target() -> None:
    b = video_bitrate_for(150 * MiB, 200.0, 160_000)
    assert abs((b + 160_000) * 200 / 8 * (1 + CONTAINER_OVERHEAD) - 150 * MiB) < 1000
    assert corrected_bitrate(1_000_000, 100_000, got_bytes=110, want_bytes=100) == 900_000


# ---------------------------------------------------------------- photos

PHOTO_RULES = {"image_format": {"allowed": ["jpeg"]}, "color_mode": {"allowed": ["RGB", "L"]},
               "resolution": {"max": "4000x4000", "min_long_edge": 1920, "severity": "recommended"},
               "file_size": {"max": "20兆"}, "animated": {"allowed": False}}


def test_heic_with_exif_orientation_becomes_an_upright_jpeg() -> None:
    plan = plan_of(image(image_format="heif", container="heif", exif_orientation=6, width=3000, height=4000,
                         orientation="portrait"), profile("image", PHOTO_RULES))
    assert plan.mode == "image" and plan.image is not None
    assert plan.actions()[:2] == ["convert_image", "apply_exif_orientation"]
    assert plan.image.format == "jpeg" and (plan.image.width, plan.image.height) == (3000, 4000)


def test_cmyk_becomes_srgb() -> None:
    plan = plan_of(image(color_mode="CMYK"), profile("image", PHOTO_RULES))
    assert plan.image is not None and plan.image.to_rgb and "convert_color" in plan.actions()


def test_a_photo_above_the_maximum_is_downscaled_keeping_its_aspect() -> None:
    plan = plan_of(image(width=8000, height=6000), profile("image", PHOTO_RULES))
    assert plan.image is not None and (plan.image.width, plan.image.height) == (4000, 3000)
    assert "downscale" in plan.actions()


def test_a_small_photo_is_never_upscaled_by_default() -> None:
    plan = plan_of(image(width=1200, height=900, image_format="png", container="png"), profile("image", PHOTO_RULES))
    assert plan.image is not None and (plan.image.width, plan.image.height) == (1200, 900)
    assert "upscale" not in plan.actions()
    assert any("Not fixed" in n["en"] for n in plan.notes)


def test_an_animated_image_is_unfixable() -> None:
    plan = plan_of(image(animated=True, frames=12, image_format="gif", container="gif"), profile("image", PHOTO_RULES))
    assert plan.mode == "unfixable" and plan.unfixable[0].rule == "animated"


def test_every_step_has_a_bilingual_description() -> None:
    plan = plan_of(video(width=1080, height=1920, rotation=90, size_bytes=40 * MiB, container="mov",
                         scan_type="interlaced", frame_rate_mode="variable", frame_rate_fps=29.9))
    for step in plan.steps:
        text = describe_step(step)
        assert "{" not in text["zh-CN"] + text["en"] and text["zh-CN"] != text["en"]


# ---------------------------------------------------------------- profile language


def test_the_fix_section_is_optional_and_validated(tmp_path: Path) -> None:
    assert profile().kinds["video"].fix is None
    p = profile(fix={"target_resolution": "1280x720", "fit": "crop", "loudnorm": True, "auto": True})
    fix = p.kinds["video"].fix
    assert fix is not None and fix.target_resolution is not None and fix.target_resolution.long_edge == 1280
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nversion: '1'\ntitle: {zh-CN: 坏, en: bad}\nkinds:\n  video:\n"
                   "    duration: {max: 5min}\n    fix:\n      preset: turbo\n", encoding="utf-8")
    with pytest.raises(ProfileError) as e:
        load_profile(bad)
    assert e.value.line == 8 and "preset" in str(e.value)


def test_shipped_profiles_still_load(store) -> None:
    for pid in store.ids():
        assert store.get(pid).id == pid


def test_a_file_name_wrong_only_in_its_extension_is_fixed_by_the_new_extension() -> None:
    data = {"id": "t", "version": "1", "title": {"zh-CN": "测试", "en": "test"},
            "kinds": {"video": {"container": {"allowed": ["mp4"]}}},
            "filename": {"pattern": r"^作品-[^-]+\.mp4$", "example": "作品-张三.mp4"}}
    prof = Profile.model_validate(data, context={"size_unit": "binary"})
    facts = video(container="mov")
    ok = plan_fix(facts, judge(facts, prof, "作品-张三.mov"), prof)
    assert ok.mode == "remux" and ok.unfixable == ()
    bad = plan_fix(facts, judge(facts, prof, "张三的视频.mov"), prof)
    assert bad.mode == "unfixable" and bad.unfixable[0].rule == "filename"


def test_the_audio_goes_first_only_where_its_size_could_miss_the_window() -> None:
    mib = 2**20
    # 20 s at 160 kbit/s is 0.4 MB of audio; a 20–30 MiB window aimed at 25 has 5 MiB of room each way
    assert audio_first_needed(25 * mib, 20 * mib, 30 * mib, 160_000, 20.0) is False
    # 5 min of audio (6 MB) in a 100–110 MB window aimed at 105: 5 MB of room, the audio could push it out
    assert audio_first_needed(105_000_000, 100_000_000, 110_000_000, 160_000, 300.0) is True
    # the nearer edge counts: aimed half a MiB under the maximum
    assert audio_first_needed(int(29.5 * mib), 20 * mib, 30 * mib, 160_000, 20.0) is True
    # a lone maximum or minimum; no window, no audio, no duration: nothing to aim, no audio pass
    assert audio_first_needed(90 * mib, None, 100 * mib, 160_000, 60.0) is False
    assert audio_first_needed(None, None, None, 160_000, 300.0) is False
    assert audio_first_needed(25 * mib, 20 * mib, 30 * mib, 0, 20.0) is False
    assert audio_first_needed(25 * mib, 20 * mib, 30 * mib, 160_000, 0.0) is False


def test_a_retry_aims_safely_inside_the_window() -> None:
    # the first attempt aimed 256 bytes above the minimum and landed 3% low: the retry aims 2% in
    assert retry_target(153_856, 153_600, 409_600) == int(153_600 + 0.02 * 153_856)
    assert retry_target(409_000, 153_600, 409_600) == int(409_600 - 0.02 * 409_000)
    assert retry_target(300_000, 153_600, 409_600) == 300_000  # well inside: unchanged
    assert retry_target(992, 990, 1010) == 995  # a narrow window: a quarter of it at most
    assert retry_target(500, 490, None) == 500 and retry_target(500, None, 505) == 495
