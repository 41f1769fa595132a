"""Reviewer pages, part one: sign-in, the reviewer's campaigns, and a campaign's dashboard
(a table of entries with thumbnail, name, size, duration, verdict after waivers, content
warnings and decision; filtered, sorted and searched in the browser by static/review.js).
Chinese first, English by ``?lang=en``. Pure: data in, HTML out."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import quote

from service.core.analysis import timecode
from service.core.labels import CONTENT_RULES, DECISION_LABELS, RULE_LABELS, VERDICT_LABELS, joined, label
from service.review.board import BoardEntry
from service.review.verdicts import content_warnings
from service.submissions.campaigns import CampaignRules


def t(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def size_text(n: int) -> str:
    return f"{n / 2**20:.1f} 兆" if n >= 2**20 else f"{n / 1024:.0f} KiB"


def duration_text(s: float | None) -> str:
    if s is None:
        return "—"
    m, sec = divmod(s, 60)
    return f"{int(m)}:{sec:04.1f}"


def page(title: str, body: str, lang: str, *, switch: str, signed_in: bool = True) -> str:
    """A whole page: head, the language switch (``switch`` is the same page's path with the
    other language), sign-out, body."""
    other = "English" if lang != "en" else "中文"
    out = (f'<form method="post" action="/review/logout" class="inline"><button class="link" id="logout">'
           f'{t(lang, "退出登录", "Sign out")}</button></form>') if signed_in else ""
    return (f'<!doctype html><html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{escape(title)}</title>'
            f'<link rel="stylesheet" href="/static/review.css"></head><body>'
            f'<nav><a id="lang" href="{escape(switch)}">{other}</a> {out}</nav>{body}'
            f'<script src="/static/review.js"></script></body></html>')


def with_lang(path: str, lang: str) -> str:
    sep = "&" if "?" in path else "?"
    return f"{path}{sep}lang={lang}" if lang == "en" else path


def login_page(lang: str, *, next_url: str, error: bool = False) -> str:
    msg = (f'<p id="error" class="bad">{t(lang, "密钥无效、已吊销，或不是评审密钥。", "The key is invalid, revoked, or not a reviewer key.")}</p>'
           if error else "")
    body = (f'<h1>{t(lang, "评审登录", "Reviewer sign-in")}</h1>{msg}'
            f'<p>{t(lang, "请输入管理员发给您的评审 API 密钥（mck_ 开头）。", "Enter the reviewer API key your administrator gave you (it starts with mck_).")}</p>'
            f'<form method="post" action="/review/login" id="login">'
            f'<input type="hidden" name="next" value="{escape(next_url)}"><input type="hidden" name="lang" value="{lang}">'
            f'<input type="password" name="key" id="key" autocomplete="off" required size="50" '
            f'placeholder="mck_…"> <button type="submit">{t(lang, "登录", "Sign in")}</button></form>')
    other = "zh-CN" if lang == "en" else "en"
    return page(t(lang, "评审登录", "Reviewer sign-in"), body, lang,
                switch=f"/review/login?next={quote(next_url)}&lang={other}", signed_in=False)


def campaigns_page(campaigns: Sequence[CampaignRules], lang: str, reviewer: str) -> str:
    items = "".join(f'<li><a href="{with_lang("/review/c/" + c.id, lang)}">{escape(c.title.get("en" if lang == "en" else "zh-CN", c.id))}</a>'
                    f' <small>{escape(c.id)}</small></li>' for c in campaigns)
    body = (f'<h1>{t(lang, "我评审的活动", "My campaigns")}</h1><p><small>{escape(reviewer)}</small></p>'
            f'<ul id="campaigns">{items}</ul>')
    return page(t(lang, "评审", "Review"), body, lang, switch=with_lang("/review/", "en" if lang != "en" else "zh-CN"))


def _options(pairs: Sequence[tuple[str, str]]) -> str:
    return "".join(f'<option value="{escape(v)}">{escape(n)}</option>' for v, n in pairs)


def _row(e: BoardEntry, lang: str) -> str:
    s = e.sub
    q = "?lang=en" if lang == "en" else ""
    if "thumbnail" in e.pictures:
        thumb = f'<img src="/review/s/{s.id}/pictures/thumbnail.jpg" alt="" loading="lazy">'
    elif e.analysing or (e.report is None and s.status != "error"):
        thumb = f'<span class="pending">{t(lang, "分析中", "analysing")}</span>'
    elif e.deep_job == "failed":
        thumb = f'<span class="bad">{t(lang, "分析失败", "analysis failed")}</span>'
    else:
        thumb = '<span class="pending">—</span>'

    verdict = e.verdict or "pending"
    vtext = label(VERDICT_LABELS, verdict, lang) if e.verdict else t(lang, "检查中", "checking")
    warns = e.warnings
    found = content_warnings(e.report, e.state.waived) if e.report else []
    wtext = joined((label(RULE_LABELS, c.rule, lang) + (f" {timecode(c.segments[0][0])}" if c.segments else "")
                    for c in found), lang)
    d = e.state.decision
    decision = d.decision if d and d.decision else "none"
    dtext = label(DECISION_LABELS, decision, lang) if d else t(lang, "未决定", "undecided")
    dur = e.duration_s
    n = len(e.state.waived)
    waived = f' <small class="waived-note">{t(lang, f"已豁免 {n} 项", f"{n} waived")}</small>' if n else ""
    return (f'<tr data-id="{s.id}" data-name="{escape(s.file_name.lower())}" data-size="{s.size_bytes}" '
            f'data-duration="{dur if dur is not None else -1}" data-verdict="{verdict}" '
            f'data-warnings="{" ".join(warns)}" data-decision="{decision}" data-created="{s.created_at.isoformat()}">'
            f'<td class="thumb">{thumb}</td>'
            f'<td class="name"><a href="/review/s/{s.id}{q}">{escape(s.file_name)}</a></td>'
            f'<td class="num">{size_text(s.size_bytes)}</td><td class="num">{duration_text(dur)}</td>'
            f'<td><span class="badge {verdict}">{vtext}</span>{waived}</td><td class="warn-list">{escape(wtext) or "—"}</td>'
            f'<td><span class="badge d-{decision}">{dtext}</span></td></tr>')


def dashboard_page(campaign: CampaignRules, entries: Sequence[BoardEntry], lang: str) -> str:
    title = campaign.title.get("en" if lang == "en" else "zh-CN", campaign.id)
    verdicts = [("", t(lang, "全部结论", "All verdicts"))] + [(v, label(VERDICT_LABELS, v, lang)) for v in VERDICT_LABELS] + [
        ("pending", t(lang, "检查中", "checking"))]
    warnings = [("", t(lang, "全部内容提示", "All warnings")), ("none", t(lang, "无提示", "No warning")),
                ("any", t(lang, "有提示", "Any warning"))] + [(r, label(RULE_LABELS, r, lang)) for r in CONTENT_RULES]
    decisions = [("", t(lang, "全部决定", "All decisions")), ("none", t(lang, "未决定", "Undecided"))] + [
        (d, label(DECISION_LABELS, d, lang)) for d in DECISION_LABELS]
    cols = [("", t(lang, "缩略图", "Thumbnail")), ("name", t(lang, "文件名", "File name")),
            ("size", t(lang, "大小", "Size")), ("duration", t(lang, "时长", "Duration")),
            ("verdict", t(lang, "检查结论", "Verdict")), ("warnings", t(lang, "内容提示", "Content warnings")),
            ("decision", t(lang, "评审决定", "Decision"))]
    head = "".join(f'<th data-sort="{k}">{n}</th>' if k else f"<th>{n}</th>" for k, n in cols)
    rows = "".join(_row(e, lang) for e in entries)
    xq = "?lang=en" if lang == "en" else ""
    body = (f'<p><a href="{with_lang("/review/", lang)}">{t(lang, "← 我的活动", "← My campaigns")}</a></p>'
            f'<h1 id="title">{escape(title)}</h1>'
            f'<div class="tools"><input type="search" id="search" placeholder="{t(lang, "搜索文件名", "Search file names")}">'
            f'<select id="f-verdict">{_options(verdicts)}</select><select id="f-warning">{_options(warnings)}</select>'
            f'<select id="f-decision">{_options(decisions)}</select>'
            f'<span id="count" data-total="{len(entries)}"></span>'
            f'<span class="exports"><a id="export-xlsx" href="/api/campaigns/{campaign.id}/export.xlsx{xq}">{t(lang, "导出 Excel", "Export XLSX")}</a> '
            f'<a id="export-csv" href="/api/campaigns/{campaign.id}/export.csv{xq}">CSV</a></span></div>'
            f'<table id="entries" data-lang="{lang}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
            + ("" if entries else f'<p>{t(lang, "还没有作品。", "No entries yet.")}</p>'))
    return page(title, body, lang, switch=with_lang(f"/review/c/{campaign.id}", "en" if lang != "en" else "zh-CN"))
