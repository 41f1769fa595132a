"""index.html of a batch: counts per verdict, the most frequent failures, and a row per
file linking to its report page. Self-contained (inline style, no scripts), bilingual
headings, every name escaped. Drawn from the same records as the spreadsheets."""

from __future__ import annotations

import os
from collections.abc import Iterable
from html import escape
from pathlib import Path
from urllib.parse import quote

from service.batch.report_html import bilingual, page
from service.batch.summary import Stats
from service.batch.task import Record
from service.core.labels import BATCH_VERDICT_LABELS, RULE_LABELS, names
from service.store.durable import replace_atomically

TOP_FAILURES = 10
"""How many of the most frequent failed rules the index lists."""


def _counts(stats: Stats) -> str:
    cells = []
    for verdict in ("pass", "warn", "fail", "error", "skipped"):
        zh, en = names(BATCH_VERDICT_LABELS, verdict)
        cells.append(f'<tr><th class="v-{verdict}">{bilingual(zh, en)}</th><td>{stats.verdicts.get(verdict, 0)}</td>'
                     "</tr>")
    cells.append(f"<tr><th>{bilingual('合计', 'total')}</th><td>{stats.total}</td></tr>")
    return "<table>" + "".join(cells) + "</table>"


def _failures(stats: Stats) -> str:
    if not stats.failures:
        return f"<p>{bilingual('没有不符合的项目。', 'No rule failed.')}</p>"
    checked = sum(stats.verdicts.get(v, 0) for v in ("pass", "warn", "fail", "error")) or 1
    rows = []
    for rule, n in stats.failures.most_common(TOP_FAILURES):
        zh, en = names(RULE_LABELS, rule)
        rows.append(f"<tr><td>{bilingual(zh, en)}</td><td>{n}</td><td>{100 * n / checked:.0f}%</td></tr>")
    head = f"<tr><th>{bilingual('规则', 'rule')}</th><th>{bilingual('文件数', 'files')}</th><th>%</th></tr>"
    return "<table>" + head + "".join(rows) + "</table>"


def _row(i: int, r: Record) -> str:
    zh, en = names(BATCH_VERDICT_LABELS, r.verdict)
    name = escape(r.entry.name)
    if r.html:
        name = f'<a href="{escape(quote(r.html), quote=True)}">{name}</a>'
    if r.report is not None:
        failed = "、".join(names(RULE_LABELS, c.rule)[0] for c in r.report.checks if c.status == "fail")
        text = r.report.summary.get("zh-CN", "")
    else:
        failed, text = "", (r.reason or {}).get("zh-CN", "")
    return (f'<tr><td>{i}</td><td>{name}</td><td class="v-{r.verdict}">{bilingual(zh, en)}</td>'
            f"<td>{escape(failed)}</td><td>{escape(text)}</td></tr>")


def write_index(path: str | os.PathLike[str], records: Iterable[Record], stats: Stats, *, profile: str,
                created_at: str) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8") as fh:
            head = (f"<h1>{bilingual('批量检查结果', 'Batch check results')}</h1>"
                    f"<p>{bilingual('活动要求', 'Profile')}：{escape(profile)} · {escape(created_at)}</p>"
                    f"<p>{bilingual('另见', 'See also')} <a href=\"summary.xlsx\">summary.xlsx</a> · "
                    f'<a href="summary.csv">summary.csv</a> · <a href="results.jsonl">results.jsonl</a></p>'
                    f"<h2>{bilingual('结论统计', 'Verdicts')}</h2>{_counts(stats)}"
                    f"<h2>{bilingual('最常见的问题', 'Most frequent failures')}</h2>{_failures(stats)}"
                    f"<h2>{bilingual('逐个文件', 'Files')}</h2><table><tr>"
                    + "".join(f"<th>{bilingual(zh, en)}</th>" for zh, en in (
                        ("序号", "No."), ("文件", "file"), ("结论", "verdict"), ("不符合项", "failed rules"),
                        ("说明", "summary")))
                    + "</tr>")
            body = page("批量检查结果 / Batch check results", head + "\n@@ROWS@@\n</table>")
            before, after = body.split("@@ROWS@@")
            fh.write(before)
            for i, r in enumerate(records, 1):
                fh.write(_row(i, r) + "\n")
            fh.write(after)
    replace_atomically(path, write)
