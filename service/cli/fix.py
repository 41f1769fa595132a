"""``mediacheck fix FILE --profile ID -o OUT``: fix a file locally, with the command's
progress bar on a terminal (plain lines otherwise), then print the new report. The re-check is
the profile's whole check: with its content rules (deep analysis) when it has any.
``--dry-run`` only says what the fix would do (remux or re-encode, pad or crop, size, time);
``--crop`` chooses cropping where the profile requires a full frame and allows it.

Exit codes: 0 the fixed file passes (or the file already passed: nothing is written; a dry run
of a fixable file), 1 unfixable, failed or cancelled, 2 usage errors (OUT is FILE, OUT exists
without --force, no OUT without --dry-run)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from service.cli.terminal import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, FIX_STATUS_WORDS, report_table, usage_error
from service.settings import Settings

if TYPE_CHECKING:  # the parser is built before the heavy imports (see check.HeadStart)
    from service.core.profiles import Profile
    from service.fix.transcode import FixProgress


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    fix = sub.add_parser("fix", help="transcode a failing file so that it passes, and print the new report")
    fix.add_argument("file", metavar="FILE")
    fix.add_argument("--profile", "-p", required=True, help="profile id (see: mediacheck profiles) or YAML path")
    fix.add_argument("--output", "-o", metavar="OUT", help="where to write the fixed file (not with --dry-run)")
    fix.add_argument("--dry-run", action="store_true",
                     help="only say what the fix would do: remux or re-encode, pad or crop, size, time")
    fix.add_argument("--crop", action="store_true",
                     help="crop instead of padding where the profile requires a full frame and allows cropping")
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
    if args.dry_run:
        return dry_run(args, settings, out)
    if args.output is None:
        return usage_error("缺少 -o OUT（或用 --dry-run 只看修复计划） / -o OUT is missing (or use --dry-run)", err)
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
        result = fix_file(src, profile, dest, progress=progress, durable=settings.fsync,
                          deep=has_content_rules(profile), allow_crop=args.crop)
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
        for warning in result.warnings:
            out.write(f"  ! {warning[key]}\n")
        if result.after is not None:
            out.write(("修复后：" if zh else "After the fix:") + "\n")
            report_table(result.after, args.lang, out)
        status = FIX_STATUS_WORDS[result.status][0 if zh else 1]
        where = f" → {result.output}" if result.output else ""
        reason = f"  {result.reason[key]}" if result.reason and result.status != "fixed" else ""
        out.write(f"[{status}]{where}{reason}\n")
    out.flush()
    return EXIT_OK if result.status in ("fixed", "not_needed") else EXIT_FAIL


def has_content_rules(profile: Profile) -> bool:
    """Whether the profile judges content (``content:``): then the re-check runs the deep analysis."""
    return any(spec.content is not None for spec in profile.kinds.values())


def dry_run(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """``--dry-run``: the quick check of FILE, the plan and what it will do; nothing is written."""
    from service.cli.check import profile_store, resolve_profile
    from service.fix.planner import plan_fix
    from service.fix.preview import preview
    from service.fix.steps import describe_step
    from service.media.checker import check_file

    profile = resolve_profile(args.profile, profile_store(settings))
    before = check_file(Path(args.file), profile)
    if before.media is None:
        out.write(before.model_dump_json() + "\n" if args.format == "json" else
                  f"[{FIX_STATUS_WORDS['unfixable'][0 if args.lang != 'en' else 1]}]\n")
        return EXIT_FAIL
    plan = plan_fix(before.media, before.checks, profile, allow_crop=args.crop)
    view = preview(plan, before.media, deep=has_content_rules(profile))
    fmt = args.format or ("table" if out.isatty() else "json")
    if fmt == "json":
        out.write(json.dumps({"plan": plan.model_dump(mode="json"), "preview": view.model_dump(mode="json"),
                              "before": before.model_dump(mode="json")}, ensure_ascii=False) + "\n")
    else:
        key = "en" if args.lang == "en" else "zh-CN"
        report_table(before, args.lang, out)
        for step in plan.steps:
            out.write(f"  → {describe_step(step)[key]}\n")
        for line in view.lines:
            out.write(f"  = {line[key]}\n")
        for note in plan.notes:
            if note not in view.lines:
                out.write(f"  * {note[key]}\n")
        for reason in plan.unfixable:
            out.write(f"  ✗ {reason.rule}: {reason.message[key]}\n")
        words = ("可以修复（演练，未写入）", "FIXABLE (dry run, nothing written)") if plan.fixable else \
            FIX_STATUS_WORDS["unfixable" if plan.mode == "unfixable" else "not_needed"]
        out.write(f"[{words[0 if key == 'zh-CN' else 1]}]\n")
    out.flush()
    return EXIT_FAIL if plan.mode == "unfixable" else EXIT_OK
