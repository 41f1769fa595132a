"""JSON API for submitters: campaigns and their rules, uploads (raw body or multipart,
streamed) answered with the verdict (answers.py). Reading the record is in records.py; tus uploads in
tus.py. Errors are problems (problems.py); every path is in the OpenAPI docs at /docs."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any
from urllib.parse import unquote

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from service.core import rulebook
from service.core.errors import RequestError
from service.core.filenames import parse_file_name
from service.submissions.upload import Received, ensure_room, idle_limited, receive_multipart, receive_raw
from service.web.answers import respond_with_verdict
from service.web.deps import services

router = APIRouter(prefix="/api")

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
                        "details": {"type": "string", "description": "the entry details as a JSON object, "
                                    "before the file part"},
                    },
                }
            },
        },
    }
}


def _declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
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
        "fields": [f.model_dump(by_alias=True, exclude_none=True) for f in c.entry.fields],
        "limits": [x.model_dump() for x in c.entry.limits],
        "file_name_pattern": c.entry.file_name_pattern,
        "closed_at": c.closed_at and c.closed_at.isoformat(),
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
        details: dict[str, str] = {}
        if not multipart:  # the details travel in a header: checked before a byte is read
            raw_details = request.headers.get("x-entry-details")
            details = await anyio.to_thread.run_sync(
                svc.intake.check_details, campaign, unquote(raw_details) if raw_details else None, file_name)
        await anyio.to_thread.run_sync(
            ensure_room, svc.db, svc.storage, svc.settings.free_space_reserve, declared or 0
        )
        incoming = await anyio.to_thread.run_sync(
            svc.storage.incoming, campaign.max_upload_bytes, svc.settings.free_space_reserve
        )
        body = idle_limited(request.stream(), svc.settings.body_idle_s, svc.settings.body_min_rate)

        async def before_file(got: Received) -> None:
            if "details" in got.fields or not campaign.entry.fields:  # else: checked once the form is read
                name_now = got.fields.get("name") or got.file_name
                await anyio.to_thread.run_sync(svc.intake.check_details, campaign, got.fields.get("details"),
                                               parse_file_name(name_now) if name_now else None)

        try:
            if multipart:
                got = await receive_multipart(body, ctype, incoming, before_file)
                file_name = parse_file_name(got.fields.get("name") or got.file_name)
                details = await anyio.to_thread.run_sync(svc.intake.check_details, campaign,
                                                         got.fields.get("details"), file_name)
                content_type = got.content_type  # what the client declared: kept, never served as the type
            else:
                await receive_raw(body, incoming)
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
                    details=details,
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
