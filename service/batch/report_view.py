"""One report as a self-contained page in a batch's folder, as values for ``report.html``
(service/pages, both languages, the stylesheet inline): a ``Report`` in, the page out. The
batch writes these pages next to its summaries."""

from __future__ import annotations

from typing import Any

from service.core.labels import RULE_LABELS, STATUS_LABELS, VERDICT_LABELS, names
from service.core.report import Report
from service.pages import BOTH, render


def _media_facts(report: Report) -> list[tuple[str, str, str]]:
    m = report.media
    if m is None:
        return []
    rows = [("类型", "kind", m.kind), ("封装", "container", m.container)]
    if m.width and m.height:
        rows.append(("画面尺寸", "size", f"{m.width}×{m.height}"))
    for zh, en, attr in (("视频编码", "video codec", "video_codec"), ("音频编码", "audio codec", "audio_codec"),
                         ("时长（秒）", "duration (s)", "duration_s"), ("图片格式", "image format", "image_format")):
        value = getattr(m, attr, None)
        if value is not None:
            rows.append((zh, en, f"{value:.2f}" if isinstance(value, float) else str(value)))
    rows.append(("文件大小（字节）", "size (bytes)", f"{m.size_bytes:,}"))
    return [(zh, en, str(v)) for zh, en, v in rows]


def report_view(report: Report, *, back_href: str | None = None, source: str | None = None) -> dict[str, Any]:
    """The values of the page. ``back_href`` links back to an index; ``source`` names where
    the file came from (a folder path, or an archive and member)."""
    vzh, ven = names(VERDICT_LABELS, report.verdict)
    facts = [("活动要求", "profile", f"{report.profile.id} {report.profile.version}"
              + (f" · {report.profile.title.get('zh-CN', '')}" if report.profile.title else "")),
             ("sha256", "sha256", report.file.sha256 or "—"),
             ("检查时间", "checked at", report.created_at)]
    if source:
        facts.insert(0, ("来源", "source", source))
    return {
        "receipt": False, "page_class": "batch", "lang": BOTH, "self_contained": True,
        "title": f"{report.file.name} — {vzh} / {ven}",
        "back_href": back_href, "file_name": report.file.name,
        "verdict": report.verdict, "verdict_names": (vzh, ven), "summary": report.summary,
        "facts": facts + _media_facts(report),
        "checks": [{"rule_names": names(RULE_LABELS, c.rule), "status": c.status,
                    "status_names": names(STATUS_LABELS, c.status), "expected": c.expected or "",
                    "actual": c.actual or "", "message": c.message, "fixable": c.fixable}
                   for c in report.checks],
        "tools": ", ".join(f"{k} {v}" for k, v in sorted(report.tools.items())),
    }


def render_report(report: Report, *, back_href: str | None = None, source: str | None = None) -> str:
    """The page as HTML (``report.html`` with the values of ``report_view``)."""
    return render("report.html", **report_view(report, back_href=back_href, source=source))
