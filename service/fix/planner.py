"""Plan a fix: ``plan_fix`` turns the facts of a file, its checks and the profile into a
``FixPlan`` (service/fix/plan.py). It sorts the failed and warned checks: those a fix answers,
those it cannot (a required one is a reason the file is unfixable; a missed recommendation is
a note), a file name whose only fault is its extension (the fixed file gets the right one);
then video_plan.py chooses remux or re-encode, photo_plan.py plans a photo. Pure.

Never invent: duration (but a video just over its maximum has its end cut: a ``trim`` step),
missing audio, missing EXIF and low resolution (unless upscaling is allowed, and then the plan
says "upscaled") are reasons, not steps (docs/fixing.md)."""

from __future__ import annotations

from pathlib import PurePath

from service.core.checks import Check
from service.core.facts import MediaFacts
from service.core.fix_spec import FixSpec
from service.core.profiles import Profile
from service.core.size_checks import file_name
from service.fix.content_plan import answered_by_fix
from service.fix.photo_plan import plan_image
from service.fix.plan import FixPlan, Reason, message, not_fixed
from service.fix.video_plan import plan_video


def plan_fix(facts: MediaFacts, checks: list[Check], profile: Profile, *, allow_crop: bool = False) -> FixPlan:
    """The plan for one file: from its failed (and warned) checks, its facts and the profile (its
    rules, its content rules and its ``fix:`` section). ``allow_crop``: the submitter chose to crop
    where the profile requires a full frame and allows cropping (service/fix/content_plan.py)."""
    open_checks = [c for c in checks if c.status in ("fail", "warn")]
    if not open_checks:
        return FixPlan(kind=facts.kind, mode="none", duration_s=facts.duration_s)
    spec = profile.kinds.get(facts.kind)  # type: ignore[arg-type]
    if facts.kind not in ("video", "image") or spec is None:
        return FixPlan(kind=facts.kind, mode="unfixable", unfixable=(Reason(rule="media_kind", message=message(
            "只能自动修复视频和照片。", "Only videos and photos can be fixed automatically.")),))
    fix = spec.fix or FixSpec()
    reasons: list[Reason] = []
    notes: list[dict[str, str]] = []
    for c in open_checks:
        if c.fixable or c.rule == "resolution":  # resolution is decided by the geometry below
            continue
        if c.rule == "filename" and _renamed_name_passes(c, profile, facts.kind):
            continue  # only the extension was wrong: the fixed file gets the right one
        if answered_by_fix(c, facts, spec, fix):
            continue  # a content finding the fix answers (loudnorm, deinterlace): the re-check judges it
        if c.status == "fail":
            reasons.append(Reason(rule=c.rule, message=c.message))
        else:
            notes.append(not_fixed(c.message))
    if facts.kind == "image":
        return plan_image(facts, open_checks, spec, fix, reasons, notes)
    return plan_video(facts, open_checks, spec, fix, reasons, notes, allow_crop=allow_crop)


def output_suffix(kind: str, profile: Profile) -> str:
    """The extension the fixed file gets: .jpg/.png for photos, .mp4/.mov for videos."""
    spec = profile.kinds.get(kind)  # type: ignore[call-overload]
    if kind == "image":
        allowed = spec.image_format.allowed if spec is not None and spec.image_format else ("jpeg",)
        return ".png" if "jpeg" not in allowed and "png" in allowed else ".jpg"
    allowed = spec.container.allowed if spec is not None and spec.container else ("mp4",)
    return ".mov" if "mp4" not in allowed and "mov" in allowed else ".mp4"


def _renamed_name_passes(check: Check, profile: Profile, kind: str) -> bool:
    spec = profile.kinds.get(kind)  # type: ignore[call-overload]
    rule = (spec.filename if spec is not None else None) or profile.filename
    if rule is None or rule.pattern is None or not check.actual:
        return False
    renamed = PurePath(check.actual).stem + output_suffix(kind, profile)
    return file_name(rule, renamed).ok is True
