"""What the content rules allow the fixer (service/fix/content_plan.py), pure: facts + checks +
a profile with a ``content:`` section → plan. No media, no tools."""

from __future__ import annotations

from typing import Any

import pytest

from service.core.checks import Check
from service.core.errors import ProfileError
from service.core.fix_spec import FixSpec
from service.core.judge import judge
from service.core.profiles import Profile, load_profile
from service.fix.content_plan import bar_share, loudness_target
from service.fix.framing import frame_geometry
from service.fix.planner import plan_fix
from tests.test_fixplan import VIDEO_RULES, plan_of, video

PORTRAIT = {"width": 1080, "height": 1920, "rotation": 90, "container": "mov"}
"""A phone recording: coded 1920×1080 with a 90° flag, displayed 1080×1920."""

FOUR_THREE = {"width": 1440, "height": 1080, "display_aspect_ratio": 1.3333}


def profile(content: dict[str, Any] | None = None, fix: dict[str, Any] | None = None,
            rules: dict[str, Any] | None = None) -> Profile:
    spec: dict[str, Any] = dict(VIDEO_RULES) | (rules or {})
    if content is not None:
        spec["content"] = content
    if fix is not None:
        spec["fix"] = fix
    data = {"id": "t", "version": "1", "title": {"zh-CN": "测试", "en": "test"}, "size_unit": "binary",
            "kinds": {"video": spec}}
    return Profile.model_validate(data, context={"size_unit": "binary"})


FULL_FRAME = {"borders": {"full_frame": True, "severity": "required"}}
FULL_FRAME_ADVISED = {"borders": {"full_frame": True, "severity": "recommended"}}


@pytest.mark.parametrize("facts", [PORTRAIT, FOUR_THREE], ids=["portrait", "4:3"])
def test_padding_is_not_a_fix_where_full_frame_is_required(facts: dict[str, Any]) -> None:
    plan = plan_of(video(**facts), profile(FULL_FRAME))
    assert plan.mode == "unfixable" and not plan.fixable
    borders = [r for r in plan.unfixable if r.rule == "borders"]
    assert len(borders) == 1
    assert "全画幅" in borders[0].message["zh-CN"] and "重新剪辑" in borders[0].message["zh-CN"]
    assert "re-shoot in landscape" in borders[0].message["en"]
    assert plan.crop is None  # the profile does not allow cropping: nothing is offered


def test_the_shanxi_profile_refuses_a_padded_portrait() -> None:
    shanxi = load_profile("profiles/shanxi-2023-microvideo.yaml")
    facts = video(**PORTRAIT)
    plan = plan_fix(facts, judge(facts, shanxi, "entry.mov"), shanxi)
    assert plan.mode == "unfixable"
    assert "borders" in [r.rule for r in plan.unfixable]


def test_full_frame_recommended_pads_and_warns() -> None:
    plan = plan_of(video(**PORTRAIT), profile(FULL_FRAME_ADVISED))
    assert plan.mode == "reencode" and "pad" in plan.actions()
    assert len(plan.warnings) == 1
    assert "黑边" in plan.warnings[0]["zh-CN"] and "recommends a full frame" in plan.warnings[0]["en"]


def test_without_a_borders_rule_padding_says_nothing() -> None:
    plan = plan_of(video(**PORTRAIT), profile())
    assert plan.mode == "reencode" and "pad" in plan.actions() and plan.warnings == ()


def test_bars_within_the_rules_tolerance_are_no_bars() -> None:
    # 1888×1080 (1.748): within the aspect rule's 2%, padded to 1920: bars of 1.7% < 3% tolerance
    prof = profile(FULL_FRAME, rules={"aspect_ratio": {"allowed": ["16:9"], "tolerance": 0.01}})
    facts = video(width=1888, height=1080, display_aspect_ratio=1.748)
    plan = plan_of(facts, prof)
    assert plan.mode == "reencode" and "pad" in plan.actions()
    geo = frame_geometry(facts, prof.kinds["video"], FixSpec())
    assert 0 < bar_share(geo) < 0.03


def test_crop_allowed_is_offered_with_what_it_keeps_and_not_done_unasked() -> None:
    prof = profile(FULL_FRAME, fix={"crop": "allowed", "upscale_allowed": True})
    plan = plan_of(video(**PORTRAIT), prof)
    assert plan.mode == "unfixable"
    assert plan.crop is not None and not plan.crop.chosen
    assert (plan.crop.edge, round(plan.crop.kept, 2)) == ("height", 0.32)
    assert "保留画面高度的 32%" in plan.crop.message["zh-CN"]
    assert "keeps 32% of the height" in plan.crop.message["en"]
    reason = next(r for r in plan.unfixable if r.rule == "borders")
    assert "allow_crop=true" in reason.message["en"] and "32%" in reason.message["zh-CN"]


def test_crop_chosen_crops_and_says_how_much_is_lost() -> None:
    prof = profile(FULL_FRAME, fix={"crop": "allowed", "upscale_allowed": True})
    facts = video(**PORTRAIT)
    plan = plan_fix(facts, judge(facts, prof, "entry.mov"), prof, allow_crop=True)
    v = plan.video
    assert plan.mode == "reencode" and v is not None
    assert "crop" in plan.actions() and "pad" not in plan.actions()
    assert v.fit == "crop" and (v.width, v.height) == (1920, 1080)
    assert v.upscaled  # 1080 wide cut to 1080×608, enlarged to the 1080p minimum (the profile allows it)
    assert plan.crop is not None and plan.crop.chosen
    assert any("32%" in n["zh-CN"] for n in plan.notes)


def test_a_crop_that_would_need_an_upscale_the_profile_forbids_is_not_offered() -> None:
    prof = profile(FULL_FRAME, fix={"crop": "allowed"})
    facts = video(**PORTRAIT)
    for allow_crop in (False, True):
        plan = plan_fix(facts, judge(facts, prof, "entry.mov"), prof, allow_crop=allow_crop)
        assert plan.mode == "unfixable" and plan.crop is None
        [reason] = plan.unfixable
        assert reason.rule == "borders" and "does not allow upscaling" in reason.message["en"]


def test_four_by_three_crop_keeps_three_quarters_of_the_height() -> None:
    prof = profile(FULL_FRAME, fix={"crop": "allowed", "upscale_allowed": True})
    offer = plan_of(video(**FOUR_THREE), prof).crop
    assert offer is not None and (offer.edge, offer.kept) == ("height", 0.75)


def test_crop_key_is_validated() -> None:
    with pytest.raises(ProfileError):
        load_profile_text("crop: sometimes")


def load_profile_text(fix_line: str) -> Profile:
    import tempfile
    from pathlib import Path

    text = ("id: t\nversion: '1'\ntitle: {zh-CN: 测试, en: test}\nkinds:\n  video:\n"
            f"    container: {{allowed: [mp4]}}\n    fix:\n      {fix_line}\n")
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "t.yaml"
        p.write_text(text, encoding="utf-8")
        return load_profile(p)


def test_loudnorm_target_is_kept_inside_the_content_loudness_rule() -> None:
    prof = profile({"loudness": {"integrated_min": -20, "integrated_max": -12, "true_peak_max": -2}},
                   fix={"loudnorm": True, "loudness": -23, "true_peak": -1})
    spec = prof.kinds["video"]
    assert spec.fix is not None
    loud, notes = loudness_target(spec, spec.fix)
    assert (loud.integrated, loud.true_peak) == (-19.0, -2.5)
    assert notes and "-19" in notes[0]["en"]
    plan = plan_of(video(container="mov"), prof)
    assert plan.video is not None and plan.video.loudnorm is not None
    assert plan.video.loudnorm.integrated == -19.0


def test_content_rule_on_combing_deinterlaces_where_the_stream_rule_allows_interlaced() -> None:
    prof = profile({"interlace_detected": {"allowed": False}},
                   rules={"scan_type": {"allowed": ["progressive", "interlaced"]}})
    plan = plan_of(video(container="mov", scan_type="interlaced"), prof)
    assert plan.mode == "reencode" and "deinterlace" in plan.actions()
    assert plan.video is not None and plan.video.deinterlace
    # without the content rule, a remux keeps the picture as it is
    plain = plan_of(video(container="mov", scan_type="interlaced"),
                    profile(rules={"scan_type": {"allowed": ["progressive", "interlaced"]}}))
    assert plain.mode == "remux"


def _content_check(rule: str) -> Check:
    return Check(rule=rule, status="fail", severity="required", expected="", actual="",
                 message={"zh-CN": "内容", "en": "content"})


def test_a_loudness_failure_of_the_deep_report_is_answered_by_loudnorm_only_when_the_profile_asks() -> None:
    facts = video(container="mov")
    asks = profile({"loudness": {}}, fix={"loudnorm": True})
    plan = plan_fix(facts, [*judge(facts, asks, "entry.mov"), _content_check("loudness")], asks)
    assert plan.mode == "remux" and "loudnorm" in plan.actions()
    assert next(s for s in plan.steps if s.action == "loudnorm").rules == ("loudness",)
    silent = profile({"loudness": {}})
    plan = plan_fix(facts, [*judge(facts, silent, "entry.mov"), _content_check("loudness")], silent)
    assert plan.mode == "unfixable" and [r.rule for r in plan.unfixable] == ["loudness"]


def test_other_content_failures_stay_the_makers_to_fix() -> None:
    facts = video(container="mov")
    prof = profile({"silence": {}})
    plan = plan_fix(facts, [*judge(facts, prof, "entry.mov"), _content_check("silence")], prof)
    assert plan.mode == "unfixable" and [r.rule for r in plan.unfixable] == ["silence"]


def test_the_fix_section_says_why_instead_of_offering_a_button_the_content_rules_refuse() -> None:
    from service.web.fix_view import fix_section

    failing = {"verdict": "fail", "fixable": True}
    reason = {"rule": "borders", "message": {"zh-CN": "本活动要求全画幅", "en": "requires a full frame"}}
    html = fix_section("abc", failing, None, lang="en", token="t", plan={"fixable": False, "reasons": [reason]})
    assert 'id="fix-reasons"' in html and "requires a full frame" in html and 'id="fix-start"' not in html
    lines = [{"zh-CN": "无损重封装", "en": "Lossless remux"}]
    html = fix_section("abc", failing, None, lang="en", token="t",
                       plan={"fixable": True, "preview": {"lines": lines}})
    assert 'id="fix-start" type="button">' in html and "<li>Lossless remux</li>" in html
