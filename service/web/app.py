"""The FastAPI application: ``build_services(settings)`` makes the services once,
``create_app(settings)`` builds the application and includes the routers; ``mediacheck
serve`` runs it with uvicorn (asgi.py for other ASGI servers). The routes live in routes/:
submissions.py (campaigns, uploads), records.py (a submission's state, report and file,
jobs, decisions), fixes.py (start and cancel a fix, the fixed copy), tus.py (resumable
uploads), pages.py (pages for submitters), health.py (health, readiness, metrics),
review_api.py (trail, waivers, export) and reviewer.py (the reviewer pages). What they
share is in deps.py (services, credentials) and answers.py (the answer to an upload); no
route imports app.py or another route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from service import __version__
from service.core.profiles import ProfileStore
from service.settings import Settings
from service.store.database import Database, migrate
from service.store.jobs import JobBackend, RqQueue
from service.store.runtime import Context, in_process_queue
from service.store.storage import Storage
from service.submissions.campaigns import CampaignBook
from service.submissions.intake import Intake
from service.web import logs, problems
from service.web.deps import Services
from service.web.metrics import Metrics
from service.web.routes import (
    campaigns,
    fixes,
    health,
    organiser,
    pages,
    records,
    review_api,
    reviewer,
    submissions,
    tus,
)


def build_services(settings: Settings) -> Services:
    db = Database(settings.db_url)
    migrate(db.engine)
    storage = Storage(settings.storage_dir, fsync=settings.fsync, direct_io=settings.direct_io)
    store = ProfileStore(*settings.profile_dirs)
    ctx = Context(settings=settings, db=db, storage=storage, store=store)
    # in-process: the task RQ runs, by its name; a job past its time budget is given up (store/jobs.py)
    queue: JobBackend = RqQueue(settings.redis_url, settings.queue_name) if settings.redis_url \
        else in_process_queue(ctx)
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
"""Added to every response: receipt tokens travel in page URLs, so no Referer may carry them on;
no browser guesses a type other than the one we send."""

SANDBOX_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'; sandbox")
"""Added to every response that is not an HTML page (media, files, JSON): should a browser ever
render one, it runs nothing and loads nothing."""


def _with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    names = {k.lower() for k, _ in headers}
    ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    out = list(headers) + [h for h in SECURITY_HEADERS if h[0] not in names]
    if not ctype.lower().startswith(b"text/html") and SANDBOX_CSP[0] not in names:
        out.append(SANDBOX_CSP)
    return out


GZIP_MIN_BYTES = 1000
"""Smaller responses go out as they are (gzip would not pay for itself)."""

GZIP_SKIPPED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/octet-stream", "application/offset+octet-stream",
                "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
"""Content types sent as they are: media and pictures (already compressed), downloads and
the streamed exports (a zip already, or rows the client should get at once)."""


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
                message["headers"] = _with_security_headers(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_with_headers)


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
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=6,
                       exclude_content_types=GZIP_SKIPPED)  # pages and JSON; not media, downloads, exports

    app.include_router(submissions.router)
    app.include_router(campaigns.router)  # organisers: create and change campaigns, keys, the hand-over
    app.include_router(records.router)
    app.include_router(fixes.router)  # start a fix, cancel it, download the fixed copy
    app.include_router(tus.router)
    app.include_router(health.router)
    app.include_router(pages.router)
    app.include_router(review_api.router)
    app.include_router(reviewer.router)
    app.include_router(organiser.router)  # the organiser pages
    return app
