"""JSON API of organisers (admin keys, Bearer): create and change campaigns (``POST
/api/campaigns``, ``PATCH /api/campaigns/{id}``; reading them is in submissions.py), the keys of
reviewers and admins (``GET/POST /api/keys``, ``POST /api/keys/{id}/revoke``), and the
hand-over zip (``GET /api/campaigns/{id}/handover.zip``, Bearer or the session cookie of the
organiser pages, so a link downloads it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from service.core.errors import RequestError
from service.review.handover import HANDOVER_DECISIONS, handover_name, stream_handover
from service.store.models import ApiKey
from service.submissions.access import (
    caller_of,
    create_api_key,
    is_id,
    list_keys,
    may_manage,
    require_organiser,
    revoke_key,
)
from service.submissions.campaign_admin import campaign_json, parse_spec, save_campaign, start_recheck
from service.submissions.views import key_view
from service.web.deps import AuthHeader, Services, services, session_key

router = APIRouter(prefix="/api")


def _bearer(svc: Services, authorization: str | None) -> ApiKey | None:
    if not authorization:
        return None
    with svc.db.session() as s:
        return caller_of(s, authorization=authorization, token=None).key


@router.post("/campaigns", status_code=201, summary="Create a campaign (admin key for every campaign)")
def create(request: Request, data: Annotated[Any, Body()], authorization: AuthHeader = None) -> JSONResponse:
    svc = services(request)
    require_organiser(_bearer(svc, authorization))
    spec = parse_spec(data)
    with svc.db.session() as s:
        row = save_campaign(s, svc.store, spec, pasted_dir=svc.settings.pasted_profiles_dir)
        body = campaign_json(row)
    return JSONResponse(body, status_code=201, headers={"Location": f"/api/campaigns/{body['id']}"})


@router.patch("/campaigns/{campaign_id}", summary="Change a campaign (only the fields given); closed: true closes it")
def change(campaign_id: str, request: Request, data: Annotated[Any, Body()],
           authorization: AuthHeader = None) -> dict[str, Any]:
    svc = services(request)
    require_organiser(_bearer(svc, authorization), campaign_id)
    spec = parse_spec(data)
    with svc.db.session() as s:
        return campaign_json(save_campaign(s, svc.store, spec, campaign_id=campaign_id,
                          pasted_dir=svc.settings.pasted_profiles_dir))


@router.post("/campaigns/{campaign_id}/recheck", status_code=202,
             summary="Check every entry again against the campaign's profiles as they are now (a job)")
def recheck(campaign_id: str, request: Request, authorization: AuthHeader = None) -> dict[str, Any]:
    svc = services(request)
    require_organiser(_bearer(svc, authorization), campaign_id)
    with svc.db.session() as s:
        svc.book.get(s, campaign_id)  # 404 for an unknown campaign
    job_id = start_recheck(svc.db, svc.queue, campaign_id)
    return {"job_id": job_id, "job_url": f"/api/jobs/{job_id}"}


@router.get("/keys", summary="The keys of reviewers and admins (an admin sees the keys of its campaigns)")
def keys(request: Request, campaign: str | None = None, authorization: AuthHeader = None) -> list[dict[str, Any]]:
    svc = services(request)
    owner = require_organiser(_bearer(svc, authorization), campaign or "")
    with svc.db.session() as s:
        return [key_view(k) for k in list_keys(s, campaign) if may_manage(owner, k)]


@router.post("/keys", status_code=201, summary="Create a key; its secret is in the answer, once")
def new_key(request: Request, data: Annotated[dict[str, Any], Body()],
            authorization: AuthHeader = None) -> dict[str, Any]:
    svc = services(request)
    campaigns, name, role = data.get("campaigns"), data.get("name"), data.get("role", "reviewer")
    if not (isinstance(campaigns, list) and campaigns and all(isinstance(c, str) for c in campaigns)
            and isinstance(name, str) and 0 < len(name.strip()) <= 100 and role in ("reviewer", "admin")):
        raise RequestError(422, "invalid_key_request",
                           "请给出名称（name）、角色（reviewer 或 admin）和活动（campaigns）。",
                           "Give a name, a role (reviewer or admin) and campaigns.")
    owner = _bearer(svc, authorization)
    for c in campaigns:
        require_organiser(owner, None if c == "*" else c)
    with svc.db.session() as s:
        row, secret = create_api_key(s, name=name.strip(), role=role, campaigns=campaigns)
        return {**key_view(row), "secret": secret}


@router.post("/keys/{key_id}/revoke", summary="Revoke a key at once (its browser sessions end too)")
def revoke(key_id: str, request: Request, authorization: AuthHeader = None) -> dict[str, Any]:
    svc = services(request)
    owner = _bearer(svc, authorization)
    require_organiser(owner, "")
    with svc.db.session() as s:
        target = s.get(ApiKey, key_id) if is_id(key_id) else None
        if target is None or not may_manage(owner, target):
            raise RequestError(404, "key_not_found", "没有该密钥（或不在您的管理范围内）。",
                               "No such key (or not one of your campaigns' keys).")
        row = revoke_key(s, key_id)
        assert row is not None
        return key_view(row)


@router.get("/campaigns/{campaign_id}/handover.zip",
            summary="The accepted entries (decision=accept) or all passing ones (decision=pass) as one zip, "
                    "with manifest.xlsx; streamed")
def handover(campaign_id: str, request: Request, authorization: AuthHeader = None,
             decision: Annotated[str, Query(pattern="^(accept|pass)$")] = "accept",
             pattern: Annotated[str | None, Query(max_length=300)] = None,
             lang: str = "zh-CN") -> StreamingResponse:
    svc = services(request)
    key = _bearer(svc, authorization) if authorization else session_key(svc, request)
    require_organiser(key, campaign_id)
    assert decision in HANDOVER_DECISIONS
    with svc.db.session() as s:
        campaign = svc.book.get(s, campaign_id)
    body = stream_handover(svc.db, svc.storage, campaign, decision=decision, pattern=pattern,
                           lang="en" if lang == "en" else "zh-CN")
    return StreamingResponse(body, media_type="application/zip",
                             headers={"Content-Disposition": handover_name(campaign.id)})
