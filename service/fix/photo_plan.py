"""The plan of a photo fix: the output format (JPEG or PNG, as the profile allows), the EXIF
orientation applied, colour converted to sRGB, scaled into the resolution bounds (upscaled only
where the profile allows it), the DPI written, and a size limit to meet. Pure; carried out by
service/fix/photo.py."""

from __future__ import annotations

from typing import Literal

from service.core.checks import Check
from service.core.facts import MediaFacts
from service.core.fix_spec import FixSpec
from service.core.profiles import KindSpec
from service.fix.bitrate import size_window
from service.fix.framing import bounds_scale, upscale_allowed
from service.fix.plan import FixPlan, FixStep, ImageTarget, Reason, message, not_fixed


def plan_image(facts: MediaFacts, open_checks: list[Check], spec: KindSpec, fix: FixSpec,
               reasons: list[Reason], notes: list[dict[str, str]]) -> FixPlan:
    """The plan of a photo: convert, orient, scale, write the DPI, meet the size; unfixable with the reasons."""
    fixable = {c.rule: c for c in open_checks if c.fixable}
    w, h = facts.width or 0, facts.height or 0
    k = bounds_scale(max(w, h), min(w, h), spec.resolution, fix.max_long_edge) if w and h else 1.0
    upscaled = k > 1.001
    if upscaled and not upscale_allowed(spec, fix):
        res = next((c for c in open_checks if c.rule == "resolution"), None)
        if res is not None and res.status == "fail":
            reasons.append(Reason(rule="resolution", message=res.message))
        elif res is not None:
            notes.append(not_fixed(res.message))
        k = 1.0
        upscaled = False
    if reasons:
        return FixPlan(kind="image", mode="unfixable", unfixable=tuple(reasons), notes=tuple(notes))
    if not fixable and k == 1.0:
        return FixPlan(kind="image", mode="none", notes=tuple(notes))
    allowed = spec.image_format.allowed if spec.image_format else ("jpeg", "png")
    current = facts.image_format or ""
    fmt: Literal["jpeg", "png"] = "jpeg"
    if current in ("jpeg", "png") and current in allowed:
        fmt = current  # type: ignore[assignment]
    elif "jpeg" not in allowed and "png" in allowed:
        fmt = "png"
    steps: list[FixStep] = []
    if current != fmt:
        steps.append(FixStep(action="convert_image", params={"from": current, "to": fmt},
                             rules=("image_format",) if "image_format" in fixable else ()))
    if facts.exif_orientation not in (None, 1):
        steps.append(FixStep(action="apply_exif_orientation", params={"orientation": facts.exif_orientation}))
    to_rgb = "color_mode" in fixable or (fmt == "jpeg" and facts.color_mode not in ("RGB", "L"))
    if to_rgb:
        steps.append(FixStep(action="convert_color", rules=("color_mode",) if "color_mode" in fixable else (),
                             params={"from": facts.color_mode, "to": "RGB (sRGB)"}))
    to_srgb = "color_space" in fixable
    if to_srgb:
        steps.append(FixStep(action="convert_to_srgb", rules=("color_space",),
                             params={"from": facts.color_space or "untagged", "to": "sRGB"}))
    tw, th = (max(1, round(w * k)), max(1, round(h * k))) if k != 1.0 else (w, h)
    if k != 1.0:
        steps.append(FixStep(action="upscale" if upscaled else "downscale", rules=("resolution",)
                             if "resolution" in fixable else (), params={"width": tw, "height": th}))
        if upscaled:
            notes.append(message(f"已放大：照片从 {w}×{h} 放大到 {tw}×{th}（配置允许放大）。",
                                  f"Upscaled: the photo was enlarged from {w}×{h} to {tw}×{th} "
                                  "(the profile allows it)."))
    dpi = None
    if "dpi" in fixable and fixable["dpi"].fix is not None:
        dpi = float(fixable["dpi"].fix.params["dpi"])
        steps.append(FixStep(action="set_dpi", rules=("dpi",), params={"dpi": dpi}))
    _, hi = size_window(spec.file_size)
    if "file_size" in fixable:
        steps.append(FixStep(action="reduce_size", rules=("file_size",), params={"max_bytes": hi}))
    image = ImageTarget(format=fmt, width=tw, height=th, to_rgb=to_rgb, to_srgb=to_srgb, quality=fix.jpeg_quality,
                        dpi=dpi,
                        max_bytes=hi, upscaled=upscaled)
    return FixPlan(kind="image", mode="image", steps=tuple(steps), image=image, notes=tuple(notes))
