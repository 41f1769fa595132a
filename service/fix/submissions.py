"""Fixes of submissions, seen from the service: whether a submission's failures can be fixed
(the plan, from its stored report), starting a fix job, and its fixed copy. Used by the API
(web/routes/fixes.py) and by the check task (the automatic fix a campaign asks for)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import RequestError
from service.core.profiles import Profile
from service.core.report import Report
from service.fix.plan import FixPlan
from service.fix.planner import plan_fix
from service.fix.preview import preview
from service.fix.steps import describe_step
from service.fix.transcode import fix_time_limit
from service.store.jobs import create_job, job_timeout
from service.store.models import Campaign, FixedCopy, Job, Submission

FIX_KIND = "transcode"
"""The job kind of a fix (its timeout per media second is in jobs.SECONDS_PER_MEDIA_SECOND)."""

FIX_RETRIES = 1
"""A fix whose worker died (killed, out of memory) is tried once more; a fix that fails is not."""

ACTIVE_STATES = ("queued", "started")
"""Job states of a fix still under way: a second request gets the same job."""


def plan_of(report: dict[str, Any] | None, profile: Profile, *, allow_crop: bool = False) -> FixPlan | None:
    """The fix plan of a stored report (None when the file could not be read); ``allow_crop``: the
    submitter chose to crop where the profile requires a full frame and offers cropping."""
    if report is None or report.get("media") is None:
        return None
    parsed = Report.model_validate(report)
    assert parsed.media is not None
    return plan_fix(parsed.media, list(parsed.checks), profile, allow_crop=allow_crop)


def runs_deep(session: Session, sub: Submission) -> bool:
    """Whether the submission's campaign runs the deep analysis: then a fix's re-check does too."""
    campaign = session.get(Campaign, sub.campaign_id)
    return bool(campaign is not None and campaign.deep)


def plan_view(plan: FixPlan | None, report: dict[str, Any] | None, *, deep: bool) -> dict[str, Any]:
    """What a fix would do, before it runs (``GET /api/submissions/{id}/fix``, the report page):
    fixable or why not, the steps, remux or re-encode, pad or crop (and what a crop keeps), the
    expected size and time (service/fix/preview.py)."""
    problem = refusal(plan, report)
    view: dict[str, Any] = {"fixable": problem is None, "deep_recheck": deep}
    if problem is not None:
        view["problem"] = {"code": problem.code, "message": problem.message}
    if plan is None or report is None:
        return view
    parsed = Report.model_validate(report)
    assert parsed.media is not None
    return view | {
        "mode": plan.mode,
        "steps": [{"action": st.action, "rules": list(st.rules), "text": describe_step(st)} for st in plan.steps],
        "preview": preview(plan, parsed.media, deep=deep).model_dump(mode="json") if plan.fixable else None,
        "reasons": [{"rule": r.rule, "message": r.message} for r in plan.unfixable],
        "notes": list(plan.notes),
        "warnings": list(plan.warnings),
        "crop": plan.crop.model_dump(mode="json") if plan.crop is not None else None,
    }


def refusal(plan: FixPlan | None, report: dict[str, Any] | None) -> RequestError | None:
    """Why a fix cannot start (409 with bilingual reasons), or None when it can."""
    if report is None:
        return RequestError(
            409, "not_checked", "文件尚未检查完毕，请稍后再试。", "The file has not been checked yet; try again soon."
        )
    if plan is None:
        return RequestError(
            409,
            "not_fixable",
            "无法读取该文件，不能自动修复。",
            "The file cannot be read, so it cannot be fixed.",
            reasons=[],
        )
    if plan.mode == "none":
        return RequestError(
            409,
            "nothing_to_fix",
            "文件已符合要求，无需修复。",
            "The file already meets the rules; there is nothing to fix.",
        )
    if not plan.fixable:
        reasons = [{"rule": r.rule, "message": r.message} for r in plan.unfixable]
        zh = "；".join(r.message["zh-CN"] for r in plan.unfixable)
        en = " ".join(r.message["en"] for r in plan.unfixable)
        crop = plan.crop.model_dump(mode="json") if plan.crop is not None else None
        return RequestError(
            409, "not_fixable", f"无法自动修复：{zh}", f"Cannot be fixed automatically: {en}", reasons=reasons,
            **({"crop": crop} if crop else {}),
        )
    return None


def active_fix(session: Session, sub_id: str) -> Job | None:
    return session.scalar(
        select(Job)
        .where(Job.submission_id == sub_id, Job.kind == FIX_KIND, Job.state.in_(ACTIVE_STATES))
        .order_by(Job.created_at.desc())
        .limit(1)
    )


def fix_job_timeout(plan: FixPlan, size_bytes: int) -> int:
    """The timeout of a fix job: the larger of every job's figure for its kind (``jobs.job_timeout``:
    6 s per media second plus reading the file) and the transcoder's own (``transcode.fix_time_limit``:
    passes × pixels × duration, which outgrows the first for long high-resolution two-pass encodes)."""
    return max(job_timeout(FIX_KIND, duration_s=plan.duration_s, size_bytes=size_bytes), int(fix_time_limit(plan)))


def start_fix(db: Any, queue: Any, sub: Submission, plan: FixPlan, *, allow_crop: bool = False) -> tuple[str, bool]:
    """Queue a fix of ``sub`` (or find the one under way); returns (job id, newly created).
    ``allow_crop`` travels in the job's params to the fix task."""
    with db.session() as s:
        running = active_fix(s, sub.id)
        if running is not None:
            return running.id, False
    timeout = fix_job_timeout(plan, sub.size_bytes)
    with db.session() as s:
        job = create_job(
            s,
            kind=FIX_KIND,
            submission_id=sub.id,
            params={"actions": plan.actions()} | ({"allow_crop": True} if allow_crop else {}),
            timeout_s=timeout,
            retries=FIX_RETRIES,
            backend=queue.backend,
        )
        job_id = job.id
    queue.enqueue(job_id, timeout_s=timeout, retries=FIX_RETRIES)
    return job_id, True


def fixed_copy(session: Session, sub_id: str) -> FixedCopy | None:
    """The newest fixed copy that passed its re-check (only those are ever recorded)."""
    return session.scalar(
        select(FixedCopy).where(FixedCopy.submission_id == sub_id).order_by(FixedCopy.id.desc()).limit(1)
    )


def fixed_view(
    copy: FixedCopy | None, report: dict[str, Any] | None, token: str | None = None
) -> dict[str, Any] | None:
    """The fixed copy as the submission JSON shows it (None until a passing fix exists)."""
    if copy is None:
        return None
    q = f"?token={token}" if token else ""
    return {
        "file_name": copy.file_name,
        "size_bytes": copy.size_bytes,
        "sha256": copy.sha256,
        "job_id": copy.job_id,
        "verdict": (report or {}).get("verdict"),
        "summary": (report or {}).get("summary"),
        "report": report,
        "download": f"/api/submissions/{copy.submission_id}/fixed{q}",
        "created_at": copy.created_at.isoformat(),
    }
