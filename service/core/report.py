"""The report: the machine-readable result of one check, from which every human view is
drawn. Pure. Its JSON Schema is published in docs/report.schema.json (regenerate with
``python -m service.core.report > docs/report.schema.json``); bump SCHEMA_VERSION on change."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service import __version__
from service.core.analysis import Analysis
from service.core.checks import Check
from service.core.facts import MediaFacts
from service.core.labels import rule_names
from service.core.profiles import Profile

SCHEMA_VERSION = "1.2"
"""Version of the report format; consumers check it before reading. 1.1 added ``analysis``
and ``Check.segments`` (deep content analysis), both optional; 1.2 added ``manual`` (what a
person checks) and ``Check.recommended`` (a rule's preferred level), both optional."""

Verdict = Literal["pass", "warn", "fail", "error"]


class FileInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    size_bytes: int
    sha256: str | None = None


class ProfileRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    version: str
    title: dict[str, str] | None = None
    size_unit: Literal["binary", "decimal"] | None = None


class ReportError(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    message: dict[str, str] = Field(description="keys zh-CN and en")


class ManualItem(BaseModel):
    """A requirement of the profile a machine cannot check (片头/片尾, narration …): listed for
    the reviewer, never judged, so never passed."""

    model_config = ConfigDict(frozen=True)

    status: Literal["manual"] = "manual"
    text: dict[str, str] = Field(description="keys zh-CN and en")


class Report(BaseModel):
    model_config = ConfigDict(frozen=True)

    schema_version: str = SCHEMA_VERSION
    file: FileInfo
    profile: ProfileRef
    verdict: Verdict
    summary: dict[str, str] = Field(description="one sentence per language (zh-CN, en)")
    fixable: bool = Field(description="every failed check has an automatic fix")
    media: MediaFacts | None
    checks: list[Check]
    error: ReportError | None = None
    analysis: Analysis | None = Field(None, description="content findings of the deep analysis (--deep)")
    manual: list[ManualItem] = Field(
        default_factory=list, description="the profile's requirements a person checks; not part of the verdict")
    tools: dict[str, str]
    timings_ms: dict[str, float]
    created_at: str

    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    def warned(self) -> list[Check]:
        return [c for c in self.checks if c.status == "warn"]


def verdict_of(checks: list[Check]) -> Verdict:
    statuses = {c.status for c in checks}
    return "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"


def _summary(verdict: Verdict, checks: list[Check], error: ReportError | None) -> dict[str, str]:
    if error is not None:
        return {"zh-CN": f"无法检查：{error.message['zh-CN']}", "en": f"Could not check: {error.message['en']}"}
    failed = [c.rule for c in checks if c.status == "fail"]
    warned = [c.rule for c in checks if c.status == "warn"]
    if verdict == "pass":
        return {"zh-CN": "符合全部要求。", "en": "Meets every requirement."}
    if verdict == "warn":
        return {"zh-CN": f"符合必需要求，但有 {len(warned)} 项建议未满足：{rule_names(warned, 'zh-CN')}。",
                "en": f"Meets the required rules; {len(warned)} recommendation(s) missed: {rule_names(warned, 'en')}."}
    return failure_summary(failed, fixable=all(c.fixable for c in checks if c.status == "fail"))


def failure_summary(failed: list[str], *, fixable: bool) -> dict[str, str]:
    """The summary of a failing report: the rules it fails and, when every one has a fix, that
    they can all be fixed. A page whose fix plan refuses (a content rule the checks alone do not
    see, e.g. a full frame where padding would be the fix) says it again with ``fixable=False``."""
    zh = f"不符合 {len(failed)} 项要求：{rule_names(failed, 'zh-CN')}。" + ("均可自动修复。" if fixable else "")
    en = f"Fails {len(failed)} rule(s): {rule_names(failed, 'en')}."
    en += " All can be fixed automatically." if fixable else ""
    return {"zh-CN": zh, "en": en}


def build_report(*, file: FileInfo, profile: Profile, media: MediaFacts | None, checks: list[Check],
                 tools: dict[str, str], timings_ms: dict[str, float], error: ReportError | None = None,
                 now: datetime | None = None, analysis: Analysis | None = None) -> Report:
    verdict: Verdict = "error" if error is not None else verdict_of(checks)
    failing = [c for c in checks if c.status == "fail"]
    return Report(
        file=file,
        profile=ProfileRef(id=profile.id, version=profile.version, title=profile.title.as_dict(),
                           size_unit=profile.size_unit),
        verdict=verdict, summary=_summary(verdict, checks, error),
        fixable=bool(failing) and all(c.fixable for c in failing) and error is None,
        media=media, checks=checks, error=error, analysis=analysis,
        manual=[ManualItem(text=t.as_dict()) for t in profile.manual_items(media.kind)] if media else [],
        tools={"mediacheck": __version__, **tools},
        timings_ms={k: round(v, 1) for k, v in timings_ms.items()},
        created_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
    )


def json_schema() -> dict[str, object]:
    schema = Report.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://mediacheck.invalid/schemas/report-{SCHEMA_VERSION}.json"
    return schema


if __name__ == "__main__":
    print(json.dumps(json_schema(), ensure_ascii=False, indent=2))
