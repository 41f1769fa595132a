"""JSON API for submitters: campaigns and their rules, uploads (raw body or multipart,
streamed) answered with the verdict. Reading the record is in records.py; tus uploads in
tus.py. Errors are problems (problems.py); every path is in the OpenAPI docs at /docs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any
from urllib.parse import unquote

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from service.core import rulebook
from service.core.errors import RequestError
from service.core.filenames import parse_file_name
from service.store.models import Submission
from service.submissions.access import Caller, caller_of
from service.submissions.intake import latest_report
from service.submissions.upload import receive_multipart, receive_raw
from service.web.app import Services, services

router = APIRouter(prefix="/api")

TokenQuery = Annotated[str | None, Query(description="receipt token of the submission")]
TokenHeader = Annotated[
    str | None, Header(alias="X-Receipt-Token", description="receipt token (instead of ?token=)")
]
AuthHeader = Annotated[str | None, Header(description="Bearer API key of a reviewer or admin")]


@dataclass(frozen=True)
class Credentials:
    """What a request shows: a submission's receipt token (``?token=`` or ``X-Receipt-Token``)
    and/or an API key (``Authorization: Bearer …``); ``caller_of`` says what they allow."""

    token: str | None
    authorization: str | None

    def caller(self, session: Session) -> Caller:
        return caller_of(session, authorization=self.authorization, token=self.token)


async def _credentials(
    token: TokenQuery = None, x_receipt_token: TokenHeader = None, authorization: AuthHeader = None
) -> Credentials:
    # async: FastAPI runs a plain function dependency in a thread, a hop the status route avoids
    return Credentials(token or x_receipt_token, authorization)


Creds = Annotated[Credentials, Depends(_credentials)]
"""A route's parameter for the credentials of its request."""

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


def caller_for(svc: Services, creds: Credentials) -> Caller:
    with svc.db.session() as s:
        return creds.caller(s)


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
    outcome, label = "refused", "unknown"  # label: never a raw URL part (unbounded metric series)
    try:
        campaign = await anyio.to_thread.run_sync(svc.intake.open_campaign, campaign_id, declared)
        label = campaign.id
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
        svc.metrics.uploads.labels(campaign=label, outcome=outcome).inc()


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
