"""Health (alive), readiness (database, Redis when configured, ffprobe found, storage with
free space above its reserve) and Prometheus metrics (only with MEDIACHECK_METRICS)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from service.core.errors import RequestError
from service.store.storage import free_bytes
from service.web.deps import services

router = APIRouter()


@router.get("/healthz", summary="Alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Ready: database, Redis (when set), ffprobe, storage above its free-space reserve")
async def readyz(request: Request) -> JSONResponse:
    svc = services(request)
    checks: dict[str, Any] = {}
    space: dict[str, int] = {}

    def probe_all() -> None:
        try:
            svc.db.ping()
            checks["database"] = "ok"
        except Exception as e:  # noqa: BLE001 - reported, not raised
            checks["database"] = f"error: {type(e).__name__}: {e}"[:300]
        if svc.settings.redis_url:
            try:
                svc.queue.ping()
                checks["redis"] = "ok"
            except Exception as e:  # noqa: BLE001
                checks["redis"] = f"error: {type(e).__name__}: {e}"[:300]
        checks["ffprobe"] = "ok" if shutil.which("ffprobe") else "error: ffprobe not found on PATH"
        checks["storage"] = storage_check(svc.storage.root, svc.settings.free_space_reserve, space)

    await anyio.to_thread.run_sync(probe_all)
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks, "jobs": svc.queue.backend,
         "storage": space},
        status_code=200 if ready else 503,
    )


def storage_check(root: Path, reserve: int, space: dict[str, int]) -> str:
    """``ok``, or why the storage cannot take uploads (missing, or free space under the reserve);
    fills ``space`` with the free bytes and the reserve."""
    if not root.is_dir():
        return "error: storage directory missing"
    free = free_bytes(root)
    space |= {"free_bytes": free, "reserve_bytes": reserve}
    if free < reserve:
        return f"error: {free} bytes free, under the reserve of {reserve} bytes (uploads are refused)"
    return "ok"


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    svc = services(request)
    if not svc.settings.metrics:  # it lists campaign ids: served only when asked for (MEDIACHECK_METRICS)
        raise RequestError(404, "not_found", "找不到该资源。", "Not found.")
    return Response(svc.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
