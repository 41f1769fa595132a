"""The report page's fix section, as values for ``fix_section.html`` (service/pages): when
every failure of the original can be fixed, a button "自动修复 / Fix automatically" that starts
the fix (``POST /api/submissions/{id}/fix``), shows its progress and ETA from
``GET /api/jobs/{id}``, then the link to the fixed copy. When a fixed copy exists already,
only the link. Next to the button, what the fix will do (``plan_view``, from
service/fix/submissions.py: remux or re-encode, pad or crop, size, time). Where the profile
requires a full frame and offers a crop, the button waits for the submitter to tick the crop
(it says how much of the picture is kept); where the content rules leave no fix, the section
says why instead of offering a button."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from service.pages import render


def fix_view(sub_id: str, report: dict[str, Any], fixed: dict[str, Any] | None, *,
             token: str | None, plan: dict[str, Any] | None = None,
             crop_plan: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """What the section shows (None when there is nothing to offer: no token, no failure, or a
    failure that cannot be fixed and no fixed copy). ``plan`` is the plan view of the fix,
    ``crop_plan`` the one with the offered crop chosen."""
    if token is None:
        return None
    q = f"?token={quote(token, safe='')}"
    download = f"/api/submissions/{sub_id}/fixed{q}"
    base: dict[str, Any] = {"download": download, "file_name": None, "start": None, "start_crop": None, "lines": [],
            "reasons": [], "crop": None}
    if fixed is not None:
        return base | {"file_name": fixed["file_name"]}
    if report.get("verdict") != "fail" or not report.get("fixable"):
        return None
    start = f"/api/submissions/{sub_id}/fix{q}"
    if plan is None:
        return base | {"start": start}
    if plan.get("fixable"):
        return base | {"start": start, "lines": (plan.get("preview") or {}).get("lines", [])}
    view = base | {"reasons": plan.get("reasons", [])}
    if plan.get("crop") and crop_plan is not None and crop_plan.get("fixable"):
        return view | {"start_crop": f"{start}&allow_crop=true", "crop": plan["crop"],
                       "lines": (crop_plan.get("preview") or {}).get("lines", [])}
    return view


def fix_section(sub_id: str, report: dict[str, Any], fixed: dict[str, Any] | None, *, lang: str,
                token: str | None, plan: dict[str, Any] | None = None,
                crop_plan: dict[str, Any] | None = None) -> str:
    """The section alone, as HTML (empty when there is nothing to offer)."""
    fix = fix_view(sub_id, report, fixed, token=token, plan=plan, crop_plan=crop_plan)
    return "" if fix is None else render("fix_section.html", fix=fix, lang=lang)
