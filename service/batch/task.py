"""The per-file task of a batch: one entry in, one record out. The same function runs in
the local pool and in RQ workers (``workers/batch.py``), so everything it needs travels in
``TaskOptions`` (picklable) and nothing is reached for.

Optional steps: ``--deep`` is passed to ``check_file(..., deep=True)`` when the checker
offers it (the content analysis); other steps (``--fix``) plug in by name through
``STEP_TARGETS``: a step is ``step(path, report, context) -> Report`` and runs while the
media file (or the temporary copy of an archive member) still exists."""

from __future__ import annotations

import importlib
import inspect
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from service import __version__
from service.batch.archive import find_member, stream_member
from service.batch.entries import BatchEntry
from service.core.checks import Check
from service.core.errors import ArchiveError, MediaCheckError
from service.core.profiles import Profile
from service.core.report import FileInfo, Report, ReportError, build_report
from service.media.checker import check_file

STEP_TARGETS: dict[str, str] = {
    "fix": "service.batch.fix:batch_step",
}
"""Option name → ``module:function`` of the optional per-file steps (see module docstring)."""

CHECKER_OPTIONS = frozenset({"deep"})
"""Options that are keyword arguments of ``check_file`` rather than steps of their own."""

RETRY_CODES = frozenset({"tool_error", "io_error", "worker_failed", "disk_full"})
"""Error codes that a later run retries instead of reusing (transient causes)."""

Status = Literal["checked", "skipped", "rejected"]


class FeatureUnavailableError(MediaCheckError):
    """An option needs a module that is not installed in this build."""

    def __init__(self, option: str, target: str) -> None:
        self.option = option
        self.message = {
            "zh-CN": f"此版本尚不支持 --{option}（缺少模块 {target}）。",
            "en": f"--{option} is not available in this build (module {target} is missing).",
        }
        super().__init__(self.message["en"])


class StepContext(Protocol):
    entry: BatchEntry
    out_dir: str
    profile: Profile
    fsync: bool
    deep: bool


class Step(Protocol):
    def __call__(self, path: Path, report: Report, context: StepContext) -> Report: ...


def resolve_step(option: str) -> Callable[..., Report] | None:
    """The function behind ``--<option>`` (None for a ``check_file`` option);
    FeatureUnavailableError when this build does not have it."""
    if option in CHECKER_OPTIONS:
        if option not in inspect.signature(check_file).parameters:
            raise FeatureUnavailableError(option, f"service.media.checker.check_file({option}=…)")
        return None
    target = STEP_TARGETS[option]
    module_name, _, func = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise FeatureUnavailableError(option, target) from None
    fn = getattr(module, func, None)
    if fn is None:
        raise FeatureUnavailableError(option, target)
    return fn  # type: ignore[no-any-return]


@dataclass(frozen=True)
class TaskOptions:
    """Everything the per-file task needs, picklable for processes and RQ."""

    profile: Profile
    out_dir: str
    """The batch's output folder (shared storage in queue mode)."""
    work_dir: str
    """Where archive members are copied out to, one at a time (inside ``out_dir``)."""
    tools_key: str
    """mediacheck and ffprobe versions: part of the resume key."""
    steps: tuple[str, ...] = field(default=())
    """Optional step names, in order (``deep``, ``fix``)."""
    fsync: bool = True
    """Files a step writes are fsynced before they appear under their names (``MEDIACHECK_FSYNC``)."""

    @property
    def profile_key(self) -> str:
        return f"{self.profile.id}@{self.profile.version}"


@dataclass(frozen=True)
class _Context:
    entry: BatchEntry
    out_dir: str
    profile: Profile
    fsync: bool = True
    deep: bool = False
    """The run checks with ``--deep``: a step's own checks (the fix's re-check) do too."""


class Record(BaseModel):
    """One line of results.jsonl: the entry, what happened, and its report."""

    model_config = ConfigDict(frozen=True)

    entry: BatchEntry
    status: Status
    key: str | None = None
    """sha256 + name + profile + tool versions: a later run reuses the record when it matches."""
    reason: dict[str, str] | None = None
    report: Report | None = None
    html: str | None = None
    """The per-file HTML report, relative to the output folder."""

    @property
    def verdict(self) -> str:
        return self.report.verdict if self.report is not None else "skipped"

    @property
    def reusable(self) -> bool:
        if self.key is None or self.report is None:
            return False
        return self.report.error is None or self.report.error.code not in RETRY_CODES


def result_key(sha256: str, entry: BatchEntry, options: TaskOptions) -> str:
    return f"{sha256}|{entry.basename}|{options.profile_key}|{options.tools_key}"


def error_report(entry: BatchEntry, profile: Profile, code: str, message: dict[str, str],
                 sha256: str | None = None) -> Report:
    """A report with verdict ``error`` for an entry that could not be checked."""
    err = ReportError(code=code, message=message)
    check = Check(rule="readable", status="fail", severity="required", expected="readable media", actual=code,
                  message=message)
    return build_report(file=FileInfo(name=entry.basename, size_bytes=entry.size, sha256=sha256), profile=profile,
                        media=None, checks=[check], tools={}, timings_ms={}, error=err)


def default_tools_key() -> str:
    """mediacheck's version and ffprobe's (one quick run)."""
    from service.media.process import run

    try:
        first = run(["ffprobe", "-version"], timeout=10).stdout.decode("utf-8", "replace").splitlines()[0]
        ffprobe = first.split()[2] if len(first.split()) > 2 else first
    except (MediaCheckError, IndexError):
        ffprobe = "missing"
    return f"mediacheck {__version__}; ffprobe {ffprobe}"


def _run_steps(path: Path, report: Report, entry: BatchEntry, options: TaskOptions) -> Report:
    for name in options.steps:
        step = resolve_step(name)
        if step is not None:
            context = _Context(entry=entry, out_dir=options.out_dir, profile=options.profile, fsync=options.fsync,
                               deep="deep" in options.steps)
            report = step(path, report, context)
    return report


def _check_member(entry: BatchEntry, options: TaskOptions) -> tuple[Report, str | None]:
    assert entry.member is not None
    member = find_member(entry.source, entry.member)
    suffix = entry.suffix if entry.suffix.isascii() and len(entry.suffix) <= 8 else ""
    tmp = Path(options.work_dir) / f"{uuid.uuid4().hex}{suffix}"
    try:
        sha = stream_member(entry.source, member, tmp)
        report = check_file(tmp, options.profile, display_name=entry.basename, sha256=sha,
                            deep="deep" in options.steps)
        return _run_steps(tmp, report, entry, options), sha
    finally:
        tmp.unlink(missing_ok=True)


def check_entry(entry: BatchEntry, options: TaskOptions, *, sha256: str | None = None) -> Record:
    """Check one entry. Never raises for a bad input: an unreadable file, a corrupt or
    unsafe archive member gives a record with an ``error`` report. ``sha256`` (known from a
    previous run) saves hashing a loose file again."""
    if entry.action == "skip":
        return Record(entry=entry, status="skipped", reason=entry.reason)
    if entry.action == "reject":
        report = error_report(entry, options.profile, entry.reason_code or "rejected", entry.reason or {})
        return Record(entry=entry, status="rejected", reason=entry.reason, report=report)
    try:
        if entry.member is not None:
            report, sha = _check_member(entry, options)
        else:
            report = check_file(entry.source, options.profile, display_name=entry.basename, sha256=sha256,
                                deep="deep" in options.steps)
            report = _run_steps(Path(entry.source), report, entry, options)
            sha = report.file.sha256
    except ArchiveError as e:
        return Record(entry=entry, status="rejected", reason=e.message,
                      report=error_report(entry, options.profile, e.code, e.message))
    except OSError as e:
        msg = {"zh-CN": f"无法读取：{e.strerror or e}", "en": f"cannot read: {e.strerror or e}"}
        return Record(entry=entry, status="checked", report=error_report(entry, options.profile, "io_error", msg))
    key = result_key(sha, entry, options) if sha else None
    return Record(entry=entry, status="checked", key=key, report=report)


def ensure_dir(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    return p
