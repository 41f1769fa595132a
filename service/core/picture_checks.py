"""The judges of the picture: resolution (displayed size, both edges, upscaling only where
the profile allows it), aspect ratio (16:9, 4:3 … within the rule's tolerance; padding or
cropping fixes it), orientation (rotation taken into account), scan type (interlaced or
progressive), frame rate and frame-rate mode, and for photos DPI and animation. Each takes a
rule and the facts and returns an ``Outcome`` (service/core/checks.py); judge.py maps the
rule ids to them. Pure."""

from __future__ import annotations

from service.core.checks import FixAction, Outcome, fmt_range, listed
from service.core.facts import MediaFacts
from service.core.rules import (
    AnimatedRule,
    AspectRule,
    DpiRule,
    FrameRateModeRule,
    FrameRateRule,
    OrientationRule,
    PresenceRule,
    ResolutionRule,
    ScanRule,
)


def resolution(rule: ResolutionRule, f: MediaFacts) -> Outcome:
    if not f.width or not f.height:
        return Outcome(None, "", None, "无法确定分辨率。", "The resolution could not be determined.")
    long_e, short_e = max(f.width, f.height), min(f.width, f.height)
    actual = f"{f.width}×{f.height}"
    if (f.coded_width, f.coded_height) != (f.width, f.height):
        actual += f" (coded {f.coded_width}×{f.coded_height})"
    parts: list[str] = []
    low = high = False
    exact_off = False
    if rule.exact:
        parts.append(f"= {rule.exact.text}")
        if short_e != rule.exact.short_edge or (rule.exact.long_edge and long_e != rule.exact.long_edge):
            exact_off = True
            low = short_e < rule.exact.short_edge or bool(rule.exact.long_edge and long_e < rule.exact.long_edge)
            high = not low
    if rule.min:
        parts.append(f"≥ {rule.min.text}")
        low |= short_e < rule.min.short_edge or bool(rule.min.long_edge and long_e < rule.min.long_edge)
    if rule.min_short_edge:
        parts.append(f"short edge ≥ {rule.min_short_edge}")
        low |= short_e < rule.min_short_edge
    if rule.min_long_edge:
        parts.append(f"long edge ≥ {rule.min_long_edge}")
        low |= long_e < rule.min_long_edge
    if rule.max:
        parts.append(f"≤ {rule.max.text}")
        high |= short_e > rule.max.short_edge or bool(rule.max.long_edge and long_e > rule.max.long_edge)
    expected = ", ".join(parts)
    if not low and not high:
        return Outcome(True, expected, actual, f"显示分辨率 {f.width}×{f.height}，符合要求。",
                       f"Displayed resolution {f.width}×{f.height} meets the rule.")
    if low:
        target = rule.exact or rule.min
        fix = (FixAction(action="scale", params={"upscale": True, "target": target.text if target else None})
               if rule.upscale_allowed else None)
        return Outcome(False, expected, actual,
                       f"显示分辨率 {f.width}×{f.height} 低于要求（{expected}）。"
                       + ("可放大处理，但报告会注明“已放大”。" if fix else "不放大低分辨率画面，须重新拍摄或导出。"),
                       f"Displayed resolution {f.width}×{f.height} is below the rule ({expected}). "
                       + ("It can be upscaled; the report will say so." if fix
                          else "Low-resolution pictures are not upscaled: re-shoot or re-export."), fix)
    target = rule.exact or rule.max
    verb_zh = "不等于" if exact_off else "高于"
    return Outcome(False, expected, actual, f"显示分辨率 {f.width}×{f.height} {verb_zh}要求（{expected}），可自动缩放。",
                   f"Displayed resolution {f.width}×{f.height} is {'not' if exact_off else 'above'} the rule "
                   f"({expected}); it can be scaled down automatically.",
                   FixAction(action="scale", params={"target": target.text if target else None}))


def aspect_ratio(rule: AspectRule, f: MediaFacts) -> Outcome:
    expected = " / ".join(r.text for r in rule.allowed) + f" (±{rule.tolerance:.0%})"
    if not f.width or not f.height:
        return Outcome(None, expected, None, "无法确定画面比例。", "The aspect ratio could not be determined.")
    value = f.width / f.height
    actual = f"{value:.3f} ({f.width}×{f.height})"
    match = next((r for r in rule.allowed if abs(value - r.value) <= rule.tolerance * r.value), None)
    if match:
        return Outcome(True, expected, actual, f"画面比例 {match.text}，符合要求。",
                       f"Aspect ratio {match.text}, as required.")
    nearest = min(rule.allowed, key=lambda r: abs(r.value - value))
    return Outcome(False, expected, actual,
                   f"显示画面比例为 {value:.3f}，要求 {expected}。可加黑边（或按配置裁切）调整为 {nearest.text}。",
                   f"The displayed aspect ratio is {value:.3f}; expected {expected}. It can be padded "
                   f"(or cropped, where the profile says so) to {nearest.text}.",
                   FixAction(action="pad", params={"aspect": nearest.text}))


_ORIENT_ZH = {"landscape": "横屏", "portrait": "竖屏", "square": "方形"}


def orientation(rule: OrientationRule, f: MediaFacts) -> Outcome:
    expected = listed(rule.allowed)
    if f.orientation is None:
        return Outcome(None, expected, None, "无法确定画面方向。", "The orientation could not be determined.")
    rot = f" (rotation {f.rotation}°)" if f.rotation else ""
    if f.orientation in rule.allowed:
        return Outcome(True, expected, f.orientation + rot, f"画面方向：{_ORIENT_ZH[f.orientation]}，符合要求。",
                       f"Orientation: {f.orientation}, as required.")
    want = rule.allowed[0]
    zh_rot = f"（文件带 {f.rotation}° 旋转标记，播放时为{_ORIENT_ZH[f.orientation]}）" if f.rotation else ""
    return Outcome(False, expected, f.orientation + rot,
                   f"画面为{_ORIENT_ZH[f.orientation]}{zh_rot}，要求{'或'.join(_ORIENT_ZH[o] for o in rule.allowed)}。"
                   f"可加黑边转为{_ORIENT_ZH[want]}，但画面会变小；最好重新横屏拍摄。",
                   f"The picture is {f.orientation}{rot}; expected {expected}. Padding to {want} is possible "
                   f"but shrinks the picture; re-shooting is better.",
                   FixAction(action="pad", params={"orientation": want}))


def scan_type(rule: ScanRule, f: MediaFacts) -> Outcome:
    expected = listed(rule.allowed)
    if f.scan_type in (None, "unknown"):
        return Outcome(None, expected, None, "无法确定扫描方式。", "The scan type could not be determined.")
    actual = f.scan_type + (f" ({f.scan_detail})" if f.scan_detail else "")
    if f.scan_type in rule.allowed:
        return Outcome(True, expected, actual, f"扫描方式：{'逐行' if f.scan_type == 'progressive' else '隔行'}，符合要求。",
                       f"Scan type: {f.scan_type}, as required.")
    return Outcome(False, expected, actual,
                   "画面为隔行扫描（1080i 等），“1080p”要求逐行扫描。可自动去隔行。" if f.scan_type == "interlaced"
                   else "画面为逐行扫描，要求隔行扫描。",
                   "The picture is interlaced (1080i and the like); \"1080p\" means progressive. "
                   "Fixable by deinterlacing." if f.scan_type == "interlaced"
                   else "The picture is progressive; interlaced was asked for.",
                   FixAction(action="deinterlace") if f.scan_type == "interlaced" else None)


def frame_rate(rule: FrameRateRule, f: MediaFacts) -> Outcome:
    parts = []
    if rule.allowed:
        parts.append(listed(tuple(f"{r:g}" for r in rule.allowed)))
    if rule.min is not None or rule.max is not None:
        parts.append(fmt_range(rule.min, rule.max, lambda x: f"{x:g}") + " fps")
    expected = ", ".join(parts)
    if not f.frame_rate_fps:
        return Outcome(None, expected, None, "无法确定帧率。", "The frame rate could not be determined.")
    fps = f.frame_rate_fps
    actual = f"{fps:g} fps ({f.frame_rate})"
    ok = True
    if rule.allowed:
        ok &= any(abs(fps - r) <= rule.tolerance for r in rule.allowed)
    if rule.min is not None:
        ok &= fps >= rule.min - rule.tolerance
    if rule.max is not None:
        ok &= fps <= rule.max + rule.tolerance
    if ok:
        return Outcome(True, expected, actual, f"帧率 {fps:g} fps，符合要求。", f"Frame rate {fps:g} fps meets the rule.")
    target = (rule.allowed[0] if rule.allowed else
              min(max(fps, rule.min or fps), rule.max or fps))
    return Outcome(False, expected, actual, f"帧率 {fps:g} fps，要求 {expected}。可自动转换帧率。",
                   f"Frame rate {fps:g} fps; expected {expected}. Fixable by converting the frame rate.",
                   FixAction(action="change_frame_rate", params={"fps": target}))


def frame_rate_mode(rule: FrameRateModeRule, f: MediaFacts) -> Outcome:
    expected = listed(rule.allowed)
    if f.frame_rate_mode in (None, "unknown"):
        return Outcome(None, expected, None, "无法确定帧率模式。", "The frame rate mode could not be determined.")
    actual: str = f.frame_rate_mode
    said = next((n for n in f.disagreements if n.startswith("frame rate mode:")), None)
    if said:  # the two tools disagree: the timestamps decide, and the report says so
        actual += f" (packet timestamps over the file; MediaInfo says {said.rsplit('MediaInfo ', 1)[-1]})"
    if f.frame_rate_mode in rule.allowed:
        return Outcome(True, expected, actual, "帧率模式符合要求。", "The frame rate mode is as required.")
    return Outcome(False, expected, actual,
                   "可变帧率（手机录像常见），部分剪辑和播放软件会音画不同步。可自动转为恒定帧率。",
                   "Variable frame rate (common in phone recordings); some editors and players lose "
                   "audio sync. Fixable by converting to a constant frame rate.",
                   FixAction(action="constant_frame_rate", params={"fps": f.frame_rate_fps}))


def dpi(rule: DpiRule, f: MediaFacts) -> Outcome:
    expected = f"≥ {rule.min:g} dpi"
    if f.dpi is None:
        return Outcome(False, expected, "not recorded", "图片未记录 DPI 信息，可自动写入。",
                       "The image records no DPI; it can be written automatically.",
                       FixAction(action="set_dpi", params={"dpi": rule.min}))
    actual = f"{f.dpi[0]:g}×{f.dpi[1]:g} dpi"
    if min(f.dpi) >= rule.min:
        return Outcome(True, expected, actual, f"DPI {actual}，符合要求。", f"DPI {actual} meets the rule.")
    return Outcome(False, expected, actual, f"DPI 为 {actual}，要求 {expected}（仅为元数据，可自动写入）。",
                   f"DPI is {actual}; expected {expected} (metadata only; can be rewritten).",
                   FixAction(action="set_dpi", params={"dpi": rule.min}))


def animated(rule: AnimatedRule, f: MediaFacts) -> Outcome:
    expected = "animated allowed" if rule.allowed else "still image"
    actual = f"{f.frames} frame(s)" if f.frames else None
    if f.animated is None or rule.allowed or not f.animated:
        return Outcome(True, expected, actual, "静态图片。" if not f.animated else "动图，允许。",
                       "A still image." if not f.animated else "An animated image, allowed.")
    return Outcome(False, expected, actual, f"这是一张动图（{f.frames} 帧），要求静态照片。",
                   f"This is an animated image ({f.frames} frames); a still photo is required.", fixable=False)


def square_pixels(rule: PresenceRule, f: MediaFacts) -> Outcome:
    """Square pixels (sample aspect ratio 1:1): anamorphic video shows stretched in some players."""
    if f.kind != "video":
        return Outcome(None, "SAR 1:1", None, "没有视频流。", "There is no video stream.")
    sar = f.sample_aspect_ratio or "1:1"
    if sar in ("1:1", "0:1") or not rule.required:
        return Outcome(True, "SAR 1:1", sar, "像素为方形（1:1）。", "Square pixels (SAR 1:1).")
    return Outcome(False, "SAR 1:1", sar,
                   f"像素不是方形（SAR {sar}，编码 {f.coded_width}×{f.coded_height}，显示 {f.width}×{f.height}），"
                   "部分播放器会拉伸画面。可缩放为方形像素（重新编码）。",
                   f"Non-square pixels (SAR {sar}, coded {f.coded_width}×{f.coded_height}, shown "
                   f"{f.width}×{f.height}); some players stretch the picture. Fixable by scaling to square "
                   "pixels (re-encoded).", FixAction(action="scale", params={"square_pixels": True}))
