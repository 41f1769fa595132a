"""ASGI entry for uvicorn: ``uvicorn service.asgi:app`` (what ``mediacheck serve`` runs)."""

from __future__ import annotations

from .app import create_app

app = create_app()
