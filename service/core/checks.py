"""What a check is: ``Check`` (one rule's result in a report: a stable rule id, a status,
what was expected and found, a bilingual message, and whether, and how, a transcoder could fix
it, as a ``FixAction``), and ``Outcome``, what a rule's judge found before the rule's severity
turns it into a status (``to_check``): a required rule that is missed fails, a recommended
one (建议) warns. Pure.

The judges live by what they look at: codec_checks.py (container, codecs, audio track,
faststart, image format, colour mode), picture_checks.py (resolution, aspect ratio,
orientation, scan, frame rate, DPI, animation), size_checks.py (duration, file size, bitrate,
file name); judge.py runs them all for a profile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.core.rules import Rule

Status = Literal["pass", "warn", "fail", "skip"]


class FixAction(BaseModel):
    """What a transcoder would do about a failed check (the fix plan is built from these)."""

    model_config = ConfigDict(frozen=True)

    action: Literal["remux", "transcode_video", "transcode_audio", "scale", "pad", "deinterlace",
                    "constant_frame_rate", "change_frame_rate", "set_bitrate", "faststart",
                    "convert_image", "convert_color", "set_dpi", "rotate", "trim"]
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
    recommended: str | None = Field(
        None, description="the rule's recommended level, when it has one (expected is then the required floor)")


class Outcome:
    """What one rule found, before severity turns it into a status."""

    def __init__(self, ok: bool | None, expected: str, actual: str | None, zh: str, en: str,
                 fix: FixAction | None = None, fixable: bool | None = None, ambiguous: bool = False) -> None:
        self.ok, self.expected, self.actual, self.zh, self.en = ok, expected, actual, zh, en
        self.fix = fix
        self.fixable = fixable if fixable is not None else fix is not None
        self.ambiguous = ambiguous


def listed(values: tuple[Any, ...]) -> str:
    return " / ".join(str(v) for v in values)


def fmt_range(lo: Any, hi: Any, fmt: Callable[[Any], str]) -> str:
    if lo is not None and hi is not None:
        return f"{fmt(lo)} – {fmt(hi)}"
    return f"≥ {fmt(lo)}" if lo is not None else f"≤ {fmt(hi)}"


def _trims(fix: FixAction | None) -> bool:
    return fix is not None and fix.action == "trim"


def with_preference(check: Check, preferred: Outcome) -> Check:
    """A rule with two levels: its floor's check (``check``) and what its recommended part
    found. Below the floor it stays failed; between floor and preference it warns; at the
    preference it passes; one rule id throughout."""
    update: dict[str, Any] = {"recommended": preferred.expected}
    if check.status == "pass" and preferred.ok is False:
        update.update(
            status="warn", actual=preferred.actual or check.actual,
            message={"zh-CN": f"达到最低要求（{check.expected}），但未达到建议：{preferred.zh}",
                     "en": f"Meets the minimum ({check.expected}) but not the recommendation: {preferred.en}"},
            # a preference never costs content: no trim for it (the other fixes change only the encoding)
            fixable=bool(preferred.fixable) and not _trims(preferred.fix),
            fix=None if _trims(preferred.fix) else preferred.fix)
    elif check.status == "fail":
        update["message"] = {"zh-CN": f"{check.message['zh-CN']}（建议：{preferred.expected}）",
                             "en": f"{check.message['en']} (recommended: {preferred.expected})"}
    return check.model_copy(update=update)


def to_check(rule_id: str, rule: Rule, o: Outcome) -> Check:
    """The check of one rule: the outcome's status under the rule's severity (an ambiguous pass warns)."""
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

