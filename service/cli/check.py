"""``mediacheck check`` and its companions ``probe``, ``profiles`` (list, show) and ``profile
validate``; the profile argument every command takes (an id or a YAML path); and the check's
head start (``HeadStart``).

A submitter waits for ``check`` (docs/benchmarks.md): this module imports only the standard
library at the top, and ``cmd_check`` starts the first file's hash and ffprobe run before it
imports pydantic, PyYAML and the profile models, with the garbage collector off meanwhile."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from service.cli.terminal import EXIT_FAIL, EXIT_OK, report_table
from service.core.errors import ProfileError
from service.settings import Settings

if TYPE_CHECKING:  # imported where used: pydantic and yaml take ~0.25 s, which a check overlaps (HeadStart)
    from service.core.profiles import Profile, ProfileStore
    from service.core.report import Report


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    check = sub.add_parser("check", help="check files against a profile")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--profile", "-p", required=True, help="profile id (see: mediacheck profiles) or YAML path")
    check.add_argument("--format", "-f", choices=("json", "table"), default=None,
                       help="json: one report per line (JSON Lines); table: for people (default on a terminal)")
    check.add_argument("--lang", choices=("zh-CN", "en"), default="zh-CN")
    check.add_argument("--deep", action="store_true",
                       help="also analyse the content in one decode: black, frozen, silent, loudness, "
                            "black bars, interlacing (docs/content-analysis.md)")
    check.set_defaults(run=cmd_check)

    profiles = sub.add_parser("profiles", help="list profiles, or show one")
    profiles.add_argument("action", nargs="?", choices=("list", "show"), default="list")
    profiles.add_argument("profile_id", nargs="?")
    profiles.add_argument("--all", action="store_true", help="include abstract base profiles")
    profiles.set_defaults(run=cmd_profiles)

    profile = sub.add_parser("profile", help="validate a profile file, or draft one from a notice's text")
    profile.add_argument("action", choices=("validate", "draft"))
    profile.add_argument("path", help="validate: the profile YAML; draft: the notice (UTF-8 or GB18030 text)")
    profile.add_argument("--id", dest="profile_id", help="draft: the new profile's id")
    profile.add_argument("--section", help="draft: read only the notice's section whose heading has this text")
    profile.add_argument("-o", "--output", help="draft: write the YAML here instead of standard output")
    profile.set_defaults(run=cmd_profile)

    probe = sub.add_parser("probe", help="print the media facts of a file as JSON")
    probe.add_argument("file")
    probe.set_defaults(run=cmd_probe)


def profile_store(settings: Settings) -> ProfileStore:
    """The profiles of this installation (``MEDIACHECK_PROFILES_DIR``)."""
    from service.core.profiles import ProfileStore

    return ProfileStore(*settings.profile_dirs)


def resolve_profile(ref: str, store: ProfileStore) -> Profile:
    """A profile id from the store, or a path to a YAML file."""
    from service.core.profiles import load_profile

    if ref.endswith((".yaml", ".yml")) or "/" in ref:
        return load_profile(ref, store)
    return store.get(ref)


class HeadStart:
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


def cmd_check(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    head = HeadStart(args.files[0])
    if "pydantic" not in sys.modules:  # no pydantic plugins here; looking for them costs 3-25 ms a run
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    gc.disable()  # the imports allocate ~0.3 M lasting objects: collecting during them cost 30-50 ms
    try:
        return _check(args, settings, out, head)
    finally:
        gc.enable()
        head.close()


def _check(args: argparse.Namespace, settings: Settings, out: TextIO, head: HeadStart) -> int:
    from service.media.checker import check_file

    check = head.wrap(check_file)
    profile = resolve_profile(args.profile, profile_store(settings))
    gc.freeze()  # what the imports built lives as long as we do: never traverse it again (see cmd_check)
    gc.enable()
    fmt = args.format or ("table" if out.isatty() else "json")
    worst = EXIT_OK
    for path in args.files:
        report = check(path, profile, deep=args.deep)
        if fmt == "json":
            out.write(report.model_dump_json() + "\n")
        else:
            report_table(report, args.lang, out)
        out.flush()
        if report.verdict in ("fail", "error"):
            worst = EXIT_FAIL
    return worst


def cmd_profiles(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    store = profile_store(settings)
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


def cmd_profile(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from service.core.profiles import load_profile

    if args.action == "draft":
        return _draft(args, settings, out)
    p = load_profile(args.path, profile_store(settings))
    out.write(f"OK {p.id} {p.version} (kinds: {', '.join(p.kinds)})\n")
    return EXIT_OK


def cmd_probe(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from service.media.probe import probe

    result = probe(args.file)
    out.write(json.dumps({"media": result.facts.model_dump(mode="json"), "tools": result.tools},
                         ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK


def _draft(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """Draft a profile from a notice; the draft is validated (as ``profile validate`` would)
    before it is written, so what is printed always loads."""
    import tempfile
    from pathlib import Path

    from service.core.notice_draft import decode_notice, draft_yaml, select_section
    from service.core.profiles import load_profile

    if not args.profile_id:
        raise ProfileError("give the new profile's id: mediacheck profile draft NOTICE.txt --id ID")
    notice = Path(args.path)
    try:
        text = decode_notice(notice.read_bytes())
    except OSError as e:
        raise ProfileError(f"cannot read the notice: {e.strerror}", file=str(notice)) from None
    if args.section:
        try:
            text = select_section(text, args.section)
        except ValueError as e:
            raise ProfileError(str(e), file=str(notice)) from None
    yaml_text = draft_yaml(text, args.profile_id, notice=notice.name)
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / f"{args.profile_id}.yaml"
        trial.write_text(yaml_text, encoding="utf-8")
        load_profile(trial, profile_store(settings))
    if args.output:
        Path(args.output).write_text(yaml_text, encoding="utf-8")
    else:
        out.write(yaml_text)
    return EXIT_OK
