"""The entry details as spreadsheet columns: one per field the campaign declares, headed by
its Chinese label (English with ``lang="en"``). The export (``review/export.py``) and the
hand-over manifest put them after the fixed columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.core.entry_fields import FieldSpec


def details_headers(fields: Sequence[FieldSpec], lang: str = "zh-CN") -> list[str]:
    en = lang.startswith("en")
    return [(f.label.en or f.label.zh) if en else f.label.zh for f in fields]


def details_cells(fields: Sequence[FieldSpec], details: Mapping[str, Any] | None) -> list[object]:
    d = details or {}
    return [d.get(f.key) for f in fields]
