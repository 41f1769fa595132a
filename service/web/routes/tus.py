"""tus 1.0 resumable uploads: core (OPTIONS, HEAD, PATCH with offsets), creation (with
``Upload-Length`` over the campaign's limit → 413), creation-with-upload, termination,
expiration and checksum. The creation endpoint is ``/files/{campaign}/``; an upload's URL
is ``/files/{campaign}/{upload id}``. Bytes so far live in storage ``tus/<id>``; they are
kept when a PATCH is cut off, so the client resumes from the last byte that arrived. When
the last byte arrives the file becomes a submission (as a direct upload would) and the
final PATCH answers with ``Mediacheck-Submission``, ``Mediacheck-Receipt-Token`` and
``Mediacheck-Verdict`` headers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import anyio
from fastapi import APIRouter, Request, Response
from starlette.requests import ClientDisconnect

from service.core.errors import RequestError
from service.core.filenames import parse_file_name
from service.media.checker import sha256_file
from service.store.appender import Appender, remove_unless_writing
from service.store.database import aware
from service.store.ids import ID_LENGTH, new_id, new_token
from service.store.models import Upload
from service.store.storage import WRITE_CHUNK
from service.submissions.access import digest
from service.submissions.campaigns import CampaignRules
from service.submissions.resumable import parse_count, parse_metadata, past_length
from service.submissions.upload import ensure_room, expire_abandoned, idle_error, idle_limited
from service.web.answers import respond_with_verdict
from service.web.deps import Services, services

router = APIRouter(tags=["tus"])

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
CHECKSUMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "md5": hashlib.md5}
"""Checksum algorithms a PATCH may carry in ``Upload-Checksum``."""

OFFSET_TYPE = "application/offset+octet-stream"

def _headers(**extra: str) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", **extra}


def _require_version(request: Request) -> None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise RequestError(
            412,
            "tus_version",
            "仅支持 tus 1.0.0。",
            "Only tus 1.0.0 is supported (Tus-Resumable).",
            tus_version=TUS_VERSION,
        )


def _int_header(request: Request, name: str, required: bool = True) -> int | None:
    raw = request.headers.get(name)
    if raw is None:
        if required:
            raise RequestError(
                400, "tus_header_missing", f"缺少 {name} 头。", f"The {name} header is missing."
            )
        return None
    return parse_count(name, raw)


def _expires(svc: Services, up: Upload) -> datetime:
    updated = aware(up.updated_at)
    assert updated is not None
    return updated + timedelta(seconds=svc.settings.tus_expiry_s)


def expire_uploads(svc: Services, now: datetime | None = None) -> int:
    """Delete unfinished uploads whose last byte is older than the expiry; returns how many."""
    return expire_abandoned(svc.db, svc.storage, svc.settings.tus_expiry_s, now)


def _load(svc: Services, campaign_id: str, upload_id: str) -> Upload:
    with svc.db.session() as s:
        up = s.get(Upload, upload_id) if len(upload_id) == ID_LENGTH else None
    if up is None or up.campaign_id != campaign_id:
        raise RequestError(404, "upload_not_found", "找不到该上传。", "No such upload.")
    if up.submission_id is None and _expires(svc, up) < datetime.now(UTC):
        raise RequestError(
            410, "upload_expired", "该上传已过期，请重新上传。", "This upload expired; start again."
        )
    return up


@router.options("/files/{campaign_id}/", include_in_schema=False)
@router.options("/files/{campaign_id}/{upload_id}", include_in_schema=False)
async def options(campaign_id: str, request: Request) -> Response:
    svc = services(request)
    with svc.db.session() as s:
        campaign = svc.book.get(s, campaign_id)
    return Response(
        status_code=204,
        headers=_headers(
            **{
                "Tus-Version": TUS_VERSION,
                "Tus-Extension": EXTENSIONS,
                "Tus-Max-Size": str(campaign.max_upload_bytes),
                "Tus-Checksum-Algorithm": ",".join(CHECKSUMS),
            }
        ),
    )


@router.post("/files/{campaign_id}/", status_code=201, summary="tus: create a resumable upload")
async def create(campaign_id: str, request: Request) -> Response:
    svc = services(request)
    _require_version(request)
    length = _int_header(
        request, "upload-length", required=request.headers.get("upload-defer-length") is None
    )
    if length is None:
        raise RequestError(
            400,
            "tus_defer_unsupported",
            "请提供 Upload-Length。",
            "Give Upload-Length (deferred length is not supported).",
        )
    campaign = await anyio.to_thread.run_sync(svc.intake.open_campaign, campaign_id, length)
    if length == 0:
        raise RequestError(400, "empty_body", "文件为空（0 字节）。", "The file is empty (0 bytes).")
    meta = parse_metadata(request.headers.get("upload-metadata"))
    name = parse_file_name(meta.get("filename") or meta.get("name"))
    details = await anyio.to_thread.run_sync(svc.intake.check_details, campaign, meta.pop("details", None), name)
    if details:
        meta["details"] = json.dumps(details, ensure_ascii=False)  # checked; recorded with the submission
    await anyio.to_thread.run_sync(expire_uploads, svc)
    await anyio.to_thread.run_sync(ensure_room, svc.db, svc.storage, svc.settings.free_space_reserve, length)
    up = Upload(
        receipt_token=new_token(),
        id=new_id(),
        campaign_id=campaign.id,
        length=length,
        file_name=name,
        content_type=(meta.get("filetype") or meta.get("type") or "")[:100] or None,  # declared; never served
        meta=meta,
        created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
    )
    svc.storage.tus_path(up.id).touch()
    with svc.db.session() as s:
        s.add(up)
    headers = _headers(
        Location=f"/files/{campaign.id}/{up.id}",
        **{"Upload-Expires": format_datetime(_expires(svc, up), usegmt=True)},
    )
    if request.headers.get("content-type", "").startswith(OFFSET_TYPE):
        return await _append(svc, request, campaign, up, 0, status=201, extra=headers)
    return Response(status_code=201, headers=headers)


@router.head("/files/{campaign_id}/{upload_id}", summary="tus: the offset of an upload")
async def head(campaign_id: str, upload_id: str, request: Request) -> Response:
    svc = services(request)
    _require_version(request)
    up = await anyio.to_thread.run_sync(_load, svc, campaign_id, upload_id)
    offset = up.length if up.submission_id else svc.storage.tus_path(up.id).stat().st_size
    headers = _headers(
        **{
            "Upload-Offset": str(offset),
            "Upload-Length": str(up.length),
            "Upload-Expires": format_datetime(_expires(svc, up), usegmt=True),
        }
    )
    if up.submission_id and up.receipt_token:
        headers |= {"Mediacheck-Submission": up.submission_id, "Mediacheck-Receipt-Token": up.receipt_token}
    if up.meta:
        headers["Upload-Metadata"] = ",".join(
            f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in up.meta.items()
        )
    return Response(status_code=200, headers=headers)


@router.patch("/files/{campaign_id}/{upload_id}", status_code=204, summary="tus: append bytes at an offset")
async def patch(campaign_id: str, upload_id: str, request: Request) -> Response:
    svc = services(request)
    _require_version(request)
    if not request.headers.get("content-type", "").startswith(OFFSET_TYPE):
        raise RequestError(
            415,
            "tus_content_type",
            f"PATCH 的 Content-Type 须为 {OFFSET_TYPE}。",
            f"PATCH needs Content-Type: {OFFSET_TYPE}.",
        )
    offset = _int_header(request, "upload-offset")
    assert offset is not None
    up = await anyio.to_thread.run_sync(_load, svc, campaign_id, upload_id)
    if up.submission_id:
        raise RequestError(409, "tus_complete", "该上传已完成。", "This upload is already complete.")
    with svc.db.session() as s:
        campaign = svc.book.get(s, campaign_id)
    return await _append(svc, request, campaign, up, offset, status=204, extra=_headers())


@router.delete("/files/{campaign_id}/{upload_id}", status_code=204, summary="tus: terminate an upload")
async def terminate(campaign_id: str, upload_id: str, request: Request) -> Response:
    svc = services(request)
    _require_version(request)
    up = await anyio.to_thread.run_sync(_load, svc, campaign_id, upload_id)
    if up.submission_id:
        raise RequestError(
            409,
            "tus_complete",
            "该上传已完成，不能删除。",
            "This upload is complete; it cannot be terminated.",
        )
    await anyio.to_thread.run_sync(remove_unless_writing, svc.storage.tus_path(up.id))  # 423 while a PATCH writes
    with svc.db.session() as s:
        row = s.get(Upload, up.id)
        if row is not None:
            s.delete(row)
    return Response(status_code=204, headers=_headers())


async def _append(
    svc: Services,
    request: Request,
    campaign: CampaignRules,
    up: Upload,
    offset: int,
    *,
    status: int,
    extra: dict[str, str],
) -> Response:
    assert up.length is not None
    checksum = request.headers.get("upload-checksum")
    digest: Any = None
    expected = b""
    if checksum:
        algo, _, b64 = checksum.partition(" ")
        if algo not in CHECKSUMS:
            raise RequestError(
                400,
                "tus_checksum_algorithm",
                "不支持该校验算法。",
                f"Unsupported checksum algorithm {algo!r}.",
            )
        try:
            expected = base64.b64decode(b64.strip(), validate=True)
        except (binascii.Error, ValueError):
            expected = b""
        if len(expected) != CHECKSUMS[algo]().digest_size:
            raise RequestError(
                400,
                "tus_checksum_invalid",
                f"Upload-Checksum 无效：须为 “{algo} <base64 摘要>”。",
                f"Invalid Upload-Checksum: it must be '{algo} <base64 digest>'.",
            )
        digest = CHECKSUMS[algo]()
    app = await anyio.to_thread.run_sync(Appender, svc.storage.tus_path(up.id), offset)
    room = up.length - offset
    buf = bytearray()
    cut = False
    idle: RequestError | None = None
    try:
        try:
            async for chunk in idle_limited(request.stream(), svc.settings.body_idle_s, svc.settings.body_min_rate):
                if len(chunk) > room:
                    raise past_length(up.length, offset)
                room -= len(chunk)
                buf += chunk
                if digest is not None:
                    digest.update(chunk)
                if len(buf) >= WRITE_CHUNK:
                    data, buf = bytes(buf), bytearray()
                    await anyio.to_thread.run_sync(app.write, data)
        except ClientDisconnect:
            cut = True
        except RequestError as e:
            if e.code != "body_idle":
                raise
            cut, idle = True, e  # like a broken connection: what arrived is kept, the client resumes
        if digest is not None and (cut or digest.digest() != expected):
            await anyio.to_thread.run_sync(app.truncate_back)
            if idle is not None:
                raise _stopped(svc, idle, offset)
            if cut:
                raise RequestError(400, "upload_aborted", "上传中断。", "The upload was interrupted.")
            raise RequestError(
                460,
                "tus_checksum_mismatch",
                "校验和不符，本段数据未保存。",
                "Checksum mismatch; this chunk was not kept.",
            )
        if buf:
            await anyio.to_thread.run_sync(app.write, bytes(buf))
        new_offset = await anyio.to_thread.run_sync(app.size)
    except RequestError:
        await anyio.to_thread.run_sync(app.truncate_back)
        raise
    finally:
        await anyio.to_thread.run_sync(app.close)
    with svc.db.session() as s:
        row = s.get(Upload, up.id)
        if row is None:  # terminated (DELETE) or expired while this PATCH was received
            raise RequestError(404, "upload_not_found", "该上传已被删除。", "This upload was terminated.")
        row.updated_at = datetime.now(UTC)
    if idle is not None:
        raise _stopped(svc, idle, new_offset)
    headers = {**extra, "Upload-Offset": str(new_offset)}
    if cut or new_offset < up.length:
        return Response(status_code=status, headers=headers)
    return await _finish(svc, campaign, up, status, headers)


def _stopped(svc: Services, idle: RequestError, kept: int) -> RequestError:
    """The 408 of a PATCH whose body stopped or trickled, with the offset kept."""
    return idle_error(svc.settings.body_idle_s, kept, int(str(idle.extra.get("min_rate") or 0)))


async def _finish(
    svc: Services, campaign: CampaignRules, up: Upload, status: int, headers: dict[str, str]
) -> Response:
    """The last byte arrived: the file becomes a submission and is checked."""
    path = svc.storage.tus_path(up.id)
    sha = await anyio.to_thread.run_sync(sha256_file, path)
    assert up.length is not None
    accepted = await anyio.to_thread.run_sync(
        lambda: svc.intake.record(
            campaign, path, up.length or 0, sha, up.file_name, up.content_type,
            receipt_hash=digest(up.receipt_token) if up.receipt_token else None,
            details=json.loads(up.meta["details"]) if up.meta and up.meta.get("details") else None,
        )
    )
    token = up.receipt_token or accepted.token
    path.unlink(missing_ok=True)  # a duplicate's bytes were not moved
    with svc.db.session() as s:
        row = s.get(Upload, up.id)
        assert row is not None
        row.submission_id = accepted.submission.id
    svc.metrics.upload_bytes.inc(up.length)
    outcome = "refused"
    try:
        result = await respond_with_verdict(svc, accepted.submission.id, accepted.job_id, token)
        outcome = "accepted"
    finally:
        svc.metrics.uploads.labels(campaign=campaign.id, outcome=outcome).inc()
    body = result.body.decode() if isinstance(result.body, bytes) else ""
    info = json.loads(body)
    headers |= {
        "Mediacheck-Submission": info["id"],
        "Mediacheck-Receipt-Token": token or "",
        "Mediacheck-Verdict": info.get("verdict") or "",
        "Mediacheck-Report": info["report_url"],
        "Access-Control-Expose-Headers": "Mediacheck-Submission, Mediacheck-Receipt-Token, "
        "Mediacheck-Verdict, Mediacheck-Report, Upload-Offset, Location",
    }
    return Response(status_code=status, headers=headers)
