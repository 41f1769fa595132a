"""What the ``mediacheck`` command prints for people, shared by its command groups: the exit
codes, the usage-error line, a report as a short table (verdict, media line, content line,
one line per check) and the words for verdicts and fix outcomes. The verdict words are the
core's (``service.core.labels.VERDICT_LABELS``), in capitals in English. Imports only the
standard library at the top (every command loads this module); the core's names and report
models when a table is printed."""

from __future__ import annotations

import sys
from typing import TextIO

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
"""Every file passes (warnings allowed) / a file fails, cannot be read or be fixed / usage or profile errors."""

EXIT_INTERRUPTED = 130
"""Stopped by Ctrl-C."""

STATUS_MARKS = {"pass": "✓", "warn": "!", "fail": "✗", "skip": "-"}
"""One check's status in a table row."""

FIX_STATUS_WORDS: dict[str, tuple[str, str]] = {
    "fixed": ("已修复", "FIXED"), "not_needed": ("无需修复", "NOTHING TO FIX"), "unfixable": ("无法修复", "UNFIXABLE"),
    "failed": ("修复失败", "FIX FAILED"), "cancelled": ("已取消", "CANCELLED"),
}
"""The outcome of ``mediacheck fix`` (Chinese, English), on its last line."""


def verdict_word(verdict: str, zh: bool) -> str:
    """A report's verdict as the table shows it: the core's name, in capitals in English."""
    from service.core.labels import VERDICT_LABELS, names

    zh_name, en_name = names(VERDICT_LABELS, verdict)
    return zh_name if zh else en_name.upper()


def usage_error(message: str, err: TextIO | None = None) -> int:
    """Say what is wrong with the command line; EXIT_USAGE."""
    (err or sys.stderr).write(f"mediacheck: 参数错误 / usage error: {message}\n")
    return EXIT_USAGE


def report_table(report: object, lang: str, out: TextIO) -> None:
    """``report`` for people: the verdict and summary, the media, the content analysis, and
    every check but the trivial passes, with what was expected where one fails or warns."""
    from service.core.report import Report

    assert isinstance(report, Report)
    zh = not lang.startswith("en")
    out.write(f"{report.file.name}  [{verdict_word(report.verdict, zh)}]  {report.summary['zh-CN' if zh else 'en']}\n")
    m = report.media
    if m is not None and m.kind in ("video", "audio"):
        out.write(f"  {m.container} · {m.width}×{m.height} · {m.video_codec}/{m.audio_codec} · "
                  f"{(m.duration_s or 0):.1f}s · {m.size_bytes / 2**20:.1f} MiB\n")
    elif m is not None:
        out.write(f"  {m.image_format} · {m.width}×{m.height} · {m.color_mode} · {m.size_bytes / 2**20:.2f} MiB\n")
    if report.analysis is not None:
        _analysis_line(report.analysis, zh, out)
    for c in report.checks:
        if c.status == "pass" and c.rule in ("readable", "media_kind"):
            continue
        fix = (" [可自动修复]" if zh else " [fixable]") if c.fixable else ""
        out.write(f"  {STATUS_MARKS[c.status]} {c.rule:<16} {c.message['zh-CN' if zh else 'en']}{fix}\n")
        if c.status in ("fail", "warn") and c.expected:
            want, got = ("要求", "实际") if zh else ("expected", "actual")
            out.write(f"      {want}: {c.expected}   {got}: {c.actual}\n")
            if c.recommended:
                out.write(f"      {'建议' if zh else 'recommended'}: {c.recommended}\n")
    for item in report.manual:  # never judged: a person checks them
        out.write(f"  ☐ {'人工审核' if zh else 'to check by eye'}: {item.text['zh-CN' if zh else 'en']}\n")


def _analysis_line(a: object, zh: bool, out: TextIO) -> None:
    from service.core.analysis import Analysis

    assert isinstance(a, Analysis)
    parts = []
    if a.borders is not None:
        ratio = a.borders.aspect_name or f"{a.borders.aspect:.2f}"
        parts.append(f"{'画面' if zh else 'picture'} {a.borders.width}×{a.borders.height} ({ratio})")
    if a.loudness is not None:
        i = a.loudness.integrated_lufs
        parts.append(f"{'响度' if zh else 'loudness'} " + (f"{i:g} LUFS" if i is not None else "—"))
    if a.video_analyzed:
        parts.append(f"{a.scene_change_count} {'次切换' if zh else 'cut(s)'}")
    if a.elapsed_ms is not None:
        parts.append(f"{a.elapsed_ms / 1000:.1f} s")
    out.write(f"  {'内容分析' if zh else 'content'}: {' · '.join(parts)}\n")
