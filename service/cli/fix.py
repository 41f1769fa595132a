"""``mediacheck fix FILE --profile ID -o OUT``: fix a file locally, with a progress bar on
a terminal (plain lines otherwise), then print the new report.

Exit codes: 0 the fixed file passes (or the file already passed: nothing is written),
1 unfixable, failed or cancelled, 2 usage errors (OUT is FILE, OUT exists without --force)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from service.cli.terminal import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, FIX_STATUS_WORDS, report_table, usage_error
from service.settings import Settings

BAR_WIDTH = 30
"""Characters of the terminal progress bar."""

PLAIN_STEP = 10.0
"""Without a terminal, a progress line is printed every this many percent."""


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    fix = sub.add_parser("fix", help="transcode a failing file so that it passes, and print the new report")
    fix.add_argument("file", metavar="FILE")
    fix.add_argument("--profile", "-p", required=True, help="profile id (see: mediacheck profiles) or YAML path")
    fix.add_argument("--output", "-o", required=True, metavar="OUT", help="where to write the fixed file")
    fix.add_argument("--force", action="store_true", help="overwrite OUT when it exists")
    fix.add_argument("--format", "-f", choices=("json", "table"), default=None,
                     help="json: the whole fix result (plan, both reports); table: for people (default on a terminal)")
    fix.add_argument("--lang", choices=("zh-CN", "en"), default="zh-CN")
    fix.set_defaults(run=cmd_fix)


class _Bar:
    def __init__(self, err: TextIO, lang: str) -> None:
        self.err, self.tty = err, err.isatty()
        self.zh = not lang.startswith("en")
        self.next_plain = 0.0
        self.last_draw = 0.0

    def __call__(self, p: object) -> None:
        from service.fix.transcode import Progress

        assert isinstance(p, Progress)
        eta = f"{p.eta_s:.0f}s" if p.eta_s is not None else "?"
        label = "剩余" if self.zh else "ETA"
        if self.tty:
            now = time.monotonic()
            if now - self.last_draw < 0.1 and p.percent < 100:
                return
            self.last_draw = now
            filled = int(BAR_WIDTH * p.percent / 100)
            self.err.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {p.percent:5.1f}%  {label} {eta}  "
                           f"{p.stage:<8}")
            if p.percent >= 100:
                self.err.write("\n")
        elif p.percent >= self.next_plain or p.percent >= 100:
            self.err.write(f"{'进度' if self.zh else 'progress'} {p.percent:.0f}% ({p.stage}, {label} {eta})\n")
            self.next_plain = (p.percent // PLAIN_STEP + 1) * PLAIN_STEP
        self.err.flush()


def cmd_fix(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO | None = None) -> int:
    """Run the fix; ``MEDIACHECK_FSYNC`` (``settings.fsync``) makes OUT reach the disk before it appears."""
    from service.cli.check import profile_store, resolve_profile
    from service.fix.steps import describe_step
    from service.fix.transcode import fix_file

    err = err or sys.stderr
    zh = not args.lang.startswith("en")
    src, dest = Path(args.file), Path(args.output)
    if dest.exists() and dest.resolve() == src.resolve():
        return usage_error("输出不能覆盖原文件 / OUT must not be the original FILE", err)
    if dest.exists() and not args.force:
        return usage_error(f"{dest} 已存在，加 --force 覆盖 / exists; use --force", err)
    if not dest.parent.is_dir():
        return usage_error(f"目录不存在 / no such directory: {dest.parent}", err)
    profile = resolve_profile(args.profile, profile_store(settings))
    fmt = args.format or ("table" if out.isatty() else "json")
    try:
        result = fix_file(src, profile, dest, progress=_Bar(err, args.lang), durable=settings.fsync)
    except KeyboardInterrupt:
        err.write("\nmediacheck: 已中断，未写入输出 / interrupted, nothing written\n")
        return EXIT_INTERRUPTED
    if fmt == "json":
        out.write(result.model_dump_json() + "\n")
    else:
        key = "zh-CN" if zh else "en"
        report_table(result.before, args.lang, out)
        if result.plan.steps:
            out.write(("修复步骤：" if zh else "Fix steps:") + "\n")
            for step in result.plan.steps:
                out.write(f"  → {describe_step(step)[key]}\n")
        for note in result.notes:
            out.write(f"  * {note[key]}\n")
        if result.after is not None:
            out.write(("修复后：" if zh else "After the fix:") + "\n")
            report_table(result.after, args.lang, out)
        status = FIX_STATUS_WORDS[result.status][0 if zh else 1]
        where = f" → {result.output}" if result.output else ""
        reason = f"  {result.reason[key]}" if result.reason and result.status != "fixed" else ""
        out.write(f"[{status}]{where}{reason}\n")
    out.flush()
    return EXIT_OK if result.status in ("fixed", "not_needed") else EXIT_FAIL
