"""Carry out a fix plan (the edge that writes media). ffmpeg commands come from
``ffmpeg_commands`` (ffmpeg-python) and run through ``process.run_with_progress``;
MOV/MP4 remuxes go through ``mp4box``; photos through Pillow (``photo``). Every job works
in its own hidden directory beside the destination (temporary output, two-pass log, loudnorm
measurement); the output is checked again against the same profile and moved into place
atomically only when it passes, its bytes on the disk before its name (``durable``). The
re-check is the campaign's own check: with ``deep`` (the campaign runs the deep analysis, the
batch runs ``--deep``, the profile has content rules for ``mediacheck fix``) it includes the
content analysis, so a copy that fails a required content rule is a failed fix. The
original is never written to. A fix whose output does not pass is a failed fix with
the reason; a size outside the window is retried once with a corrected bitrate."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.core.background import Background
from service.core.errors import ToolCancelledError, ToolError
from service.core.facts import MediaFacts
from service.core.profiles import Profile
from service.core.report import Report
from service.fix.bitrate import audio_first_needed, corrected_bitrate, retry_target, video_bitrate_for
from service.fix.ffmpeg_commands import (
    audio_command,
    encode_command,
    loudnorm_measure_command,
    parse_loudnorm_json,
    remux_command,
)
from service.fix.plan import FixPlan, message
from service.fix.planner import plan_fix
from service.media import mp4box, process
from service.media.checker import check_file
from service.store.durable import make_dirs, publish, start_sync

ENCODE_S_PER_MEDIA_S = 8.0
"""Timeout budget of one encode pass, in seconds per second of 1080p media (2 shared cores, generous)."""

MIN_TOOL_TIMEOUT_S = 120.0
"""No ffmpeg run gets less time than this."""

BOX_REMUX_CONTAINERS = frozenset({"mov", "mp4", "3gp"})
"""Containers remuxed at the box level (mp4box) when streams are only copied; others go through ffmpeg."""

JOB_DIR_PREFIX = ".mediacheck-fix-"
"""Per-job working directories start with this (hidden; never a finished file)."""

Status = Literal["fixed", "not_needed", "unfixable", "failed", "cancelled"]


@dataclass(frozen=True)
class FixProgress:
    """Where a fix is: ``percent`` 0–100 over all its passes, ``eta_s`` the seconds left."""

    percent: float
    eta_s: float | None
    stage: str


ProgressCallback = Callable[[FixProgress], None]


class FixResult(BaseModel):
    """The outcome of one fix: both reports, the plan, and where the output is (if fixed)."""

    model_config = ConfigDict(frozen=True)

    status: Status
    plan: FixPlan
    before: Report
    after: Report | None = None
    output: str | None = None
    attempts: int = 0
    reason: dict[str, str] | None = Field(None, description="why it is not fixed (zh-CN, en)")
    notes: tuple[dict[str, str], ...] = ()
    warnings: tuple[dict[str, str], ...] = Field(
        (), description="what the fixed file is still told (e.g. padded where full frame is recommended)")
    deep: bool = Field(False, description="the re-check included the deep content analysis")
    timings_ms: dict[str, float] = Field(default_factory=dict)



def encode_timeout(duration_s: float, width: int, height: int) -> float:
    """Seconds one encode pass may take: proportional to duration × pixels, never below the minimum."""
    pixels = max(1.0, width * height / (1920 * 1080))
    return max(MIN_TOOL_TIMEOUT_S, 60 + duration_s * ENCODE_S_PER_MEDIA_S * pixels)


def fix_time_limit(plan: FixPlan) -> float:
    """Seconds a whole fix may take (all passes, a retry, the checks): one of the two figures of a
    fix job's timeout (service/fix/submissions.py ``fix_job_timeout``)."""
    d = plan.duration_s or 60.0
    v = plan.video
    if v is None or v.copy_video:
        return max(MIN_TOOL_TIMEOUT_S, 120 + d * 2)
    passes = (2 if v.rate_control == "two_pass" else 1) * 2 + (1 if v.loudnorm else 0)
    return passes * encode_timeout(d, v.width or 1920, v.height or 1080) + 120


class _Meter:
    """Turns ffmpeg's ``out_time_us`` of each pass into one percentage and an ETA."""

    def __init__(self, callback: ProgressCallback | None, duration_s: float, weights: list[tuple[str, float]]):
        self.callback, self.duration = callback, max(duration_s, 0.001)
        total = sum(w for _, w in weights) or 1.0
        self.stages = [(name, w / total) for name, w in weights]
        self.index = 0
        self.start = time.monotonic()

    def stage(self, name: str) -> Callable[[dict[str, str]], None]:
        idx = next((i for i, (n, _) in enumerate(self.stages) if n == name), self.index)
        self.index = idx
        base = sum(w for _, w in self.stages[:idx])
        weight = self.stages[idx][1] if idx < len(self.stages) else 0.0

        def on_block(block: dict[str, str]) -> None:
            try:
                us = int(block.get("out_time_us") or 0)
            except ValueError:
                us = 0
            frac = 1.0 if block.get("progress") == "end" else min(1.0, max(0.0, us / 1e6 / self.duration))
            self.report(base + weight * frac, name)
        return on_block

    def report(self, fraction: float, name: str) -> None:
        if self.callback is None:
            return
        elapsed = time.monotonic() - self.start
        eta = elapsed / fraction * (1 - fraction) if fraction > 0.01 else None
        self.callback(FixProgress(percent=round(100 * fraction, 1), eta_s=round(eta, 1) if eta is not None else None,
                               stage=name))


# ------------------------------------------------------------------ running


def job_dir_for(dest: Path, job_id: str) -> Path:
    """The hidden working directory of one job, beside the destination (same filesystem, so the
    final move is atomic)."""
    return dest.parent / f"{JOB_DIR_PREFIX}{job_id}"


STALE_JOB_DIR_S = 24 * 3600
"""A job directory untouched for this long belongs to a dead worker (no job runs that long)."""


def sweep_job_dirs(directory: str | os.PathLike[str], older_than_s: float = STALE_JOB_DIR_S) -> list[Path]:
    """Remove job directories left by killed workers in ``directory``; returns what was removed.
    (A retried job removes its own directory when it starts again.)"""
    removed = []
    now = time.time()
    for d in Path(directory).glob(JOB_DIR_PREFIX + "*"):
        try:
            if d.is_dir() and now - d.stat().st_mtime > older_than_s:
                shutil.rmtree(d, ignore_errors=True)
                removed.append(d)
        except OSError:
            continue
    return removed


def fix_file(src: str | os.PathLike[str], profile: Profile, dest: str | os.PathLike[str], *,
             job_id: str | None = None, progress: ProgressCallback | None = None,
             cancelled: Callable[[], bool] | None = None, display_name: str | None = None,
             output_name: str | None = None, before: Report | None = None,
             durable: bool = True, deep: bool = False, allow_crop: bool = False) -> FixResult:
    """Fix ``src`` so that it passes ``profile``, writing ``dest`` only when it does.
    ``display_name`` is the submitted name (for the file-name rule); the output is re-checked as
    ``output_name`` (default: that name with the output's extension, else ``dest``'s name).
    ``durable``: the output is fdatasync'ed before it is renamed to ``dest`` and the directory
    after, so that a power cut never leaves an empty ``dest`` that a caller already recorded as
    fixed (the sync starts when the output is finished and runs beside its re-check); False
    (``MEDIACHECK_FSYNC=0``) keeps only the atomic rename.
    ``deep``: the re-check (and the check of the original, when ``before`` is not given) runs the
    content analysis too, as the campaign's own check does; ``allow_crop``: the submitter chose to
    crop where the profile requires a full frame and offers cropping.
    Never raises for a file that cannot be fixed or a tool that fails: the result says why."""
    src_p, dest_p = Path(src), Path(dest)
    if src_p.resolve() == dest_p.resolve():
        raise ValueError("the output must not be the original file")
    t0 = time.perf_counter()
    before = before or check_file(src_p, profile, display_name=display_name, deep=deep)
    if before.verdict == "error" or before.media is None:
        plan = FixPlan(kind="unknown", mode="unfixable")
        return FixResult(status="unfixable", plan=plan, before=before, reason=before.summary)
    plan = plan_fix(before.media, before.checks, profile, allow_crop=allow_crop)
    if plan.mode == "none":
        return FixResult(status="not_needed", plan=plan, before=before, notes=plan.notes, reason=message(
            "文件已符合要求，无需修复。", "The file already meets the profile; nothing to fix."))
    if not plan.fixable:
        zh = "；".join(r.message["zh-CN"] for r in plan.unfixable)
        en = " ".join(r.message["en"] for r in plan.unfixable)
        return FixResult(status="unfixable", plan=plan, before=before, notes=plan.notes,
                         reason=message(f"无法自动修复：{zh}", f"Cannot be fixed automatically: {en}"), deep=deep)
    job_dir = job_dir_for(dest_p, job_id or uuid.uuid4().hex)
    shutil.rmtree(job_dir, ignore_errors=True)  # a previous attempt of this job that died
    make_dirs(dest_p.parent, durable=durable)  # a folder made here is durable like the file it will hold
    job_dir.mkdir()
    suffix = output_suffix(plan)
    tmp_out = job_dir / f"output{suffix}"
    out_name = output_name or (f"{Path(display_name).stem}{suffix}" if display_name else dest_p.name)
    notes = list(plan.notes)
    timings: dict[str, float] = {}
    attempts = 0
    after: Report | None = None
    synced: Background[None] | None = None
    """The write-back of the current output, started before its re-check."""
    try:
        if plan.image is not None:
            from service.fix.photo import fix_photo

            attempts = 1
            t = time.perf_counter()
            fix_photo(src_p, tmp_out, plan.image)
            timings["transcode"] = (time.perf_counter() - t) * 1000
            synced = start_sync(tmp_out) if durable else None
            if progress is not None:
                progress(FixProgress(percent=100.0, eta_s=0.0, stage="photo"))
            t = time.perf_counter()
            after = check_file(tmp_out, profile, display_name=out_name)
            timings["recheck"] = (time.perf_counter() - t) * 1000
        else:
            meter_src = before.media
            assert plan.video is not None and meter_src is not None
            runner = _VideoRun(src_p, tmp_out, job_dir, plan, meter_src, progress, cancelled)
            bitrate = plan.video.video_bitrate
            for attempt in (1, 2):
                attempts = attempt
                if synced is not None:  # the first output's, before the retry writes over it
                    synced.join()
                t = time.perf_counter()
                notes.extend(runner.run(bitrate, first=attempt == 1))
                bitrate = runner.used_bitrate
                timings["transcode"] = timings.get("transcode", 0.0) + (time.perf_counter() - t) * 1000
                synced = start_sync(tmp_out) if durable else None
                t = time.perf_counter()
                after = check_file(tmp_out, profile, display_name=out_name, sha256=runner.sha256)
                timings["recheck"] = timings.get("recheck", 0.0) + (time.perf_counter() - t) * 1000
                size_off = next((c for c in after.checks if c.rule == "file_size" and c.status != "pass"), None)
                if size_off is None or attempt == 2 or not bitrate or plan.video.target_bytes is None:
                    break
                want = retry_target(plan.video.target_bytes, plan.video.min_bytes, plan.video.max_bytes)
                bitrate = corrected_bitrate(bitrate, runner.audio_bps or plan.video.audio_bitrate or 0,
                                            after.file.size_bytes, want)
                notes.append(message(f"第一次输出大小不在范围内（{after.file.size_bytes:,} 字节），已按修正码率重试。",
                                  f"The first output was outside the size window ({after.file.size_bytes:,} bytes); "
                                  "retried with a corrected bitrate."))
        assert after is not None
        if deep and after.verdict in ("pass", "warn") and after.media is not None:
            t = time.perf_counter()  # the campaign's own check: its content rules too
            after = check_file(tmp_out, profile, display_name=out_name, sha256=after.file.sha256, deep=True)
            timings["recheck_deep"] = (time.perf_counter() - t) * 1000
        if after.verdict in ("pass", "warn"):
            t = time.perf_counter()
            publish(tmp_out, dest_p, durable=durable, synced=synced)
            timings["publish"] = (time.perf_counter() - t) * 1000
            timings["total"] = (time.perf_counter() - t0) * 1000
            return FixResult(status="fixed", plan=plan, before=before, after=after, output=str(dest_p),
                             attempts=attempts, notes=tuple(notes), warnings=plan.warnings, deep=deep,
                             timings_ms={k: round(v, 1) for k, v in timings.items()})
        failed = after.failed()
        rules = ", ".join(c.rule for c in failed)
        said = {k: " ".join(c.message.get(k, "") for c in failed) for k in ("zh-CN", "en")}
        return FixResult(status="failed", plan=plan, before=before, after=after, attempts=attempts,
                         notes=tuple(notes), deep=deep, reason=message(
                             f"修复后的文件仍不符合要求：{rules}。{said['zh-CN']}",
                             f"The fixed file still fails: {rules}. {said['en']}".rstrip()))
    except ToolCancelledError:
        return FixResult(status="cancelled", plan=plan, before=before, attempts=attempts, notes=tuple(notes),
                         reason=message("修复已取消。", "The fix was cancelled."))
    except ToolError as e:
        return FixResult(status="failed", plan=plan, before=before, attempts=attempts, notes=tuple(notes),
                         reason=message(f"转码工具出错：{e}", f"The transcoder failed: {e}"))
    except OSError as e:  # disk full, unwritable directory, a photo Pillow cannot decode after all
        return FixResult(status="failed", plan=plan, before=before, attempts=attempts, notes=tuple(notes),
                         reason=message(f"写入或读取失败：{e.strerror or e}",
                                     f"Reading or writing failed: {e.strerror or e}"))
    finally:
        if synced is not None:  # a sync still writing back an output that is thrown away
            synced.join()
        shutil.rmtree(job_dir, ignore_errors=True)


def output_suffix(plan: FixPlan) -> str:
    if plan.image is not None:
        return ".jpg" if plan.image.format == "jpeg" else ".png"
    return f".{plan.video.container}" if plan.video else ".mp4"


class _VideoRun:
    """The ffmpeg passes of one video fix, with progress over all of them."""

    def __init__(self, src: Path, out: Path, job_dir: Path, plan: FixPlan, facts: MediaFacts,
                 progress: ProgressCallback | None, cancelled: Callable[[], bool] | None) -> None:
        self.src, self.out, self.job_dir, self.plan = src, out, job_dir, plan
        self.has_audio, self.cancelled = facts.audio_present, cancelled
        self.container = facts.container
        self.sha256: Background[str] | None = None
        """SHA-256 of the output when it is computed while writing (the box-level remux): still
        running when ``run`` returns, so that the re-check's probe overlaps its end."""
        v = plan.video
        assert v is not None
        self.v = v
        weights: list[tuple[str, float]] = []
        if v.loudnorm and self.has_audio:
            weights.append(("loudness", 0.1))
        if v.copy_video:
            weights.append(("remux", 1.0))
            self.audio_first = False
        else:
            # the audio on its own first where its real size matters, or where loudnorm's report on
            # the second pass (linear or dynamic) is wanted; otherwise in the one encode, in parallel
            self.audio_first = self.has_audio and v.audio == "aac" and (v.loudnorm is not None or audio_first_needed(
                v.target_bytes, v.min_bytes, v.max_bytes, v.audio_bitrate or 0, plan.duration_s or 0.0))
            if self.audio_first:
                weights.append(("audio", 0.05))
        if v.copy_video:
            pass
        elif v.rate_control == "two_pass":
            weights += [("pass1", 0.4), ("pass2", 1.0)]
        else:
            weights.append(("encode", 1.0))
        self.meter = _Meter(progress, plan.duration_s or 1.0, weights)
        self.timeout = encode_timeout(plan.duration_s or 60.0, v.width or 1920, v.height or 1080)
        self.measured: dict[str, str] | None = None
        self.audio_file: Path | None = None
        self.audio_bps = 0
        """The encoded audio's real bitrate (AAC undershoots its nominal rate on simple sound)."""
        self.used_bitrate: int | None = None
        """The video bitrate of the last attempt."""

    def _run(self, cmd: list[str], stage: str) -> process.Completed:
        return process.run_with_progress(cmd, timeout=self.timeout, on_progress=self.meter.stage(stage),
                                         cancelled=self.cancelled)

    def run(self, bitrate: int | None, *, first: bool = True) -> list[dict[str, str]]:
        """One attempt; returns notes for the report (e.g. loudnorm's mode). On the first attempt
        the planned video bitrate is refined from the real size of the audio, encoded first."""
        notes: list[dict[str, str]] = []
        v = self.v
        loud_stderr = ""
        if v.loudnorm and self.has_audio and self.measured is None:
            self.measured = parse_loudnorm_json(self._run(loudnorm_measure_command(self.src, v), "loudness").stderr)
        if v.copy_video and v.audio != "aac" and not v.end_s and self.container in BOX_REMUX_CONTAINERS:
            self.sha256 = mp4box.start_rewrite(self.src, self.out)
            if self.sha256 is not None:
                self.meter.stage("remux")({"progress": "end"})
                return notes
        if self.audio_first and self.audio_file is None:
            self.audio_file = self.job_dir / "audio.m4a"
            loud_stderr = self._run(audio_command(self.src, self.audio_file, v, self.measured), "audio").stderr
            duration = self.plan.duration_s or 0
            if duration > 0:
                self.audio_bps = int(self.audio_file.stat().st_size * 8 / duration)
            if first and bitrate and v.target_bytes and duration > 0:
                bitrate = max(1, video_bitrate_for(v.target_bytes, duration, self.audio_bps))
        self.used_bitrate = bitrate
        if v.copy_video:
            loud_stderr = self._run(remux_command(self.src, self.out, v, self.has_audio, self.measured),
                                    "remux").stderr
        elif v.rate_control == "two_pass":
            passlog = self.job_dir / "x264-2pass"
            self._run(encode_command(self.src, self.out, self.plan, bitrate=bitrate, has_audio=False, pass_no=1,
                                     passlog=passlog), "pass1")
            self._run(encode_command(self.src, self.out, self.plan, bitrate=bitrate, has_audio=self.has_audio,
                                     pass_no=2, passlog=passlog, loudnorm_measured=self.measured,
                                     audio_file=self.audio_file), "pass2")
        else:
            self._run(encode_command(self.src, self.out, self.plan, bitrate=bitrate, has_audio=self.has_audio,
                                     loudnorm_measured=self.measured, audio_file=self.audio_file), "encode")
        if v.loudnorm and self.has_audio and loud_stderr:
            try:
                summary = parse_loudnorm_json(loud_stderr)
            except ToolError:
                summary = {}
            if summary.get("normalization_type") == "dynamic":
                notes.append(message("响度标准化采用了动态模式（素材动态范围过大，无法线性调整）。",
                                  "Loudness normalisation ran in dynamic mode (the range was too wide for a "
                                  "linear gain)."))
        return notes
