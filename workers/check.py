"""The ``check`` job: the quick check of a submission's original (probe, judge, store the
report), then the follow-ups its campaign asks for: the deep analysis (workers/deep.py) and the
automatic fix (workers/fix_task.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from service.media.checker import check_file
from service.store.jobs import JobProgress
from service.store.models import Job, ReportRow, Submission
from service.store.runtime import Context
from service.store.summaries import refresh as refresh_summary
from service.submissions.intake import refusal, refuse
from workers.deep import enqueue_deep
from workers.fix_task import enqueue_autofix
from workers.registry import task


@task("check")
def check_task(ctx: Context, job: Job, progress: JobProgress) -> dict[str, Any]:
    """The quick check of a submission's original: probe, judge, store the report."""
    with ctx.db.session() as s:
        sub = s.get(Submission, job.submission_id)
        if sub is None:
            raise LookupError(f"submission {job.submission_id} not found")
        sub.status = "checking"
        refresh_summary(s, sub.id)
        path, profile_id, name, sha = (
            ctx.storage.path(sub.storage_key),
            sub.profile_id,
            sub.file_name,
            sub.sha256,
        )
    report = check_file(path, ctx.store.get(profile_id), display_name=name, sha256=sha)
    progress(0.9, force=True)
    data = report.model_dump(mode="json")
    with ctx.db.session() as s:
        row = ReportRow(
            submission_id=job.submission_id,
            subject="original",
            verdict=report.verdict,
            report=data,
            created_at=datetime.now(UTC),
        )
        s.add(row)
        sub = s.get(Submission, job.submission_id)
        assert sub is not None
        sub.status, sub.verdict, sub.checked_at = "checked", report.verdict, datetime.now(UTC)
        if refusal(data) is not None:  # not media, or a kind the campaign does not take
            refuse(s, ctx.storage, sub)
        refresh_summary(s, sub.id)
        result = {"verdict": report.verdict, "report_id": row.id}
    deep_job = enqueue_deep(ctx, job.submission_id or "", data)  # the campaign asks for content analysis
    fix_job = enqueue_autofix(ctx, job.submission_id or "", data)  # the campaign fixes failing uploads itself
    return result | ({"deep_job": deep_job} if deep_job else {}) | ({"fix_job": fix_job} if fix_job else {})
