"""The ``deep`` job: after the quick check of a submission to a campaign with deep analysis
on, the content analysis runs (``run_analysis``: service/media/checker.py with ``deep=True``,
then service/media/pictures.py), its pictures are written as derived files of the submission
(``derived/<id>/``) and its report, with the ``analysis`` section, is stored as the
submission's latest report (subject ``deep``). Same task code in-process and under RQ.

What the job writes into the submission's derived folder (every file appears complete or
not at all)::

    report.json          the full report, with its ``analysis`` section
    poster.jpg           videos: a frame that shows the content
    contact-sheet.jpg    videos: 4×4 frames with timecodes, flagged ones framed red
    thumbnail.jpg        photos and videos: a small picture for lists (320 px for videos)

Its timeout is the one of every job (service/store/jobs.py ``job_timeout``, kind ``deep``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.core.errors import ToolError, UnreadableMediaError
from service.core.profiles import Profile
from service.core.report import Report
from service.media.checker import check_file
from service.media.pictures import Pictures, pictures_for
from service.store.durable import replace_atomically
from service.store.jobs import JobProgress, submit_job
from service.store.models import Campaign, Job, ReportRow, Submission
from service.store.runtime import Context
from service.store.summaries import refresh as refresh_summary
from workers.registry import task

DEEP_RETRIES = 0
"""A deep analysis that raised is not tried again: its report would say the same."""

REPORT_NAME = "report.json"
"""File name of the deep report in the submission's derived folder."""


def derived_dir_key(submission_id: str) -> str:
    """Storage key of the folder holding a submission's pictures and deep report."""
    return f"derived/{submission_id}"


def enqueue_deep(ctx: Context, submission_id: str, report: dict[str, Any]) -> str | None:
    """After a quick check: queue the deep job when the submission's campaign asks for it
    (and the file was kept). Photos get their thumbnail from it. Returns the job id, or None."""
    if ctx.queue is None:
        return None
    media = report.get("media") or {}
    if media.get("kind") not in ("video", "audio", "image"):
        return None
    with ctx.db.session() as s:
        sub = s.get(Submission, submission_id)
        if sub is None or sub.status == "refused":
            return None
        campaign = s.get(Campaign, sub.campaign_id)
        if campaign is None or not campaign.deep:
            return None
        size = sub.size_bytes
    return submit_job(ctx.db, ctx.queue, kind="deep", submission_id=submission_id, retries=DEEP_RETRIES,
                      duration_s=media.get("duration_s"), size_bytes=size)


def _stage(name: str) -> None:
    """Tell whoever watches an RQ job what it is doing (``job.meta["stage"]``): two writes
    a job, so the meta is never written often."""
    from rq import get_current_job

    job = get_current_job()
    if job is not None:
        job.meta["stage"] = name
        job.save_meta()


def run_analysis(media_path: str | os.PathLike[str], profile: Profile, output_dir: str | os.PathLike[str], *,
                 display_name: str | None = None, sha256: str | None = None,
                 progress: Callable[[float], None] | None = None) -> tuple[Report, Pictures, str | None]:
    """The job's work: the deep report, the pictures written into ``output_dir`` with the report
    (``REPORT_NAME``) and, when the pictures could not be made, why (the report stands)."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    _stage("analysis")
    if progress:
        progress(0.05)
    report = check_file(media_path, profile, display_name=display_name, sha256=sha256, deep=True)
    pictures = Pictures()
    picture_error = None
    if report.media is not None and report.verdict != "error":
        _stage("pictures")
        if progress:
            progress(0.8)
        try:
            pictures = pictures_for(media_path, report.media, out, report.analysis)
        except (ToolError, OSError) as e:  # the report still stands without pictures
            picture_error = str(e)
    data = report.model_dump_json(indent=1)
    replace_atomically(out / REPORT_NAME, lambda tmp: tmp.write_text(data, encoding="utf-8"))
    if progress:
        progress(1.0)
    return report, pictures, picture_error


@task("deep")
def deep_task(ctx: Context, job: Job, progress: JobProgress) -> dict[str, Any]:
    """Analyse the original, keep the pictures, store the deep report."""
    with ctx.db.session() as s:
        sub = s.get(Submission, job.submission_id)
        if sub is None:
            raise LookupError(f"submission {job.submission_id} not found")
        path, profile_id, name, sha = ctx.storage.path(sub.storage_key), sub.profile_id, sub.file_name, sub.sha256
    out = ctx.storage.path(derived_dir_key(sub.id))
    report, pictures, picture_error = run_analysis(path, ctx.store.get(profile_id), out, display_name=name,
                                                   sha256=sha, progress=progress)
    if report.verdict == "error":  # the quick check's report stands; say why the analysis did not
        msg = report.error.message if report.error else {"zh-CN": "无法读取文件。", "en": "The file cannot be read."}
        raise UnreadableMediaError(msg.get("zh-CN", ""), msg.get("en", ""), code="deep_unreadable")
    data = report.model_dump(mode="json")
    written = {k: p.name for k, p in (("poster", pictures.poster), ("contact_sheet", pictures.contact_sheet),
                                      ("thumbnail", pictures.thumbnail)) if p is not None}
    with ctx.db.session() as s:
        row = ReportRow(submission_id=sub.id, subject="deep", verdict=report.verdict, report=data,
                        created_at=datetime.now(UTC))
        s.add(row)
        fresh = s.get(Submission, sub.id)
        assert fresh is not None
        fresh.verdict, fresh.checked_at = report.verdict, datetime.now(UTC)
        refresh_summary(s, sub.id, thumbnail=pictures.thumbnail is not None)
        return {"verdict": report.verdict, "report_id": row.id, **written,
                **({"picture_error": picture_error} if picture_error else {})}
