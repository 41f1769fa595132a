"""The report as a page for people, as values for ``report.html`` (service/pages, receipt
mode): verdict in plain words, each failed rule with what is expected, what the file has, and
whether an automatic fix exists, then the fix section. Chinese first, English by ``lang=en``."""

from __future__ import annotations

from typing import Any

from service.core.labels import VERDICT_LABELS, names
from service.core.report import failure_summary
from service.pages import bilingual
from service.store.models import Submission
from service.web.fix_view import fix_view

STATUS_WORDS = {
    "fail": ("不符合", "fails"),
    "warn": ("建议", "advice"),
    "pass": ("符合", "passes"),
    "skip": ("未检查", "skipped"),
}


def report_view(
    sub: Submission, report: dict[str, Any] | None, *, lang: str = "zh-CN", token: str | None = None,
    fixed: dict[str, Any] | None = None, plan: dict[str, Any] | None = None,
    crop_plan: dict[str, Any] | None = None, entry_details: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The values of the submitter's report page (``report`` None: still being checked). ``plan``
    is what a fix would do (service/fix/submissions.py ``plan_view``), ``crop_plan`` the same with
    the offered crop chosen: where the profile's content rules leave no fix, no rule says
    "available"."""
    en = lang == "en"
    q = f"token={token}&" if token else ""
    view: dict[str, Any] = {
        "receipt": True, "page_class": "report", "lang": "en" if en else "zh-CN",
        "title": bilingual(lang, "检查报告", "Check report"),
        "switch_href": f"?{q}format=html&lang={'zh-CN' if en else 'en'}",
        "file_name": sub.file_name, "size_text": f"{sub.size_bytes:,}", "sha256": sub.sha256[:12],
        "verdict": None, "entry_details": entry_details or [],
    }
    if report is None:
        return view
    checks = report.get("checks", [])
    can_fix = plan is None or bool(plan.get("fixable") or (crop_plan or {}).get("fixable"))
    return view | {
        "verdict": report["verdict"],
        "verdict_names": names(VERDICT_LABELS, report["verdict"]),
        "summary": report.get("summary") if can_fix or report["verdict"] != "fail" else
        failure_summary([c["rule"] for c in checks if c["status"] == "fail"], fixable=False),
        "duplicate": bool(sub.duplicate_of),
        "problems": [{"status": c["status"], "rule": c["rule"], "status_words": STATUS_WORDS[c["status"]],
                      "message": c.get("message"), "expected": c.get("expected") or "",
                      "actual": c.get("actual") or "", "fixable": bool(c.get("fixable")) and can_fix}
                     for c in checks if c["status"] in ("fail", "warn")],
        "passed": [c.get("message") for c in checks if c["status"] == "pass"],
        "fix": fix_view(sub.id, report, fixed, token=token, plan=plan, crop_plan=crop_plan),  # copy, button or why
        "again_href": f"/c/{sub.campaign_id}?lang={lang}",
        "sub_id": sub.id,
    }
