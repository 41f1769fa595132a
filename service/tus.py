"""tus 1.0 resumable uploads (placeholder until the protocol lands)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
