"""The ``recheck`` job: every kept entry of a campaign checked again against the campaign's
profiles as they are now (after an organiser changed them). Each entry's earlier reports stay
(the trail of what it was judged by); the new report, of subject ``recheck``, becomes its
latest, and the entry now names the profile that judged it; a campaign with content analysis
analyses each entry again (a ``deep`` job) after it. Progress is the share of entries done."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from service.media.checker import check_file
from service.store.jobs import JobProgress
from service.store.models import Job, ReportRow, Submission
from service.store.runtime import Context
from service.store.summaries import refresh as refresh_summary
from service.submissions.campaigns import CampaignBook
from service.submissions.intake import sniff_kind
from workers.deep import enqueue_deep
from workers.registry import task


@task("recheck")
def recheck_task(ctx: Context, job: Job, progress: JobProgress) -> dict[str, Any]:
    campaign_id = str(job.params.get("campaign_id", ""))
    book = CampaignBook(ctx.store, ctx.settings.upload_limit)
    with ctx.db.session() as s:
        campaign = book.get(s, campaign_id)
        subs = [(x.id, x.storage_key, x.file_name, x.sha256) for x in s.scalars(
            select(Submission).where(Submission.campaign_id == campaign_id, Submission.status != "refused")
            .order_by(Submission.created_at, Submission.id))]
    verdicts: dict[str, int] = {}
    for i, (sub_id, key, name, sha) in enumerate(subs):
        path = ctx.storage.path(key)
        profile = book.profile_for(campaign, sniff_kind(path))
        report = check_file(path, profile, display_name=name, sha256=sha)
        with ctx.db.session() as s:
            s.add(ReportRow(submission_id=sub_id, subject="recheck", verdict=report.verdict,
                            report=report.model_dump(mode="json"), created_at=datetime.now(UTC)))
            sub = s.get(Submission, sub_id)
            assert sub is not None
            sub.profile_id, sub.verdict, sub.checked_at = profile.id, report.verdict, datetime.now(UTC)
            refresh_summary(s, sub_id)  # the dashboard, listing and export read the new report from here
        enqueue_deep(ctx, sub_id, report.model_dump(mode="json"))  # a campaign with content analysis: again
        verdicts[report.verdict] = verdicts.get(report.verdict, 0) + 1
        progress((i + 1) / len(subs))
    return {"campaign_id": campaign_id, "entries": len(subs), "verdicts": verdicts,
            "profiles": list(campaign.profiles)}
