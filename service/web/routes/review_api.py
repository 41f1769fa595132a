"""JSON API of the review: a submission's trail (decisions and waivers, who and when) and
the waivers of single rules, for reviewer or admin keys (Bearer); the campaign export as
XLSX or CSV (Bearer, or the reviewer's session cookie so the dashboard's links download
it), streamed from the entries' summary rows as they are read, or written by a background
job (``POST …/exports``, then ``GET …/exports/{job}``) for very large campaigns. Decisions are posted to
``POST /api/submissions/{id}/decisions`` (records.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from service.core.errors import RequestError
from service.review import board, export, ledger, listing
from service.store.jobs import submit_job
from service.store.models import ApiKey, Job, Submission
from service.submissions.access import Caller, caller_of, readable_submission, require_campaign
from service.web.deps import AuthHeader, Services, services, session_key

router = APIRouter(prefix="/api")

MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "text/csv; charset=utf-8"}


def _key_required() -> RequestError:
    return RequestError(401, "key_required", "需要评审或管理员的 API 密钥。",
                        "A reviewer or admin API key is required.")


def _reviewer(svc: Services, request: Request, authorization: str | None) -> ApiKey:
    """The caller's key: the Bearer header, else the session cookie of the reviewer pages."""
    if authorization:
        with svc.db.session() as s:
            key = caller_of(s, authorization=authorization, token=None).key
    else:
        key = session_key(svc, request)
    if key is None:
        raise _key_required()
    return key


def _sub_in_scope(svc: Services, key: ApiKey, sub_id: str) -> Submission:
    with svc.db.session() as s:
        return readable_submission(s, Caller(key=key), sub_id)


def trail_view(e: board.BoardEntry) -> dict[str, Any]:
    d = e.state.decision
    return {
        "submission_id": e.sub.id,
        "decision": d.as_dict() if d else None,
        "waived": list(e.state.waived),
        "verdict": e.report.verdict if e.report else None,
        "effective_verdict": e.verdict,
        "content_warnings": e.warnings,
        "trail": [x.as_dict() for x in e.state.lines],
    }


@router.get("/submissions/{sub_id}/trail", summary="The review trail: decisions and waivers, who and when")
def get_trail(sub_id: str, request: Request, authorization: AuthHeader = None) -> dict[str, Any]:
    svc = services(request)
    sub = _sub_in_scope(svc, _reviewer(svc, request, authorization), sub_id)
    with svc.db.session() as s:
        return trail_view(board.entry(s, svc.storage, sub))


class WaiverIn(BaseModel):
    rule: str = Field(max_length=40, description="the rule id of a check in the report")
    note: str | None = Field(None, max_length=ledger.MAX_NOTE_CHARS, description="why: creative intent …")
    withdraw: bool = Field(False, description="withdraw an earlier waiver of this rule")


@router.post("/submissions/{sub_id}/waivers", status_code=201,
             summary="Waive one rule of a submission (creative intent), or withdraw a waiver")
def post_waiver(sub_id: str, body: WaiverIn, request: Request, authorization: AuthHeader = None) -> dict[str, Any]:
    svc = services(request)
    key = _reviewer(svc, request, authorization)
    sub = _sub_in_scope(svc, key, sub_id)
    with svc.db.session() as s:
        e = board.entry(s, svc.storage, sub)
        if e.report is None or body.rule not in {c.rule for c in e.report.checks}:
            raise RequestError(422, "unknown_rule", f"该作品的报告中没有规则 {body.rule!r}。",
                               f"The entry's report has no rule {body.rule!r}.")
        live = s.get(ApiKey, key.id)
        assert live is not None
        line = ledger.record(s, submission_id=sub.id, key=live, kind="unwaive" if body.withdraw else "waive",
                             rule=body.rule, note=body.note)
        e = board.entry(s, svc.storage, sub)
        return {"line": line.as_dict(), **trail_view(e)}


def _export(campaign_id: str, request: Request, authorization: str | None, fmt: str, lang: str) -> Response:
    svc = services(request)
    key = _reviewer(svc, request, authorization)
    require_campaign(Caller(key=key), campaign_id)
    with svc.db.session() as s:
        campaign = svc.book.get(s, campaign_id)
    rules, rows = export.campaign_rows(svc.db, campaign_id)
    fields = campaign.entry.fields  # one column per entry field, after the fixed ones
    body = (export.xlsx_stream(rows, rules, lang=lang, title=campaign.id, fields=fields) if fmt == "xlsx"
            else export.csv_stream(rows, rules, lang=lang, fields=fields))
    return StreamingResponse(body, media_type=MEDIA_TYPES[fmt],
                             headers={"Content-Disposition": _disposition(campaign, fmt, lang)})


def _disposition(campaign: Any, fmt: str, lang: str) -> str:
    title = campaign.title.get("en" if lang == "en" else "zh-CN") or campaign.id
    name, ascii_name = export.file_name(title, campaign.id, fmt, lang, datetime.now(UTC).strftime("%Y%m%d"))
    # RFC 6266: the title in filename*, and the campaign id (ASCII) for clients that only read filename
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


LangQuery = Annotated[str, Query(pattern="^(zh-CN|en)$", description="language of the headers")]


@router.get("/campaigns/{campaign_id}/export.xlsx", summary="The campaign's entries as an Excel workbook")
def export_xlsx(campaign_id: str, request: Request, authorization: AuthHeader = None,
                lang: LangQuery = "zh-CN") -> Response:
    return _export(campaign_id, request, authorization, "xlsx", lang)


@router.get("/campaigns/{campaign_id}/export.csv", summary="The campaign's entries as CSV (UTF-8 with BOM)")
def export_csv(campaign_id: str, request: Request, authorization: AuthHeader = None,
               lang: LangQuery = "zh-CN") -> Response:
    return _export(campaign_id, request, authorization, "csv", lang)


EXPORT_KIND = "export"


@router.post("/campaigns/{campaign_id}/exports", status_code=202,
             summary="Start a background export of the campaign (for very large campaigns)")
def start_export(campaign_id: str, request: Request, authorization: AuthHeader = None,
                 format: Annotated[str, Query(pattern="^(xlsx|csv)$")] = "xlsx",
                 lang: LangQuery = "zh-CN") -> dict[str, Any]:
    svc = services(request)
    key = _reviewer(svc, request, authorization)
    require_campaign(Caller(key=key), campaign_id)
    with svc.db.session() as s:
        svc.book.get(s, campaign_id)  # 404 for a campaign that does not exist
        n = listing.counts(s, listing.Query(campaign_id)).all
    job_id = submit_job(svc.db, svc.queue, kind=EXPORT_KIND, submission_id=None,
                        params={"campaign_id": campaign_id, "format": format, "lang": lang, "key_id": key.id},
                        duration_s=n / EXPORT_ROWS_PER_TIMEOUT_S)
    return {"job_id": job_id, "state": "queued", "entries": n,
            "links": {"self": f"/api/campaigns/{campaign_id}/exports/{job_id}"}}


EXPORT_ROWS_PER_TIMEOUT_S = 100
"""Entries per "media second" of a background export's timeout (store.jobs.job_timeout)."""


@router.get("/campaigns/{campaign_id}/exports/{job_id}",
            summary="A background export: its state while it runs, the file once it is done")
def get_export(campaign_id: str, job_id: str, request: Request, authorization: AuthHeader = None) -> Response:
    svc = services(request)
    key = _reviewer(svc, request, authorization)
    require_campaign(Caller(key=key), campaign_id)
    with svc.db.session() as s:
        job = s.get(Job, job_id) if len(job_id) <= 32 else None
        if job is None or job.kind != EXPORT_KIND or job.params.get("campaign_id") != campaign_id:
            raise RequestError(404, "export_not_found", "找不到该导出任务。", "No such export.")
        campaign = svc.book.get(s, campaign_id)
        state, result, error = job.state, job.result or {}, job.error or {}
        fmt, lang = job.params.get("format", "xlsx"), job.params.get("lang", "zh-CN")
    if state != "finished":
        body = {"job_id": job_id, "state": state, "error": error.get("message") if state == "failed" else None}
        return JSONResponse(body, status_code=200 if state == "failed" else 202)
    path = svc.storage.path(result["key"])
    if not path.is_file():
        raise RequestError(410, "export_gone", "该导出文件已被清理，请重新导出。",
                           "This export was removed; export again.")
    return FileResponse(path, media_type=MEDIA_TYPES[fmt],
                        headers={"Content-Disposition": _disposition(campaign, fmt, lang)})
