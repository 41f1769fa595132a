"""Reviewers' browser sessions. A browser cannot send a Bearer header when it follows a
link, so a reviewer signs in once with their API key (a form) and gets a session cookie:
signed (HMAC-SHA256), HttpOnly, SameSite=Strict, ``Secure`` over HTTPS, valid for
SESSION_TTL_S. It names the key, not its campaigns: every request looks the key up again,
so a revoked key or a narrowed scope takes effect at once. The signing secret is
MEDIACHECK_SESSION_SECRET, else a random one kept in ``<data dir>/session-secret``
(shared by every server process on that data directory)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from sqlalchemy.orm import Session

from service.store.models import ApiKey
from service.submissions.access import active_key_by_id

COOKIE = "mediacheck_review"
"""Name of the reviewer's session cookie."""

SESSION_TTL_S = 12 * 3600
"""A session lasts a working day; then the reviewer signs in again."""

SECRET_FILE = "session-secret"
"""File in the data directory that keeps the generated signing secret."""


def load_secret(configured: str, data_dir: Path) -> bytes:
    """The configured secret, else the one kept in the data directory (made on first use)."""
    if configured:
        return configured.encode("utf-8")
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".tmp-{os.getpid()}-{SECRET_FILE}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
        try:
            os.link(tmp, path)  # the first process to get here wins; the others read its secret
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip().encode("utf-8")


def _sign(secret: bytes, payload: str) -> str:
    mac = hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def issue(secret: bytes, key_id: str, now: float | None = None) -> str:
    """A cookie value for ``key_id``: ``v1.<key id>.<expiry>.<signature>``."""
    payload = f"v1.{key_id}.{int((now or time.time()) + SESSION_TTL_S)}"
    return f"{payload}.{_sign(secret, payload)}"


def parse_session(secret: bytes, value: str | None, now: float | None = None) -> str | None:
    """The key id of a valid, unexpired cookie value; None for anything else."""
    if not value or not value.isascii() or value.count(".") != 3:  # a forged cookie may carry any bytes
        return None
    payload, _, sig = value.rpartition(".")
    if not hmac.compare_digest(sig, _sign(secret, payload)):
        return None
    _, key_id, expiry = payload.split(".")
    if not expiry.isdigit() or len(expiry) > 12 or int(expiry) < (now or time.time()):
        return None
    return key_id


def key_of_session(session: Session, secret: bytes, value: str | None) -> ApiKey | None:
    """The live, unrevoked key a cookie names."""
    key_id = parse_session(secret, value)
    if key_id is None:
        return None
    return active_key_by_id(session, key_id)
