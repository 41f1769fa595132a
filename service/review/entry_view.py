"""Reviewer pages, part two: one entry, as values for ``review/entry.html`` (service/pages).
The report in plain words (each failed or warned rule with what is asked and what the file
has, and a waiver per rule), the player of the original with a timeline of flagged segments
(a click seeks the player, static/review.js), the checklist of the profile's manual items
(what a person checks; never reported as passed), the contact sheet, the fixed copy when there is
one, the decision form and the review trail. Chinese first, English by ``?lang=en``."""

from __future__ import annotations

from typing import Any

from service.core.analysis import timecode
from service.core.checks import Check
from service.core.labels import DECISION_LABELS, RULE_LABELS, STATUS_LABELS, VERDICT_LABELS, label, rule_names
from service.pages import bilingual
from service.review.board import BoardEntry
from service.review.board_view import duration_text, layout, other_lang, size_text, with_lang
from service.review.verdicts import timeline


def _msg(lang: str, c: Check) -> str:
    return c.message.get("en" if lang == "en" else "zh-CN", "")


def plain_summary(e: BoardEntry, lang: str) -> str:
    """One sentence naming the rules not met, by their names (waived ones left out)."""
    assert e.report is not None
    if e.report.verdict == "error":
        return e.report.summary.get("en" if lang == "en" else "zh-CN", "")
    bad = [c for c in e.report.checks if c.rule not in e.state.waived]
    failed = rule_names((c.rule for c in bad if c.status == "fail"), lang)
    warned = rule_names((c.rule for c in bad if c.status == "warn"), lang)
    parts = []
    if failed:
        parts.append(bilingual(lang, f"不符合要求：{failed}。", f"Rules not met: {failed}."))
    if warned:
        parts.append(bilingual(lang, f"建议改进：{warned}。", f"Advice: {warned}."))
    if e.state.waived:
        waived = rule_names(e.state.waived, lang)
        parts.append(bilingual(lang, f"已豁免：{waived}。", f"Waived: {waived}."))
    return " ".join(parts) or bilingual(lang, "符合全部要求。", "Every rule is met.")


def _flags(e: BoardEntry, lang: str) -> list[dict[str, Any]]:
    """The flagged rules with their timecodes (buttons that seek the player)."""
    assert e.report is not None
    return [{"status": c.status, "rule": c.rule, "name": label(RULE_LABELS, c.rule, lang), "message": _msg(lang, c),
             "segments": [(f"{a:.3f}", f"{timecode(a)}–{timecode(b)}") for a, b in c.segments or ()]}
            for c in e.report.checks if c.status in ("fail", "warn") and c.rule not in e.state.waived]


def _lanes(e: BoardEntry, lang: str) -> list[dict[str, Any]]:
    """One lane per flagged rule, its segments placed where they are in the running time."""
    assert e.report is not None
    lanes: dict[str, dict[str, Any]] = {}
    for m in timeline(e.report, e.state.waived):
        lane = lanes.setdefault(m.rule, {"rule": m.rule, "marks": []})
        lane["name"] = m.label_en if lang == "en" else m.label_zh
        lane["marks"].append({"status": m.status, "left": f"{m.left * 100:.2f}", "width": f"{m.width * 100:.2f}",
                              "start": f"{m.start_s:.3f}", "timecode": m.timecode})
    return list(lanes.values()) or [{"rule": "", "name": "", "marks": []}]


def _checks(e: BoardEntry, lang: str) -> list[dict[str, Any]]:
    assert e.report is not None
    rows = []
    for c in e.report.checks:
        waived = c.rule in e.state.waived
        if c.status not in ("fail", "warn") and not waived:
            continue
        status = "waived" if waived else c.status
        rows.append({"status": status, "rule": c.rule, "waived": waived, "status_text": label(STATUS_LABELS, status, lang),
                     "rule_text": label(RULE_LABELS, c.rule, lang), "message": _msg(lang, c),
                     "expected": c.expected or "", "actual": c.actual or ""})
    return rows


def _trail(e: BoardEntry, lang: str) -> list[dict[str, Any]]:
    rows = []
    for x in reversed(e.state.lines):
        if x.kind == "decision":
            what = label(DECISION_LABELS, x.decision or "", lang)
        else:
            verb = bilingual(lang, "豁免", "waived") if x.kind == "waive" else bilingual(lang, "撤销豁免", "waiver withdrawn")
            what = f"{verb}：{label(RULE_LABELS, x.rule or '', lang)}"
        rows.append({"kind": x.kind, "at": x.at.strftime("%Y-%m-%d %H:%M:%S"), "by": x.by, "what": what,
                     "note": x.note or ""})
    return rows


def entry_view(e: BoardEntry, lang: str, campaign_title: str,
               entry_details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    s = e.sub
    report = e.report
    media = report.media if report else None
    verdict = e.verdict
    d = e.state.decision
    current = d.decision if d else None
    facts = f"{size_text(s.size_bytes)} · {duration_text(media.duration_s if media else None)}" + (
        f" · {media.width}×{media.height}" if media and media.width else "")
    player = report is not None and media is not None and media.kind in ("video", "audio")
    return layout(s.file_name, lang, switch=with_lang(f"/review/s/{s.id}", other_lang(lang))) | {
        "sub_id": s.id, "back_href": with_lang("/review/c/" + s.campaign_id, lang), "campaign_title": campaign_title,
        "file_name": s.file_name, "facts": facts,
        "verdict": verdict, "verdict_text": label(VERDICT_LABELS, verdict, lang) if verdict else "",
        "before_waivers": (label(VERDICT_LABELS, report.verdict, lang)
                           if verdict and report and verdict != report.verdict else None),
        "summary": plain_summary(e, lang) if verdict and report else None,
        "decision": ({"value": d.decision, "text": label(DECISION_LABELS, d.decision, lang), "by": d.by,
                      "at": d.at.strftime("%Y-%m-%d %H:%M")} if d and d.decision else None),
        "checked": report is not None, "analysing": e.analysing,
        "deep_failed": ((e.deep_error or {}).get("en" if lang == "en" else "zh-CN", "")
                        if e.deep_job == "failed" else None),
        "player": player, "duration": e.duration_s or 0,
        "lanes": _lanes(e, lang) if player else [], "flags": _flags(e, lang) if player else [],
        "photo": "thumbnail" in e.pictures, "contact_sheet": "contact_sheet" in e.pictures,
        "checks": _checks(e, lang) if report else [],
        "manual": [m.text.get("en" if lang == "en" else "zh-CN", "") for m in report.manual] if report else [],
        "fixed": e.fixed is not None,
        "fixed_verdict": label(VERDICT_LABELS, e.fixed_verdict, lang) if e.fixed_verdict else None,
        "radios": [(v, label(DECISION_LABELS, v, lang), v == current) for v in DECISION_LABELS],
        "trail": _trail(e, lang), "entry_details": entry_details or [],
    }
