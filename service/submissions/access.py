"""Who may read what, decided here and nowhere else. Submitters have no account: each
submission has an unguessable receipt token, and only that token reveals it. Reviewers and
admins hold API keys scoped to campaigns. Only sha256 digests of tokens and keys are stored.
The rules: a campaign (``Caller.may_read_campaign``, ``require_campaign``), a submission
(``readable_submission``), an entry on the reviewer pages (``reviewable_entry``) and a job
(``readable_job``); ids and tokens are made in service/store/ids.py."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import RequestError
from service.store.ids import ID_LENGTH, TOKEN_BYTES, new_id
from service.store.models import ApiKey, Job, Submission

KEY_PREFIX = "mck_"
"""API keys start with this, so they are recognisable in configs and leak scanners."""

ROLES = ("reviewer", "admin")

Row = TypeVar("Row", Submission, Job)


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


def list_keys(session: Session, campaign_id: str | None = None) -> list[ApiKey]:
    """Every key (revoked ones too, with when), newest first; with ``campaign_id``, the keys
    that name it (keys scoped to every campaign, ``*``, are listed too)."""
    rows = session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id)).all()
    return [k for k in rows if campaign_id is None or campaign_id in k.campaigns or "*" in k.campaigns]


def revoke_key(session: Session, key_id: str, *, now: datetime | None = None) -> ApiKey | None:
    """Revoke a key at once (its sessions too: every request looks the key up again); None
    when there is no such key. Revoking twice keeps the first time."""
    key = session.get(ApiKey, key_id) if is_id(key_id) else None
    if key is not None and key.revoked_at is None:
        key.revoked_at = now or datetime.now(UTC)
    return key


def active_key(session: Session, secret: str) -> ApiKey | None:
    """The key whose secret this is; None when it is unknown or revoked."""
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest(secret))) if secret else None
    return key if key is not None and key.revoked_at is None else None


def active_key_by_id(session: Session, key_id: str) -> ApiKey | None:
    """The key with this id (a reviewer's session names it); None when it is unknown or revoked."""
    key = session.get(ApiKey, key_id)
    return key if key is not None and key.revoked_at is None else None


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

    def may_read_job_of(self, sub: Submission | None) -> bool:
        """A job of submission ``sub``: whoever may read the submission; a job of no
        submission (or of one that is gone): admins only."""
        return self.may_read(sub) if sub is not None else self.is_admin

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
        key = active_key(session, secret.strip())
        if key is None:
            raise RequestError(
                401, "invalid_key", "API 密钥无效或已吊销。", "The API key is invalid or revoked."
            )
    return Caller(token=token or None, key=key)


def require_campaign(caller: Caller, campaign_id: str) -> None:
    """403 unless the caller's key covers the campaign."""
    if not caller.may_read_campaign(campaign_id):
        raise RequestError(
            403, "not_in_scope", "该 API 密钥无权查看此活动。", "This API key is not scoped to this campaign."
        )


def may_organise(key: ApiKey | None, campaign_id: str | None = None) -> bool:
    """An admin key covering the campaign (``None``: every campaign, as creating one needs;
    ``""``: any admin key, whatever its campaigns)."""
    if key is None or key.role != "admin":
        return False
    return "*" in key.campaigns or campaign_id == "" or (campaign_id is not None and campaign_id in key.campaigns)


def may_manage(admin: ApiKey | None, key: ApiKey) -> bool:
    """Whether an admin may see and revoke ``key``: its campaigns are all the admin's."""
    if admin is None or admin.role != "admin":
        return False
    return "*" in admin.campaigns or ("*" not in key.campaigns and set(key.campaigns) <= set(admin.campaigns))


def require_organiser(key: ApiKey | None, campaign_id: str | None = None) -> ApiKey:
    """The key if it may organise the campaign (401 without a key, 403 otherwise)."""
    if key is None:
        raise RequestError(401, "key_required", "需要管理员的 API 密钥。", "An admin API key is required.")
    if not may_organise(key, campaign_id):
        raise RequestError(403, "admin_required", "该密钥不是本活动的管理员密钥。",
                           "This key is not an admin key for this campaign.")
    return key


def is_id(value: str) -> bool:
    """Whether ``value`` may be a row id at all (a longer one is never looked up)."""
    return len(value) <= ID_LENGTH


def _get(s: Session, model: type[Row], row_id: str) -> Row | None:
    return s.get(model, row_id) if is_id(row_id) else None


def readable_submission(s: Session, caller: Caller, sub_id: str) -> Submission:
    """Load submission ``sub_id`` in session ``s`` for ``caller``: 401 without credentials,
    404 when it does not exist or the caller may not read it (nothing is revealed)."""
    return require_read(caller, _get(s, Submission, sub_id))


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


def reviewable_entry(s: Session, key: ApiKey, sub_id: str) -> Submission | None:
    """The entry ``sub_id`` as the reviewer pages show it to ``key``: a submission of a
    campaign the key covers that was not refused; None otherwise (the page says 404)."""
    sub = _get(s, Submission, sub_id)
    if sub is None or not Caller(key=key).may_read_campaign(sub.campaign_id) or sub.status == "refused":
        return None
    return sub


def readable_job(s: Session, caller: Caller, job_id: str) -> Job:
    """Load job ``job_id`` for ``caller``; 404 when there is none or the caller may not see it."""
    job = _get(s, Job, job_id)
    sub = s.get(Submission, job.submission_id) if job is not None and job.submission_id else None
    if job is None or not caller.may_read_job_of(sub):
        raise RequestError(404, "job_not_found", "找不到该任务。", "No such job (or no access to it).")
    return job
