"""The report page's fix section, as values for ``fix_section.html`` (service/pages): when
every failure of the original can be fixed, a button "自动修复 / Fix automatically" that starts
the fix (``POST /api/submissions/{id}/fix``), shows its progress and ETA from
``GET /api/jobs/{id}``, then the link to the fixed copy. When a fixed copy exists already,
only the link."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from service.pages import render


def fix_view(sub_id: str, report: dict[str, Any], fixed: dict[str, Any] | None, *,
             token: str | None) -> dict[str, Any] | None:
    """What the section shows (None when there is nothing to offer: no token, no failure, or a
    failure that cannot be fixed and no fixed copy)."""
    if token is None:
        return None
    q = f"?token={quote(token, safe='')}"
    download = f"/api/submissions/{sub_id}/fixed{q}"
    if fixed is not None:
        return {"download": download, "file_name": fixed["file_name"], "start": None}
    if report.get("verdict") != "fail" or not report.get("fixable"):
        return None
    return {"download": download, "file_name": None, "start": f"/api/submissions/{sub_id}/fix{q}"}


def fix_section(sub_id: str, report: dict[str, Any], fixed: dict[str, Any] | None, *, lang: str,
                token: str | None) -> str:
    """The section alone, as HTML (empty when there is nothing to offer)."""
    fix = fix_view(sub_id, report, fixed, token=token)
    return "" if fix is None else render("fix_section.html", fix=fix, lang=lang)
