"""Ids and secrets of the rows kept: a new row id (32 hex digits, the length of every id
column), and the random receipt tokens and key secrets of which only a digest is stored
(service/submissions/access.py says what they allow). Standard library only."""

from __future__ import annotations

import secrets
import uuid

ID_LENGTH = 32
"""Characters in a row id (uuid4 hex): a longer id is never looked up."""

TOKEN_BYTES = 32
"""Random bytes in a receipt token or API key (256 bits: not guessable)."""


def new_id() -> str:
    return uuid.uuid4().hex


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)
