"""Reviewer pages, part one, as values for the templates of service/pages/templates/review/:
sign-in, the reviewer's campaigns, a campaign's dashboard (a row per entry with thumbnail,
name, size, duration, verdict after waivers, content warnings and decision; filtered, sorted
and searched in the browser by static/review.js), and the page that turns a reviewer away.
Chinese first, English by ``?lang=en``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from service.core.analysis import timecode
from service.core.entry_fields import fold, labelled
from service.core.labels import CONTENT_RULES, DECISION_LABELS, RULE_LABELS, VERDICT_LABELS, joined, label
from service.pages import bilingual
from service.review.board import BoardEntry
from service.review.verdicts import content_warnings
from service.submissions.campaigns import CampaignRules


def size_text(n: int) -> str:
    return f"{n / 2**20:.1f} 兆" if n >= 2**20 else f"{n / 1024:.0f} KiB"


def duration_text(s: float | None) -> str:
    if s is None:
        return "—"
    m, sec = divmod(s, 60)
    return f"{int(m)}:{sec:04.1f}"


def with_lang(path: str, lang: str) -> str:
    sep = "&" if "?" in path else "?"
    return f"{path}{sep}lang={lang}" if lang == "en" else path


def other_lang(lang: str) -> str:
    return "zh-CN" if lang == "en" else "en"


def layout(title: str, lang: str, *, switch: str, signed_in: bool = True) -> dict[str, Any]:
    """The values of ``review/layout.html``: ``switch`` is the same page in the other language."""
    return {"title": title, "lang": lang, "page_class": "review", "switch": switch, "signed_in": signed_in}


def login_view(lang: str, *, next_url: str, error: bool = False) -> dict[str, Any]:
    switch = f"/review/login?next={quote(next_url)}&lang={other_lang(lang)}"
    return layout(bilingual(lang, "评审登录", "Reviewer sign-in"), lang, switch=switch, signed_in=False) | {
        "next_url": next_url, "error": error}


def campaigns_view(campaigns: Sequence[CampaignRules], lang: str, reviewer: str) -> dict[str, Any]:
    items = [{"href": with_lang("/review/c/" + c.id, lang), "id": c.id,
              "title": c.title.get("en" if lang == "en" else "zh-CN", c.id)} for c in campaigns]
    return layout(bilingual(lang, "评审", "Review"), lang, switch=with_lang("/review/", other_lang(lang))) | {
        "campaigns": items, "reviewer": reviewer}


def denied_view(lang: str, status: int) -> dict[str, Any]:
    return {"title": str(status), "lang": lang, "page_class": "review", "status": status}


def _thumb(e: BoardEntry) -> str:
    if "thumbnail" in e.pictures:
        return "picture"
    if e.analysing or (e.report is None and e.sub.status != "error"):
        return "analysing"
    return "failed" if e.deep_job == "failed" else "none"


def _row(e: BoardEntry, lang: str) -> dict[str, Any]:
    s = e.sub
    verdict = e.verdict or "pending"
    found = content_warnings(e.report, e.state.waived) if e.report else []
    d = e.state.decision
    decision = d.decision if d and d.decision else "none"
    return {
        "id": s.id, "name_key": s.file_name.lower(), "size_bytes": s.size_bytes,
        "duration": e.duration_s if e.duration_s is not None else -1, "verdict": verdict,
        "warnings": e.warnings, "decision": decision, "created": s.created_at.isoformat(),
        "thumb": _thumb(e), "href": f"/review/s/{s.id}" + ("?lang=en" if lang == "en" else ""),
        "file_name": s.file_name, "size_text": size_text(s.size_bytes), "duration_text": duration_text(e.duration_s),
        "verdict_text": label(VERDICT_LABELS, verdict, lang) if e.verdict else bilingual(lang, "检查中", "checking"),
        "waived": len(e.state.waived),
        "warnings_text": joined((label(RULE_LABELS, c.rule, lang) + (f" {timecode(c.segments[0][0])}" if c.segments
                                                                      else "") for c in found), lang),
        "decision_text": label(DECISION_LABELS, decision, lang) if d else bilingual(lang, "未决定", "undecided"),
    }


def dashboard_view(campaign: CampaignRules, entries: Sequence[BoardEntry], lang: str) -> dict[str, Any]:
    def tr(zh: str, en: str) -> str:
        return bilingual(lang, zh, en)

    title = campaign.title.get("en" if lang == "en" else "zh-CN", campaign.id)
    return layout(title, lang, switch=with_lang(f"/review/c/{campaign.id}", other_lang(lang))) | {
        "home_href": with_lang("/review/", lang),
        "verdicts": [("", tr("全部结论", "All verdicts"))] + [(v, label(VERDICT_LABELS, v, lang))
                                                           for v in VERDICT_LABELS] + [("pending", tr("检查中", "checking"))],
        "warnings": [("", tr("全部内容提示", "All warnings")), ("none", tr("无提示", "No warning")),
                     ("any", tr("有提示", "Any warning"))] + [(r, label(RULE_LABELS, r, lang)) for r in CONTENT_RULES],
        "decisions": [("", tr("全部决定", "All decisions")), ("none", tr("未决定", "Undecided"))]
        + [(d, label(DECISION_LABELS, d, lang)) for d in DECISION_LABELS],
        "columns": [("", tr("缩略图", "Thumbnail")), ("name", tr("文件名", "File name")), ("size", tr("大小", "Size")),
                    ("duration", tr("时长", "Duration")), ("verdict", tr("检查结论", "Verdict")),
                    ("warnings", tr("内容提示", "Content warnings")), ("decision", tr("评审决定", "Decision"))],
        "export_href": f"/api/campaigns/{campaign.id}/export", "export_query": "?lang=en" if lang == "en" else "",
        "rows": [_row(e, lang) | row_details(campaign, e) for e in entries],
    }


def row_details(campaign: CampaignRules, e: BoardEntry) -> dict[str, Any]:
    """What a dashboard row adds from the entry details (``partials/row_details.html``): the
    values in the campaign's field order, and a folded text the search box matches."""
    shown = labelled(campaign.entry, e.sub.details)
    return {"entry_details": shown, "details_key": fold(" ".join(d["value"] for d in shown))}
