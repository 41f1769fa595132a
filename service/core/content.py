"""Judge content findings (service/core/analysis.py) against a profile's ``content:`` section.
Pure: an ``Analysis`` + ``ContentRules`` in, ``Check``s out, under stable rule ids
(``black_segments``, ``frozen_segments``, ``static_content``, ``silence``, ``loudness``,
``borders``, ``interlace_detected``). Every flagged check lists its time ranges in
``segments`` and its timecodes in the message, so a reviewer can jump to them.

None of these is fixable automatically: they are the maker's choices (or mistakes) that
a person has to look at; a reviewer may waive one as creative intent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service.core.analysis import Analysis, Segment, timecode
from service.core.checks import Check, Status
from service.core.content_rules import (
    BlackSegmentsRule,
    BordersRule,
    ContentRules,
    FrozenSegmentsRule,
    InterlaceRule,
    LoudnessRule,
    SilenceRule,
    StaticContentRule,
)
from service.core.rules import Rule

MAX_LISTED = 5
"""Segments spelled out in a message (all of them are in ``segments``)."""

EDGE_SLACK_S = 0.25
"""A black segment starting within this of 0 is the opening (ending within it of the end, the closing)."""


def _ranges(segs: list[Segment]) -> str:
    listed = ", ".join(f"{timecode(s.start_s)}–{timecode(s.end_s)}" for s in segs[:MAX_LISTED])
    return listed + (f" (+{len(segs) - MAX_LISTED})" if len(segs) > MAX_LISTED else "")


def _check(rule_id: str, rule: Rule, ok: bool | None, expected: str, actual: str | None, zh: str, en: str,
           segs: list[Segment] | None = None) -> Check:
    status: Status = "skip" if ok is None else "pass" if ok else (
        "fail" if rule.severity == "required" else "warn")
    return Check(rule=rule_id, status=status, severity=rule.severity, expected=expected, actual=actual,
                 message={"zh-CN": zh, "en": en}, note=rule.note.as_dict() if rule.note else None,
                 segments=[(s.start_s, s.end_s) for s in segs] if segs and ok is False else None)


def _no_video(rule_id: str, rule: Rule, expected: str) -> Check:
    return _check(rule_id, rule, None, expected, None, "未分析画面。", "The picture was not analysed.")


def _black(rule: BlackSegmentsRule, a: Analysis) -> Check:
    parts = []
    if rule.max_opening is not None:
        parts.append(f"opening ≤ {rule.max_opening:g}s")
    if rule.max_closing is not None:
        parts.append(f"closing ≤ {rule.max_closing:g}s")
    if rule.max_inner is not None:
        parts.append(f"other ≤ {rule.max_inner:g}s")
    expected = ", ".join(parts)
    if not a.video_analyzed:
        return _no_video("black_segments", rule, expected)
    end = a.duration_s
    bad: list[tuple[Segment, str, str]] = []
    for s in a.black_segments:
        opening = s.start_s <= EDGE_SLACK_S
        closing = end is not None and s.end_s >= end - EDGE_SLACK_S
        limit = rule.max_opening if opening else rule.max_closing if closing else rule.max_inner
        if limit is not None and s.duration_s > limit:
            zh = "片头黑场" if opening else "片尾黑场" if closing else "黑场"
            en = "black opening" if opening else "black closing" if closing else "black stretch"
            bad.append((s, zh, en))
    actual = f"{len(a.black_segments)} black segment(s)" + (f": {_ranges(a.black_segments)}"
                                                             if a.black_segments else "")
    if not bad:
        return _check("black_segments", rule, True, expected, actual, "没有过长的黑场。",
                      "No overlong black stretch.")
    shown = bad[:MAX_LISTED]
    zh = "；".join(f"{z} {timecode(s.start_s)}–{timecode(s.end_s)}（{s.duration_s:.1f} 秒）"
                  for s, z, _ in shown)
    en = "; ".join(f"{e} {timecode(s.start_s)}–{timecode(s.end_s)} ({s.duration_s:.1f} s)"
                   for s, _, e in shown)
    return _check("black_segments", rule, False, expected, actual,
                  f"画面长时间全黑：{zh}。评审可能以为视频没有内容，请剪掉或缩短。",
                  f"The picture is black for too long: {en}. Reviewers may think the video is empty; "
                  "trim or shorten it.", [s for s, _, _ in bad])


def _frozen(rule: FrozenSegmentsRule, a: Analysis) -> Check:
    expected = f"no still picture ≥ {rule.max_duration:g}s"
    if not a.video_analyzed:
        return _no_video("frozen_segments", rule, expected)
    bad = [s for s in a.frozen_segments if s.duration_s >= rule.max_duration]
    actual = f"{len(a.frozen_segments)} frozen segment(s)" + (f": {_ranges(a.frozen_segments)}"
                                                               if a.frozen_segments else "")
    if not bad:
        return _check("frozen_segments", rule, True, expected, actual, "没有长时间静止的画面。",
                      "No long still picture.")
    return _check("frozen_segments", rule, False, expected, actual,
                  f"画面长时间静止不动（{len(bad)} 处，≥ {rule.max_duration:g} 秒）：{_ranges(bad)}。",
                  f"The picture stands still for long ({len(bad)} time(s), ≥ {rule.max_duration:g} s): "
                  f"{_ranges(bad)}.", bad)


def _static(rule: StaticContentRule, a: Analysis) -> Check:
    expected = f"still share ≤ {rule.max_ratio:.0%}"
    if not a.video_analyzed or a.static_ratio is None:
        return _no_video("static_content", rule, expected)
    actual = f"{a.static_ratio:.0%} still, {a.scene_change_count} cut(s)"
    share, cuts = f"{a.static_ratio:.0%}", a.scene_change_count
    if a.static_ratio <= rule.max_ratio:
        return _check("static_content", rule, True, expected, actual, f"画面静止时间占 {share}，正常。",
                      f"The picture stands still {share} of the time: normal.")
    return _check("static_content", rule, False, expected, actual,
                  f"画面 {share} 的时间静止不动（{cuts} 次切换），像幻灯片/PPT 生成的视频。请评审确认。",
                  f"The picture stands still {share} of the time ({cuts} cut(s)): it looks like a slideshow "
                  "or PPT-generated video. A reviewer should look.", a.frozen_segments)


def _silence(rule: SilenceRule, a: Analysis) -> Check:
    expected = f"no silence ≥ {rule.max_duration:g}s (below {rule.noise:g} dBFS)"
    if not a.audio_analyzed:
        return _check("silence", rule, None, expected, None, "没有音轨，未分析声音。",
                      "No audio track: the sound was not analysed.")
    total = sum(s.duration_s for s in a.silence)
    actual = f"{len(a.silence)} silent segment(s), {total:.1f}s in all"
    if a.duration_s and total >= 0.95 * a.duration_s:
        return _check("silence", rule, False, expected, actual,
                      "音轨全程无声（静音）。请确认作品是否应有配音或解说。",
                      "The audio track is silent from start to end. Check whether the entry should have "
                      "narration.", a.silence)
    bad = [s for s in a.silence if s.duration_s >= rule.max_duration]
    if not bad:
        return _check("silence", rule, True, expected, actual, "没有长时间的静音。", "No long silence.")
    return _check("silence", rule, False, expected, actual,
                  f"有 {len(bad)} 处长时间静音（≥ {rule.max_duration:g} 秒）：{_ranges(bad)}。",
                  f"{len(bad)} long silence(s) (≥ {rule.max_duration:g} s): {_ranges(bad)}.", bad)


def _loudness(rule: LoudnessRule, a: Analysis) -> Check:
    parts = []
    if rule.integrated_min is not None or rule.integrated_max is not None:
        lo = f"{rule.integrated_min:g}" if rule.integrated_min is not None else "…"
        hi = f"{rule.integrated_max:g}" if rule.integrated_max is not None else "…"
        parts.append(f"{lo} to {hi} LUFS")
    if rule.true_peak_max is not None:
        parts.append(f"true peak ≤ {rule.true_peak_max:g} dBTP")
    expected = ", ".join(parts)
    if not a.audio_analyzed or a.loudness is None:
        return _check("loudness", rule, None, expected, None, "没有音轨，未测量响度。",
                      "No audio track: loudness was not measured.")
    found = a.loudness
    i, tp = found.integrated_lufs, found.true_peak_dbtp
    lra = f"{found.range_lu:g}" if found.range_lu is not None else "—"
    actual = (f"{i:g} LUFS" if i is not None else "silent") + f", LRA {lra} LU" \
        + (f", true peak {tp:g} dBTP" if tp is not None else "")
    if i is None and tp is not None:  # sound, but too short or too quiet to pass R128's gates
        return _check("loudness", rule, None, expected, actual, "声音太短或太轻，无法测量整体响度。",
                      "The sound is too short or too quiet for an integrated loudness.")
    if i is None:
        return _check("loudness", rule, False, expected, actual, "测不到响度：音轨没有声音。",
                      "No loudness could be measured: the track has no sound.")
    problems_zh, problems_en = [], []
    if rule.integrated_min is not None and i < rule.integrated_min:
        problems_zh.append(f"整体响度 {i:g} LUFS 偏小（低于 {rule.integrated_min:g}），评审可能听不清")
        problems_en.append(f"integrated loudness {i:g} LUFS is low (below {rule.integrated_min:g}); "
                           "hard to hear")
    if rule.integrated_max is not None and i > rule.integrated_max:
        problems_zh.append(f"整体响度 {i:g} LUFS 偏大（高于 {rule.integrated_max:g}）")
        problems_en.append(f"integrated loudness {i:g} LUFS is loud (above {rule.integrated_max:g})")
    if rule.true_peak_max is not None and tp is not None and tp > rule.true_peak_max:
        problems_zh.append(f"真峰值 {tp:g} dBTP 超过 {rule.true_peak_max:g}，可能爆音")
        problems_en.append(f"true peak {tp:g} dBTP is above {rule.true_peak_max:g}; it may clip")
    if not problems_zh:
        return _check("loudness", rule, True, expected, actual, f"响度 {i:g} LUFS，正常。",
                      f"Loudness {i:g} LUFS: fine.")
    return _check("loudness", rule, False, expected, actual, "；".join(problems_zh) + "。",
                  _sentence("; ".join(problems_en)))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


_BORDER_ZH = {"letterbox": "上下黑边", "pillarbox": "左右黑边", "windowbox": "四周黑边"}


def _borders(rule: BordersRule, a: Analysis) -> Check:
    expected = "full frame (全画幅)" if rule.full_frame else "any"
    b = a.borders
    if not a.video_analyzed or b is None:
        return _no_video("borders", rule, expected)
    ratio = b.aspect_name or f"{b.aspect:.2f}:1"
    actual = f"picture {b.width}×{b.height} ({ratio}) at {b.x},{b.y} in {b.frame_width}×{b.frame_height}"
    if b.kind == "none":
        return _check("borders", rule, True, expected, actual, "画面充满全画幅，没有黑边。",
                      "The picture fills the frame: no black bars.")
    zh = (f"画面有{_BORDER_ZH[b.kind]}：真实画面只有 {b.width}×{b.height}（{ratio}），"
          f"位于 {b.frame_width}×{b.frame_height} 的画幅中。")
    en = (f"The picture has black bars ({b.kind}): the real picture is only {b.width}×{b.height} ({ratio}) "
          f"inside the {b.frame_width}×{b.frame_height} frame.")
    if not rule.full_frame:
        return _check("borders", rule, True, expected, actual, zh + "本活动不要求全画幅。",
                      en + " This campaign does not ask for full frame.")
    return _check("borders", rule, False, expected, actual,
                  zh + "本活动要求全画幅（画面充满整个画幅），请用原始比例素材重新导出，不要加黑边。",
                  en + " This campaign asks for full frame: re-export from full-frame footage, without bars.")


def _interlace(rule: InterlaceRule, a: Analysis, flagged: str | None) -> Check:
    expected = "interlacing allowed" if rule.allowed else "no combing (progressive picture)"
    il = a.interlace
    if not a.video_analyzed or il is None:
        return _no_video("interlace_detected", rule, expected)
    actual = f"{il.verdict} (idet TFF {il.tff}, BFF {il.bff}, progressive {il.progressive}, " \
             f"undetermined {il.undetermined}; stream: {flagged or 'unknown'})"
    if il.verdict != "interlaced" or rule.allowed:
        zh = "画面为逐行扫描，没有隔行锯齿。" if il.verdict == "progressive" else "未发现一致的隔行锯齿。"
        en = ("The picture is progressive: no interlacing combs." if il.verdict == "progressive"
              else "No consistent interlacing combs found.")
        if flagged == "interlaced" and il.verdict == "progressive":
            zh += "（文件标记为隔行，但画面实为逐行，只需改正标记。）"
            en += " (The file is flagged interlaced but the picture is progressive: only the flag is wrong.)"
        return _check("interlace_detected", rule, True, expected, actual, zh, en)
    order = "TFF 上场优先" if il.tff >= il.bff else "BFF 下场优先"
    order_en = "top field first" if il.tff >= il.bff else "bottom field first"
    if flagged != "interlaced":
        # idet alone is fooled by pixel-sharp moving graphics: without the stream's flag to
        # back it, this is a warning for a person to look at, never a failure
        check = _check("interlace_detected", rule.model_copy(update={"severity": "recommended"}), False,
                       expected, actual,
                       f"画面疑似有隔行扫描的锯齿（{order}，而文件标记为逐行），运动时会出现横纹；"
                       "锐利的动画图形也可能被误判，请评审查看画面。",
                       f"The picture seems to show interlacing combs ({order_en}, although the file is "
                       "flagged progressive): moving edges look striped. Sharp animated graphics can look "
                       "alike: a reviewer should look.")
        return check.model_copy(update={"severity": rule.severity})
    return _check("interlace_detected", rule, False, expected, actual,
                  f"画面有隔行扫描的锯齿（{order}），运动时会出现横纹。可去隔行处理。",
                  f"The picture shows interlacing combs ({order_en}): moving edges look striped. "
                  "Deinterlacing fixes it.")


_JUDGES: dict[str, Callable[[Any, Analysis, str | None], Check]] = {
    "black_segments": lambda r, a, _: _black(r, a),
    "frozen_segments": lambda r, a, _: _frozen(r, a),
    "static_content": lambda r, a, _: _static(r, a),
    "silence": lambda r, a, _: _silence(r, a),
    "loudness": lambda r, a, _: _loudness(r, a),
    "borders": lambda r, a, _: _borders(r, a),
    "interlace_detected": _interlace,
}
"""Rule id → judge. Rule ids are an API: add freely, never rename."""


def judge_content(analysis: Analysis, rules: ContentRules, *, scan_type: str | None = None) -> list[Check]:
    """Checks for every rule set in ``rules``, in declaration order. ``scan_type`` is the
    stream's flag (progressive/interlaced), told apart from what the picture shows."""
    return [_JUDGES[rule_id](rule, analysis, scan_type) for rule_id, rule in rules.items()]
