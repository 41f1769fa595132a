"""Who may read what. Submitters have no account: each submission has an unguessable
receipt token, and only that token reveals it. Reviewers and admins hold API keys scoped
to campaigns. Only sha256 digests of tokens and keys are stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import RequestError
from service.store.models import ApiKey, Submission

TOKEN_BYTES = 32
"""Random bytes in a receipt token or API key (256 bits: not guessable)."""

KEY_PREFIX = "mck_"
"""API keys start with this, so they are recognisable in configs and leak scanners."""

ROLES = ("reviewer", "admin")


def new_id() -> str:
    return uuid.uuid4().hex


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_api_key(session: Session, *, name: str, role: str, campaigns: list[str]) -> tuple[ApiKey, str]:
    """Make a key; the secret is returned once and only its digest is stored."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if not campaigns:
        raise ValueError("scope the key to campaign ids, or '*' for all")
    secret = KEY_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    row = ApiKey(id=new_id(), name=name, key_hash=digest(secret), role=role, campaigns=list(campaigns))
    session.add(row)
    return row, secret


@dataclass(frozen=True)
class Caller:
    """The credentials a request came with: a receipt token, an API key, both or none."""

    token: str | None = None
    key: ApiKey | None = None

    def may_read_campaign(self, campaign_id: str) -> bool:
        return self.key is not None and ("*" in self.key.campaigns or campaign_id in self.key.campaigns)

    def may_read(self, sub: Submission) -> bool:
        if self.token is not None and hmac.compare_digest(digest(self.token), sub.receipt_hash):
            return True
        return self.may_read_campaign(sub.campaign_id)

    @property
    def is_admin(self) -> bool:
        return self.key is not None and self.key.role == "admin"


def caller_of(session: Session, *, authorization: str | None, token: str | None) -> Caller:
    """Resolve the credentials of a request. A key that is unknown or revoked is refused."""
    key = None
    if authorization:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise RequestError(
                401,
                "bad_authorization",
                "Authorization 头应为 “Bearer <密钥>”。",
                "The Authorization header must be 'Bearer <key>'.",
            )
        key = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest(secret.strip())))
        if key is None or key.revoked_at is not None:
            raise RequestError(
                401, "invalid_key", "API 密钥无效或已吊销。", "The API key is invalid or revoked."
            )
    return Caller(token=token or None, key=key)


MAX_ID_LENGTH = 32
"""Submission ids are 32 hex digits: a longer one is never looked up."""


def readable_submission(s: Session, caller: Caller, sub_id: str) -> Submission:
    """Load submission ``sub_id`` in session ``s`` for ``caller``: 401 without credentials,
    404 when it does not exist or the caller may not read it (nothing is revealed)."""
    return require_read(caller, s.get(Submission, sub_id) if len(sub_id) <= MAX_ID_LENGTH else None)


def require_read(caller: Caller, sub: Submission | None) -> Submission:
    """The submission if the caller may read it; otherwise 404, so nothing is revealed."""
    if caller.token is None and caller.key is None:
        raise RequestError(
            401,
            "receipt_required",
            "请提供回执令牌（token）或 API 密钥。",
            "Give the receipt token (token) or an API key.",
        )
    if sub is None or not caller.may_read(sub):
        raise RequestError(
            404,
            "submission_not_found",
            "找不到该提交，或回执令牌不对。",
            "No such submission, or the receipt token does not match.",
        )
    return sub
