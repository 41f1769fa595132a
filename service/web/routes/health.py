"""Health (alive), readiness (database, Redis when configured, ffprobe found) and
Prometheus metrics."""

from __future__ import annotations

import shutil
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from service.web.deps import services

router = APIRouter()


@router.get("/healthz", summary="Alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Ready: database, Redis (when configured), ffprobe")
async def readyz(request: Request) -> JSONResponse:
    svc = services(request)
    checks: dict[str, Any] = {}

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
        checks["storage"] = "ok" if svc.storage.root.is_dir() else "error: storage directory missing"

    await anyio.to_thread.run_sync(probe_all)
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks, "jobs": svc.queue.backend},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    return Response(services(request).metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
