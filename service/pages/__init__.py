"""Pages: every HTML page of mediacheck is drawn from the Jinja2 templates of
``service/pages/templates/`` with the one environment of ``environment.py`` (autoescape on,
strict about missing values), one base layout, one stylesheet and one bilingual helper
(``bilingual.py``). The packages that show pages (web, review, batch) build the values the
templates show; nothing here knows about requests or the database. Imports only the core."""

from service.pages.bilingual import BOTH, bilingual
from service.pages.environment import ENV, STYLESHEET, TEMPLATES, render, stream

__all__ = ["BOTH", "ENV", "STYLESHEET", "TEMPLATES", "bilingual", "render", "stream"]
