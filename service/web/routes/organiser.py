"""Routes of the organiser pages (``/organise/…``), for admin keys signed in the same way as
reviewers (``/review/login``, a session cookie): the campaigns, a campaign's form (create,
edit, open and close), its overview, its keys (create: shown once with a sign-in link; list;
revoke) and its hand-over download (``/api/campaigns/{id}/handover.zip``, campaigns.py). Forms
post here and go through the same checks as the JSON API (submissions/campaign_admin.py)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from service.core.errors import RequestError
from service.core.notice_draft import draft_yaml
from service.pages.bilingual import bilingual
from service.review.board_view import denied_view, with_lang
from service.review.handover import default_pattern
from service.review.organiser_view import campaigns_view, data_from_form, form_view, keys_view, overview_view
from service.review.overview import campaign_overview
from service.store.models import ApiKey, Campaign
from service.submissions.access import create_api_key, list_keys, may_manage, may_organise, revoke_key
from service.submissions.campaign_admin import campaign_json, parse_spec, recheck_state, save_campaign, start_recheck
from service.submissions.campaigns import CAMPAIGN_ID
from service.submissions.views import key_view
from service.web.deps import Services, services, session_key
from service.web.templating import templates

router = APIRouter(include_in_schema=False)

MAX_FORM_BYTES = 64 * 1024
"""Largest campaign form read."""


def _lang(request: Request, form: dict[str, list[str]] | None = None) -> str:
    value = (form or {}).get("lang", [None])[0] or request.query_params.get("lang")
    return "en" if value == "en" else "zh-CN"


async def _form(request: Request) -> dict[str, list[str]]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise RequestError(413, "form_too_large", "表单过大。", "The form is too large.")
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def _same_origin(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    return origin is None or origin == "null" or urlsplit(origin).netloc == request.headers.get("host")


def _signed_in(svc: Services, request: Request, campaign_id: str | None = "") -> ApiKey | Response:
    """The admin key of the session, or the response to give instead (sign in, or 403)."""
    key = session_key(svc, request)
    if key is None:
        back = request.url.path + ("?lang=en" if _lang(request) == "en" else "")
        return RedirectResponse(f"/review/login?next={quote(back, safe='/')}", status_code=303)
    if not may_organise(key, campaign_id):
        return templates.TemplateResponse(request, "review/denied.html", denied_view(_lang(request), 403),
                                          status_code=403)
    return key


def _profiles(svc: Services, lang: str) -> list[tuple[str, str]]:
    out = []
    for pid in svc.store.ids(include_abstract=False):
        title = svc.store.get(pid).title
        out.append((pid, title.en if lang == "en" else title.zh))
    return out


def _campaign_page(svc: Services, request: Request, key: ApiKey, campaign_id: str, *,
                   error: str | None = None, form: dict[str, list[str]] | None = None,
                   new_key: dict[str, Any] | None = None, status: int = 200, lang: str | None = None) -> Response:
    lang = lang or _lang(request, form)
    with svc.db.session() as s:
        row = s.get(Campaign, campaign_id)
        if row is None:
            return templates.TemplateResponse(request, "review/denied.html", denied_view(lang, 404), status_code=404)
        data = campaign_json(row)
        ov = campaign_overview(s, svc.storage, campaign_id)
        keys = [key_view(k) for k in list_keys(s, campaign_id) if may_manage(key, k) and "*" not in k.campaigns]
        rules = svc.book.get(s, campaign_id)
        rechecking = recheck_state(s, campaign_id)
    view = form_view(lang, profiles=_profiles(svc, lang), campaign=data, error=error, form=form) | {
        "overview": overview_view(ov, lang), "keys": keys_view(keys, lang), "new_key": new_key,
        "handover_pattern": default_pattern(rules), "board_href": with_lang(f"/review/c/{campaign_id}", lang),
        "upload_href": f"/c/{campaign_id}" + ("?lang=en" if lang == "en" else ""), "recheck": rechecking,
    }
    return templates.TemplateResponse(request, "organise/campaign.html", view, status_code=status)


# ------------------------------------------------------------------ pages
@router.get("/organise/")
def campaigns(request: Request) -> Response:
    svc = services(request)
    key = _signed_in(svc, request)
    if not isinstance(key, ApiKey):
        return key
    with svc.db.session() as s:
        rows = [campaign_json(r) for r in s.scalars(select(Campaign).order_by(Campaign.created_at.desc()))
                if may_organise(key, r.id)]
    return templates.TemplateResponse(request, "organise/campaigns.html", campaigns_view(rows, _lang(request),
                                                                                          key.name))


@router.get("/organise/new")
def new_form(request: Request) -> Response:
    svc = services(request)
    key = _signed_in(svc, request, None)
    if not isinstance(key, ApiKey):
        return key
    lang = _lang(request)
    return templates.TemplateResponse(request, "organise/campaign.html", form_view(lang, profiles=_profiles(svc, lang)))


def _refused(e: RequestError, lang: str) -> str:
    return e.message["en" if lang == "en" else "zh-CN"]


@router.post("/organise/new")
async def create(request: Request) -> Response:
    form = await _form(request)
    return await anyio.to_thread.run_sync(_create, request, form)


def _create(request: Request, form: dict[str, list[str]]) -> Response:
    svc = services(request)
    key = _signed_in(svc, request, None)
    if not isinstance(key, ApiKey):
        return key
    if not _same_origin(request):
        return Response("cross-site form refused", status_code=403)
    lang = _lang(request, form)
    if form.get("draft"):  # "起草规格": the draft goes into the profile box, nothing is saved yet
        return _drafted(svc, request, form, lang)
    try:
        spec = parse_spec(data_from_form(form, creating=True))
        with svc.db.session() as s:
            row = save_campaign(s, svc.store, spec, pasted_dir=svc.settings.pasted_profiles_dir)
            cid = row.id
    except RequestError as e:
        view = form_view(lang, profiles=_profiles(svc, lang), error=_refused(e, lang), form=form)
        return templates.TemplateResponse(request, "organise/campaign.html", view, status_code=e.status)
    return RedirectResponse(with_lang(f"/organise/c/{cid}", lang), status_code=303)


def _drafted(svc: Services, request: Request, form: dict[str, list[str]], lang: str) -> Response:
    """The new-campaign form again, its profile box filled with a draft made from the pasted
    notice (core.notice_draft, as ``mediacheck profile draft``): the organiser checks it, then saves."""
    text = (form.get("notice_text") or [""])[0].strip()
    if not text:
        view = form_view(lang, profiles=_profiles(svc, lang), form=form,
                         error=bilingual(lang, "请先粘贴通知中关于作品要求的文字。", "Paste the notice's text first."))
        return templates.TemplateResponse(request, "organise/campaign.html", view, status_code=422)
    cid = (form.get("id") or [""])[0].strip()
    profile_id = f"{cid}-draft" if re.fullmatch(CAMPAIGN_ID, cid) and len(cid) <= 58 else "notice-draft"
    form = {**form, "profile_yaml": [draft_yaml(text, profile_id, notice="notice")]}
    view = form_view(lang, profiles=_profiles(svc, lang), form=form, drafted=True)
    return templates.TemplateResponse(request, "organise/campaign.html", view)


@router.get("/organise/c/{campaign_id}")
def campaign(campaign_id: str, request: Request) -> Response:
    svc = services(request)
    key = _signed_in(svc, request, campaign_id)
    if not isinstance(key, ApiKey):
        return key
    return _campaign_page(svc, request, key, campaign_id)


async def _post(request: Request, campaign_id: str, action: Any) -> Response:
    form = await _form(request)

    def run() -> Response:
        svc = services(request)
        key = _signed_in(svc, request, campaign_id)
        if not isinstance(key, ApiKey):
            return key
        if not _same_origin(request):
            return Response("cross-site form refused", status_code=403)
        try:
            result: Response | None = action(svc, key, form)
        except RequestError as e:
            return _campaign_page(svc, request, key, campaign_id, error=_refused(e, _lang(request, form)),
                                  form=form if "title_zh" in form else None, status=e.status,
                                  lang=_lang(request, form))
        if result is not None:
            return result
        return RedirectResponse(with_lang(f"/organise/c/{campaign_id}", _lang(request, form)), status_code=303)

    return await anyio.to_thread.run_sync(run)


def _save(svc: Services, campaign_id: str, data: dict[str, Any]) -> None:
    """A change of a campaign, as ``PATCH /api/campaigns/{id}`` takes it (RequestError when refused)."""
    with svc.db.session() as s:
        save_campaign(s, svc.store, parse_spec(data), campaign_id=campaign_id,
                      pasted_dir=svc.settings.pasted_profiles_dir)


@router.post("/organise/c/{campaign_id}")
async def change(campaign_id: str, request: Request) -> Response:
    def action(svc: Services, key: ApiKey, form: dict[str, list[str]]) -> None:
        _save(svc, campaign_id, data_from_form(form, creating=False))

    return await _post(request, campaign_id, action)


@router.post("/organise/c/{campaign_id}/state")
async def open_or_close(campaign_id: str, request: Request) -> Response:
    def action(svc: Services, key: ApiKey, form: dict[str, list[str]]) -> None:
        _save(svc, campaign_id, {"closed": form.get("closed", ["0"])[0] == "1"})

    return await _post(request, campaign_id, action)


@router.post("/organise/c/{campaign_id}/recheck")
async def recheck(campaign_id: str, request: Request) -> Response:
    def action(svc: Services, key: ApiKey, form: dict[str, list[str]]) -> None:
        start_recheck(svc.db, svc.queue, campaign_id)

    return await _post(request, campaign_id, action)


@router.post("/organise/c/{campaign_id}/keys")
async def add_key(campaign_id: str, request: Request) -> Response:
    def action(svc: Services, key: ApiKey, form: dict[str, list[str]]) -> Response:
        name = form.get("name", [""])[0].strip()
        role = form.get("role", ["reviewer"])[0]
        if not name or len(name) > 100 or role not in ("reviewer", "admin"):
            raise RequestError(422, "invalid_key_request", "请给密钥起个名字（评审人姓名）。",
                               "Give the key a name (the reviewer's name).")
        with svc.db.session() as s:
            row, secret = create_api_key(s, name=name, role=role, campaigns=[campaign_id])
            made = keys_view([key_view(row)], _lang(request, form))[0]
        lang = _lang(request, form)
        link = (f"{request.base_url}review/login?next={quote(with_lang(f'/review/c/{campaign_id}', lang), safe='/')}"
                + ("&lang=en" if lang == "en" else "") + f"#key={secret}")
        return _campaign_page(svc, request, key, campaign_id, lang=lang,
                              new_key=made | {"secret": secret, "link": link}, status=201)

    return await _post(request, campaign_id, action)


@router.post("/organise/c/{campaign_id}/keys/{key_id}/revoke")
async def revoke(campaign_id: str, key_id: str, request: Request) -> Response:
    def action(svc: Services, key: ApiKey, form: dict[str, list[str]]) -> None:
        with svc.db.session() as s:
            target = s.get(ApiKey, key_id)
            if target is None or not may_manage(key, target) or campaign_id not in target.campaigns:
                raise RequestError(404, "key_not_found", "没有该密钥。", "No such key.")
            revoke_key(s, key_id)

    return await _post(request, campaign_id, action)
