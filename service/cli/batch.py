"""``mediacheck batch``: check folders and zip archives of entries, resuming an interrupted run,
and write the summaries (results.jsonl, summary.csv/.xlsx, index.html) to ``--out``. The
progress goes to stderr, the closing counts to stdout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from service.cli.terminal import EXIT_USAGE, usage_error
from service.settings import Settings


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    batch = sub.add_parser("batch", help="check folders and zip archives of entries; write summaries to --out")
    batch.add_argument("paths", nargs="+", metavar="PATH", help="folders (recursive) and zip archives")
    batch.add_argument("--profile", "-p", required=True, help="profile id or YAML path")
    batch.add_argument("--out", "-o", required=True,
                       help="output folder (results.jsonl, summary.csv/.xlsx, index.html)")
    batch.add_argument("--jobs", "-j", type=int, default=None, help="files checked at once (default: 2 per core)")
    batch.add_argument("--deep", action="store_true", help="also run the deep analysis of each file")
    batch.add_argument("--fix", action="store_true", help="also auto-fix failing files")
    batch.add_argument("--queue", metavar="redis://…", help="fan files out to RQ workers sharing the storage")
    batch.add_argument("--executor", choices=("process", "thread"), default="process", help=argparse.SUPPRESS)
    batch.set_defaults(run=cmd_batch)


def cmd_batch(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """The exit code of the run: 0 all pass, 1 a file fails or cannot be checked, 130 stopped."""
    from service.batch.runner import BatchOptions, run_batch
    from service.batch.state import BatchBusyError
    from service.batch.task import FeatureUnavailableError
    from service.cli.check import profile_store, resolve_profile

    profile = resolve_profile(args.profile, profile_store(settings))
    if args.jobs is not None and args.jobs < 1:
        return usage_error("--jobs must be at least 1")
    steps = tuple(name for name, on in (("deep", args.deep), ("fix", args.fix)) if on)
    opts = BatchOptions(paths=args.paths, out_dir=Path(args.out), profile=profile, steps=steps,
                        queue_url=args.queue, executor=args.executor, fsync=settings.fsync)
    if args.jobs:
        opts.jobs = args.jobs
    try:
        result = run_batch(opts, stream=sys.stderr)
    except (FeatureUnavailableError, BatchBusyError) as e:
        sys.stderr.write(f"mediacheck: {e.message['zh-CN']} / {e.message['en']}\n")
        return EXIT_USAGE
    except FileNotFoundError as e:
        sys.stderr.write(f"mediacheck: 找不到路径 / no such path: {e}\n")
        return EXIT_USAGE
    v = {k: result.verdicts.get(k, 0) for k in ("pass", "warn", "fail", "error", "skipped")}
    if not result.interrupted:
        out.write(f"{result.total} 个条目：通过 {v['pass']}，警告 {v['warn']}，不通过 {v['fail']}，"
                  f"无法检查 {v['error']}，跳过 {v['skipped']}；结果见 {args.out}/index.html\n"
                  f"{result.total} entries: pass {v['pass']}, warn {v['warn']}, fail {v['fail']}, "
                  f"error {v['error']}, skipped {v['skipped']}; see {args.out}/index.html\n")
    return result.exit_code
