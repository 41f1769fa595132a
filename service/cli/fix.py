"""``mediacheck fix FILE --profile ID -o OUT``: fix a file locally, with a progress bar on
a terminal (plain lines otherwise), then print the new report.

Exit codes: 0 the fixed file passes (or the file already passed: nothing is written),
1 unfixable, failed or cancelled, 2 usage errors (OUT is FILE, OUT exists without --force)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # the CLI builds its parser before the heavy imports (see cli._HeadStart)
    from service.core.profiles import ProfileStore

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

BAR_WIDTH = 30
"""Characters of the terminal progress bar."""

PLAIN_STEP = 10.0
"""Without a terminal, a progress line is printed every this many percent."""


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    fix = sub.add_parser("fix", help="transcode a failing file so that it passes, and print the new report")
    fix.add_argument("file", metavar="FILE")
    fix.add_argument("--profile", "-p", required=True, help="profile id (see: mediacheck profiles) or YAML path")
    fix.add_argument("--output", "-o", required=True, metavar="OUT", help="where to write the fixed file")
    fix.add_argument("--force", action="store_true", help="overwrite OUT when it exists")
    fix.add_argument("--format", "-f", choices=("json", "table"), default=None,
                     help="json: the whole fix result (plan, both reports); table: for people (default on a terminal)")
    fix.add_argument("--lang", choices=("zh-CN", "en"), default="zh-CN")


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


def cmd_fix(args: argparse.Namespace, store: ProfileStore, out: TextIO, err: TextIO | None = None, *,
            durable: bool = True) -> int:
    """Run the fix; ``durable`` (``MEDIACHECK_FSYNC``) makes OUT reach the disk before it appears."""
    from service.cli.main import _table, resolve_profile
    from service.fix.steps import describe_step
    from service.fix.transcode import fix_file

    err = err or sys.stderr
    zh = not args.lang.startswith("en")
    src, dest = Path(args.file), Path(args.output)
    if dest.exists() and dest.resolve() == src.resolve():
        err.write("mediacheck: 参数错误 / usage error: 输出不能覆盖原文件 / OUT must not be the original FILE\n")
        return EXIT_USAGE
    if dest.exists() and not args.force:
        err.write(f"mediacheck: 参数错误 / usage error: {dest} 已存在，加 --force 覆盖 / exists; use --force\n")
        return EXIT_USAGE
    if not dest.parent.is_dir():
        err.write(f"mediacheck: 参数错误 / usage error: 目录不存在 / no such directory: {dest.parent}\n")
        return EXIT_USAGE
    profile = resolve_profile(args.profile, store)
    fmt = args.format or ("table" if out.isatty() else "json")
    try:
        result = fix_file(src, profile, dest, progress=_Bar(err, args.lang), durable=durable)
    except KeyboardInterrupt:
        err.write("\nmediacheck: 已中断，未写入输出 / interrupted, nothing written\n")
        return 130
    if fmt == "json":
        out.write(result.model_dump_json() + "\n")
    else:
        key = "zh-CN" if zh else "en"
        _table(result.before, args.lang, out)
        if result.plan.steps:
            out.write(("修复步骤：" if zh else "Fix steps:") + "\n")
            for step in result.plan.steps:
                out.write(f"  → {describe_step(step)[key]}\n")
        for note in result.notes:
            out.write(f"  * {note[key]}\n")
        if result.after is not None:
            out.write(("修复后：" if zh else "After the fix:") + "\n")
            _table(result.after, args.lang, out)
        status = {"fixed": ("已修复", "FIXED"), "not_needed": ("无需修复", "NOTHING TO FIX"),
                  "unfixable": ("无法修复", "UNFIXABLE"), "failed": ("修复失败", "FIX FAILED"),
                  "cancelled": ("已取消", "CANCELLED")}[result.status][0 if zh else 1]
        where = f" → {result.output}" if result.output else ""
        reason = f"  {result.reason[key]}" if result.reason and result.status != "fixed" else ""
        out.write(f"[{status}]{where}{reason}\n")
    out.flush()
    return EXIT_OK if result.status in ("fixed", "not_needed") else EXIT_FAIL
