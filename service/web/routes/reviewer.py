"""Routes of the reviewer pages (``/review/…``): sign-in with an API key (exchanged for a
session cookie, service/review/sessions.py), the campaigns of the key, a campaign's dashboard, an
entry's page, its original (with byte ranges, so the player seeks), its pictures and fixed
copy, and the forms that add decisions and waivers to the review trail. Only a reviewer
or admin whose key covers the campaign gets in: without a session the pages send the
browser to sign in; another campaign's reviewer gets 403 on a dashboard and 404 on an
entry (nothing about it is revealed)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from service.core.entry_fields import labelled
from service.core.filenames import content_disposition
from service.core.media_types import OCTET_STREAM, served_type
from service.pages import bilingual
from service.review import board, ledger, listing
from service.review.board_view import campaigns_view, dashboard_view, denied_view, login_view
from service.review.entry_view import entry_view
from service.review.sessions import COOKIE, SESSION_TTL_S, issue
from service.store.models import ApiKey, Submission
from service.submissions.access import Caller, active_key, reviewable_entry
from service.submissions.intake import latest_report
from service.submissions.upload import idle_limited
from service.web.deps import Services, secret_of, services, session_key
from service.web.templating import templates

router = APIRouter(include_in_schema=False)

MAX_FORM_BYTES = 16 * 1024
"""Largest sign-in or decision form read."""

FIXED_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".jpg": "image/jpeg", ".png": "image/png"}
"""Types of fixed copies (files the fixer made, named by us), by extension."""


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "zh-CN"


def _to_login(request: Request) -> RedirectResponse:
    """To the sign-in form, which comes back here (the path only: a receipt token in the query
    is no key and is not carried along)."""
    lang = _lang(request)
    back = request.url.path + ("?lang=en" if lang == "en" else "")
    return RedirectResponse(f"/review/login?next={quote(back, safe='/')}" + ("&lang=en" if lang == "en" else ""),
                            status_code=303)


def _denied(request: Request, status: int) -> Response:
    return templates.TemplateResponse(request, "review/denied.html", denied_view(_lang(request), status),
                                      status_code=status)


async def _form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in idle_limited(request.stream(), services(request).settings.body_idle_s):
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            break
    return {k: v[0] for k, v in parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace")).items()}


def _same_origin(request: Request) -> bool:
    """Forms are posted only from our own pages (the cookie is SameSite=Strict as well).
    Browsers say where a request comes from in ``Sec-Fetch-Site``; ``Origin`` is "null" on
    our pages (they are served with Referrer-Policy: no-referrer), so only a foreign one counts."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    return origin is None or origin == "null" or urlsplit(origin).netloc == request.headers.get("host")


def _safe_next(nxt: str | None) -> str:
    ok = nxt and nxt.startswith(("/review/", "/organise/")) and "//" not in nxt and "\\" not in nxt
    return nxt if ok and nxt else "/review/"


# ------------------------------------------------------------------ sign-in
@router.get("/review/login")
def login_form(request: Request, next: str = "/review/") -> Response:
    view = login_view(_lang(request), next_url=_safe_next(next))
    return templates.TemplateResponse(request, "review/login.html", view)


@router.post("/review/login")
async def login(request: Request) -> Response:
    svc = services(request)
    form = await _form(request)
    lang = "en" if form.get("lang") == "en" else "zh-CN"
    secret = form.get("key", "").strip()

    def look_up() -> ApiKey | None:
        with svc.db.session() as s:
            return active_key(s, secret)

    key = await anyio.to_thread.run_sync(look_up)  # no database wait on the event loop
    ok = key is not None and _same_origin(request)
    key_id = key.id if key is not None else ""
    if not ok:
        return templates.TemplateResponse(request, "review/login.html",
                                          login_view(lang, next_url=_safe_next(form.get("next")), error=True),
                                          status_code=401)
    resp = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    resp.set_cookie(COOKIE, issue(secret_of(svc), key_id), max_age=SESSION_TTL_S, httponly=True, samesite="strict",
                    secure=request.url.scheme == "https", path="/")
    return resp


@router.post("/review/logout")
def logout() -> Response:
    resp = RedirectResponse("/review/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return resp


# ------------------------------------------------------------------ pages
@router.get("/review/")
def my_campaigns(request: Request) -> Response:
    svc = services(request)
    key = session_key(svc, request)
    if key is None:
        return _to_login(request)
    with svc.db.session() as s:
        mine = [c for c in svc.book.all(s) if Caller(key=key).may_read_campaign(c.id)]
    return templates.TemplateResponse(request, "review/campaigns.html", campaigns_view(mine, _lang(request), key.name))


@router.get("/review/c/{campaign_id}")
def dashboard(campaign_id: str, request: Request) -> Response:
    """One page of the campaign's entries, filtered, searched and sorted by the database; the
    state is the query string, so a filtered view can be shared as a link."""
    svc = services(request)
    key = session_key(svc, request)
    if key is None:
        return _to_login(request)
    if not Caller(key=key).may_read_campaign(campaign_id):
        return _denied(request, 403)
    with svc.db.session() as s:
        campaign = svc.book.get(s, campaign_id)
        q = listing.parse_query(campaign_id, request.query_params, [f.key for f in campaign.entry.fields])
        try:
            page = listing.page(s, q)
        except listing.CursorError:  # a stale or edited link: its first page
            q = replace(q, after=None)
            page = listing.page(s, q)
        counts = listing.counts(s, q)
        ids = [r.submission_id for r in page.rows]
        jobs = board.deep_job_states(s, ids)
        view = dashboard_view(campaign, q, page, counts, _lang(request), jobs, board.details_of(s, ids))
    return templates.TemplateResponse(request, "review/dashboard.html", view)


def _entry_in_scope(svc: Services, request: Request, sub_id: str) -> tuple[ApiKey | None, Submission | None]:
    key = session_key(svc, request)
    if key is None:
        return None, None
    with svc.db.session() as s:
        return key, reviewable_entry(s, key, sub_id)


@router.get("/review/s/{sub_id}")
def entry(sub_id: str, request: Request) -> Response:
    svc = services(request)
    key, sub = _entry_in_scope(svc, request, sub_id)
    if key is None:
        return _to_login(request)
    if sub is None:
        return _denied(request, 404)
    lang = _lang(request)
    with svc.db.session() as s:
        e = board.entry(s, svc.storage, sub)
        campaign = svc.book.get(s, sub.campaign_id)
    title = campaign.title.get("en" if lang == "en" else "zh-CN", campaign.id)
    details = labelled(campaign.entry, sub.details)
    return templates.TemplateResponse(request, "review/entry.html", entry_view(e, lang, title, details))


@router.get("/review/s/{sub_id}/media")
def media(sub_id: str, request: Request, download: int = 0) -> Response:
    svc = services(request)
    key, sub = _entry_in_scope(svc, request, sub_id)
    if sub is None:
        return Response(status_code=401 if key is None else 404)
    path = svc.storage.path(sub.storage_key)
    if not path.is_file():
        return Response(status_code=404)
    with svc.db.session() as s:
        row = latest_report(s, sub.id)
        report = row.report if row else None
    media_type, inline = served_type(report)  # from the check, never the type the submitter declared
    disposition = "inline" if inline and not download else "attachment"
    return FileResponse(path, media_type=media_type,  # FileResponse answers Range requests
                        headers={"Content-Disposition": content_disposition(sub.file_name, disposition)})


@router.get("/review/s/{sub_id}/pictures/{name}")
def picture(sub_id: str, name: str, request: Request) -> Response:
    svc = services(request)
    key, sub = _entry_in_scope(svc, request, sub_id)
    if sub is None:
        return Response(status_code=401 if key is None else 404)
    if name not in board.PICTURES.values():
        return Response(status_code=404)
    path = svc.storage.path(f"derived/{sub.id}/{name}")
    if not path.is_file():
        return Response(status_code=404)
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"})


@router.get("/review/s/{sub_id}/fixed")
def fixed_copy(sub_id: str, request: Request) -> Response:
    svc = services(request)
    key, sub = _entry_in_scope(svc, request, sub_id)
    if sub is None:
        return Response(status_code=401 if key is None else 404)
    with svc.db.session() as s:
        e = board.entry(s, svc.storage, sub)
    if e.fixed is None:
        return Response(status_code=404)
    stem = sub.file_name.rsplit(".", 1)[0]
    media_type = FIXED_TYPES.get(e.fixed.suffix.lower(), OCTET_STREAM)  # the fixer wrote it, under our name
    return FileResponse(e.fixed, media_type=media_type,
                        headers={"Content-Disposition": content_disposition(f"{stem}-修复{e.fixed.suffix}")})


# ------------------------------------------------------------------ the trail
async def _add(request: Request, sub_id: str, kind_of: Any) -> Response:
    form = await _form(request)
    return await anyio.to_thread.run_sync(_add_line, request, sub_id, kind_of, form)


def _add_line(request: Request, sub_id: str, kind_of: Any, form: dict[str, str]) -> Response:
    svc = services(request)
    key, sub = _entry_in_scope(svc, request, sub_id)
    if key is None:
        return _to_login(request)
    if sub is None:
        return _denied(request, 404)
    if not _same_origin(request):
        return Response("cross-site form refused", status_code=403)
    lang = "en" if form.get("lang") == "en" else "zh-CN"
    kind, fields = kind_of(form)
    if kind is not None and "rule" in fields:  # a waiver names a rule of the entry's report
        with svc.db.session() as s:
            report = board.entry(s, svc.storage, sub).report
        if report is None or fields["rule"] not in {c.rule for c in report.checks}:
            kind = None
    if kind is None:
        return Response(bilingual(lang, "表单不完整。", "The form is incomplete."), status_code=400)
    with svc.db.session() as s:
        live_key = s.get(ApiKey, key.id)
        assert live_key is not None
        ledger.record(s, submission_id=sub.id, key=live_key, kind=kind, note=form.get("note"), **fields)
    return RedirectResponse(f"/review/s/{sub.id}" + ("?lang=en" if lang == "en" else ""), status_code=303)


@router.post("/review/s/{sub_id}/decisions")
async def add_decision(sub_id: str, request: Request) -> Response:
    def kind_of(form: dict[str, str]) -> tuple[str | None, dict[str, Any]]:
        d = form.get("decision")
        return ("decision", {"decision": d}) if d in ledger.DECISIONS else (None, {})

    return await _add(request, sub_id, kind_of)


@router.post("/review/s/{sub_id}/waivers")
async def add_waiver(sub_id: str, request: Request) -> Response:
    def kind_of(form: dict[str, str]) -> tuple[str | None, dict[str, Any]]:
        rule, action = form.get("rule", ""), form.get("action", "waive")
        ok = rule and len(rule) <= 40 and action in ("waive", "unwaive")
        return (action, {"rule": rule}) if ok else (None, {})

    return await _add(request, sub_id, kind_of)
