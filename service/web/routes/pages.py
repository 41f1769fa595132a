"""Pages for submitters: the campaign list, a campaign's upload page (both drawn from
service/pages' templates, filled in by their scripts), a submission's report page, and the
static files (scripts, and the one stylesheet of service/pages). Chinese first, English by
``?lang=en``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.pages import STYLESHEET
from service.web.deps import services
from service.web.templating import templates

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parent.parent / "static"
"""Scripts served as they are."""

SITE = {"lang": "zh-CN", "page_class": "site"}
"""The campaign list and the upload page are drawn in Chinese; their scripts switch them to English."""


@router.get("/")
def index(request: Request) -> Response:
    return templates.TemplateResponse(request, "site/index.html", SITE | {"title": "作品上传 / mediacheck"})


@router.get("/c/{campaign_id}")
def upload_page(campaign_id: str, request: Request) -> Response:
    with services(request).db.session() as s:
        services(request).book.get(s, campaign_id)  # 404 problem for an unknown campaign
    return templates.TemplateResponse(request, "site/upload.html", SITE | {"title": "上传作品 / Upload"})


@router.get("/static/{name}")
def static(name: str) -> HTMLResponse:
    allowed = {p.name: p for p in STATIC.iterdir()} | {STYLESHEET.name: STYLESHEET}
    if name not in allowed:
        return HTMLResponse("not found", status_code=404)
    media = (
        "text/javascript" if name.endswith(".js") else "text/css" if name.endswith(".css") else "text/html"
    )
    return HTMLResponse(allowed[name].read_text(encoding="utf-8"), media_type=media)


@router.get("/s/{sub_id}")
def submission_page(
    sub_id: str, request: Request, token: str | None = None, lang: str = "zh-CN"
) -> RedirectResponse:
    q = f"token={token}&" if token else ""
    return RedirectResponse(f"/api/submissions/{sub_id}/report?{q}format=html&lang={lang}", status_code=303)
