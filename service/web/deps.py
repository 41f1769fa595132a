"""The FastAPI dependencies the routes share: the application's services (``Services``,
made once by ``app.build_services`` and kept on ``app.state``) and the credentials of a
request — a receipt token, a Bearer API key, a reviewer's session cookie — resolved to
what they allow by service/submissions/access.py. Routes import this module, never app.py."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from sqlalchemy.orm import Session

from service.core.profiles import ProfileStore
from service.review.sessions import COOKIE, key_of_session, load_secret
from service.settings import Settings
from service.store.database import Database
from service.store.jobs import JobBackend
from service.store.models import ApiKey
from service.store.storage import Storage
from service.submissions.access import Caller, caller_of
from service.submissions.campaigns import CampaignBook
from service.submissions.intake import Intake
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


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


# ------------------------------------------------------------------ receipt tokens and API keys
TokenQuery = Annotated[str | None, Query(description="receipt token of the submission")]
TokenHeader = Annotated[
    str | None, Header(alias="X-Receipt-Token", description="receipt token (instead of ?token=)")
]
AuthHeader = Annotated[str | None, Header(description="Bearer API key of a reviewer or admin")]


@dataclass(frozen=True)
class Credentials:
    """What a request shows: a submission's receipt token (``?token=`` or ``X-Receipt-Token``)
    and/or an API key (``Authorization: Bearer …``); ``caller_of`` says what they allow."""

    token: str | None
    authorization: str | None

    def caller(self, session: Session) -> Caller:
        return caller_of(session, authorization=self.authorization, token=self.token)


async def _credentials(
    token: TokenQuery = None, x_receipt_token: TokenHeader = None, authorization: AuthHeader = None
) -> Credentials:
    # async: FastAPI runs a plain function dependency in a thread, a hop the status route avoids
    return Credentials(token or x_receipt_token, authorization)


Creds = Annotated[Credentials, Depends(_credentials)]
"""A route's parameter for the credentials of its request."""


def caller_for(svc: Services, creds: Credentials) -> Caller:
    with svc.db.session() as s:
        return creds.caller(s)


# ------------------------------------------------------------------ reviewers' session cookie
@lru_cache(maxsize=8)
def _secret(configured: str, data_dir: Path) -> bytes:
    return load_secret(configured, data_dir)


def secret_of(svc: Services) -> bytes:
    """The key that signs reviewers' session cookies (service/review/sessions.py)."""
    return _secret(svc.settings.session_secret, svc.settings.data_dir)


def session_key(svc: Services, request: Request) -> ApiKey | None:
    """The reviewer's key from the session cookie (None when absent, forged, expired or revoked)."""
    with svc.db.session() as s:
        return key_of_session(s, secret_of(svc), request.cookies.get(COOKIE))
