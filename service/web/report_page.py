"""The report as a page for people: verdict in plain words, each failed rule with what is
expected, what the file has, and whether an automatic fix exists. Chinese first, English
by ``lang=en``. Pure: data in, HTML out."""

from __future__ import annotations

from html import escape
from typing import Any

from service.core.labels import VERDICT_LABELS, names
from service.store.models import Submission
from service.web.fix_page import fix_section

STATUS_WORDS = {
    "fail": ("不符合", "fails"),
    "warn": ("建议", "advice"),
    "pass": ("符合", "passes"),
    "skip": ("未检查", "skipped"),
}

STYLE = """body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;
max-width:52rem;margin:2rem auto;
padding:0 1rem;color:#222;line-height:1.55}h1{font-size:1.5rem}.verdict{font-size:1.4rem;padding:.6rem 1rem;
border-radius:.4rem;display:inline-block}.pass{background:#e3f6e5;color:#17692a}.warn{background:#fff6dc;color:#7a5a00}
.fail,.error{background:#fde7e7;color:#a11}table{border-collapse:collapse;width:100%;margin:1rem 0}
td,th{border-bottom:1px solid #ddd;padding:.45rem .5rem;text-align:left;vertical-align:top}
.fix{color:#17692a}.nofix{color:#777}nav{float:right}small{color:#666}"""


def _t(lang: str, pair: tuple[str, str] | dict[str, str] | None) -> str:
    if pair is None:
        return ""
    if isinstance(pair, dict):
        return pair.get("en" if lang == "en" else "zh-CN", "")
    return pair[1] if lang == "en" else pair[0]


def render_report(
    sub: Submission, report: dict[str, Any] | None, *, lang: str = "zh-CN", token: str | None = None,
    fixed: dict[str, Any] | None = None,
) -> str:
    en = lang == "en"
    q = f"token={escape(token)}&" if token else ""
    other = "zh-CN" if en else "en"
    switch = f'<nav><a href="?{q}format=html&lang={other}">{"中文" if en else "English"}</a></nav>'
    title = "Check report" if en else "检查报告"
    head = (
        f'<!doctype html><html lang="{"en" if en else "zh-CN"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body>{switch}<h1>{title}</h1>"
    )
    name = (
        f"<p>{'File' if en else '文件'}：<b>{escape(sub.file_name)}</b> <small>({sub.size_bytes:,} B, sha256 "
        f"{sub.sha256[:12]}…)</small></p>"
    )
    if report is None:
        waiting = "Checking… this page refreshes itself." if en else "正在检查……本页会自动刷新。"
        return (
            head + name + f'<p id="verdict" class="verdict warn">{waiting}</p>'
            "<script>setTimeout(()=>location.reload(),1500)</script></body></html>"
        )
    v = report["verdict"]
    parts = [
        head,
        name,
        f'<p id="verdict" class="verdict {v}" data-verdict="{v}">{_t(lang, names(VERDICT_LABELS, v))}</p>',
        f'<p id="summary">{escape(_t(lang, report.get("summary")))}</p>',
    ]
    if sub.duplicate_of:
        parts.append(
            "<p>"
            + _t(lang, ("本活动已收到内容完全相同的文件。", "Same content as an earlier submission to this campaign."))
            + "</p>"
        )
    bad = [c for c in report.get("checks", []) if c["status"] in ("fail", "warn")]
    if bad:
        cols = ("Rule", "Expected", "Actual", "Automatic fix") if en else ("规则", "要求", "实际", "自动修复")
        parts.append(
            '<table id="checks"><thead><tr>' + "".join(f"<th>{c}</th>" for c in cols) + "</tr></thead><tbody>"
        )
        for c in bad:
            fix = ("Available", "可以自动修复") if c.get("fixable") else ("None", "无")
            parts.append(
                f'<tr class="{c["status"]}" data-rule="{escape(c["rule"])}">'
                f"<td><b>{_t(lang, STATUS_WORDS[c['status']])}</b> "
                f"{escape(_t(lang, c.get('message')))}<br><small>{escape(c['rule'])}</small></td>"
                f"<td>{escape(c.get('expected') or '')}</td><td>{escape(c.get('actual') or '')}</td>"
                f'<td class="{"fix" if c.get("fixable") else "nofix"}">{fix[0] if en else fix[1]}</td></tr>'
            )
        parts.append("</tbody></table>")
    passed = [c for c in report.get("checks", []) if c["status"] == "pass"]
    if passed:
        label = f"{len(passed)} rules met" if en else f"符合的 {len(passed)} 项规则"
        items = "".join(f"<li>{escape(_t(lang, c.get('message')))}</li>" for c in passed)
        parts.append(f"<details><summary>{label}</summary><ul>{items}</ul></details>")
    parts.append(fix_section(sub.id, report, fixed, lang=lang, token=token))  # the fixed copy, or a button
    again = "Upload another file" if en else "上传另一个文件"
    parts.append(f'<p><a id="again" href="/c/{escape(sub.campaign_id)}?lang={lang}">{again}</a></p>')
    keep = "Keep this page's address: it is your receipt." if en else "请保存本页地址，它就是您的回执。"
    parts.append(f"<p><small>{keep} ID {escape(sub.id)}</small></p></body></html>")
    return "".join(parts)
