"""The one Jinja2 environment: templates from ``templates/`` (the wheel carries them as package
data), autoescape on for every template, a missing value is an error (``StrictUndefined``),
and the globals every page may use: ``tr`` (the bilingual helper) and ``self_contained``
(false: a page links ``/static/mediacheck.css``; the batch's pages say true and carry the
stylesheet inline, since they are opened from a folder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from service.pages.bilingual import BOTH, tr

TEMPLATES = Path(__file__).resolve().parent / "templates"
STYLESHEET = TEMPLATES / "mediacheck.css"
"""The one stylesheet of every page (served as /static/mediacheck.css, or inlined)."""

ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.globals.update(tr=tr, BOTH=BOTH, self_contained=False)


def render(name: str, **context: Any) -> str:
    """The template ``name`` drawn with ``context``."""
    return ENV.get_template(name).render(**context)


def stream(name: str, **context: Any) -> Iterator[str]:
    """The template ``name`` drawn piece by piece (a long table written as it is drawn)."""
    return ENV.get_template(name).generate(**context)
