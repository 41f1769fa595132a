"""One report as a self-contained HTML page (Chinese first, English beside it). Pure:
a ``Report`` in, a string out; every value from the report is escaped. The batch writes
these pages next to its summaries, and the web service can serve the very same pages."""

from __future__ import annotations

from html import escape

from service.core.labels import RULE_LABELS, STATUS_LABELS, VERDICT_LABELS, names
from service.core.report import Report

STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em auto;max-width:72em;
  padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.4em;word-break:break-all}
.en{color:#666;font-size:.9em}
table{border-collapse:collapse;width:100%;margin:1em 0}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}
.v-pass,.s-pass{color:#16794a}.v-warn,.s-warn{color:#9a6400}.v-fail,.s-fail,.v-error{color:#b3261e}
.v-skipped,.s-skip{color:#666}
.badge{font-weight:bold;font-size:1.2em}
"""
"""The stylesheet shared by the report pages and the batch index."""


def bilingual(zh: str, en: str) -> str:
    """``zh`` followed by ``en`` in a smaller grey span, both escaped."""
    return f'{escape(zh)} <span class="en">{escape(en)}</span>'


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n")


def _media_rows(report: Report) -> str:
    m = report.media
    if m is None:
        return ""
    rows = [("类型", "kind", m.kind), ("封装", "container", m.container)]
    if m.width and m.height:
        rows.append(("画面尺寸", "size", f"{m.width}×{m.height}"))
    for zh, en, attr in (("视频编码", "video codec", "video_codec"), ("音频编码", "audio codec", "audio_codec"),
                         ("时长（秒）", "duration (s)", "duration_s"), ("图片格式", "image format", "image_format")):
        value = getattr(m, attr, None)
        if value is not None:
            rows.append((zh, en, f"{value:.2f}" if isinstance(value, float) else str(value)))
    rows.append(("文件大小（字节）", "size (bytes)", f"{m.size_bytes:,}"))
    return "".join(f"<tr><th>{bilingual(zh, en)}</th><td>{escape(str(v))}</td></tr>" for zh, en, v in rows)


def render_report(report: Report, *, back_href: str | None = None, source: str | None = None) -> str:
    """The report as an HTML page. ``back_href`` links back to an index; ``source`` names
    where the file came from (a folder path, or an archive and member)."""
    vzh, ven = names(VERDICT_LABELS, report.verdict)
    parts = []
    if back_href:
        parts.append(f'<p><a href="{escape(back_href, quote=True)}">← 返回汇总 <span class="en">back to the '
                     f"summary</span></a></p>")
    parts.append(f"<h1>{escape(report.file.name)}</h1>")
    parts.append(f'<p class="badge v-{escape(report.verdict)}">{bilingual(vzh, ven)}</p>')
    parts.append(f"<p>{bilingual(report.summary.get('zh-CN', ''), report.summary.get('en', ''))}</p>")
    info = [("活动要求", "profile", f"{report.profile.id} {report.profile.version}"
             + (f" · {report.profile.title.get('zh-CN', '')}" if report.profile.title else "")),
            ("sha256", "sha256", report.file.sha256 or "—"),
            ("检查时间", "checked at", report.created_at)]
    if source:
        info.insert(0, ("来源", "source", source))
    parts.append("<table>" + "".join(f"<tr><th>{bilingual(zh, en)}</th><td>{escape(v)}</td></tr>"
                                     for zh, en, v in info) + _media_rows(report) + "</table>")
    head = "".join(f"<th>{bilingual(zh, en)}</th>" for zh, en in (("规则", "rule"), ("结果", "result"),
                                                                   ("要求", "expected"), ("实际", "actual"),
                                                                   ("说明", "message")))
    rows = []
    for c in report.checks:
        tzh, ten = names(RULE_LABELS, c.rule)
        szh, sen = names(STATUS_LABELS, c.status)
        fix = ' <span class="en">（可自动修复 fixable）</span>' if c.fixable else ""
        rows.append(f'<tr><td>{bilingual(tzh, ten)}</td><td class="s-{c.status}">{bilingual(szh, sen)}</td>'
                    f"<td>{escape(c.expected or '')}</td><td>{escape(c.actual or '')}</td>"
                    f"<td>{bilingual(c.message.get('zh-CN', ''), c.message.get('en', ''))}{fix}</td></tr>")
    parts.append(f"<h2>{bilingual('逐项检查', 'Checks')}</h2><table><tr>{head}</tr>{''.join(rows)}</table>")
    tools = ", ".join(f"{k} {v}" for k, v in sorted(report.tools.items()))
    parts.append(f'<p class="en">{escape(tools)}</p>')
    return page(f"{report.file.name} — {vzh} / {ven}", "\n".join(parts))
