"""The deep-analysis job (RQ task): load → analyse → save the pictures and the report.

Thin on purpose: the checking, the content analysis and the pictures are the core's
(service/media/checker.py, service/media/detector.py, service/media/pictures.py), so the CLI and this job
give the same report. The job reads one media file and writes into one directory (the
service's derived-files directory of the submission)::

    report.json          the full report, with its ``analysis`` section
    poster.jpg           videos: a frame that shows the content
    contact-sheet.jpg    videos: 4×4 frames with timecodes, flagged ones framed red
    thumbnail.jpg        photos and videos: a small picture for lists (320 px for videos)

Every file appears complete or not at all. The return value (kept by RQ for a short
while only: the service stores the report in its database) names what was written."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.core.errors import ToolError
from service.core.profiles import Profile, ProfileStore
from service.core.report import Report
from service.media.checker import check_file
from service.media.pictures import Pictures, pictures_for
from service.settings import Settings
from service.store.durable import replace_atomically

REPORT_NAME = "report.json"
"""File name of the report in the output directory."""

TIMEOUT_BASE_S, TIMEOUT_PER_MEDIA_S = 180.0, 4.0
"""RQ job timeout: base + factor × media duration (RQ's default 180 s is too short for long files)."""


def job_timeout(duration_s: float | None) -> int:
    """The ``job_timeout`` to enqueue an analysis of a file that lasts ``duration_s``."""
    return int(TIMEOUT_BASE_S + TIMEOUT_PER_MEDIA_S * (duration_s or 600.0))


def _write_json(data: str, path: Path) -> None:
    replace_atomically(path, lambda tmp: tmp.write_text(data, encoding="utf-8"))


def _stage(name: str) -> None:
    """Tell whoever watches the job what it is doing (``job.meta["stage"]``): two writes
    a job, so the meta is never written often."""
    from rq import get_current_job

    job = get_current_job()
    if job is not None:
        job.meta["stage"] = name
        job.save_meta()


def run_analysis(media_path: str | os.PathLike[str], profile: Profile, output_dir: str | os.PathLike[str], *,
                 display_name: str | None = None, sha256: str | None = None,
                 progress: Callable[[float], None] | None = None) -> tuple[Report, Pictures, str | None]:
    """The job's work, for any job runner: the deep report, the pictures written into
    ``output_dir`` and, when the pictures could not be made, why (the report stands)."""
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
    _write_json(report.model_dump_json(indent=1), out / REPORT_NAME)
    if progress:
        progress(1.0)
    return report, pictures, picture_error


def analyze_media(media_path: str, profile_id: str, output_dir: str, *, display_name: str | None = None,
                  sha256: str | None = None, profiles_dir: str | None = None) -> dict[str, Any]:
    """The RQ task (plain arguments): check ``media_path`` deeply against profile
    ``profile_id``, write the report and pictures into ``output_dir``; returns the verdict
    and the names written."""
    store = ProfileStore(profiles_dir or Settings.from_env().profiles_dir)
    report, pictures, picture_error = run_analysis(media_path, store.get(profile_id), output_dir,
                                                   display_name=display_name, sha256=sha256)
    written = {k: p.name for k, p in (("poster", pictures.poster), ("contact_sheet", pictures.contact_sheet),
                                      ("thumbnail", pictures.thumbnail)) if p is not None}
    return {"verdict": report.verdict, "report": REPORT_NAME, **written,
            **({"picture_error": picture_error} if picture_error else {})}


def load_report(output_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The report a finished job wrote (as JSON data)."""
    data: dict[str, Any] = json.loads((Path(output_dir) / REPORT_NAME).read_text(encoding="utf-8"))
    return data
