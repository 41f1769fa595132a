"""ASGI entry for uvicorn: ``uvicorn service.web.asgi:app`` (what ``mediacheck serve`` runs)."""

from __future__ import annotations

from service.web.app import create_app

app = create_app()
