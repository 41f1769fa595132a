"""Judge media facts against a profile: ``judge`` gives every check of one file, in a fixed
order: readable, media_kind, then the rules of the file's kind in declaration order, its
alternatives, and the file-name rule. ``JUDGES`` says which function decides which rule id.
Pure: facts + profile (+ the submitted file name) in, a list of ``Check`` out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service.core import codec_checks, picture_checks, size_checks
from service.core.checks import Check, Outcome, listed, to_check, with_preference
from service.core.facts import MediaFacts
from service.core.profiles import Profile
from service.core.rules import Alternative, Rule, Rules

JUDGES: dict[str, Callable[[Any, MediaFacts], Outcome]] = {
    "container": codec_checks.container, "video_codec": codec_checks.video_codec,
    "audio_codec": codec_checks.audio_codec, "audio_present": codec_checks.audio_present,
    "resolution": picture_checks.resolution, "aspect_ratio": picture_checks.aspect_ratio,
    "orientation": picture_checks.orientation, "scan_type": picture_checks.scan_type,
    "frame_rate": picture_checks.frame_rate, "frame_rate_mode": picture_checks.frame_rate_mode,
    "duration": size_checks.duration, "file_size": size_checks.file_size, "bitrate": size_checks.bitrate,
    "pixel_format": codec_checks.pixel_format, "faststart": codec_checks.faststart,
    "image_format": codec_checks.image_format, "color_mode": codec_checks.color_mode,
    "dpi": picture_checks.dpi, "animated": picture_checks.animated,
    "audio_sample_rate": codec_checks.audio_sample_rate, "audio_channels": codec_checks.audio_channels,
    "audio_bitrate": size_checks.audio_bitrate, "video_bitrate": size_checks.video_bitrate,
    "video_profile": codec_checks.video_profile, "square_pixels": picture_checks.square_pixels,
    "edit_list": codec_checks.edit_list, "color_space": codec_checks.color_space, "exif": codec_checks.exif,
}
"""Rule id → judge. Rule ids are an API: add freely, never rename."""


def judge_rule(rule_id: str, rule: Rule, facts: MediaFacts) -> Check:
    """One rule's check: its required floor, and its recommended part when it has one."""
    check = to_check(rule_id, rule, JUDGES[rule_id](rule, facts))
    if rule.recommended is None or check.status == "skip":
        return check
    return with_preference(check, JUDGES[rule_id](rule.recommended, facts))


def judge_rules(rules: Rules, facts: MediaFacts) -> list[Check]:
    return [judge_rule(rid, rule, facts) for rid, rule in rules.items()]


def alternative(alt: Alternative, facts: MediaFacts) -> Check:
    options = [judge_rules(opt, facts) for opt in alt.any_of]
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
            rule="media_kind", status="fail", severity="required", expected=listed(kinds), actual=facts.kind,
            message={"zh-CN": f"本活动接受{'或'.join(zh_kind[k] for k in kinds)}，收到的是{zh_kind[facts.kind]}文件。",
                     "en": f"This campaign accepts {' or '.join(kinds)}; this file is {facts.kind}."}))
        return checks
    checks.append(Check(rule="media_kind", status="pass", severity="required", expected=listed(kinds),
                        actual=facts.kind, message={"zh-CN": "媒体类型符合要求。", "en": "The media kind is accepted."}))
    checks += judge_rules(spec, facts)
    checks += [alternative(alt, facts) for alt in spec.alternatives]
    name_rule = spec.filename or profile.filename  # a kind's own file-name rule replaces the profile's
    if name_rule and file_name is not None:
        checks.append(to_check("filename", name_rule, size_checks.file_name(name_rule, file_name)))
    return checks
