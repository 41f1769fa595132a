"""API for fixes: start a fix of a submission, cancel a job, download the fixed copy. A fix
runs as a job of kind ``transcode`` (workers/fix_task.py); its progress, ETA and result are
read with ``GET /api/jobs/{id}``. Who may: the submission's receipt token, or a reviewer or
admin key scoped to its campaign. Problems are problem+json with bilingual messages."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse

from service.core.errors import RequestError
from service.core.filenames import content_disposition
from service.fix.submissions import FIX_KIND, fixed_copy, plan_of, plan_view, refusal, runs_deep, start_fix
from service.store.jobs import JobBackend
from service.submissions.access import readable_job, readable_submission
from service.submissions.intake import latest_report
from service.web.deps import Creds, services

router = APIRouter(prefix="/api")

log = logging.getLogger("mediacheck")

FIX_MEDIA_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".jpg": "image/jpeg", ".png": "image/png"}
"""Content types of fixed copies, by extension."""

ALLOW_CROP = ("the submitter chooses to crop where the profile requires a full frame and offers cropping "
              "(GET …/fix says how much of the picture a crop keeps)")
ALLOW_CROP_PLAN = "plan the crop the profile offers where a full frame is required"


@router.get(
    "/submissions/{sub_id}/fix",
    summary="What a fix would do, before it runs: fixable or why not, remux or re-encode, pad or crop (and what "
    "a crop keeps), the expected size and time",
)
def get_fix_plan(
    sub_id: str,
    request: Request,
    creds: Creds,
    allow_crop: Annotated[bool, Query(description=ALLOW_CROP_PLAN)] = False,
) -> dict[str, Any]:
    svc = services(request)
    with svc.db.session() as s:
        caller = creds.caller(s)
        sub = readable_submission(s, caller, sub_id)
        row = latest_report(s, sub.id)
        report = row.report if row else None
        deep = runs_deep(s, sub)
    plan = plan_of(report, svc.store.get(sub.profile_id), allow_crop=allow_crop)
    return {"submission_id": sub.id, "allow_crop": allow_crop} | plan_view(plan, report, deep=deep)


@router.post(
    "/submissions/{sub_id}/fix",
    status_code=202,
    summary="Start a fix of a submission (receipt token or reviewer key); 409 with the reasons when it cannot be fixed",
    responses={409: {"description": "nothing to fix, or a failure that cannot be fixed (reasons, bilingual)"}},
)
def post_fix(
    sub_id: str,
    request: Request,
    creds: Creds,
    allow_crop: Annotated[bool, Query(description=ALLOW_CROP)] = False,
) -> JSONResponse:
    svc = services(request)
    with svc.db.session() as s:
        caller = creds.caller(s)
        sub = readable_submission(s, caller, sub_id)
        row = latest_report(s, sub.id)
        report = row.report if row else None
    if sub.status == "refused":
        raise RequestError(
            409, "file_gone", "该文件未被保存，无法修复。", "This file was not kept; it cannot be fixed."
        )
    plan = plan_of(report, svc.store.get(sub.profile_id), allow_crop=allow_crop)
    problem = refusal(plan, report)
    if problem is not None:
        raise problem
    assert plan is not None
    job_id, created = start_fix(svc.db, svc.queue, sub, plan, allow_crop=allow_crop)
    q = f"?token={creds.token}" if creds.token else ""
    urls = {
        "job": f"/api/jobs/{job_id}{q}",
        "cancel": f"/api/jobs/{job_id}/cancel{q}",
        "fixed": f"/api/submissions/{sub.id}/fixed{q}",
    }
    body = {"job": {"id": job_id, "kind": FIX_KIND, "created": created}, "actions": plan.actions(), "links": urls,
            "warnings": list(plan.warnings)}
    return JSONResponse(body, status_code=202, headers={"Location": urls["job"]})


@router.post(
    "/jobs/{job_id}/cancel",
    status_code=202,
    summary="Cancel a job (a queued fix leaves the queue; a running one stops within about a second, its output "
    "discarded)",
)
def cancel_job(
    job_id: str,
    request: Request,
    creds: Creds,
) -> dict[str, Any]:
    svc = services(request)
    with svc.db.session() as s:
        caller = creds.caller(s)
        job = readable_job(s, caller, job_id)
        if job.kind != FIX_KIND:
            raise RequestError(409, "not_cancellable", "只有修复任务可以取消。", "Only fix jobs can be cancelled.")
        if job.state in ("finished", "failed", "cancelled"):
            raise RequestError(
                409,
                "job_over",
                f"任务已结束（{job.state}），无法取消。",
                f"The job is over ({job.state}); it cannot be cancelled.",
                state=job.state,
            )
        now = datetime.now(UTC)
        job.cancel_requested_at = job.cancel_requested_at or now
        waiting = job.state == "queued"
        if waiting:  # not started: it never will (run_job skips a cancelled job)
            job.state, job.finished_at = "cancelled", now
        state = job.state
    if waiting:
        _leave_queue(svc.queue, job_id)
    return {"id": job_id, "state": state, "cancel_requested": True}


def _leave_queue(queue: JobBackend, job_id: str) -> None:
    """Take a cancelled job out of the queue (RQ), after the database row says cancelled: that row
    is the record, so a queue that cannot be reached fails nothing — a worker that gets to the
    job skips it."""
    try:
        queue.cancel(job_id)
    except Exception:  # noqa: BLE001 - Redis down or slow: the database already holds the cancel
        log.warning("could not take cancelled job %s out of the queue", job_id, exc_info=True)


@router.get(
    "/submissions/{sub_id}/fixed",
    summary="Download the fixed copy (404 until a fix passed its re-check)",
    response_class=FileResponse,
)
def get_fixed(
    sub_id: str,
    request: Request,
    creds: Creds,
) -> FileResponse:
    svc = services(request)
    with svc.db.session() as s:
        caller = creds.caller(s)
        sub = readable_submission(s, caller, sub_id)
        copy = fixed_copy(s, sub.id)
    path = svc.storage.path(copy.storage_key) if copy is not None else None
    if copy is None or path is None or not path.exists():
        raise RequestError(
            404, "no_fixed_copy", "还没有通过检查的修复文件。", "There is no fixed copy that passed the check yet."
        )
    return FileResponse(
        path,
        media_type=FIX_MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
        headers={"Content-Disposition": content_disposition(copy.file_name)},
    )
