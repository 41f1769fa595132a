"""Pages for submitters: the campaign list, a campaign's upload page, a submission's
report page. Chinese first, English by ``?lang=en``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from service.web.deps import services

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parent.parent / "static"
"""HTML and scripts served as they are."""


@router.get("/")
def index(request: Request) -> HTMLResponse:
    return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))


@router.get("/c/{campaign_id}")
def upload_page(campaign_id: str, request: Request) -> HTMLResponse:
    with services(request).db.session() as s:
        services(request).book.get(s, campaign_id)  # 404 problem for an unknown campaign
    return HTMLResponse((STATIC / "upload.html").read_text(encoding="utf-8"))


@router.get("/static/{name}")
def static(name: str) -> HTMLResponse:
    allowed = {p.name: p for p in STATIC.iterdir()}
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
