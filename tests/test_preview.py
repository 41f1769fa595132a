"""What a fix will do, before it runs (service/fix/preview.py), pure: plan + facts → lines, size, time."""

from __future__ import annotations

import pytest

from service.fix.preview import DEEP_S_PER_MEDIA_S, ENCODE_S_PER_MEDIA_S, preview
from tests.test_fixplan import MiB, plan_of, profile, video


def test_a_remux_is_lossless_takes_seconds_and_keeps_the_size() -> None:
    facts = video(container="mov", size_bytes=200 * MiB, duration_s=130.0)
    view = preview(plan_of(facts), facts)
    assert view.mode == "remux" and view.lossless
    assert view.estimated_bytes == 200 * MiB and not view.size_is_maximum
    assert view.estimated_seconds is not None and view.estimated_seconds < 5
    assert view.lines[0]["en"].startswith("Lossless remux") and "about 1 s" in view.lines[0]["en"]
    assert view.lines[0]["zh-CN"].startswith("无损重封装")


def test_a_portrait_reencode_takes_minutes_lands_in_the_window_and_says_it_pads() -> None:
    # the phone video: 2 min 10 s, displayed 1080×1920 at 30 fps
    facts = video(width=1080, height=1920, rotation=90, container="mov", duration_s=130.0, frame_rate="30/1",
                  frame_rate_fps=30.0, size_bytes=62 * MiB)
    plan = plan_of(facts)
    view = preview(plan, facts)
    assert view.mode == "reencode" and not view.lossless and view.fit == "pad"
    assert view.estimated_seconds == pytest.approx(130 * ENCODE_S_PER_MEDIA_S + 130 * 0.03, rel=0.01)
    assert plan.video is not None and view.estimated_bytes == plan.video.target_bytes
    assert 100 * MiB <= (view.estimated_bytes or 0) <= 300 * MiB
    text = " ".join(line["en"] for line in view.lines)
    assert "Re-encode (lossy)" in text and "about 3 min" in text and "Padded: the picture 608×1080" in text
    assert "Expected size: about 1" in text
    deep = preview(plan, facts, deep=True)
    assert deep.estimated_seconds == pytest.approx(
        (view.estimated_seconds or 0) + 130 * DEEP_S_PER_MEDIA_S * 30 / 25, rel=0.01)
    assert "content analysis included" in deep.lines[-1]["en"]


def test_a_slower_preset_and_two_pass_take_longer() -> None:
    facts = video(video_codec="mpeg4")
    fast = preview(plan_of(facts), facts).estimated_seconds or 0
    slow = preview(plan_of(facts, profile(fix={"preset": "slow", "rate_control": "two_pass"})), facts)
    assert (slow.estimated_seconds or 0) == pytest.approx(fast * 2.0 * 1.5, rel=0.05)


def test_an_unfixable_plan_has_no_estimate() -> None:
    facts = video(duration_s=30.0)
    view = preview(plan_of(facts), facts)
    assert view.mode == "unfixable" and view.estimated_seconds is None and view.lines == ()
