"""JSON API: campaigns, submissions (upload, status, report, original file), jobs. Errors
are problems (problems.py). All paths are listed in the OpenAPI docs at /docs."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any, Literal
from urllib.parse import unquote

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from . import rulebook
from .access import Caller, caller_of, require_read
from .app import Services, services
from .errors import RequestError
from .filenames import content_disposition, parse_file_name
from .intake import latest_report
from .models import Decision, Job, ReportRow, Submission
from .report_page import render_report
from .upload import receive_multipart, receive_raw

router = APIRouter(prefix="/api")

TokenQuery = Annotated[str | None, Query(description="receipt token of the submission")]
TokenHeader = Annotated[
    str | None, Header(alias="X-Receipt-Token", description="receipt token (instead of ?token=)")
]
AuthHeader = Annotated[str | None, Header(description="Bearer API key of a reviewer or admin")]

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "name": {"type": "string"},
                    },
                }
            },
        },
    }
}


def _caller(svc: Services, authorization: str | None, token: str | None) -> Caller:
    with svc.db.session() as s:
        return caller_of(s, authorization=authorization, token=token)


def _declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.isdigit():
        raise RequestError(400, "bad_content_length", "Content-Length 无效。", "Invalid Content-Length.")
    return int(raw)


def _raw_name(request: Request, name: str | None) -> str | None:
    if name:
        return name
    header = request.headers.get("x-file-name") or request.headers.get("upload-name")
    if header:
        return unquote(header)
    disp = request.headers.get("content-disposition", "")
    if "filename*=" in disp:
        value = disp.split("filename*=", 1)[1].split(";", 1)[0].strip().strip('"')
        return unquote(value.split("''", 1)[-1])
    if "filename=" in disp:
        return disp.split("filename=", 1)[1].split(";", 1)[0].strip().strip('"')
    return None


def links(sub_id: str, token: str | None = None, job_id: str | None = None) -> dict[str, str]:
    q = f"?token={token}" if token else ""
    out = {
        "self": f"/api/submissions/{sub_id}{q}",
        "report": f"/api/submissions/{sub_id}/report{q}",
        "page": f"/s/{sub_id}{q}",
        "file": f"/api/submissions/{sub_id}/file{q}",
    }
    if job_id:
        out["job"] = f"/api/jobs/{job_id}{q}"
    return out


def submission_view(sub: Submission, report: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": sub.id,
        "campaign_id": sub.campaign_id,
        "profile_id": sub.profile_id,
        "file_name": sub.file_name,
        "size_bytes": sub.size_bytes,
        "sha256": sub.sha256,
        "status": sub.status,
        "verdict": sub.verdict,
        "summary": (report or {}).get("summary"),
        "duplicate_of": sub.duplicate_of,
        "created_at": sub.created_at.isoformat(),
        "checked_at": sub.checked_at and sub.checked_at.isoformat(),
    }


# ------------------------------------------------------------------- campaigns
@router.get("/campaigns", summary="List campaigns that accept uploads")
def list_campaigns(request: Request) -> list[dict[str, Any]]:
    svc = services(request)
    with svc.db.session() as s:
        return [
            {
                "id": c.id,
                "title": c.title,
                "kinds": svc.book.kinds(c),
                "closed": c.is_closed(),
                "deadline": c.deadline and c.deadline.isoformat(),
            }
            for c in svc.book.all(s)
        ]


@router.get(
    "/campaigns/{campaign_id}", summary="A campaign, its rules in plain words, and the rules a browser checks"
)
def get_campaign(campaign_id: str, request: Request) -> dict[str, Any]:
    svc = services(request)
    with svc.db.session() as s:
        c = svc.book.get(s, campaign_id)
    profiles = svc.book.profiles(c)
    return {
        "id": c.id,
        "title": c.title,
        "profiles": list(c.profiles),
        "deadline": c.deadline and c.deadline.isoformat(),
        "closed": c.is_closed(),
        "autofix": c.autofix,
        "deep": c.deep,
        "max_upload_bytes": c.max_upload_bytes,
        "kinds": svc.book.kinds(c),
        "rules": [r for p in profiles for r in rulebook.describe(p)],
        "client_rules": rulebook.client_rules(profiles, c.max_upload_bytes),
    }


# ------------------------------------------------------------------- upload
@router.post(
    "/campaigns/{campaign_id}/submissions",
    operation_id="upload_submission",
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    summary="Upload a file (raw body, as `curl -T` sends with PUT, or a multipart form); answers with the verdict",
)
async def upload(
    campaign_id: str,
    request: Request,
    name: Annotated[str | None, Query(description="file name for a raw body (else X-File-Name)")] = None,
) -> JSONResponse:
    svc = services(request)
    declared = _declared_length(request)
    ctype = request.headers.get("content-type", "")
    multipart = ctype.lower().startswith("multipart/")
    outcome = "refused"
    try:
        campaign = await anyio.to_thread.run_sync(svc.intake.open_campaign, campaign_id, declared)
        file_name = None if multipart else parse_file_name(_raw_name(request, name))
        if declared == 0:
            raise RequestError(400, "empty_body", "文件为空（0 字节）。", "The file is empty (0 bytes).")
        incoming = await anyio.to_thread.run_sync(svc.storage.incoming, campaign.max_upload_bytes)
        try:
            if multipart:
                got = await receive_multipart(request.stream(), ctype, incoming)
                file_name = parse_file_name(got.fields.get("name") or got.file_name)
                content_type = got.content_type
            else:
                await receive_raw(request.stream(), incoming)
                content_type = ctype or None
            assert file_name is not None
            accepted = await anyio.to_thread.run_sync(
                partial(
                    svc.intake.accept,
                    campaign,
                    incoming,
                    file_name=file_name,
                    content_type=content_type,
                    declared_length=None if multipart else declared,
                )
            )
        finally:
            incoming.discard()
        svc.metrics.upload_bytes.inc(accepted.submission.size_bytes)
        result = await respond_with_verdict(svc, accepted.submission.id, accepted.job_id, accepted.token)
        outcome = "accepted"
        return result
    finally:
        svc.metrics.uploads.labels(
            campaign=campaign_id if len(campaign_id) < 65 else "?", outcome=outcome
        ).inc()


router.add_api_route(
    "/campaigns/{campaign_id}/submissions",
    upload,
    methods=["PUT"],
    operation_id="upload_submission_put",
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    summary="Upload a raw body with PUT (what `curl -T FILE URL` sends)",
)


async def respond_with_verdict(svc: Services, sub_id: str, job_id: str, token: str | None) -> JSONResponse:
    """Wait (bounded) for the quick check; refuse a file of the wrong kind; answer."""
    job = await svc.intake.wait(job_id, svc.settings.check_wait_s)
    if job.started_at and job.finished_at:
        svc.metrics.job_seconds.labels(kind=job.kind).observe(
            (job.finished_at - job.started_at).total_seconds()
        )
    if job.state == "finished":
        await anyio.to_thread.run_sync(svc.intake.raise_if_refused, sub_id)
    with svc.db.session() as s:
        sub = s.get(Submission, sub_id)
        assert sub is not None
        report = latest_report(s, sub_id)
        body = submission_view(sub, report.report if report else None)
    if sub.verdict:
        svc.metrics.verdicts.labels(verdict=sub.verdict).inc()
    body |= {
        "receipt_token": token,
        "links": links(sub_id, token, job_id),
        "report_url": links(sub_id, token)["report"],
        "job": {"id": job_id, "state": job.state},
    }
    if sub.duplicate_of:
        body["duplicate"] = {
            "of": sub.duplicate_of,
            "message": {
                "zh-CN": "本活动已收到内容完全相同的文件（sha256 相同）。",
                "en": "This campaign already has a file with the same content (same sha256).",
            },
        }
    status = 201 if job.state == "finished" else 202 if job.state in ("queued", "started") else 500
    if job.state == "failed":
        body["error"] = job.error and {k: job.error.get(k) for k in ("type", "message")}
    return JSONResponse(body, status_code=status, headers={"Location": body["links"]["self"]})


# ------------------------------------------------------------------- reading
def _load(svc: Services, sub_id: str, caller: Caller) -> tuple[Submission, dict[str, Any] | None]:
    with svc.db.session() as s:
        sub = require_read(caller, s.get(Submission, sub_id) if len(sub_id) <= 32 else None)
        report = latest_report(s, sub_id)
        return sub, report.report if report else None


@router.get("/submissions/{sub_id}", summary="A submission's state and verdict (receipt token or API key)")
def get_submission(
    sub_id: str,
    request: Request,
    token: TokenQuery = None,
    x_receipt_token: TokenHeader = None,
    authorization: AuthHeader = None,
) -> JSONResponse:
    svc = services(request)
    with svc.db.session() as s:  # the endpoint clients poll: one session, rows not ORM objects
        caller = caller_of(s, authorization=authorization, token=token or x_receipt_token)
        row = s.execute(select(Submission.__table__).where(Submission.id == sub_id)).first()
        sub = require_read(caller, row if len(sub_id) <= 32 else None)  # type: ignore[arg-type]
        report = s.scalar(
            select(ReportRow.report)
            .where(ReportRow.submission_id == sub_id)
            .order_by(ReportRow.id.desc())
            .limit(1)
        )
        jobs = s.execute(
            select(Job.id, Job.kind, Job.state).where(Job.submission_id == sub_id).order_by(Job.created_at)
        ).all()
        body = submission_view(sub, report)
    body |= {
        "jobs": [{"id": j.id, "kind": j.kind, "state": j.state} for j in jobs],
        "links": links(sub_id, token or x_receipt_token),
    }
    return JSONResponse(body)


@router.get("/submissions/{sub_id}/report", summary="The report (JSON; ?format=html for people)")
def get_report(
    sub_id: str,
    request: Request,
    token: TokenQuery = None,
    x_receipt_token: TokenHeader = None,
    authorization: AuthHeader = None,
    format: Annotated[str, Query(pattern="^(json|html)$")] = "json",
    lang: Annotated[str, Query(pattern="^(zh-CN|en)$")] = "zh-CN",
) -> Response:
    svc = services(request)
    sub, report = _load(svc, sub_id, _caller(svc, authorization, token or x_receipt_token))
    if report is None and format == "json":
        raise RequestError(
            404,
            "report_not_ready",
            "报告尚未生成，请稍后再看。",
            "The report is not ready yet; look again soon.",
            status_of_submission=sub.status,
        )
    if format == "html":
        return HTMLResponse(render_report(sub, report, lang=lang, token=token or x_receipt_token))
    return JSONResponse(report)


@router.get("/submissions/{sub_id}/file", summary="Download the original (RFC 6266 file name)")
def get_file(
    sub_id: str,
    request: Request,
    token: TokenQuery = None,
    x_receipt_token: TokenHeader = None,
    authorization: AuthHeader = None,
) -> FileResponse:
    svc = services(request)
    sub, _ = _load(svc, sub_id, _caller(svc, authorization, token or x_receipt_token))
    path = svc.storage.path(sub.storage_key)
    if sub.status == "refused" or not path.exists():
        raise RequestError(410, "file_gone", "该文件未被保存。", "This file was not kept.")
    return FileResponse(
        path,
        media_type=sub.content_type or "application/octet-stream",
        headers={"Content-Disposition": content_disposition(sub.file_name)},
    )


@router.get(
    "/campaigns/{campaign_id}/submissions", summary="A campaign's submissions (reviewer or admin key)"
)
def list_submissions(
    campaign_id: str,
    request: Request,
    authorization: AuthHeader = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    svc = services(request)
    caller = _caller(svc, authorization, None)
    if not caller.may_read_campaign(campaign_id):
        raise RequestError(
            403, "not_in_scope", "该 API 密钥无权查看此活动。", "This API key is not scoped to this campaign."
        )
    with svc.db.session() as s:
        subs = s.scalars(
            select(Submission)
            .where(Submission.campaign_id == campaign_id)
            .order_by(Submission.created_at.desc())
            .limit(limit)
        ).all()
        return [submission_view(x, None) for x in subs]


@router.get("/jobs/{job_id}", summary="A job's state, progress and result")
def get_job(
    job_id: str,
    request: Request,
    token: TokenQuery = None,
    x_receipt_token: TokenHeader = None,
    authorization: AuthHeader = None,
) -> dict[str, Any]:
    svc = services(request)
    caller = _caller(svc, authorization, token or x_receipt_token)
    with svc.db.session() as s:
        job = s.get(Job, job_id) if len(job_id) <= 32 else None
        sub = s.get(Submission, job.submission_id) if job is not None and job.submission_id else None
        if (
            job is None
            or (sub is not None and not caller.may_read(sub))
            or (sub is None and not caller.is_admin)
        ):
            raise RequestError(404, "job_not_found", "找不到该任务。", "No such job (or no access to it).")
    progress = job.progress
    if job.state == "started" and hasattr(svc.queue, "meta"):
        progress = float(svc.queue.meta(job.id).get("progress", progress))
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "progress": progress,
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
        sub = require_read(caller, s.get(Submission, sub_id) if len(sub_id) <= 32 else None)
        row = Decision(
            submission_id=sub.id,
            key_id=caller.key.id,
            decision=body.decision,
            note=body.note,
            created_at=datetime.now(UTC),
        )
        s.add(row)
        s.flush()
        return {
            "id": row.id,
            "submission_id": sub.id,
            "decision": row.decision,
            "note": row.note,
            "reviewer": caller.key.name,
            "created_at": row.created_at.isoformat(),
        }
