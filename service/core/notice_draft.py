"""``mediacheck profile draft``: a campaign notice's text in, a draft profile out. Pure and
deterministic: the notice is cut into sentences and clauses, each clause is read by the
recognisers of notice_phrases.py, and what they found becomes a profile mapping (every rule
with ``source.quote``: the clause it came from) and its YAML, with the phrases a person must
check and the sentences not understood as comments at the top. The CLI reads the file
(UTF-8 or GB18030, ``decode_notice``) and writes the result; ``mediacheck profile validate``
accepts the YAML as it is. docs/profiles.md lists what is understood."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from service.core import notice_phrases as phrases
from service.core.profiles import Profile
from service.core.rules import Rule

TWO_LEVELS = "recommended" in Rule.model_fields
"""Whether a rule may carry a preferred level (``recommended:``, issue 12.1) in this installation."""

DRAFT_VERSION = "draft"
"""The ``version`` of a drafted profile, until the organiser sets one."""

_HEADING = re.compile(r"^\s*(\d+[.．、]|[(（][一二三四五六七八九十]*[)）]|[一二三四五六七八九十]+、)")

DECISIONS = {
    "duration_about": ("时长“约/为 {}”：按 ±10% 判定。", "A duration of (about) {} is judged within ±10%."),
    "size_at_least_about": ("“至少…{}左右”：下限取其 90%。", "\"At least about {}\": the minimum is 90% of it."),
    "resolution_first": ("通知列出多个分辨率：草稿取第一个 {}。",
                         "The notice names several resolutions: the draft takes the first, {}."),
    "resolution_p_min": ("“{}”按显示画面短边的下限判定（更高的也合格）。",
                         "\"{}\" bounds the displayed short edge from below (higher passes)."),
    "p_progressive": ("“{}”的 p 指逐行扫描。", "The p of \"{}\" means progressive."),
    "named_resolution": ("“{}”（短边）。", "\"{}\" (short edge)."),
    "ratio_orientation": ("画幅 {} 决定横竖屏。", "The frame {} decides the orientation."),
    "bitrate_about": ("码率“约 {}”：按 ±10% 判定。", "A bitrate of \"about {}\" is judged within ±10%."),
}
"""What the draft decided for a vague phrase, as the profile's ``decisions`` say it."""


def decode_notice(data: bytes) -> str:
    """A notice's bytes as text: UTF-8 (with or without a byte-order mark), else GB18030."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def select_section(text: str, heading: str) -> str:
    """The part of ``text`` from the first heading line (``1.``, ``（三）``, ``二、``) that contains
    ``heading`` (else the first line that does) to the next heading line."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if heading in line]
    if not starts:
        raise ValueError(f"no line of the notice contains {heading!r}")
    start = next((i for i in starts if _HEADING.match(lines[i])), starts[0])
    end = next((j for j in range(start + 1, len(lines)) if _HEADING.match(lines[j])), len(lines))
    return "\n".join(lines[start:end])


@dataclass
class Draft:
    """What a notice says, gathered: rules per kind (id → body with severity and source), manual
    items, decisions, and sentences a person must read."""

    kinds: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    manual: dict[str, dict[str, str]] = field(default_factory=dict)
    decisions: list[tuple[str, str]] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def _sentences(text: str) -> list[list[tuple[str, str]]]:
    """Sentences as lists of (original clause, normalised clause)."""
    out = []
    for sentence in re.split(r"[。；;！!？?\n]+", text):
        clauses = [c.strip() for c in re.split(r"[，,]", sentence) if c.strip()]
        if clauses:
            out.append([(c, phrases.normalise(c)) for c in clauses])
    return out


def _severity(clause: str) -> str | None:
    if phrases.RECOMMENDED_WORDS.search(clause):
        return "recommended"
    if phrases.REQUIRED_WORDS.search(clause):
        return "required"
    return None


def _kind(clause: str) -> str | None:
    if phrases.VIDEO_WORDS.search(clause):
        return "video"
    if phrases.IMAGE_WORDS.search(clause):
        return "image"
    return None


def read_notice(text: str) -> Draft:
    """Read every clause of ``text``; the kinds are those the notice mentions (video when none)."""
    plain = phrases.normalise(text)
    draft = Draft()
    mentioned = [k for k, words in (("video", phrases.VIDEO_WORDS), ("image", phrases.IMAGE_WORDS))
                 if words.search(plain)] or ["video"]
    for kind in mentioned:
        draft.kinds[kind] = {}
    for sentence in _sentences(text):
        carried, kind = "required", mentioned[0]
        for original, clause in sentence:
            severity = _severity(clause) or carried
            if phrases.CARRIED_WORDS.match(clause):
                carried = severity
            kind = _kind(clause) or kind
            found = phrases.read_clause(clause, kind)
            quote = original.strip("()（）、 ")
            for rule_id, body in found.rules:
                _add(draft, kind, rule_id, {**body, "severity": severity, "source": {"quote": quote}})
            for mid, zh, en in found.manual:
                draft.manual.setdefault(mid, {"zh-CN": zh, "en": en, "quote": quote})
            for key, value in found.decisions:
                if (key, value) not in draft.decisions:
                    draft.decisions.append((key, value))
            if not found.rules and not found.manual and phrases.MEDIA_WORDS.search(clause) \
                    and (phrases.QUANTITY.search(clause) or _severity(clause)) and not _HEADING.match(clause):
                draft.unread.append(original)
    return draft


def _add(draft: Draft, kind: str, rule_id: str, body: dict[str, Any]) -> None:
    """A rule stated twice: a required floor and a recommended level become one rule with a
    ``recommended:`` part when the profile language has it (a choice's floor then admits the
    preferred values too); else the required statement wins over a recommended one, or the
    first stays, and the other is listed for the organiser."""
    rules = draft.kinds.setdefault(kind, {})
    old = rules.get(rule_id)
    if old is None:
        rules[rule_id] = body
        return
    if _same(old, body):
        return
    keep, drop = (body, old) if old["severity"] == "recommended" and body["severity"] == "required" else (old, body)
    rules[rule_id] = keep
    preferred = {k: v for k, v in drop.items() if k not in ("severity", "source")}
    floor_and_preference = keep["severity"] == "required" and drop["severity"] == "recommended"
    if floor_and_preference and isinstance(keep.get("allowed"), list) and "allowed" in preferred:
        keep["allowed"] = list(dict.fromkeys([*preferred["allowed"], *keep["allowed"]]))  # preferred ⊂ accepted
    if TWO_LEVELS and floor_and_preference and "recommended" not in keep:
        keep["recommended"] = preferred
        keep["source"] = {"quote": f"{keep['source']['quote']}；{drop['source']['quote']}"}
        return
    draft.conflicts.append(f"{kind}.{rule_id} also {_values(drop)} ({drop['severity']}): "
                           f"“{drop['source']['quote']}”")


def _values(body: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in body.items() if k not in ("severity", "source"))


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return _values(a) == _values(b) and a["severity"] == b["severity"]


def _title(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if _HEADING.match(first):
        return _HEADING.sub("", first).strip() or "草稿"
    for line in text.splitlines():
        line = line.strip()
        if re.search(r"通知|方案|活动|大赛|征集", line) and 4 <= len(line) <= 80:
            return line
    return "草稿"


def draft_profile(text: str, profile_id: str, *, notice: str | None = None) -> dict[str, Any]:
    """The profile mapping a notice's text states (``Profile.model_validate`` accepts it)."""
    return _build(text, profile_id, notice)[0]


def draft_yaml(text: str, profile_id: str, *, notice: str | None = None) -> str:
    """The draft profile's YAML, with what is left to do as comments at the top."""
    profile, draft = _build(text, profile_id, notice)
    return render_draft(profile, draft)


def _build(text: str, profile_id: str, notice: str | None) -> tuple[dict[str, Any], Draft]:
    draft = read_notice(text)
    profile: dict[str, Any] = {"id": profile_id, "version": DRAFT_VERSION}
    if set(draft.kinds) == {"video"}:
        profile["extends"] = "base-video"
    elif set(draft.kinds) == {"image"}:
        profile["extends"] = "base-photo"
    profile["title"] = {"zh-CN": _title(text), "en": f"Draft of {profile_id} (translate the title)"}
    if notice:
        profile["source"] = {"notice": notice}
    if draft.decisions:
        profile["decisions"] = [{"zh-CN": DECISIONS[k][0].format(v), "en": DECISIONS[k][1].format(v)}
                                for k, v in draft.decisions]
    profile["size_unit"] = "binary"
    if draft.manual and "manual" in Profile.model_fields:  # the profile language lists what a person checks
        profile["manual"] = [{"zh-CN": m["zh-CN"], "en": m["en"]} for m in draft.manual.values()]
    profile["kinds"] = {kind: {rid: _clean(body) for rid, body in rules.items()}
                        for kind, rules in draft.kinds.items()}
    return profile, draft


def _clean(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if not (k == "severity" and v == "required")}


def render_draft(data: dict[str, Any], draft: Draft) -> str:
    """The YAML of a drafted profile with what is left to do as comments at the top."""
    head = [f"# Draft profile {data['id']}, drafted from the notice's text by `mediacheck profile draft`.",
            "# Read every rule against its quote, set `version`, the English title and the decisions,",
            "# then `mediacheck profile validate` it. 草稿：请逐条核对规则与原文。"]
    if draft.unread:
        head.append("# Not understood (looks like a media requirement; decide by hand) / 未能识别：")
        head += [f"#   - {_one_line(s)}" for s in dict.fromkeys(draft.unread)]
    if draft.conflicts:
        head.append("# Stated more than once (the draft kept one) / 重复规定：")
        head += [f"#   - {_one_line(s)}" for s in draft.conflicts]
    if draft.manual and "manual" not in data:
        head.append("# For a person to check (no probe can; this installation's profiles have no manual: items yet)")
        head.append("# / 人工核对：")
        head.append("# manual:")
        head += [f"#   - {_manual_line(m)}" for m in draft.manual.values()]
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000, default_flow_style=False)
    return "\n".join(head) + "\n" + body


def _manual_line(item: dict[str, str]) -> str:
    return f"{{zh-CN: {item['zh-CN']}, en: \"{item['en']}\"}}  # {_one_line(item['quote'])}"


def _one_line(s: str) -> str:
    return " ".join(s.split())
