"""``mediacheck fix FILE --profile ID -o OUT``: fix a file locally, with the command's
progress bar on a terminal (plain lines otherwise), then print the new report.

Exit codes: 0 the fixed file passes (or the file already passed: nothing is written),
1 unfixable, failed or cancelled, 2 usage errors (OUT is FILE, OUT exists without --force)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from service.cli.terminal import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, FIX_STATUS_WORDS, report_table, usage_error
from service.settings import Settings

if TYPE_CHECKING:  # the parser is built before the heavy imports (see check.HeadStart)
    from service.fix.transcode import FixProgress


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


class FixProgressLine:
    """The fix's progress (percent over all passes, ETA, stage) on the command's one
    progress bar (``service.batch.progress.ProgressBar``), in the language of ``--lang``."""

    def __init__(self, err: TextIO, lang: str) -> None:
        from service.batch.progress import ProgressBar

        self.bar = ProgressBar(err)
        self.zh = not lang.startswith("en")

    def __call__(self, p: FixProgress) -> None:
        eta = f"{p.eta_s:.0f}s" if p.eta_s is not None else "?"
        label = "剩余" if self.zh else "ETA"
        self.bar.show(p.percent / 100, f"{p.percent:5.1f}%  {label} {eta}  {p.stage}",
                      plain=f"{'进度' if self.zh else 'progress'} {p.percent:.0f}% ({p.stage}, {label} {eta})")

    def finish(self) -> None:
        self.bar.finish()


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
    progress = FixProgressLine(err, args.lang)
    try:
        result = fix_file(src, profile, dest, progress=progress, durable=settings.fsync)
    except KeyboardInterrupt:
        err.write("\nmediacheck: 已中断，未写入输出 / interrupted, nothing written\n")
        return EXIT_INTERRUPTED
    progress.finish()
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
