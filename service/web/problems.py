"""HTTP problems (RFC 9457 ``application/problem+json``): every error the API answers has a
stable ``code`` and a bilingual ``message`` (zh-CN first)."""

from __future__ import annotations

import errno
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.core.errors import ProfileError, RequestError, StorageFullError

log = logging.getLogger("mediacheck")

PROBLEM_TYPE = "https://mediacheck.invalid/problems/"
"""Prefix of the ``type`` URI of our problems (followed by the code)."""

_STATUS_TEXT = {
    400: ("请求无效。", "Bad request."),
    401: ("需要身份凭证。", "Credentials required."),
    403: ("无权访问。", "Forbidden."),
    404: ("找不到该资源。", "Not found."),
    405: ("不支持该请求方法。", "Method not allowed."),
    409: ("请求冲突。", "Conflict."),
    413: ("内容过大。", "Content too large."),
    415: ("不支持的内容类型。", "Unsupported media type."),
    422: ("请求内容无法处理。", "Unprocessable content."),
    500: ("服务器内部错误。", "Internal server error."),
    507: ("服务器存储空间不足。", "Insufficient storage."),
}


def problem(status: int, code: str, message: dict[str, str], **extra: Any) -> JSONResponse:
    body = {
        "type": PROBLEM_TYPE + code,
        "title": message["en"],
        "status": status,
        "code": code,
        "message": message,
        "detail": f"{message['zh-CN']} / {message['en']}",
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def from_error(e: RequestError) -> JSONResponse:
    return problem(e.status, e.code, e.message, **e.extra)


def _disk_full(e: BaseException) -> bool:
    """ENOSPC or EDQUOT, raised as such or wrapped (SQLite says "database or disk is full")."""
    seen: BaseException | None = e
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "database or disk is full" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestError)
    async def _request_error(request: Request, e: RequestError) -> JSONResponse:
        resp = from_error(e)
        if request.url.path.startswith("/files"):
            resp.headers["Tus-Resumable"] = "1.0.0"
        return resp

    @app.exception_handler(ProfileError)
    async def _profile_error(_: Request, e: ProfileError) -> JSONResponse:
        return problem(500, "profile_error", {"zh-CN": f"活动规则配置有误：{e}", "en": f"Profile error: {e}"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, e: StarletteHTTPException) -> JSONResponse:
        zh, en = _STATUS_TEXT.get(e.status_code, ("请求失败。", "Request failed."))
        code = {404: "not_found", 405: "method_not_allowed"}.get(e.status_code, f"http_{e.status_code}")
        return problem(e.status_code, code, {"zh-CN": zh, "en": en if e.detail is None else str(e.detail)})

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, e: Exception) -> JSONResponse:
        if _disk_full(e):  # a write the upload path did not see coming (the database's, a fixed copy's)
            log.warning("storage full: %s", e)
            return from_error(StorageFullError())
        log.exception("unexpected error", exc_info=e)
        return problem(500, "internal_error", {"zh-CN": "服务器内部错误，请稍后再试。",
                                               "en": "Internal server error; please try again later."})

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, e: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(x.get("loc", ())), "msg": x.get("msg")} for x in e.errors()]
        return problem(
            422,
            "invalid_request",
            {"zh-CN": "请求参数无效。", "en": "Invalid request parameters."},
            errors=errors,
        )
