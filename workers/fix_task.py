"""The fix job (kind ``transcode``), thin: load the submission, its original's report and its
profile → ``transcode.fix_file`` from the original into the derived area → store the fixed
copy and its report. Registered with ``@task``, so RQ workers and the in-process executor run
the very same function. Progress (percent, ETA, stage) goes into the job row at most once a
second; a cancel request (``jobs.cancel_requested_at``) is polled at most once a second and
kills ffmpeg (RQ's own stop command kills the work horse's process group, which includes ffmpeg:
it is never started in a new session). Only a copy that passes its re-check is recorded; the
re-check is the campaign's own check (deep included when the campaign runs the deep analysis).
The job's ``params.allow_crop`` is the submitter's choice to crop (``POST …/fix?allow_crop=true``).
The original is never written."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from service.core.report import Report
from service.fix.submissions import FIX_KIND, plan_of, refusal, runs_deep, start_fix
from service.fix.transcode import FixProgress, fix_file, output_suffix
from service.store.digest import sha256_file
from service.store.jobs import JobProgress
from service.store.models import FixedCopy, Job, ReportRow, Submission
from service.store.runtime import Context
from service.store.summaries import refresh as refresh_summary
from service.submissions.campaigns import CampaignBook
from service.submissions.intake import latest_report
from workers.registry import task

log = logging.getLogger("mediacheck")

CANCEL_POLL_S = 1.0
"""The cancel check (a database read) runs at most once per this many seconds."""

META_INTERVAL_S = 1.0
"""Progress is written to the job row at most once per this many seconds."""


def throttled(check: Callable[[], bool], interval: float = CANCEL_POLL_S) -> Callable[[], bool]:
    """``check`` called at most once per ``interval``; once true, true for good."""
    state = {"last": 0.0, "value": False}

    def poll() -> bool:
        now = time.monotonic()
        if not state["value"] and now - state["last"] >= interval:
            state["last"] = now
            state["value"] = bool(check())
        return bool(state["value"])

    return poll


class _JobMeter:
    """Writes a fix's progress into its job row: at most once per META_INTERVAL_S, and at 100 %."""

    def __init__(self, ctx: Context, job_id: str) -> None:
        self.ctx, self.job_id, self.last = ctx, job_id, 0.0

    def __call__(self, p: FixProgress) -> None:
        now = time.monotonic()
        if now - self.last < META_INTERVAL_S and p.percent < 100:
            return
        self.last = now
        with self.ctx.db.session() as s:
            row = s.get(Job, self.job_id)
            if row is not None:
                row.progress = min(1.0, p.percent / 100)
                row.meta = {"percent": p.percent, "eta_s": p.eta_s, "stage": p.stage}


def _cancel_requested(ctx: Context, job_id: str) -> bool:
    with ctx.db.session() as s:
        row = s.get(Job, job_id)
        return row is None or row.cancel_requested_at is not None


def _recorded(ctx: Context, job_id: str) -> dict[str, Any] | None:
    """The result of an earlier attempt of this job that recorded its fixed copy and was killed before
    its result was saved (a retry after a dead worker): the copy is not made and recorded twice."""
    with ctx.db.session() as s:
        copy = s.scalar(select(FixedCopy).where(FixedCopy.job_id == job_id).limit(1))
        if copy is None:
            return None
        report = s.get(ReportRow, copy.report_id)
        return {"status": "fixed", "reason": None, "actions": [], "attempts": 0, "notes": [], "warnings": [],
                "deep": None, "timings_ms": {}, "verdict": report.verdict if report else None,
                "report_id": copy.report_id, "file_name": copy.file_name, "size_bytes": copy.size_bytes,
                "recorded_by_an_earlier_attempt": True}


@task(FIX_KIND)
def fix_task(ctx: Context, job: Job, progress: JobProgress) -> dict[str, Any]:
    if (done := _recorded(ctx, job.id)) is not None:
        return done
    with ctx.db.session() as s:
        sub = s.get(Submission, job.submission_id)
        if sub is None:
            raise LookupError(f"submission {job.submission_id} not found")
        row = latest_report(s, sub.id)
        src, name, profile_id, sub_id = ctx.storage.path(sub.storage_key), sub.file_name, sub.profile_id, sub.id
        before = row.report if row else None
        deep = runs_deep(s, sub)  # the re-check is the campaign's own check
    allow_crop = bool((job.params or {}).get("allow_crop"))
    profile = ctx.store.get(profile_id)
    plan = plan_of(before, profile, allow_crop=allow_crop)
    refused = refusal(plan, before)
    if refused is not None or plan is None or before is None:
        message = refused.message if refused else {"zh-CN": "无法修复。", "en": "Cannot be fixed."}
        return {
            "status": "unfixable",
            "reason": message,
            "reasons": refused.extra.get("reasons", []) if refused else [],
            "error": {"type": "unfixable", "message": message},
        }
    key = ctx.storage.derived_key(sub_id, f"fixed-{job.id}{output_suffix(plan)}")
    dest = ctx.storage.path(key)  # fix_file makes its folder (durably, with MEDIACHECK_FSYNC)
    result = fix_file(
        src,
        profile,
        dest,
        job_id=job.id,
        progress=_JobMeter(ctx, job.id),
        cancelled=throttled(lambda: _cancel_requested(ctx, job.id)),
        display_name=name,
        before=Report.model_validate(before),
        durable=ctx.storage.fsync,  # MEDIACHECK_FSYNC, as for the originals: recorded below only once on disk
        deep=deep,
        allow_crop=allow_crop,
    )
    out: dict[str, Any] = {
        "status": result.status,
        "reason": result.reason,
        "actions": plan.actions(),
        "attempts": result.attempts,
        "notes": list(result.notes),
        "warnings": list(result.warnings),
        "deep": result.deep,
        "timings_ms": result.timings_ms,
    }
    if result.status == "fixed" and result.after is not None:
        os.chmod(dest, 0o444)
        after = result.after.model_dump(mode="json")
        with ctx.db.session() as s:
            report_row = ReportRow(
                submission_id=sub_id,
                subject="fixed",
                verdict=result.after.verdict,
                report=after,
                created_at=datetime.now(UTC),
            )
            s.add(report_row)
            s.flush()
            info = result.after.file
            s.add(
                FixedCopy(
                    submission_id=sub_id,
                    job_id=job.id,
                    storage_key=key,
                    file_name=info.name,
                    size_bytes=info.size_bytes,
                    sha256=info.sha256 or sha256_file(dest),
                    report_id=report_row.id,
                    created_at=datetime.now(UTC),
                )
            )
            refresh_summary(s, sub_id)
            out |= {
                "verdict": result.after.verdict,
                "report_id": report_row.id,
                "file_name": info.name,
                "size_bytes": info.size_bytes,
            }
        return out
    if result.after is not None:  # re-checked and still failing: kept on the job, never shown as fixed
        out["after"] = result.after.model_dump(mode="json")
    if result.status in ("failed", "unfixable"):
        out["error"] = {"type": f"fix_{result.status}", "message": result.reason}
    return out


def enqueue_autofix(ctx: Context, sub_id: str, report: dict[str, Any]) -> str | None:
    """After a check: queue a fix when the campaign (or the profile's ``fix.auto``) asks for it and
    every failure is fixable. Returns the job id, or None."""
    if ctx.queue is None or report.get("verdict") != "fail":
        return None
    with ctx.db.session() as s:
        sub = s.get(Submission, sub_id)
        if sub is None or sub.status == "refused":
            return None
        campaign = CampaignBook(ctx.store, ctx.settings.upload_limit).get(s, sub.campaign_id)
        s.expunge(sub)
    profile = ctx.store.get(sub.profile_id)
    kind = (report.get("media") or {}).get("kind")
    spec = profile.kinds.get(kind) if kind else None  # type: ignore[call-overload]
    if not (campaign.autofix or (spec is not None and spec.fix is not None and spec.fix.auto)):
        return None
    plan = plan_of(report, profile)
    if plan is None or refusal(plan, report) is not None:
        return None
    try:
        job_id, _ = start_fix(ctx.db, ctx.queue, sub, plan)
    except Exception:  # the check itself succeeded: a queue that is down must not fail it
        log.exception("could not queue the automatic fix of %s", sub_id)
        return None
    return job_id
