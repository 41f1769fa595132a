"""Reading the record: a submission's state, its report (JSON or a page), the original file,
a job; for reviewers, a campaign's submissions and their decisions. A receipt token reveals
one submission; an API key the campaigns it is scoped to."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from service.core.entry_fields import labelled
from service.core.errors import RequestError
from service.core.filenames import content_disposition
from service.core.media_types import served_type
from service.fix import submissions as fixes
from service.review import ledger, listing
from service.store.models import Job, ReportRow, Submission
from service.submissions.access import (
    Caller,
    caller_of,
    is_id,
    readable_job,
    readable_submission,
    require_campaign,
    require_read,
)
from service.submissions.intake import latest_report
from service.submissions.views import links, submission_view, summary_view
from service.web.deps import AuthHeader, Credentials, Creds, Services, caller_for, services
from service.web.report_view import report_view
from service.web.templating import templates

router = APIRouter(prefix="/api")


def _load(svc: Services, sub_id: str, caller: Caller) -> tuple[Submission, dict[str, Any] | None]:
    with svc.db.session() as s:
        sub = readable_submission(s, caller, sub_id)
        report = latest_report(s, sub_id)
        return sub, report.report if report else None


@router.get("/submissions/{sub_id}", summary="A submission's state and verdict (receipt token or API key)")
async def get_submission(
    sub_id: str,
    request: Request,
    creds: Creds,
) -> JSONResponse:
    svc = services(request)
    if svc.db.local:  # SQLite: three primary-key reads, quicker than a hop to a thread
        return _submission_status(svc, sub_id, creds)
    return await anyio.to_thread.run_sync(_submission_status, svc, sub_id, creds)


def _submission_status(svc: Services, sub_id: str, creds: Credentials) -> JSONResponse:
    with svc.db.session() as s:  # the endpoint clients poll: one session, rows not ORM objects
        caller = creds.caller(s)
        row = s.execute(select(Submission.__table__).where(Submission.id == sub_id)).first()
        sub = require_read(caller, row if is_id(sub_id) else None)  # type: ignore[arg-type]
        report = s.scalar(
            select(ReportRow.report)
            .where(ReportRow.submission_id == sub_id, ReportRow.subject != "fixed")
            .order_by(ReportRow.id.desc())
            .limit(1)
        )
        fixed = fixes.fixed_copy(s, sub_id)
        fixed_report = s.get(ReportRow, fixed.report_id).report if fixed is not None else None  # type: ignore[union-attr]
        jobs = s.execute(
            select(Job.id, Job.kind, Job.state).where(Job.submission_id == sub_id).order_by(Job.created_at)
        ).all()
        body = submission_view(sub, report)
    body |= {
        "jobs": [{"id": j.id, "kind": j.kind, "state": j.state} for j in jobs],
        "links": links(sub_id, creds.token),
        "reports": {"original": report, "fixed": fixed_report},
        "fixed": fixes.fixed_view(fixed, fixed_report, creds.token),
    }
    return JSONResponse(body)


@router.get("/submissions/{sub_id}/report", summary="The report (JSON; ?format=html for people)")
def get_report(
    sub_id: str,
    request: Request,
    creds: Creds,
    format: Annotated[str, Query(pattern="^(json|html)$")] = "json",
    lang: Annotated[str, Query(pattern="^(zh-CN|en)$")] = "zh-CN",
) -> Response:
    svc = services(request)
    sub, report = _load(svc, sub_id, caller_for(svc, creds))
    if report is None and format == "json":
        raise RequestError(
            404,
            "report_not_ready",
            "报告尚未生成，请稍后再看。",
            "The report is not ready yet; look again soon.",
            status_of_submission=sub.status,
        )
    if format == "html":
        with svc.db.session() as s:
            copy = fixes.fixed_copy(s, sub.id)
            fixed = fixes.fixed_view(copy, None)
            deep = fixes.runs_deep(s, sub)
            details = labelled(svc.book.get(s, sub.campaign_id).entry, sub.details)
        plan, crop_plan = _plan_views(svc, sub, report, deep) if fixed is None and creds.token else (None, None)
        return templates.TemplateResponse(request, "report.html",
                                          report_view(sub, report, lang=lang, token=creds.token, fixed=fixed,
                                                      plan=plan, crop_plan=crop_plan, entry_details=details))
    return JSONResponse(report)


def _plan_views(svc: Services, sub: Submission, report: dict[str, Any] | None, deep: bool
                ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """What a fix would do (the page shows it next to the button), and with the offered crop chosen."""
    if report is None or report.get("verdict") != "fail" or not report.get("fixable"):
        return None, None
    profile = svc.store.get(sub.profile_id)
    plan = fixes.plan_of(report, profile)
    view = fixes.plan_view(plan, report, deep=deep)
    if plan is None or plan.crop is None or plan.fixable:
        return view, None
    return view, fixes.plan_view(fixes.plan_of(report, profile, allow_crop=True), report, deep=deep)


@router.get("/submissions/{sub_id}/file", summary="Download the original (RFC 6266 file name)")
def get_file(
    sub_id: str,
    request: Request,
    creds: Creds,
) -> FileResponse:
    svc = services(request)
    sub, report = _load(svc, sub_id, caller_for(svc, creds))
    path = svc.storage.path(sub.storage_key)
    if sub.status == "refused" or not path.exists():
        raise RequestError(410, "file_gone", "该文件未被保存。", "This file was not kept.")
    media_type, _ = served_type(report)  # what the check found, never the declared type
    return FileResponse(
        path,
        media_type=media_type,
        headers={"Content-Disposition": content_disposition(sub.file_name)},
    )


@router.get(
    "/campaigns/{campaign_id}/submissions", summary="A campaign's submissions, a page at a time (reviewer or admin key)"
)
def list_submissions(
    campaign_id: str,
    request: Request,
    authorization: AuthHeader = None,
    limit: Annotated[int, Query(ge=1, le=listing.MAX_PAGE_SIZE)] = 100,
    after: Annotated[str | None, Query(max_length=400, description="the cursor of the page before (`next`)")] = None,
    verdict: Annotated[str | None, Query(pattern="^(pass|warn|fail|error|pending)$",
                                         description="verdict after waivers")] = None,
    decision: Annotated[str | None, Query(pattern="^(none|accept|reject|needs_fix)$")] = None,
    since: Annotated[datetime | None, Query(description="received at or after (ISO 8601; UTC if no zone)")] = None,
    until: Annotated[datetime | None, Query(description="received before")] = None,
    warning: Annotated[str | None, Query(pattern=f"^({'|'.join(listing.WARNING_FILTERS)})$",
                                         description="content warnings: none, any, or one rule")] = None,
    q: Annotated[str, Query(max_length=200, description="search file names and entry details (Chinese, folded)")] = "",
    sort: Annotated[str, Query(pattern="^(created|name|size|duration|verdict|decision|warnings|detail:.{1,40})$",
                               description="a summary column, or `detail:<field key>`")] = "created",
    dir: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
) -> JSONResponse:
    """Newest first by default. The body's ``next`` (and the ``Link: <…>; rel="next"`` header,
    RFC 8288) is the URL of the following page; it is null on the last, so following it reaches
    every submission once. The filters, the search and the sorts are the reviewer dashboard's."""
    svc = services(request)
    caller = caller_for(svc, Credentials(None, authorization))
    require_campaign(caller, campaign_id)
    query = listing.Query(campaign_id=campaign_id, verdict=verdict or "", decision=decision or "",
                          warning=warning or "", search=q, since=_utc(since), until=_utc(until), sort=sort,
                          desc=dir == "desc", after=after, limit=limit, include_refused=True)
    with svc.db.session() as s:
        field = listing.detail_key(sort)
        if field is not None and field not in {f.key for f in svc.book.get(s, campaign_id).entry.fields}:
            raise RequestError(422, "unknown_sort", f"本活动没有作品信息字段 {field!r}，不能按它排序。",
                               f"The campaign has no entry field {field!r} to sort by.")
        try:
            page = listing.page(s, query)
        except listing.CursorError:
            raise RequestError(400, "bad_cursor", "翻页参数 after 无效（请使用上一页返回的 next 链接）。",
                               "The cursor `after` is not valid (follow the `next` link of the page before).") \
                from None
        subs = {x.id: x for x in s.scalars(select(Submission).where(
            Submission.id.in_([r.submission_id for r in page.rows])))}
        items = [submission_view(subs[r.submission_id], None) | {"summary": summary_view(r)} for r in page.rows]
    nxt = str(request.url.include_query_params(after=page.next)) if page.next else None
    headers = {"Link": f'<{nxt}>; rel="next"'} if nxt else {}
    return JSONResponse({"items": items, "next": nxt}, headers=headers)


def _utc(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


@router.get("/jobs/{job_id}", summary="A job's state, progress and result")
def get_job(
    job_id: str,
    request: Request,
    creds: Creds,
) -> dict[str, Any]:
    svc = services(request)
    caller = caller_for(svc, creds)
    with svc.db.session() as s:
        job = readable_job(s, caller, job_id)
    progress = job.progress
    if job.state == "started" and hasattr(svc.queue, "meta"):
        progress = float(svc.queue.meta(job.id).get("progress", progress))
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "progress": progress,
        "detail": job.meta,  # a fix: percent, eta_s (seconds left), stage
        "cancel_requested": job.cancel_requested_at is not None,
        "result": job.result,
        "error": job.error and {k: job.error.get(k) for k in ("type", "message", "detail")},
        "attempts": job.attempts,
        "timeout_s": job.timeout_s,
        "backend": job.backend,
        "submission_id": job.submission_id,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at and job.finished_at.isoformat(),
    }


class DecisionIn(BaseModel):
    decision: Literal["accept", "reject", "needs_fix"]
    note: str | None = Field(None, max_length=2000)


@router.post(
    "/submissions/{sub_id}/decisions",
    status_code=201,
    summary="A reviewer's decision (reviewer or admin key)",
)
def post_decision(
    sub_id: str, body: DecisionIn, request: Request, authorization: AuthHeader = None
) -> dict[str, Any]:
    svc = services(request)
    with svc.db.session() as s:
        caller = caller_of(s, authorization=authorization, token=None)
        if caller.key is None:
            raise RequestError(
                401,
                "key_required",
                "需要评审或管理员的 API 密钥。",
                "A reviewer or admin API key is required.",
            )
        sub = readable_submission(s, caller, sub_id)
        line = ledger.record(s, submission_id=sub.id, key=caller.key, kind="decision", decision=body.decision,
                             note=body.note)  # the trail's one way in; it refreshes the summary row
        return {
            "id": line.id,
            "submission_id": sub.id,
            "decision": line.decision,
            "note": line.note,
            "reviewer": line.by,
            "created_at": line.at.isoformat(),
        }
