"""The ``mediacheck`` command. Imports only the core: no web stack, so a check starts fast.

Exit codes: 0 every file passes (warnings allowed), 1 a file fails or cannot be read,
2 usage or profile errors, 130 a batch stopped by Ctrl-C (run it again to resume)."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from service.core.errors import MediaCheckError, ProfileError
from service.settings import Settings

if TYPE_CHECKING:  # imported where used: pydantic and yaml take ~0.25 s, which a check overlaps (_HeadStart)
    from service.core.profiles import Profile, ProfileStore
    from service.core.report import Report

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

_STATUS_MARK = {"pass": "✓", "warn": "!", "fail": "✗", "skip": "-"}
_VERDICT = {"pass": ("通过", "PASS"), "warn": ("通过（有警告）", "PASS with warnings"),
            "fail": ("不通过", "FAIL"), "error": ("无法检查", "ERROR")}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"mediacheck: 参数错误 / usage error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mediacheck", description="检查参赛媒体文件是否符合活动要求 / "
                                                   "Check media submissions against campaign profiles.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_batch_parser(sub)

    check = sub.add_parser("check", help="check files against a profile")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--profile", "-p", required=True, help="profile id (see: mediacheck profiles) or YAML path")
    check.add_argument("--format", "-f", choices=("json", "table"), default=None,
                       help="json: one report per line (JSON Lines); table: for people (default on a terminal)")
    check.add_argument("--lang", choices=("zh-CN", "en"), default="zh-CN")
    check.add_argument("--deep", action="store_true",
                       help="also analyse the content in one decode: black, frozen, silent, loudness, "
                            "black bars, interlacing (docs/content-analysis.md)")

    profiles = sub.add_parser("profiles", help="list profiles, or show one")
    profiles.add_argument("action", nargs="?", choices=("list", "show"), default="list")
    profiles.add_argument("profile_id", nargs="?")
    profiles.add_argument("--all", action="store_true", help="include abstract base profiles")

    profile = sub.add_parser("profile", help="validate a profile file")
    profile.add_argument("action", choices=("validate",))
    profile.add_argument("path")

    export = sub.add_parser("export", help="reports (JSON Lines of `check -f json`) to a spreadsheet")
    export.add_argument("reports", type=Path, metavar="REPORTS.jsonl")
    export.add_argument("--output", "-o", type=Path, required=True, help="campaign.xlsx or campaign.csv")
    export.add_argument("--lang", choices=("zh-CN", "en"), default="zh-CN")

    probe = sub.add_parser("probe", help="print the media facts of a file as JSON")
    probe.add_argument("file")

    from service.cli.service import add_service_commands

    add_service_commands(sub)
    from service.cli.fix import add_parser as add_fix_parser

    add_fix_parser(sub)
    return parser


def resolve_profile(ref: str, store: ProfileStore) -> Profile:
    """A profile id from the store, or a path to a YAML file."""
    from service.core.profiles import load_profile

    if ref.endswith((".yaml", ".yml")) or "/" in ref:
        return load_profile(ref, store)
    return store.get(ref)


def _table(report: object, lang: str, out: TextIO) -> None:
    from service.core.report import Report

    assert isinstance(report, Report)
    zh = not lang.startswith("en")
    label = _VERDICT[report.verdict][0 if zh else 1]
    out.write(f"{report.file.name}  [{label}]  {report.summary['zh-CN' if zh else 'en']}\n")
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
        out.write(f"  {_STATUS_MARK[c.status]} {c.rule:<16} {c.message['zh-CN' if zh else 'en']}{fix}\n")
        if c.status in ("fail", "warn") and c.expected:
            want, got = ("要求", "实际") if zh else ("expected", "actual")
            out.write(f"      {want}: {c.expected}   {got}: {c.actual}\n")


class _HeadStart:
    """The first file's SHA-256 and ffprobe run, begun before the heavy imports: they wait
    on the disk, hashlib and a child process (outside the GIL), so they use the other core
    while this one builds the models. ``check_file`` picks them up for that file."""

    def __init__(self, path: str) -> None:
        from service.media.probe import start_ffprobe
        from service.store.digest import background_sha256

        self.path = path
        self.digest = background_sha256(path)
        self.ffprobe = start_ffprobe(path)
        self.used = False

    def wrap(self, check_file: Callable[..., Report]) -> Callable[..., Report]:
        def check(path: str, profile: Profile, **kw: Any) -> Report:
            if path == self.path and not self.used:
                self.used = True
                kw.update(sha256=self.digest.result(), ffprobe=self.ffprobe)
            return check_file(path, profile, **kw)

        return check

    def close(self) -> None:
        if self.ffprobe is not None:
            self.ffprobe.wait()  # after an early exit (a bad profile) no ffprobe outlives us


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


def _cmd_check(args: argparse.Namespace, store: ProfileStore, out: TextIO, head: _HeadStart | None = None) -> int:
    from service.media.checker import check_file

    if head is not None:
        check_file = head.wrap(check_file)
    profile = resolve_profile(args.profile, store)
    gc.freeze()  # what the imports built lives as long as we do: never traverse it again (see main)
    gc.enable()
    fmt = args.format or ("table" if out.isatty() else "json")
    worst = EXIT_OK
    for path in args.files:
        report = check_file(path, profile, deep=args.deep)
        if fmt == "json":
            out.write(report.model_dump_json() + "\n")
        else:
            _table(report, args.lang, out)
        out.flush()
        if report.verdict in ("fail", "error"):
            worst = EXIT_FAIL
    return worst


def _cmd_profiles(args: argparse.Namespace, store: ProfileStore, out: TextIO) -> int:
    if args.action == "show":
        if not args.profile_id:
            raise ProfileError("give a profile id: mediacheck profiles show ID")
        p = store.get(args.profile_id)
        out.write(json.dumps(p.model_dump(mode="json", by_alias=True, exclude_none=True), ensure_ascii=False,
                             indent=2) + "\n")
        return EXIT_OK
    for pid in store.ids(include_abstract=args.all):
        p = store.get(pid)
        kinds = ",".join(p.kinds)
        out.write(f"{pid:<32} {p.version:<8} {kinds:<12} {p.title.zh} / {p.title.en}\n")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    from service.core.report import Report
    from service.review.export import Entry, write_csv, write_xlsx

    entries = []
    try:
        lines = args.reports.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        sys.stderr.write(f"mediacheck: 无法读取 / cannot read {args.reports}: {e.strerror}\n")
        return EXIT_USAGE
    for n, line in enumerate(lines, start=1):
        if line.strip():
            try:
                entries.append(Entry(Report.model_validate_json(line)))
            except ValueError as e:
                sys.stderr.write(f"mediacheck: {args.reports}:{n}: 不是报告 / not a report: {str(e)[:200]}\n")
                return EXIT_USAGE
    suffix = args.output.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        sys.stderr.write("mediacheck: 输出文件须为 .xlsx 或 .csv / the output must end in .xlsx or .csv\n")
        return EXIT_USAGE
    (write_xlsx if suffix == ".xlsx" else write_csv)(entries, args.output, lang=args.lang)
    out.write(f"{args.output}: {len(entries)} 行 / rows\n")
    return EXIT_OK


def _cmd_probe(args: argparse.Namespace, out: TextIO) -> int:
    from service.media.probe import probe

    result = probe(args.file)
    out.write(json.dumps({"media": result.facts.model_dump(mode="json"), "tools": result.tools},
                         ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK


def _add_batch_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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


def _cmd_batch(args: argparse.Namespace, store: ProfileStore, out: TextIO, *, fsync: bool = True) -> int:
    from pathlib import Path

    from service.batch.runner import BatchOptions, run_batch
    from service.batch.state import BatchBusyError
    from service.batch.task import FeatureUnavailableError

    profile = resolve_profile(args.profile, store)
    if args.jobs is not None and args.jobs < 1:
        sys.stderr.write("mediacheck: 参数错误 / usage error: --jobs must be at least 1\n")
        return EXIT_USAGE
    steps = tuple(name for name, on in (("deep", args.deep), ("fix", args.fix)) if on)
    opts = BatchOptions(paths=args.paths, out_dir=Path(args.out), profile=profile, steps=steps,
                        queue_url=args.queue, executor=args.executor, fsync=fsync)
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


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    head = None
    if args.command == "check":  # a submitter waits for it: see docs/benchmarks.md
        head = _HeadStart(args.files[0])
        if "pydantic" not in sys.modules:  # no pydantic plugins here; looking for them costs 3-25 ms a run
            os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
        gc.disable()  # the imports allocate ~0.3 M lasting objects: collecting during them cost 30-50 ms
    try:
        return _dispatch(args, out, head)
    finally:
        if head is not None:
            gc.enable()
            head.close()


def _dispatch(args: argparse.Namespace, out: TextIO, head: _HeadStart | None) -> int:
    from service.core.profiles import ProfileStore, load_profile

    settings = Settings.from_env()
    store = ProfileStore(settings.profiles_dir)
    try:
        if args.command == "check":
            return _cmd_check(args, store, out, head)
        if args.command == "profiles":
            return _cmd_profiles(args, store, out)
        if args.command == "batch":
            return _cmd_batch(args, store, out, fsync=settings.fsync)
        if args.command == "profile":
            p = load_profile(args.path, store)
            out.write(f"OK {p.id} {p.version} (kinds: {', '.join(p.kinds)})\n")
            return EXIT_OK
        if args.command == "probe":
            return _cmd_probe(args, out)
        if args.command == "export":
            return _cmd_export(args, out)
        if hasattr(args, "service_command"):
            return int(args.service_command(args, settings, out))
        if args.command == "fix":
            from service.cli.fix import cmd_fix

            return cmd_fix(args, store, out, durable=settings.fsync)
    except ProfileError as e:
        sys.stderr.write(f"mediacheck: 配置文件错误 / profile error: {e}\n")
        return EXIT_USAGE
    except MediaCheckError as e:
        msg = getattr(e, "message", None)
        text = f"{msg['zh-CN']} / {msg['en']}" if isinstance(msg, dict) else str(e)
        sys.stderr.write(f"mediacheck: {text}\n")
        return EXIT_FAIL
    return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
