"""The ``export`` job: a campaign's spreadsheet written in the background (for campaigns too
large to wait for), into the storage's ``exports/`` folder; ``GET /api/campaigns/{id}/exports/{job}``
hands it out once the job has finished."""

from __future__ import annotations

from typing import Any

from service.review.export import write_campaign
from service.store.jobs import JobProgress
from service.store.models import Job
from service.store.runtime import Context
from service.store.storage import EXPORTS
from service.submissions.campaigns import CampaignBook
from workers.registry import task


def export_key(job_id: str, fmt: str) -> str:
    return f"{EXPORTS}/{job_id}.{fmt}"


@task("export")
def export_task(ctx: Context, job: Job, progress: JobProgress) -> dict[str, Any]:
    """Write the campaign's export named in the job's params (campaign_id, format, lang)."""
    p = job.params
    fmt = "xlsx" if p.get("format") == "xlsx" else "csv"
    key = export_key(job.id, fmt)
    path = ctx.storage.path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with ctx.db.session() as s:  # the entry details' columns: the campaign's fields as they are now
        fields = CampaignBook(ctx.store, ctx.settings.upload_limit).get(s, p["campaign_id"]).entry.fields
    _, n = write_campaign(ctx.db, p["campaign_id"], path, fmt, p.get("lang", "zh-CN"), title=p["campaign_id"],
                          fields=fields)
    progress(1.0, force=True)
    return {"key": key, "format": fmt, "entries": n, "size_bytes": path.stat().st_size}
