"""JSON API of the review: a submission's trail (decisions and waivers, who and when) and
the waivers of single rules, for reviewer or admin keys (Bearer); the campaign export as
XLSX or CSV (Bearer, or the reviewer's session cookie so the dashboard's links download
it), streamed from the entries' summary rows as they are read. Decisions are posted to
``POST /api/submissions/{id}/decisions`` (records.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from service.core.errors import RequestError
from service.review import board, export, ledger, listing
from service.review.export import ExportRow
from service.store.models import ApiKey, Submission
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


def export_rows(svc: Services, campaign_id: str) -> tuple[list[str], Iterator[ExportRow]]:
    """The rule columns of a campaign's export and its rows, oldest first, read from the summary
    rows a batch at a time in a session of their own (held while the rows are drawn)."""
    q = listing.Query(campaign_id=campaign_id, limit=listing.EXPORT_BATCH)
    with svc.db.session() as s:
        rules = export.rule_order(listing.rule_ids(s, q))

    def rows() -> Iterator[ExportRow]:
        with svc.db.session() as s:
            for summary in listing.every(s, q):
                if summary.report_verdict is not None:  # checked entries only
                    yield export.of_summary(summary)

    return rules, rows()


def _export(campaign_id: str, request: Request, authorization: str | None, fmt: str, lang: str) -> Response:
    svc = services(request)
    key = _reviewer(svc, request, authorization)
    require_campaign(Caller(key=key), campaign_id)
    with svc.db.session() as s:
        campaign = svc.book.get(s, campaign_id)
    rules, rows = export_rows(svc, campaign_id)
    body = (export.xlsx_stream(rows, rules, lang=lang, title=campaign.id) if fmt == "xlsx"
            else export.csv_stream(rows, rules, lang=lang))
    title = campaign.title.get("en" if lang == "en" else "zh-CN") or campaign.id
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    name = f"{title}-{'entries' if lang == 'en' else '作品'}-{stamp}.{fmt}"
    # RFC 6266: the title in filename*, and the campaign id (ASCII) for clients that only read filename
    disposition = f"attachment; filename=\"{campaign.id}-{stamp}.{fmt}\"; filename*=UTF-8''{quote(name, safe='')}"
    return StreamingResponse(body, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition})


LangQuery = Annotated[str, Query(pattern="^(zh-CN|en)$", description="language of the headers")]


@router.get("/campaigns/{campaign_id}/export.xlsx", summary="The campaign's entries as an Excel workbook")
def export_xlsx(campaign_id: str, request: Request, authorization: AuthHeader = None,
                lang: LangQuery = "zh-CN") -> Response:
    return _export(campaign_id, request, authorization, "xlsx", lang)


@router.get("/campaigns/{campaign_id}/export.csv", summary="The campaign's entries as CSV (UTF-8 with BOM)")
def export_csv(campaign_id: str, request: Request, authorization: AuthHeader = None,
               lang: LangQuery = "zh-CN") -> Response:
    return _export(campaign_id, request, authorization, "csv", lang)
