"""Judge media facts against a profile. Pure: facts + profile (+ the submitted file name)
in, a list of ``Check`` out. Each check has a stable rule id, a status, what was
expected and found, a bilingual message, and whether (and how) a transcoder could fix it.

A required rule that is missed fails; a recommended one (建议) warns."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.core import units
from service.core.facts import MediaFacts
from service.core.profiles import Profile
from service.core.rules import (
    Alternative,
    AnimatedRule,
    AspectRule,
    BitrateRule,
    CaseChoiceRule,
    ChoiceRule,
    DpiRule,
    DurationRule,
    FilenameRule,
    FrameRateModeRule,
    FrameRateRule,
    OrientationRule,
    PresenceRule,
    ResolutionRule,
    Rule,
    Rules,
    ScanRule,
    SizeRule,
)

Status = Literal["pass", "warn", "fail", "skip"]


class FixAction(BaseModel):
    """What a transcoder would do about a failed check (the fix plan is built from these)."""

    model_config = ConfigDict(frozen=True)

    action: Literal["remux", "transcode_video", "transcode_audio", "scale", "pad", "deinterlace",
                    "constant_frame_rate", "change_frame_rate", "set_bitrate", "faststart",
                    "convert_image", "convert_color", "set_dpi", "rotate"]
    params: dict[str, Any] = Field(default_factory=dict)


class Check(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str
    status: Status
    severity: Literal["required", "recommended"]
    expected: str | None = None
    actual: str | None = None
    message: dict[str, str] = Field(description="keys zh-CN and en")
    fixable: bool = False
    fix: FixAction | None = None
    ambiguous: bool = Field(False, description="the result differs between the two readings of 兆")
    note: dict[str, str] | None = Field(None, description="the profile's reason for this rule")
    segments: list[tuple[float, float]] | None = Field(
        None, description="time ranges (start, end) in seconds that the check points at (deep analysis)")


class _Outcome:
    """What one rule found, before severity turns it into a status."""

    def __init__(self, ok: bool | None, expected: str, actual: str | None, zh: str, en: str,
                 fix: FixAction | None = None, fixable: bool | None = None, ambiguous: bool = False) -> None:
        self.ok, self.expected, self.actual, self.zh, self.en = ok, expected, actual, zh, en
        self.fix = fix
        self.fixable = fixable if fixable is not None else fix is not None
        self.ambiguous = ambiguous


def _list(values: tuple[Any, ...]) -> str:
    return " / ".join(str(v) for v in values)


def _fmt_range(lo: Any, hi: Any, fmt: Callable[[Any], str]) -> str:
    if lo is not None and hi is not None:
        return f"{fmt(lo)} – {fmt(hi)}"
    return f"≥ {fmt(lo)}" if lo is not None else f"≤ {fmt(hi)}"


# ------------------------------------------------------------------ rules


def _choice(label_zh: str, label_en: str, value: str | None, fix: FixAction | None) -> Callable[..., _Outcome]:
    def judge(rule: ChoiceRule | CaseChoiceRule, f: MediaFacts) -> _Outcome:
        expected = _list(rule.allowed)
        if value is None:
            return _Outcome(None, expected, None, f"无法确定{label_zh}。", f"The {label_en} could not be determined.")
        ok = value in rule.allowed
        if ok:
            return _Outcome(True, expected, value, f"{label_zh}为 {value}，符合要求。",
                            f"The {label_en} is {value}, as required.")
        return _Outcome(False, expected, value, f"{label_zh}为 {value}，要求 {expected}。",
                        f"The {label_en} is {value}; expected {expected}.", fix)
    return judge


def _container(rule: ChoiceRule, f: MediaFacts) -> _Outcome:
    target = rule.allowed[0]
    return _choice("封装格式", "container", f.container, FixAction(action="remux", params={"container": target}))(
        rule, f)


def _video_codec(rule: ChoiceRule, f: MediaFacts) -> _Outcome:
    if f.kind != "video":
        return _Outcome(None, _list(rule.allowed), None, "没有视频流。", "There is no video stream.")
    fix = FixAction(action="transcode_video", params={"codec": rule.allowed[0]})
    return _choice("视频编码", "video codec", f.video_codec, fix)(rule, f)


def _audio_codec(rule: ChoiceRule, f: MediaFacts) -> _Outcome:
    if not f.audio_present:
        return _Outcome(None, _list(rule.allowed), None, "没有音轨，不检查音频编码。",
                        "No audio track, so the audio codec is not checked.")
    fix = FixAction(action="transcode_audio", params={"codec": rule.allowed[0]})
    return _choice("音频编码", "audio codec", f.audio_codec, fix)(rule, f)


def _pixel_format(rule: ChoiceRule, f: MediaFacts) -> _Outcome:
    fix = FixAction(action="transcode_video", params={"pixel_format": rule.allowed[0]})
    return _choice("像素格式", "pixel format", f.pixel_format, fix)(rule, f)


def _image_format(rule: ChoiceRule, f: MediaFacts) -> _Outcome:
    fix = FixAction(action="convert_image", params={"format": rule.allowed[0]})
    return _choice("图片格式", "image format", f.image_format, fix)(rule, f)


def _color_mode(rule: CaseChoiceRule, f: MediaFacts) -> _Outcome:
    fix = FixAction(action="convert_color", params={"mode": rule.allowed[0]})
    return _choice("色彩模式", "colour mode", f.color_mode, fix)(rule, f)


def _audio_present(rule: PresenceRule, f: MediaFacts) -> _Outcome:
    if not rule.required:
        return _Outcome(True, "—", str(f.audio_present).lower(), "无音轨要求。", "No audio requirement.")
    if f.audio_present:
        return _Outcome(True, "audio track", f"{f.audio_streams} track(s)", "有音轨。", "An audio track is present.")
    return _Outcome(False, "audio track", "none", "缺少音轨：作品须有配音/解说，无法自动补救（不会凭空生成音频）。",
                    "No audio track: the entry needs narration; this cannot be fixed automatically "
                    "(audio is never invented).", fixable=False)


def _faststart(rule: PresenceRule, f: MediaFacts) -> _Outcome:
    if f.faststart is None:
        return _Outcome(None, "moov before mdat", None, "非 MP4/MOV 文件，不适用。", "Not an MP4/MOV file: not applicable.")
    if f.faststart or not rule.required:
        return _Outcome(True, "moov before mdat", "moov first" if f.faststart else "moov last",
                        "索引（moov）位于文件开头，可边下边播。", "The index (moov) is at the start: the file streams.")
    return _Outcome(False, "moov before mdat", "moov after mdat",
                    "索引（moov）位于文件末尾，网络播放需等整个文件下载完。可自动修复（无损重封装）。",
                    "The index (moov) is at the end, so web playback waits for the whole file. "
                    "Fixable by a lossless remux.", FixAction(action="faststart"))


def _resolution(rule: ResolutionRule, f: MediaFacts) -> _Outcome:
    if not f.width or not f.height:
        return _Outcome(None, "", None, "无法确定分辨率。", "The resolution could not be determined.")
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
        return _Outcome(True, expected, actual, f"显示分辨率 {f.width}×{f.height}，符合要求。",
                        f"Displayed resolution {f.width}×{f.height} meets the rule.")
    if low:
        target = rule.exact or rule.min
        fix = (FixAction(action="scale", params={"upscale": True, "target": target.text if target else None})
               if rule.upscale_allowed else None)
        return _Outcome(False, expected, actual,
                        f"显示分辨率 {f.width}×{f.height} 低于要求（{expected}）。"
                        + ("可放大处理，但报告会注明“已放大”。" if fix else "不放大低分辨率画面，须重新拍摄或导出。"),
                        f"Displayed resolution {f.width}×{f.height} is below the rule ({expected}). "
                        + ("It can be upscaled; the report will say so." if fix
                           else "Low-resolution pictures are not upscaled: re-shoot or re-export."), fix)
    target = rule.exact or rule.max
    verb_zh = "不等于" if exact_off else "高于"
    return _Outcome(False, expected, actual, f"显示分辨率 {f.width}×{f.height} {verb_zh}要求（{expected}），可自动缩放。",
                    f"Displayed resolution {f.width}×{f.height} is {'not' if exact_off else 'above'} the rule "
                    f"({expected}); it can be scaled down automatically.",
                    FixAction(action="scale", params={"target": target.text if target else None}))


def _aspect_ratio(rule: AspectRule, f: MediaFacts) -> _Outcome:
    expected = " / ".join(r.text for r in rule.allowed) + f" (±{rule.tolerance:.0%})"
    if not f.width or not f.height:
        return _Outcome(None, expected, None, "无法确定画面比例。", "The aspect ratio could not be determined.")
    value = f.width / f.height
    actual = f"{value:.3f} ({f.width}×{f.height})"
    match = next((r for r in rule.allowed if abs(value - r.value) <= rule.tolerance * r.value), None)
    if match:
        return _Outcome(True, expected, actual, f"画面比例 {match.text}，符合要求。",
                        f"Aspect ratio {match.text}, as required.")
    nearest = min(rule.allowed, key=lambda r: abs(r.value - value))
    return _Outcome(False, expected, actual,
                    f"显示画面比例为 {value:.3f}，要求 {expected}。可加黑边（或按配置裁切）调整为 {nearest.text}。",
                    f"The displayed aspect ratio is {value:.3f}; expected {expected}. It can be padded "
                    f"(or cropped, where the profile says so) to {nearest.text}.",
                    FixAction(action="pad", params={"aspect": nearest.text}))


_ORIENT_ZH = {"landscape": "横屏", "portrait": "竖屏", "square": "方形"}


def _orientation(rule: OrientationRule, f: MediaFacts) -> _Outcome:
    expected = _list(rule.allowed)
    if f.orientation is None:
        return _Outcome(None, expected, None, "无法确定画面方向。", "The orientation could not be determined.")
    rot = f" (rotation {f.rotation}°)" if f.rotation else ""
    if f.orientation in rule.allowed:
        return _Outcome(True, expected, f.orientation + rot, f"画面方向：{_ORIENT_ZH[f.orientation]}，符合要求。",
                        f"Orientation: {f.orientation}, as required.")
    want = rule.allowed[0]
    zh_rot = f"（文件带 {f.rotation}° 旋转标记，播放时为{_ORIENT_ZH[f.orientation]}）" if f.rotation else ""
    return _Outcome(False, expected, f.orientation + rot,
                    f"画面为{_ORIENT_ZH[f.orientation]}{zh_rot}，要求{'或'.join(_ORIENT_ZH[o] for o in rule.allowed)}。"
                    f"可加黑边转为{_ORIENT_ZH[want]}，但画面会变小；最好重新横屏拍摄。",
                    f"The picture is {f.orientation}{rot}; expected {expected}. Padding to {want} is possible "
                    f"but shrinks the picture; re-shooting is better.",
                    FixAction(action="pad", params={"orientation": want}))


def _scan_type(rule: ScanRule, f: MediaFacts) -> _Outcome:
    expected = _list(rule.allowed)
    if f.scan_type in (None, "unknown"):
        return _Outcome(None, expected, None, "无法确定扫描方式。", "The scan type could not be determined.")
    actual = f.scan_type + (f" ({f.scan_detail})" if f.scan_detail else "")
    if f.scan_type in rule.allowed:
        return _Outcome(True, expected, actual, f"扫描方式：{'逐行' if f.scan_type == 'progressive' else '隔行'}，符合要求。",
                        f"Scan type: {f.scan_type}, as required.")
    return _Outcome(False, expected, actual,
                    "画面为隔行扫描（1080i 等），“1080p”要求逐行扫描。可自动去隔行。" if f.scan_type == "interlaced"
                    else "画面为逐行扫描，要求隔行扫描。",
                    "The picture is interlaced (1080i and the like); \"1080p\" means progressive. "
                    "Fixable by deinterlacing." if f.scan_type == "interlaced"
                    else "The picture is progressive; interlaced was asked for.",
                    FixAction(action="deinterlace") if f.scan_type == "interlaced" else None)


def _frame_rate(rule: FrameRateRule, f: MediaFacts) -> _Outcome:
    parts = []
    if rule.allowed:
        parts.append(_list(tuple(f"{r:g}" for r in rule.allowed)))
    if rule.min is not None or rule.max is not None:
        parts.append(_fmt_range(rule.min, rule.max, lambda x: f"{x:g}") + " fps")
    expected = ", ".join(parts)
    if not f.frame_rate_fps:
        return _Outcome(None, expected, None, "无法确定帧率。", "The frame rate could not be determined.")
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
        return _Outcome(True, expected, actual, f"帧率 {fps:g} fps，符合要求。", f"Frame rate {fps:g} fps meets the rule.")
    target = (rule.allowed[0] if rule.allowed else
              min(max(fps, rule.min or fps), rule.max or fps))
    return _Outcome(False, expected, actual, f"帧率 {fps:g} fps，要求 {expected}。可自动转换帧率。",
                    f"Frame rate {fps:g} fps; expected {expected}. Fixable by converting the frame rate.",
                    FixAction(action="change_frame_rate", params={"fps": target}))


def _frame_rate_mode(rule: FrameRateModeRule, f: MediaFacts) -> _Outcome:
    expected = _list(rule.allowed)
    if f.frame_rate_mode in (None, "unknown"):
        return _Outcome(None, expected, None, "无法确定帧率模式。", "The frame rate mode could not be determined.")
    if f.frame_rate_mode in rule.allowed:
        return _Outcome(True, expected, f.frame_rate_mode, "帧率模式符合要求。", "The frame rate mode is as required.")
    return _Outcome(False, expected, f.frame_rate_mode,
                    "可变帧率（手机录像常见），部分剪辑和播放软件会音画不同步。可自动转为恒定帧率。",
                    "Variable frame rate (common in phone recordings); some editors and players lose "
                    "audio sync. Fixable by converting to a constant frame rate.",
                    FixAction(action="constant_frame_rate", params={"fps": f.frame_rate_fps}))


def _duration(rule: DurationRule, f: MediaFacts) -> _Outcome:
    lo, hi = rule.window()
    expected = _fmt_range(lo, hi, units.human_duration)
    if rule.about is not None:
        expected = f"≈ {units.human_duration(rule.about)} ({expected})"
    if f.duration_s is None:
        return _Outcome(None, expected, None, "无法确定时长。", "The duration could not be determined.")
    d = f.duration_s
    actual = f"{units.human_duration(d)} ({d:.2f} s, {f.duration_source})"
    if rule.inclusive:
        ok = (lo is None or d >= lo) and (hi is None or d <= hi)
    else:
        ok = (lo is None or d > lo) and (hi is None or d < hi)
    if ok:
        return _Outcome(True, expected, actual, f"时长 {units.human_duration(d)}，符合要求（{expected}）。",
                        f"Duration {units.human_duration(d)} is within {expected}.")
    short = lo is not None and d < lo
    return _Outcome(False, expected, actual,
                    f"时长 {units.human_duration(d)}，{'短于' if short else '超过'}要求（{expected}）。"
                    "时长无法自动修复，请重新剪辑。",
                    f"Duration {units.human_duration(d)} is {'shorter' if short else 'longer'} than allowed "
                    f"({expected}). Duration cannot be fixed automatically: please re-edit.", fixable=False)


def _file_size(rule: SizeRule, f: MediaFacts) -> _Outcome:
    lo, hi = rule.min, rule.max
    bounds_main: tuple[int | None, int | None]
    bounds_alt: tuple[int | None, int | None]
    if rule.about is not None:
        pct = float((rule.tolerance or "0%").strip()[:-1]) / 100
        lo_b, hi_b = int(rule.about.bytes * (1 - pct)), int(rule.about.bytes * (1 + pct))
        bounds_main = (lo_b, hi_b)
        alt = rule.about.alt_bytes
        bounds_alt = (int(alt * (1 - pct)), int(alt * (1 + pct))) if alt else bounds_main
        expected_text = f"≈ {rule.about.text} ±{rule.tolerance}"
    else:
        bounds_main = (lo.bytes if lo else None, hi.bytes if hi else None)
        bounds_alt = (lo.alt_bytes or lo.bytes if lo else None, hi.alt_bytes or hi.bytes if hi else None)
        expected_text = _fmt_range(lo.text if lo else None, hi.text if hi else None, str)

    def within(b: tuple[int | None, int | None]) -> bool:
        return (b[0] is None or f.size_bytes >= b[0]) and (b[1] is None or f.size_bytes <= b[1])

    def show(b: tuple[int | None, int | None]) -> str:
        return _fmt_range(b[0], b[1], lambda n: f"{n:,} B")

    expected = f"{expected_text} [{show(bounds_main)}]"
    ambiguous = bounds_alt != bounds_main and within(bounds_main) != within(bounds_alt)
    if bounds_alt != bounds_main:
        expected += f"; other reading of 兆: [{show(bounds_alt)}]"
    actual = f"{f.size_bytes:,} B = {units.human_bytes(f.size_bytes)}"
    ok = within(bounds_main)
    if ok and not ambiguous:
        return _Outcome(True, expected, actual, f"文件大小 {units.human_bytes(f.size_bytes)}，符合要求。",
                        f"File size {units.human_bytes(f.size_bytes)} meets the rule.")
    if ok and ambiguous:  # passes this profile's reading: a warning, never a silent pass
        return _Outcome(True, expected, actual,
                        f"文件大小 {units.human_bytes(f.size_bytes)} 处于“兆”的两种理解之间：按本配置的读法合格，"
                        "按另一种读法不合格。请留意主办方的理解。",
                        f"File size {units.human_bytes(f.size_bytes)} lies between the two readings of 兆: it "
                        "meets this profile's reading but not the other. Mind how the organiser reads it.",
                        ambiguous=True)
    big = bounds_main[1] is not None and f.size_bytes > bounds_main[1]
    band = "（该大小处于“兆”的两种理解之间）" if ambiguous else ""
    band_en = " (it lies between the two readings of 兆)" if ambiguous else ""
    fixable = f.kind in ("video", "audio", "image") and (big or f.kind != "image")
    return _Outcome(False, expected, actual,
                    f"文件大小 {units.human_bytes(f.size_bytes)}，{'超过' if big else '小于'}要求（{expected_text}）{band}。"
                    + ("可按目标码率重新编码到范围内。" if fixable else ""),
                    f"File size {units.human_bytes(f.size_bytes)} is {'above' if big else 'below'} the rule "
                    f"({expected_text}){band_en}." + (" Fixable by re-encoding at a target bitrate." if fixable else ""),
                    FixAction(action="set_bitrate", params={"min_bytes": bounds_main[0], "max_bytes": bounds_main[1]})
                    if fixable else None, ambiguous=ambiguous)


def _bitrate(rule: BitrateRule, f: MediaFacts) -> _Outcome:
    expected = _fmt_range(rule.min, rule.max, lambda b: f"{b / 1e6:g} Mbps")
    if not f.bitrate:
        return _Outcome(None, expected, None, "无法确定码率。", "The bitrate could not be determined.")
    actual = f"{f.bitrate / 1e6:.2f} Mbps"
    ok = (rule.min is None or f.bitrate >= rule.min) and (rule.max is None or f.bitrate <= rule.max)
    if ok:
        return _Outcome(True, expected, actual, f"码率 {actual}，符合要求。", f"Bitrate {actual} meets the rule.")
    return _Outcome(False, expected, actual, f"码率 {actual}，要求 {expected}。可重新编码。",
                    f"Bitrate {actual}; expected {expected}. Fixable by re-encoding.",
                    FixAction(action="set_bitrate", params={"min_bps": rule.min, "max_bps": rule.max}))


def _dpi(rule: DpiRule, f: MediaFacts) -> _Outcome:
    expected = f"≥ {rule.min:g} dpi"
    if f.dpi is None:
        return _Outcome(False, expected, "not recorded", "图片未记录 DPI 信息，可自动写入。",
                        "The image records no DPI; it can be written automatically.",
                        FixAction(action="set_dpi", params={"dpi": rule.min}))
    actual = f"{f.dpi[0]:g}×{f.dpi[1]:g} dpi"
    if min(f.dpi) >= rule.min:
        return _Outcome(True, expected, actual, f"DPI {actual}，符合要求。", f"DPI {actual} meets the rule.")
    return _Outcome(False, expected, actual, f"DPI 为 {actual}，要求 {expected}（仅为元数据，可自动写入）。",
                    f"DPI is {actual}; expected {expected} (metadata only; can be rewritten).",
                    FixAction(action="set_dpi", params={"dpi": rule.min}))


def _animated(rule: AnimatedRule, f: MediaFacts) -> _Outcome:
    expected = "animated allowed" if rule.allowed else "still image"
    actual = f"{f.frames} frame(s)" if f.frames else None
    if f.animated is None or rule.allowed or not f.animated:
        return _Outcome(True, expected, actual, "静态图片。" if not f.animated else "动图，允许。",
                        "A still image." if not f.animated else "An animated image, allowed.")
    return _Outcome(False, expected, actual, f"这是一张动图（{f.frames} 帧），要求静态照片。",
                    f"This is an animated image ({f.frames} frames); a still photo is required.", fixable=False)


_JUDGES: dict[str, Callable[[Any, MediaFacts], _Outcome]] = {
    "container": _container, "video_codec": _video_codec, "audio_codec": _audio_codec,
    "audio_present": _audio_present, "resolution": _resolution, "aspect_ratio": _aspect_ratio,
    "orientation": _orientation, "scan_type": _scan_type, "frame_rate": _frame_rate,
    "frame_rate_mode": _frame_rate_mode, "duration": _duration, "file_size": _file_size, "bitrate": _bitrate,
    "pixel_format": _pixel_format, "faststart": _faststart, "image_format": _image_format,
    "color_mode": _color_mode, "dpi": _dpi, "animated": _animated,
}
"""Rule id → judge. Rule ids are an API: add freely, never rename."""


def _to_check(rule_id: str, rule: Rule, o: _Outcome) -> Check:
    if o.ok is None:
        status: Status = "skip"
    elif o.ok:
        status = "pass"
    else:
        status = "fail" if rule.severity == "required" else "warn"
    if o.ambiguous and status == "pass":
        status = "warn"
    return Check(rule=rule_id, status=status, severity=rule.severity, expected=o.expected, actual=o.actual,
                 message={"zh-CN": o.zh, "en": o.en}, fixable=bool(o.fixable and o.ok is False),
                 fix=o.fix if o.ok is False else None, ambiguous=o.ambiguous,
                 note=rule.note.as_dict() if rule.note else None)


def _judge_rules(rules: Rules, facts: MediaFacts) -> list[Check]:
    return [_to_check(rid, rule, _JUDGES[rid](rule, facts)) for rid, rule in rules.items()]


def _alternative(alt: Alternative, facts: MediaFacts) -> Check:
    options = [_judge_rules(opt, facts) for opt in alt.any_of]
    passing = next((i for i, checks in enumerate(options) if all(c.status == "pass" for c in checks)), None)
    expected = " OR ".join(" AND ".join(f"{c.rule} {c.expected}" for c in checks) for checks in options)
    actual = "; ".join(f"{c.rule}: {c.actual}" for checks in options for c in checks)
    title = alt.title.as_dict() if alt.title else {"zh-CN": alt.id, "en": alt.id}
    if passing is not None:
        met = options[passing]
        zh = f"{title['zh-CN']}：满足其中一项（{'、'.join(c.message['zh-CN'] for c in met)}）"
        en = f"{title['en']}: one option is met ({' '.join(c.message['en'] for c in met)})"
        return Check(rule=alt.id, status="pass", severity=alt.severity, expected=expected, actual=actual,
                     message={"zh-CN": zh, "en": en})
    fixes = [c for checks in options if all(c.fixable for c in checks if c.status != "pass") for c in checks
             if c.status != "pass"]
    zh = f"{title['zh-CN']}：各项均不满足（{'；'.join(c.message['zh-CN'] for o in options for c in o)}）"
    en = f"{title['en']}: no option is met ({' '.join(c.message['en'] for o in options for c in o)})"
    return Check(rule=alt.id, status="fail" if alt.severity == "required" else "warn", severity=alt.severity,
                 expected=expected, actual=actual, message={"zh-CN": zh, "en": en},
                 fixable=bool(fixes), fix=fixes[0].fix if fixes else None)


def _filename(rule: FilenameRule, name: str) -> Check:
    ok = re.fullmatch(rule.pattern, name) is not None
    example = f"（例如 {rule.example}）" if rule.example else ""
    example_en = f" (e.g. {rule.example})" if rule.example else ""
    return _to_check("filename", rule, _Outcome(
        ok, rule.example or rule.pattern, name,
        "文件名符合命名要求。" if ok else f"文件名“{name}”不符合命名要求{example}，请改名后重新提交。",
        "The file name follows the naming rule." if ok else
        f"The file name \"{name}\" does not follow the naming rule{example_en}; rename it and resubmit.",
        fixable=False))


def judge(facts: MediaFacts, profile: Profile, file_name: str | None = None) -> list[Check]:
    """All checks of ``facts`` against ``profile``: readable, media_kind, then the rules
    of the matching kind in a fixed order, its alternatives, and the file-name rule."""
    checks = [Check(rule="readable", status="pass", severity="required", expected="readable media",
                    actual=facts.container, message={"zh-CN": "文件可读取。", "en": "The file is readable."})]
    if facts.truncated:
        checks[0] = Check(rule="readable", status="fail", severity="required", expected="complete file",
                          actual="truncated", message={
                              "zh-CN": "文件不完整（被截断），可能是上传或拷贝中断，请重新导出或上传。",
                              "en": "The file is truncated (an interrupted upload or copy?): re-export or upload again."})
    kinds = tuple(profile.kinds)
    spec = profile.kinds.get(facts.kind)  # type: ignore[arg-type]
    if spec is None:
        zh_kind = {"video": "视频", "image": "图片", "audio": "音频", "unknown": "未知"}
        checks.append(Check(
            rule="media_kind", status="fail", severity="required", expected=_list(kinds), actual=facts.kind,
            message={"zh-CN": f"本活动接受{'或'.join(zh_kind[k] for k in kinds)}，收到的是{zh_kind[facts.kind]}文件。",
                     "en": f"This campaign accepts {' or '.join(kinds)}; this file is {facts.kind}."}))
        return checks
    checks.append(Check(rule="media_kind", status="pass", severity="required", expected=_list(kinds),
                        actual=facts.kind, message={"zh-CN": "媒体类型符合要求。", "en": "The media kind is accepted."}))
    checks += _judge_rules(spec, facts)
    checks += [_alternative(alt, facts) for alt in spec.alternatives]
    if profile.filename and file_name is not None:
        checks.append(_filename(profile.filename, file_name))
    return checks
