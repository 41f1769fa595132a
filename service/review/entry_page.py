"""Reviewer pages, part two: one entry. The report in plain words (each failed or warned rule
with what is asked and what the file has, and a waiver per rule), the player of the original
with a timeline of flagged segments (a click seeks the player, static/review.js), the
contact sheet, the fixed copy when there is one, the decision form and the review trail.
Chinese first, English by ``?lang=en``. Pure: data in, HTML out."""

from __future__ import annotations

from html import escape

from service.core.analysis import timecode
from service.core.checks import Check
from service.core.labels import DECISION_LABELS, RULE_LABELS, STATUS_LABELS, VERDICT_LABELS, label, rule_names
from service.review.board import BoardEntry
from service.review.board_page import duration_text, page, size_text, t, with_lang
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
        parts.append(t(lang, f"不符合要求：{failed}。", f"Rules not met: {failed}."))
    if warned:
        parts.append(t(lang, f"建议改进：{warned}。", f"Advice: {warned}."))
    if e.state.waived:
        waived = rule_names(e.state.waived, lang)
        parts.append(t(lang, f"已豁免：{waived}。", f"Waived: {waived}."))
    return " ".join(parts) or t(lang, "符合全部要求。", "Every rule is met.")


def _flags(e: BoardEntry, lang: str) -> str:
    """The flagged rules with their timecodes (buttons that seek the player)."""
    assert e.report is not None
    items = []
    for c in e.report.checks:
        if c.status not in ("fail", "warn") or c.rule in e.state.waived:
            continue
        if c.segments:
            when = " ".join(f'<button class="seek" data-start="{a:.3f}">{timecode(a)}–{timecode(b)}</button>'
                            for a, b in c.segments)
        else:
            when = f'<span class="whole">{t(lang, "全片", "whole file")}</span>'
        items.append(f'<li class="{c.status}" data-rule="{c.rule}"><b>{escape(label(RULE_LABELS, c.rule, lang))}</b> '
                     f'{when}<br><small>{escape(_msg(lang, c))}</small></li>')
    return f'<ul id="flags">{"".join(items)}</ul>' if items else f'<p id="flags" class="ok">{t(lang, "没有标记的问题。", "Nothing flagged.")}</p>'


def _timeline(e: BoardEntry, lang: str) -> str:
    """One lane per flagged rule, its segments drawn where they are in the running time."""
    assert e.report is not None
    lanes: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for m in timeline(e.report, e.state.waived):
        names[m.rule] = m.label_en if lang == "en" else m.label_zh
        lanes.setdefault(m.rule, []).append(
            f'<button class="mark {m.status}" style="left:{m.left * 100:.2f}%;width:{m.width * 100:.2f}%" '
            f'data-start="{m.start_s:.3f}" data-rule="{m.rule}" title="{escape(names[m.rule])} {m.timecode}"></button>')
    rows = "".join(f'<div class="lane" data-rule="{r}"><span class="lane-label">{escape(names[r])}</span>'
                   f'<div class="track">{"".join(marks)}<div class="playhead"></div></div></div>'
                   for r, marks in lanes.items())
    if not rows:
        rows = ('<div class="lane"><span class="lane-label"></span><div class="track"><div class="playhead"></div>'
                '</div></div>')
    return f'<div id="timeline" data-duration="{e.duration_s or 0}">{rows}</div>'


def _checks(e: BoardEntry, lang: str) -> str:
    assert e.report is not None
    rows = []
    for c in e.report.checks:
        waived = c.rule in e.state.waived
        if c.status not in ("fail", "warn") and not waived:
            continue
        status = "waived" if waived else c.status
        action = "unwaive" if waived else "waive"
        button = t(lang, "撤销豁免", "Withdraw waiver") if waived else t(lang, "豁免（创作意图）", "Waive (creative intent)")
        form = (f'<form method="post" action="/review/s/{e.sub.id}/waivers" class="waiver">'
                f'<input type="hidden" name="rule" value="{escape(c.rule)}"><input type="hidden" name="action" value="{action}">'
                f'<input type="hidden" name="lang" value="{lang}">'
                f'<input name="note" placeholder="{t(lang, "理由", "reason")}" maxlength="2000">'
                f'<button type="submit">{button}</button></form>')
        rows.append(f'<tr class="{status}" data-rule="{escape(c.rule)}"><td><b>{escape(label(STATUS_LABELS, status, lang))}</b> '
                    f'{escape(label(RULE_LABELS, c.rule, lang))}<br><small>{escape(_msg(lang, c))}</small></td>'
                    f'<td>{escape(c.expected or "")}</td><td>{escape(c.actual or "")}</td><td>{form}</td></tr>')
    if not rows:
        return f'<p class="ok">{t(lang, "所有规则均符合。", "Every rule is met.")}</p>'
    cols = (t(lang, "规则", "Rule"), t(lang, "要求", "Expected"), t(lang, "实际", "Actual"), t(lang, "豁免", "Waiver"))
    return (f'<table id="checks"><thead><tr>{"".join(f"<th>{x}</th>" for x in cols)}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _trail(e: BoardEntry, lang: str) -> str:
    if not e.state.lines:
        return f'<p id="trail">{t(lang, "尚无记录。", "Nothing recorded yet.")}</p>'
    rows = []
    for x in reversed(e.state.lines):
        if x.kind == "decision":
            what = label(DECISION_LABELS, x.decision or "", lang)
        else:
            verb = t(lang, "豁免", "waived") if x.kind == "waive" else t(lang, "撤销豁免", "waiver withdrawn")
            what = f"{verb}：{label(RULE_LABELS, x.rule or '', lang)}"
        rows.append(f'<tr data-kind="{x.kind}"><td>{x.at.strftime("%Y-%m-%d %H:%M:%S")} UTC</td><td>{escape(x.by)}</td>'
                    f'<td>{escape(what)}</td><td>{escape(x.note or "")}</td></tr>')
    cols = (t(lang, "时间", "When"), t(lang, "评审", "Who"), t(lang, "操作", "What"), t(lang, "备注", "Note"))
    return (f'<table id="trail"><thead><tr>{"".join(f"<th>{c}</th>" for c in cols)}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _decision_form(e: BoardEntry, lang: str) -> str:
    current = e.state.decision.decision if e.state.decision else None
    radios = "".join(f'<label><input type="radio" name="decision" value="{d}"{" checked" if d == current else ""} required> '
                     f'{label(DECISION_LABELS, d, lang)}</label> ' for d in DECISION_LABELS)
    return (f'<form method="post" action="/review/s/{e.sub.id}/decisions" id="decide">{radios}'
            f'<input type="hidden" name="lang" value="{lang}">'
            f'<br><textarea name="note" id="note" rows="2" maxlength="2000" placeholder="{t(lang, "备注（可选）", "Note (optional)")}"></textarea>'
            f'<br><button type="submit" id="save-decision">{t(lang, "记录决定", "Record decision")}</button></form>')


def entry_page(e: BoardEntry, lang: str, campaign_title: str) -> str:
    s = e.sub
    media = e.report.media if e.report else None
    verdict = e.verdict
    header = [f'<p><a id="back" href="{with_lang("/review/c/" + s.campaign_id, lang)}">← {escape(campaign_title)}</a></p>',
              f'<h1>{escape(s.file_name)}</h1>',
              f'<p class="facts">{size_text(s.size_bytes)} · {duration_text(media.duration_s if media else None)}'
              + (f" · {media.width}×{media.height}" if media and media.width else "") + "</p>"]
    if verdict:
        was = ""
        if e.report and verdict != e.report.verdict:
            was = f' <small>({t(lang, "豁免前", "before waivers")}: {label(VERDICT_LABELS, e.report.verdict, lang)})</small>'
        header.append(f'<p><span id="verdict" class="badge big {verdict}" data-verdict="{verdict}">'
                      f'{label(VERDICT_LABELS, verdict, lang)}</span>{was}</p>')
        if e.report:
            header.append(f'<p id="summary">{escape(plain_summary(e, lang))}</p>')
    d = e.state.decision
    if d and d.decision:
        header.append(f'<p id="current-decision" data-decision="{d.decision}">{t(lang, "当前决定", "Current decision")}：'
                      f'<span class="badge d-{d.decision}">{label(DECISION_LABELS, d.decision, lang)}</span> '
                      f'<small>{escape(d.by)} · {d.at.strftime("%Y-%m-%d %H:%M")} UTC</small></p>')
    parts = header
    if e.report is None:
        parts.append(f'<p class="pending">{t(lang, "正在检查……请稍后刷新。", "Being checked… reload soon.")}</p>')
    else:
        if e.analysing:
            parts.append(f'<p class="pending" id="deep-pending">{t(lang, "内容分析尚未完成，稍后刷新可见黑场、静止画面等标记。", "Content analysis is not finished yet; reload soon to see black, frozen and other marks.")}</p>')
        elif e.deep_job == "failed":
            why = (e.deep_error or {}).get("en" if lang == "en" else "zh-CN", "")
            parts.append(f'<p class="bad" id="deep-failed">{t(lang, "内容分析失败", "The content analysis failed")}：{escape(why)}</p>')
        if media is not None and media.kind in ("video", "audio"):
            parts.append(f'<h2>{t(lang, "播放与标记", "Player and flags")}</h2>'
                         f'<div class="player-box"><video id="player" controls preload="metadata" '
                         f'src="/review/s/{s.id}/media"></video>' + _timeline(e, lang) + '</div>' + _flags(e, lang))
        elif "thumbnail" in e.pictures:
            parts.append(f'<img class="photo" src="/review/s/{s.id}/pictures/thumbnail.jpg" alt="">')
        parts.append(f'<h2>{t(lang, "检查结果", "Report")}</h2>' + _checks(e, lang))
        if "contact_sheet" in e.pictures:
            parts.append(f'<h2>{t(lang, "缩略图总览", "Contact sheet")}</h2>'
                         f'<img id="contact-sheet" src="/review/s/{s.id}/pictures/contact-sheet.jpg" alt="">')
    links = [f'<a id="original" href="/review/s/{s.id}/media?download=1">{t(lang, "下载原文件", "Download the original")}</a>']
    if e.fixed is not None:
        after = (f' <small id="fixed-verdict">（{t(lang, "修复后", "after the fix")}：{label(VERDICT_LABELS, e.fixed_verdict, lang)}）</small>'
                 if e.fixed_verdict else "")
        links.append(f'<a id="fixed" href="/review/s/{s.id}/fixed">{t(lang, "下载自动修复后的文件", "Download the fixed copy")}</a>{after}')
    parts.append(f'<p class="links">{" · ".join(links)}</p>')
    parts.append(f'<h2>{t(lang, "评审决定", "Decision")}</h2>' + _decision_form(e, lang))
    parts.append(f'<h2>{t(lang, "评审记录", "Review trail")}</h2>' + _trail(e, lang))
    other = "en" if lang != "en" else "zh-CN"
    return page(s.file_name, "".join(parts), lang, switch=with_lang(f"/review/s/{s.id}", other))
