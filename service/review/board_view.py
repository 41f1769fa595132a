"""Reviewer pages, part one, as values for the templates of service/pages/templates/review/:
sign-in, the reviewer's campaigns, a campaign's dashboard (a row per entry with thumbnail,
name, size, duration, verdict after waivers, content warnings and decision; a page of the
summary rows filtered, sorted and searched by the database, service/review/listing.py, its
state in the query string), and the page that turns a reviewer away.
Chinese first, English by ``?lang=en``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from service.core.analysis import timecode
from service.core.entry_fields import fold, labelled
from service.core.labels import CONTENT_RULES, DECISION_LABELS, RULE_LABELS, VERDICT_LABELS, joined, label
from service.pages import bilingual
from service.review.listing import DETAIL_SORT, Counts, Page, Query
from service.store.database import aware
from service.store.models import SubmissionSummary
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


def _thumb(row: SubmissionSummary, deep_job: str | None) -> str:
    if row.thumbnail:
        return "picture"
    if deep_job in ("queued", "started") or (row.verdict == "pending" and row.status != "error"):
        return "analysing"
    return "failed" if deep_job == "failed" else "none"


def _row(r: SubmissionSummary, lang: str, deep_job: str | None) -> dict[str, Any]:
    pending = r.verdict == "pending"
    return {
        "id": r.submission_id, "name_key": r.name_key, "size_bytes": r.size_bytes, "duration": r.duration_key,
        "verdict": r.verdict, "warnings": [c["rule"] for c in r.content], "decision": r.decision,
        "created": (aware(r.created_at) or r.created_at).isoformat(),
        "thumb": _thumb(r, deep_job), "href": with_lang(f"/review/s/{r.submission_id}", lang),
        "file_name": r.file_name, "size_text": size_text(r.size_bytes), "duration_text": duration_text(r.duration_s),
        "verdict_text": bilingual(lang, "检查中", "checking") if pending else label(VERDICT_LABELS, r.verdict, lang),
        "waived": len(r.waived),
        "warnings_text": joined((label(RULE_LABELS, c["rule"], lang)
                                 + (f" {timecode(c['start'])}" if c.get("start") is not None else "")
                                 for c in r.content), lang),
        "decision_text": bilingual(lang, "未决定", "undecided") if r.decision == "none"
        else label(DECISION_LABELS, r.decision, lang),
    }


def query_string(q: Query, lang: str, **changes: Any) -> str:
    """The dashboard's URL state (filters, search, order, page) as a query string, with ``changes``."""
    values = {"q": q.search, "verdict": q.verdict, "warning": q.warning, "decision": q.decision,
              "sort": "" if q.sort == "created" else q.sort, "dir": "desc" if q.desc else "",
              "after": q.after or "", "lang": "en" if lang == "en" else ""} | changes
    pairs = [(k, v) for k, v in values.items() if v]
    return "?" + urlencode(pairs) if pairs else "?"


def dashboard_view(campaign: CampaignRules, q: Query, page: Page, n: Counts, lang: str,
                   deep_jobs: dict[str, str], details: Mapping[str, Mapping[str, Any] | None] | None = None
                   ) -> dict[str, Any]:
    """The dashboard's values; ``details``: the entry details of the page's rows, by id."""
    details = details or {}

    def tr(zh: str, en: str) -> str:
        return bilingual(lang, zh, en)

    def counted(pairs: list[tuple[str, str]], numbers: dict[str, int]) -> list[tuple[str, str]]:
        return [(v, f"{name} ({numbers[v]})" if v in numbers else name) for v, name in pairs]

    def sort_href(key: str) -> str:
        desc = q.sort == key and not q.desc
        return query_string(q, lang, sort="" if key == "created" else key, dir="desc" if desc else "", after="")

    title = campaign.title.get("en" if lang == "en" else "zh-CN", campaign.id)
    base = f"/review/c/{campaign.id}"
    columns = [("", tr("缩略图", "Thumbnail")), ("name", tr("文件名", "File name")), ("size", tr("大小", "Size")),
               ("duration", tr("时长", "Duration")), ("verdict", tr("检查结论", "Verdict")),
               ("warnings", tr("内容提示", "Content warnings")), ("decision", tr("评审决定", "Decision"))]
    return layout(title, lang, switch=base + query_string(q, other_lang(lang))) | {
        "home_href": with_lang("/review/", lang), "base": base, "query": q,
        "verdicts": counted([("", tr("全部结论", "All verdicts"))] + [(v, label(VERDICT_LABELS, v, lang))
                             for v in VERDICT_LABELS] + [("pending", tr("检查中", "checking"))], n.verdicts),
        "warnings": counted([("", tr("全部内容提示", "All warnings")), ("none", tr("无提示", "No warning")),
                             ("any", tr("有提示", "Any warning"))]
                            + [(r, label(RULE_LABELS, r, lang)) for r in CONTENT_RULES], n.warnings),
        "decisions": counted([("", tr("全部决定", "All decisions")), ("none", tr("未决定", "Undecided"))]
                             + [(d, label(DECISION_LABELS, d, lang)) for d in DECISION_LABELS], n.decisions),
        "columns": [(key, name, sort_href(key) if key else "",
                     ("descending" if q.desc else "ascending") if key and key == q.sort else "")
                    for key, name in columns],
        "detail_sorts": [(DETAIL_SORT + f.key, bilingual(lang, f.label.zh, f.label.en or f.label.zh),
                          sort_href(DETAIL_SORT + f.key),
                          ("descending" if q.desc else "ascending") if q.sort == DETAIL_SORT + f.key else "")
                         for f in campaign.entry.fields],
        "export_href": f"/api/campaigns/{campaign.id}/export", "export_query": "?lang=en" if lang == "en" else "",
        "rows": [_row(r, lang, deep_jobs.get(r.submission_id)) | row_details(campaign, details.get(r.submission_id))
                 for r in page.rows],
        "total": n.all, "shown": n.total,
        "count_text": f"{n.total} of {n.all} entries" if lang == "en" else f"共 {n.all} 件，显示 {n.total} 件",
        "next_href": base + query_string(q, lang, after=page.next) if page.next else None,
        "first_href": base + query_string(q, lang, after="") if q.after else None,
        "state": query_string(q, lang),
    }


def row_details(campaign: CampaignRules, details: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a dashboard row adds from its entry details (``partials/row_details.html``): the
    values in the campaign's field order, and a folded text the search box matches."""
    shown = labelled(campaign.entry, details)
    return {"entry_details": shown, "details_key": fold(" ".join(d["value"] for d in shown))}
