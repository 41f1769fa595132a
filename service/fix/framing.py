"""The frame of a re-encode. Pure: from the displayed picture and the rules (orientation,
aspect ratio, resolution, the fix section's target and fit) to the output frame W×H, the
picture pw×ph inside it (padded or cropped), and whether that upscales; plus the standard
frame rate a variable-rate recording is snapped to, and whether the profile allows upscaling."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from service.core.facts import MediaFacts
from service.core.fix_spec import FixSpec
from service.core.profiles import KindSpec
from service.core.rules import ResolutionRule

STANDARD_FPS = (Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
                Fraction(50), Fraction(60000, 1001), Fraction(60))
"""Frame rates a variable-rate recording is snapped to when made constant."""


def even(x: float) -> int:
    """The nearest even integer ≥ 2 (yuv420p needs even dimensions)."""
    return max(2, int(round(x / 2.0)) * 2)


def snap_fps(fps: float) -> Fraction:
    """The standard rate nearest ``fps`` (within 5%), else ``fps`` rounded to 1/1000."""
    best = min(STANDARD_FPS, key=lambda f: abs(float(f) - fps))
    if abs(float(best) - fps) <= 0.05 * fps:
        return best
    return Fraction(round(fps * 1000), 1000)


def _oriented(long_e: int, short_e: int, orientation: str) -> tuple[int, int]:
    return (short_e, long_e) if orientation == "portrait" else (long_e, short_e)


def bounds_scale(long_e: float, short_e: float, rule: ResolutionRule | None, extra_max: int | None = None
                  ) -> float:
    """The uniform factor that brings a frame inside the resolution rule's bounds (1 = none)."""
    up, down = 1.0, 1.0
    if rule is not None:
        for b in (rule.min, rule.exact):
            if b is not None:
                up = max(up, b.short_edge / short_e, (b.long_edge or 0) / long_e)
        if rule.min_short_edge:
            up = max(up, rule.min_short_edge / short_e)
        if rule.min_long_edge:
            up = max(up, rule.min_long_edge / long_e)
        if rule.max is not None:
            down = min(down, rule.max.short_edge / short_e, (rule.max.long_edge or long_e) / long_e)
    if extra_max:
        down = min(down, extra_max / long_e)
    return up if up > 1.0 else down


def frame_geometry(facts: MediaFacts, spec: KindSpec, fix: FixSpec) -> dict[str, Any]:
    """Frame W×H, picture pw×ph inside it, and whether that upscales, for a re-encode."""
    dw, dh = facts.width or 0, facts.height or 0
    src_o = facts.orientation or "landscape"
    out_o = src_o
    if spec.orientation is not None and src_o not in spec.orientation.allowed:
        out_o = spec.orientation.allowed[0]
    src_aspect = dw / dh
    exact = fix.target_resolution or (spec.resolution.exact if spec.resolution else None)
    w: float
    h: float
    if exact is not None and exact.long_edge:
        w, h = _oriented(exact.long_edge, exact.short_edge, out_o)
        aspect = w / h
    else:
        aspect = src_aspect
        rule = spec.aspect_ratio
        if rule is not None:
            matches = any(abs(src_aspect - r.value) <= rule.tolerance * r.value for r in rule.allowed)
            if out_o != src_o or not matches:
                fitting = [r.value for r in rule.allowed if (r.value >= 1) == (out_o != "portrait")]
                aspect = min(fitting or [r.value for r in rule.allowed], key=lambda v: abs(v - src_aspect))
        elif out_o != src_o:
            aspect = {"landscape": 16 / 9, "portrait": 9 / 16, "square": 1.0}[out_o]
        # the frame that holds the picture at its own size (pad) or inside it (crop)
        if (src_aspect > aspect) == (fix.fit == "pad"):
            w, h = float(dw), dw / aspect
        else:
            w, h = dh * aspect, float(dh)
        if out_o != src_o and fix.fit == "pad":  # turned frame: the source's short edge stays the frame's
            # (a crop keeps the cut-out at its own size: bounds_scale below enlarges it only if a rule asks)
            k = min(dw, dh) / min(w, h)
            w, h = w * k, h * k
        k = bounds_scale(max(w, h), min(w, h), spec.resolution)
        if exact is not None:  # exact short edge only ("1080p")
            k = exact.short_edge / min(w, h)
        w, h = w * k, h * k
    w_i, h_i = even(w), even(h)
    s = min(w_i / dw, h_i / dh) if fix.fit == "pad" else max(w_i / dw, h_i / dh)
    pw, ph = even(dw * s), even(dh * s)
    if fix.fit == "pad":
        pw, ph = min(pw, w_i), min(ph, h_i)
    else:
        pw, ph = max(pw, w_i), max(ph, h_i)
    return {"width": w_i, "height": h_i, "picture_width": pw, "picture_height": ph, "factor": s,
            "upscale": s > 1.001, "orientation": out_o}


def upscale_allowed(spec: KindSpec, fix: FixSpec) -> bool:
    """Whether the profile allows enlarging the picture: the fix section says so, else the resolution rule."""
    if fix.upscale_allowed is not None:
        return fix.upscale_allowed
    return bool(spec.resolution and spec.resolution.upscale_allowed)
