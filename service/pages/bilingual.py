"""The one bilingual helper: text in the page's language, Chinese first. A page is in Chinese
(``zh-CN``), in English (``en``, by ``?lang=en``), or in both (``BOTH``: the batch's pages,
Chinese followed by the English in a smaller grey ``<span class="en">``). Templates call it as
``tr(zh, en)`` or ``tr(pair)``, the page's ``lang`` taken from the context."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

BOTH = "zh-CN+en"
"""The language of a page that shows both, Chinese first."""

Text = str | tuple[str, str] | Mapping[str, str] | None


def _pair(zh: Text, en: str | None) -> tuple[str, str]:
    if zh is None:
        return "", ""
    if isinstance(zh, tuple):
        return zh
    if isinstance(zh, Mapping):
        return zh.get("zh-CN", ""), zh.get("en", "")
    return zh, zh if en is None else en


def bilingual(lang: str, zh: Text, en: str | None = None) -> str:
    """``zh`` or ``en`` by ``lang``; both (escaped, as markup) when ``lang`` is ``BOTH``.
    ``zh`` may be a (Chinese, English) pair or a ``{"zh-CN": …, "en": …}`` message instead."""
    z, e = _pair(zh, en)
    if lang == BOTH:
        return Markup('{} <span class="en">{}</span>').format(z, e)  # format() escapes both
    return e if lang == "en" else z


@pass_context
def tr(context: Context, zh: Text, en: str | None = None) -> Any:
    """The template global: ``bilingual`` in the language of the page being drawn."""
    return bilingual(context["lang"], zh, en)
