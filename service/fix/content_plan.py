"""What a profile's content rules (``content:``, judged by the deep analysis) allow the fixer.
Pure. A fix must not make a file that the campaign's own deep check rejects:

- **The frame** (``choose_frame``): padding adds black bars. Where ``content.borders`` asks for
  a full frame and is required, padding is not a fix: the entry is unfixable (re-edit or
  re-shoot in landscape) unless the ``fix:`` section says ``crop: allowed`` — then the plan
  offers a crop and says how much of the picture it keeps, and crops only when the submitter
  chose it (``allow_crop``). A crop that would need an upscale the profile forbids is not
  offered. Where full frame is only recommended, the plan pads and warns.
  Bars narrower than the rule's tolerance are not bars (the detector ignores them too).
- **Loudness** (``loudness_target``): the loudnorm target is kept inside the content rule's
  window and under its true-peak ceiling, with a margin.
- **Interlacing** (``deinterlace_wanted``): a picture flagged interlaced is deinterlaced
  when ``content.interlace_detected`` does not allow combing, even where the stream rule would.
- A content check the original already fails (its deep report) that the fix answers
  (``answered_by_fix``): loudness when the profile normalises it, combing when the picture is
  deinterlaced. Every other content finding is the maker's to fix.

Silence is not planned for: loudnorm in linear mode shifts the whole track by one gain, and
whether a quiet stretch then falls under the silence threshold is known only by measuring the
output — which the re-check does (deep, when the campaign runs the deep analysis)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from service.core.checks import Check
from service.core.content_rules import BordersRule
from service.core.facts import MediaFacts
from service.core.fix_spec import FixSpec
from service.core.profiles import KindSpec
from service.fix.framing import frame_geometry, upscale_allowed
from service.fix.plan import Crop, Loudnorm, Reason, message

TRUE_PEAK_MARGIN_DB = 0.5
"""The loudnorm true-peak target stays this far under the content rule's ceiling (linear
loudnorm can overshoot its target by a few tenths)."""

LOUDNESS_MARGIN_LU = 1.0
"""A loudnorm target outside the content rule's window is moved this far inside it."""


@dataclass
class FrameChoice:
    """The frame of a re-encode as the content rules allow it."""

    geo: dict[str, Any] | None
    fit: Literal["pad", "crop"]
    reasons: list[Reason] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    crop: Crop | None = None


def bar_share(geo: dict[str, Any]) -> float:
    """The share of the frame's width or height (the larger) that padding fills with black."""
    return max(1 - geo["picture_width"] / geo["width"], 1 - geo["picture_height"] / geo["height"])


def crop_of(geo: dict[str, Any], chosen: bool) -> Crop | None:
    """How much of the picture the cropped geometry ``geo`` keeps (None when it crops nothing)."""
    kw, kh = geo["width"] / geo["picture_width"], geo["height"] / geo["picture_height"]
    if min(kw, kh) >= 0.999:
        return None
    edge: Literal["width", "height"] = "width" if kw < kh else "height"
    kept = min(kw, kh)
    pct = round(kept * 100)
    zh_edge = "宽度" if edge == "width" else "高度"
    return Crop(edge=edge, kept=round(kept, 4), chosen=chosen, message=message(
        f"裁切：保留画面{zh_edge}的 {pct}%，其余 {100 - pct}% 被裁掉。",
        f"Crop: keeps {pct}% of the {edge} of the picture; the other {100 - pct}% is cut off."))


def borders_rule(spec: KindSpec) -> BordersRule | None:
    """The content rule on black bars, when it asks for a full frame."""
    rule = spec.content.borders if spec.content is not None else None
    return rule if rule is not None and rule.full_frame else None


def choose_frame(facts: MediaFacts, spec: KindSpec, fix: FixSpec, *, changes_picture: bool,
                 allow_crop: bool = False) -> FrameChoice:
    """The frame (``frame_geometry``) with padding or cropping as the content rules allow;
    ``changes_picture``: the plan re-encodes (a remux never pads)."""
    if not facts.width or not facts.height:
        return FrameChoice(None, fix.fit)
    geo = frame_geometry(facts, spec, fix)
    if fix.fit == "crop":
        crop = crop_of(geo, chosen=True)
        return FrameChoice(geo, "crop", notes=[crop.message] if crop else [], crop=crop)
    rule = borders_rule(spec)
    if not changes_picture or rule is None or bar_share(geo) <= rule.tolerance:
        return FrameChoice(geo, "pad")
    if rule.severity == "recommended":
        return FrameChoice(geo, "pad", warnings=[message(
            f"已加黑边：画面 {geo['picture_width']}×{geo['picture_height']} 放在 {geo['width']}×{geo['height']} "
            "的画幅中。本活动建议全画幅，修复后的文件在深度检查中会有“黑边”提醒；最好用横屏原始素材重新导出。",
            f"Padded: the picture {geo['picture_width']}×{geo['picture_height']} sits in a "
            f"{geo['width']}×{geo['height']} frame with black bars. This campaign recommends a full frame, so "
            "the deep check will warn about the bars; re-exporting from landscape footage is better.")])
    cropped = frame_geometry(facts, spec, fix.model_copy(update={"fit": "crop"}))
    crop = crop_of(cropped, chosen=allow_crop and fix.crop == "allowed")
    full_zh = ("本活动要求全画幅（不能有黑边）：竖屏或 4:3 的画面加黑边后仍不合格，自动修复无法解决。"
               "请重新剪辑为 16:9 全画幅，或横屏重新拍摄。")
    full_en = ("This campaign requires a full frame (no black bars): a vertical or 4:3 picture padded with bars "
               "still fails, so an automatic fix cannot help. Re-edit it to fill the frame, or re-shoot in "
               "landscape.")
    if fix.crop == "allowed" and crop is not None and cropped["upscale"] and not upscale_allowed(spec, fix):
        full_zh += "裁切后的画面低于分辨率要求，而本活动不允许放大，所以也不能裁切。"
        full_en += (" Cropping would leave a picture below the resolution rule, and this campaign does not allow "
                    "upscaling.")
        crop = None
    if fix.crop != "allowed" or crop is None:
        return FrameChoice(geo, "pad", reasons=[Reason(rule="borders", message=message(full_zh, full_en))])
    if crop.chosen:
        return FrameChoice(cropped, "crop", notes=[crop.message], crop=crop)
    return FrameChoice(geo, "pad", crop=crop, reasons=[Reason(rule="borders", message=message(
        full_zh + f"也可以改为{crop.message['zh-CN']}（选择“裁切”后再修复：allow_crop=true / --crop）",
        full_en + f" You may choose to crop instead. {crop.message['en']} (Choose cropping to fix: "
        "allow_crop=true / --crop.)"))])


def loudness_target(spec: KindSpec, fix: FixSpec) -> tuple[Loudnorm, list[dict[str, str]]]:
    """The loudnorm target, kept inside the content loudness rule (with a note when it was moved)."""
    integrated, peak = fix.loudness, fix.true_peak
    rule = spec.content.loudness if spec.content is not None else None
    if rule is not None:
        if rule.integrated_max is not None and integrated > rule.integrated_max:
            integrated = rule.integrated_max - LOUDNESS_MARGIN_LU
        if rule.integrated_min is not None and integrated < rule.integrated_min:
            integrated = rule.integrated_min + LOUDNESS_MARGIN_LU
        if rule.true_peak_max is not None:
            peak = min(peak, rule.true_peak_max - TRUE_PEAK_MARGIN_DB)
    peak = max(peak, -9.0)
    notes = []
    if integrated != fix.loudness:
        notes.append(message(
            f"响度目标由 {fix.loudness:g} 改为 {integrated:g} LUFS，以符合本活动的响度要求。",
            f"Loudness target moved from {fix.loudness:g} to {integrated:g} LUFS to meet the campaign's "
            "loudness rule."))
    return Loudnorm(integrated=integrated, true_peak=peak, loudness_range=fix.loudness_range), notes


def deinterlace_wanted(facts: MediaFacts, spec: KindSpec) -> bool:
    """Whether an interlaced picture must be deinterlaced: the stream rule or the content rule says so."""
    if facts.scan_type != "interlaced":
        return False
    if spec.scan_type is None or "interlaced" not in spec.scan_type.allowed:
        return True
    rule = spec.content.interlace_detected if spec.content is not None else None
    return rule is not None and not rule.allowed and rule.severity == "required"


def answered_by_fix(check: Check, facts: MediaFacts, spec: KindSpec, fix: FixSpec) -> bool:
    """Whether the fix answers a failed content check of the original's deep report."""
    if check.rule == "loudness":
        return fix.loudnorm and facts.audio_present
    if check.rule == "interlace_detected":
        return deinterlace_wanted(facts, spec)
    return False
