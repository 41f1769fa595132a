"""The judges of how long and how big a file is, and what it is called: duration (inclusive
bounds or ≈ with a tolerance; never fixable), file size (under both readings of 兆: a size
between them warns, never passes silently), bitrate, and the submitted file name against the
profile's pattern. Each takes a rule and returns an ``Outcome`` (service/core/checks.py);
judge.py maps the rule ids to them. Pure."""

from __future__ import annotations

import math
import re

from service.core import units
from service.core.checks import FixAction, Outcome, fmt_range
from service.core.facts import MediaFacts
from service.core.rules import BitrateRule, DurationRule, FilenameRule, SizeRule

MAX_AUDIO_PADDING_S = 0.1
"""Audio running at most this far past the picture is padding (AAC's last frame and priming),
forgiven at a duration bound by default; more is content."""


def bound_slack(rule: DurationRule, f: MediaFacts) -> tuple[float, str, str]:
    """How far past an inclusive bound a duration still meets it, and why (zh, en): the
    profile's ``bound_tolerance``, else one frame of the picture or the audio's padding past it."""
    if rule.bound_tolerance is not None:
        return rule.bound_tolerance, "配置的容差", "the profile's tolerance"
    frame = 1 / f.frame_rate_fps if f.kind == "video" and f.frame_rate_fps else 0.0
    pad = 0.0
    if f.audio_duration_s is not None and f.video_duration_s is not None:
        over = f.audio_duration_s - f.video_duration_s
        pad = over if 0 < over <= MAX_AUDIO_PADDING_S else 0.0
    if pad > frame:
        return pad, "音频超出画面的填充", "the audio's padding past the picture"
    return frame, "一帧", "one frame"


def measured_duration(rule: DurationRule, f: MediaFacts) -> tuple[float | None, str | None]:
    """The duration judged and where it comes from: the container's, or the picture's with ``measure: picture``."""
    if rule.measure == "picture" and f.kind == "video" and f.video_duration_s:
        return f.video_duration_s, "video_stream"
    return f.duration_s, f.duration_source


def duration(rule: DurationRule, f: MediaFacts) -> Outcome:
    lo, hi = rule.window()
    expected = fmt_range(lo, hi, units.human_duration)
    if rule.about is not None:
        expected = f"≈ {units.human_duration(rule.about)} ({expected})"
    d, source = measured_duration(rule, f)
    if d is None:
        return Outcome(None, expected, None, "无法确定时长。", "The duration could not be determined.")
    actual = f"{units.human_duration(d)} ({d:.2f} s, {source})"
    if rule.inclusive:
        ok = (lo is None or d >= lo) and (hi is None or d <= hi)
    else:
        ok = (lo is None or d > lo) and (hi is None or d < hi)
    if ok:
        return Outcome(True, expected, actual, f"时长 {units.human_duration(d)}，符合要求（{expected}）。",
                       f"Duration {units.human_duration(d)} is within {expected}.")
    short = lo is not None and (d < lo or (not rule.inclusive and d <= lo))
    bound = lo if short and lo is not None else hi if hi is not None else d
    shown, limit = units.distinct_durations(d, bound)
    actual = f"{shown} ({d:.3f} s, {source})"
    slack, why_zh, why_en = bound_slack(rule, f) if rule.inclusive else (0.0, "", "")
    if slack and abs(d - bound) <= slack + 1e-9:
        return Outcome(True, expected, actual,
                       f"时长 {shown}，{'短于下限' if short else '超出上限'} {limit} 的部分在{why_zh}"
                       f"（{slack:.3f} 秒）以内，视为符合要求（{expected}）。",
                       f"Duration {shown} is {'under' if short else 'over'} the bound {limit} by less than "
                       f"{why_en} ({slack:.3f} s), so it meets {expected}.")
    over = d - bound
    if not short and f.kind == "video" and over <= rule.trim_max:
        picture = f.video_duration_s
        cut = bound
        if f.frame_rate_fps:  # on a frame boundary: a stream copy keeps every frame that starts before the cut
            cut = math.floor(bound * f.frame_rate_fps + 1e-6) / f.frame_rate_fps
        cut = min(cut, picture) if picture else cut
        cut_picture = max(0.0, (picture or d) - cut)
        trim = FixAction(action="trim", params={"end_s": round(cut, 6), "over_s": round(over, 6),
                                                "picture_cut_s": round(cut_picture, 6)})
        what_zh = f"其中画面 {cut_picture:.2f} 秒" if cut_picture > 0.0005 else "只剪掉画面之后的音频"
        what_en = f"{cut_picture:.2f} s of it picture" if cut_picture > 0.0005 else "only sound past the picture"
        return Outcome(False, expected, actual,
                       f"时长 {shown}，超过上限 {limit}（多 {over:.3f} 秒）。可自动修复：在 "
                       f"{units.human_duration(cut, 3)} 处截断结尾（{what_zh}）；无须重新编码时为无损处理。",
                       f"Duration {shown} is over the maximum {limit} by {over:.3f} s. Fixable: the end is cut "
                       f"at {units.human_duration(cut, 3)} ({what_en}), losslessly unless something else needs "
                       "re-encoding.", trim)
    return Outcome(False, expected, actual,
                   f"时长 {shown}，{'短于下限' if short else '超过上限'} {limit}（要求 {expected}）。"
                   "时长无法自动修复，请重新剪辑。",
                   f"Duration {shown} is {'shorter' if short else 'longer'} than allowed ({limit}; rule "
                   f"{expected}). Duration cannot be fixed automatically: please re-edit.", fixable=False)


def file_size(rule: SizeRule, f: MediaFacts) -> Outcome:
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
        expected_text = fmt_range(lo.text if lo else None, hi.text if hi else None, str)

    def within(b: tuple[int | None, int | None]) -> bool:
        return (b[0] is None or f.size_bytes >= b[0]) and (b[1] is None or f.size_bytes <= b[1])

    def show(b: tuple[int | None, int | None]) -> str:
        return fmt_range(b[0], b[1], lambda n: f"{n:,} B")

    expected = f"{expected_text} [{show(bounds_main)}]"
    ambiguous = bounds_alt != bounds_main and within(bounds_main) != within(bounds_alt)
    if bounds_alt != bounds_main:
        expected += f"; other reading of 兆: [{show(bounds_alt)}]"
    actual = f"{f.size_bytes:,} B = {units.human_bytes(f.size_bytes)}"
    ok = within(bounds_main)
    if ok and not ambiguous:
        return Outcome(True, expected, actual, f"文件大小 {units.human_bytes(f.size_bytes)}，符合要求。",
                       f"File size {units.human_bytes(f.size_bytes)} meets the rule.")
    if ok and ambiguous:  # passes this profile's reading: a warning, never a silent pass
        return Outcome(True, expected, actual,
                       f"文件大小 {units.human_bytes(f.size_bytes)} 处于“兆”的两种理解之间：按本配置的读法合格，"
                       "按另一种读法不合格。请留意主办方的理解。",
                       f"File size {units.human_bytes(f.size_bytes)} lies between the two readings of 兆: it "
                       "meets this profile's reading but not the other. Mind how the organiser reads it.",
                       ambiguous=True)
    big = bounds_main[1] is not None and f.size_bytes > bounds_main[1]
    band = "（该大小处于“兆”的两种理解之间）" if ambiguous else ""
    band_en = " (it lies between the two readings of 兆)" if ambiguous else ""
    fixable = f.kind in ("video", "audio", "image") and (big or f.kind != "image")
    bound = bounds_main[1] if big else bounds_main[0]
    if bound is not None and units.human_bytes(bound) == units.human_bytes(f.size_bytes):  # never two equal numbers
        off = abs(f.size_bytes - bound)
        band += f"（精确值 {f.size_bytes:,} 字节，{'多于' if big else '少于'}界限 {bound:,} 字节 {off:,} 字节）"
        band_en += f" (exactly {f.size_bytes:,} bytes, {off:,} {'over' if big else 'under'} the bound {bound:,})"
    return Outcome(False, expected, actual,
                   f"文件大小 {units.human_bytes(f.size_bytes)}，{'超过' if big else '小于'}要求（{expected_text}）{band}。"
                   + ("可按目标码率重新编码到范围内。" if fixable else ""),
                   f"File size {units.human_bytes(f.size_bytes)} is {'above' if big else 'below'} the rule "
                   f"({expected_text}){band_en}." + (" Fixable by re-encoding at a target bitrate." if fixable else ""),
                   FixAction(action="set_bitrate", params={"min_bytes": bounds_main[0], "max_bytes": bounds_main[1]})
                   if fixable else None, ambiguous=ambiguous)


def bitrate(rule: BitrateRule, f: MediaFacts) -> Outcome:
    expected = fmt_range(rule.min, rule.max, lambda b: f"{b / 1e6:g} Mbps")
    if not f.bitrate:
        return Outcome(None, expected, None, "无法确定码率。", "The bitrate could not be determined.")
    actual = f"{f.bitrate / 1e6:.2f} Mbps"
    ok = (rule.min is None or f.bitrate >= rule.min) and (rule.max is None or f.bitrate <= rule.max)
    if ok:
        return Outcome(True, expected, actual, f"码率 {actual}，符合要求。", f"Bitrate {actual} meets the rule.")
    return Outcome(False, expected, actual, f"码率 {actual}，要求 {expected}。可重新编码。",
                   f"Bitrate {actual}; expected {expected}. Fixable by re-encoding.",
                   FixAction(action="set_bitrate", params={"min_bps": rule.min, "max_bps": rule.max}))


def _kbps(b: int) -> str:
    """``8000000`` → ``8 Mbps``; ``1024000`` → ``1024 kbps`` (as notices write them)."""
    return f"{b / 1e6:g} Mbps" if b >= 10_000_000 or (b >= 1_000_000 and b % 1_000_000 == 0) else f"{b / 1000:g} kbps"


def audio_bitrate(rule: BitrateRule, f: MediaFacts) -> Outcome:
    expected = fmt_range(rule.min, rule.max, _kbps)
    if not f.audio_present:
        return Outcome(None, expected, None, "没有音轨，不检查音频码率。", "No audio track, so the audio bitrate is not checked.")
    if not f.audio_bitrate:
        return Outcome(None, expected, None, "无法确定音频码率。", "The audio bitrate could not be determined.")
    actual = _kbps(f.audio_bitrate)
    if (rule.min is None or f.audio_bitrate >= rule.min) and (rule.max is None or f.audio_bitrate <= rule.max):
        return Outcome(True, expected, actual, f"音频码率 {actual}，符合要求。", f"Audio bitrate {actual} meets the rule.")
    target = audio_target(rule.min, rule.max, f.audio_bitrate)
    return Outcome(False, expected, actual, f"音频码率 {actual}，要求 {expected}。可重新编码音频（{_kbps(target)}）。",
                   f"Audio bitrate {actual}; expected {expected}. Fixable by re-encoding the audio at "
                   f"{_kbps(target)}.", FixAction(action="transcode_audio", params={"bitrate": target}))


AUDIO_MARGIN = 0.10
"""How far inside an audio bitrate bound the fix aims: AAC at an average rate lands a little
under it (128 kbps asked, 127.8 kbps measured on two seconds of noise), so aiming at the bound
itself fails the re-check."""


def audio_target(lo: int | None, hi: int | None, actual: int) -> int:
    """The AAC bitrate a fix encodes at: 10% inside the bound the audio misses, in whole 8 kbps
    steps, never past the other bound (a range narrower than that: its middle)."""
    step = 8000
    if lo is not None and actual < lo:
        target = -(-int(lo * (1 + AUDIO_MARGIN)) // step) * step
        return target if hi is None or target <= hi else (lo + hi) // 2
    target = int((hi or 0) * (1 - AUDIO_MARGIN)) // step * step
    return target if lo is None or target >= lo else ((lo or 0) + (hi or 0)) // 2


def video_bitrate(rule: BitrateRule, f: MediaFacts) -> Outcome:
    expected = fmt_range(rule.min, rule.max, _kbps)
    if f.kind != "video":
        return Outcome(None, expected, None, "没有视频流。", "There is no video stream.")
    value = f.video_bitrate
    source = "video stream"
    if not value and f.bitrate:  # MKV and others record no stream rate: the overall rate less the audio's
        value, source = max(1, f.bitrate - (f.audio_bitrate or 0)), "overall less audio"
    if not value:
        return Outcome(None, expected, None, "无法确定视频码率。", "The video bitrate could not be determined.")
    actual = f"{_kbps(value)} ({source})"
    if (rule.min is None or value >= rule.min) and (rule.max is None or value <= rule.max):
        return Outcome(True, expected, actual, f"视频码率 {_kbps(value)}，符合要求。",
                       f"Video bitrate {_kbps(value)} meets the rule.")
    return Outcome(False, expected, actual, f"视频码率 {_kbps(value)}，要求 {expected}。可按范围内的码率重新编码。",
                   f"Video bitrate {_kbps(value)}; expected {expected}. Fixable by re-encoding at a bitrate in range.",
                   FixAction(action="set_bitrate", params={"min_video_bps": rule.min, "max_video_bps": rule.max}))


def file_name(rule: FilenameRule, name: str) -> Outcome:
    """The submitted file name against the profile's pattern, forbidden words and length (the
    check's id is ``filename``)."""
    expected = "; ".join(x for x in (
        rule.example or rule.pattern,
        f"without {' / '.join(rule.forbidden)}" if rule.forbidden else None,
        f"≤ {rule.max_length} characters" if rule.max_length else None) if x)
    example = f"（例如 {rule.example}）" if rule.example else ""
    example_en = f" (e.g. {rule.example})" if rule.example else ""
    if rule.pattern is not None and re.fullmatch(rule.pattern, name) is None:
        return Outcome(False, expected, name, f"文件名“{name}”不符合命名要求{example}，请改名后重新提交。",
                       f"The file name \"{name}\" does not follow the naming rule{example_en}; rename it and resubmit.",
                       fixable=False)
    found = next((m.group(0) for w in rule.forbidden if (m := re.search(w, name, re.IGNORECASE))), None)
    if found is not None:
        return Outcome(False, expected, name, f"文件名“{name}”含有不允许出现的内容“{found}”（如作者姓名），请改名后重新提交。",
                       f"The file name \"{name}\" contains \"{found}\", which it must not (an author's name, say); "
                       "rename it and resubmit.", fixable=False)
    if rule.max_length is not None and len(name) > rule.max_length:
        return Outcome(False, expected, name, f"文件名有 {len(name)} 个字符，超过 {rule.max_length} 个，请改短后重新提交。",
                       f"The file name has {len(name)} characters, more than {rule.max_length}; shorten it and resubmit.",
                       fixable=False)
    return Outcome(True, expected, name, "文件名符合命名要求。", "The file name follows the naming rule.", fixable=False)

