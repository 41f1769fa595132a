"""A submission as the JSON API shows it: its fields (``submission_view``) and the URLs of
its state, report, page, file and job (``links``, with the receipt token when one is given).
The fixed copy's view is service/fix/submissions.py ``fixed_view``; ``summary_view`` is an
entry's summary row as the listing API shows it."""

from __future__ import annotations

from typing import Any

from service.store.database import aware
from service.store.models import ApiKey, Submission, SubmissionSummary


def links(sub_id: str, token: str | None = None, job_id: str | None = None) -> dict[str, str]:
    q = f"?token={token}" if token else ""
    out = {
        "self": f"/api/submissions/{sub_id}{q}",
        "report": f"/api/submissions/{sub_id}/report{q}",
        "page": f"/s/{sub_id}{q}",
        "file": f"/api/submissions/{sub_id}/file{q}",
    }
    if job_id:
        out["job"] = f"/api/jobs/{job_id}{q}"
    return out


def submission_view(sub: Submission, report: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": sub.id,
        "campaign_id": sub.campaign_id,
        "profile_id": sub.profile_id,
        "file_name": sub.file_name,
        "details": sub.details or {},  # only whoever may read the submission gets here (receipt, scoped key)
        "size_bytes": sub.size_bytes,
        "sha256": sub.sha256,
        "status": sub.status,
        "verdict": sub.verdict,
        "summary": (report or {}).get("summary"),
        "duplicate_of": sub.duplicate_of,
        "created_at": sub.created_at.isoformat(),
        "checked_at": sub.checked_at and sub.checked_at.isoformat(),
    }


def key_view(k: ApiKey) -> dict[str, Any]:
    """A key as organisers see it (never its secret or digest)."""
    revoked, created = aware(k.revoked_at), aware(k.created_at)
    return {"id": k.id, "name": k.name, "role": k.role, "campaigns": list(k.campaigns),
            "created_at": created.isoformat() if created else None,
            "revoked_at": revoked.isoformat() if revoked else None}


def summary_view(r: SubmissionSummary) -> dict[str, Any]:
    """What the listing API shows of an entry's summary row (no report is read)."""
    at = aware(r.decision_at)
    return {
        "verdict": r.verdict, "report_verdict": r.report_verdict, "failed": r.failed, "warned": r.warned,
        "content": r.content, "duration_s": r.duration_s, "width": r.width, "height": r.height,
        "thumbnail": r.thumbnail, "deep": r.deep, "fixed_verdict": r.fixed_verdict, "waived": r.waived,
        "decision": None if r.decision == "none" else r.decision, "decided_by": r.decision_by,
        "decided_at": at.isoformat() if at else None,
    }
