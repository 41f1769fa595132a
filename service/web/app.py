"""The FastAPI application: built by ``create_app(settings)``; ``mediacheck serve`` runs it
with uvicorn. Routes live in api.py (submissions, jobs, campaigns), tus.py (resumable
uploads), pages.py (pages for submitters) and health.py (health, readiness, metrics)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request

from service import __version__
from service.core.profiles import ProfileStore
from service.settings import Settings
from service.store.database import Database, migrate
from service.store.jobs import InProcessQueue, JobBackend, RqQueue
from service.store.storage import Storage
from service.submissions.campaigns import CampaignBook
from service.submissions.intake import Intake
from service.web import logs, problems
from service.web.metrics import Metrics


@dataclass
class Services:
    """Everything the routes use, made once per application."""

    settings: Settings
    db: Database
    storage: Storage
    store: ProfileStore
    book: CampaignBook
    queue: JobBackend
    intake: Intake
    metrics: Metrics


def build_services(settings: Settings) -> Services:
    from service.store.runtime import Context, run_in_process

    db = Database(settings.db_url)
    migrate(db.engine)
    storage = Storage(settings.storage_dir, fsync=settings.fsync, direct_io=settings.direct_io)
    store = ProfileStore(settings.profiles_dir)
    ctx = Context(settings=settings, db=db, storage=storage, store=store)
    queue: JobBackend
    if settings.redis_url:
        queue = RqQueue(settings.redis_url, settings.queue_name)
    else:
        queue = InProcessQueue(lambda job_id: run_in_process(job_id, ctx))  # the task RQ runs, by its name
    ctx.queue = queue  # follow-up jobs (deep analysis) go to the same queue
    book = CampaignBook(store, settings.upload_limit)
    return Services(
        settings=settings,
        db=db,
        storage=storage,
        store=store,
        book=book,
        queue=queue,
        intake=Intake(db, storage, book, queue),
        metrics=Metrics(queue),
    )


SECURITY_HEADERS = [(b"referrer-policy", b"no-referrer"), (b"x-content-type-options", b"nosniff")]
"""Added to every response: receipt tokens travel in page URLs, so no Referer may carry them on."""


class SecurityHeaders:
    """A plain ASGI middleware (Starlette's BaseHTTPMiddleware costs a task group per request)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.services.queue.shutdown()
        app.state.services.db.dispose()

    app = FastAPI(
        title="mediacheck",
        version=__version__,
        lifespan=lifespan,
        description="参赛媒体文件上传与检查 / Upload and check media submissions for campaigns.",
    )
    app.state.services = build_services(settings)
    problems.install(app)
    logs.install()

    app.add_middleware(SecurityHeaders)

    from service.web.routes import fixes as fix_api
    from service.web.routes import health, pages, records, tus
    from service.web.routes import submissions as api

    app.include_router(api.router)
    app.include_router(records.router)
    app.include_router(fix_api.router)  # start a fix, cancel it, download the fixed copy
    app.include_router(tus.router)
    app.include_router(health.router)
    app.include_router(pages.router)
    from service.web.routes import review_api, reviewer

    app.include_router(review_api.router)
    app.include_router(reviewer.router)
    return app
