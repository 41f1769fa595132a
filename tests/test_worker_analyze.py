"""The deep-analysis job through a real Redis and a real (burst) RQ worker."""

from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker
from rq.job import JobStatus

from tests.support.media import written
from tests.support.redisdb import clean_redis
from tests.support.scenes import LARGE as scenes
from workers.analyze import analyze_media, job_timeout, load_report

REDIS_DB = 11
"""This helper's spare Redis database (flushed before and after each test)."""


@pytest.fixture
def redis():
    yield from clean_redis(f"redis://127.0.0.1:6379/{REDIS_DB}", required=True)


def run_job(redis, *args, **kwargs):
    q = Queue("analysis", connection=redis)
    job = q.enqueue(analyze_media, *args, job_timeout=job_timeout(10), **kwargs)
    SimpleWorker([q], connection=redis).work(burst=True)
    job.refresh()
    return job


def test_job_writes_report_and_pictures(redis, validate_report, tmp_path):
    out = tmp_path / "derived" / "sub-1"
    job = run_job(redis, str(scenes.pillarboxed()), "shanxi-2023-microvideo", str(out),
                  display_name="我的作品.mp4")
    assert job.get_status() == JobStatus.FINISHED
    assert job.get_meta(refresh=True)["stage"] == "pictures"
    assert job.return_value() == {"verdict": "fail", "report": "report.json", "poster": "poster.jpg",
                                  "contact_sheet": "contact-sheet.jpg", "thumbnail": "thumbnail.jpg"}
    assert sorted(p.name for p in out.iterdir()) == ["contact-sheet.jpg", "poster.jpg", "report.json",
                                                     "thumbnail.jpg"]
    report = validate_report(load_report(out))
    assert report["file"]["name"] == "我的作品.mp4"
    assert report["analysis"]["borders"]["kind"] == "pillarbox"
    assert {c["rule"]: c["status"] for c in report["checks"]}["borders"] == "fail"


def test_job_on_unreadable_file_stores_an_error_report(redis, tmp_path):
    bogus = written("garbage.mp4", b"\x00garbage" * 500)
    job = run_job(redis, str(bogus), "shanxi-2023-microvideo", str(tmp_path / "out"))
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value() == {"verdict": "error", "report": "report.json"}
    assert load_report(tmp_path / "out")["error"]["code"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["report.json"]


def test_photo_gets_a_thumbnail(tmp_path):
    from PIL import Image

    src = tmp_path / "photo.jpg"
    Image.new("RGB", (2000, 1500), (40, 90, 200)).save(src, "JPEG")
    result = analyze_media(str(src), "kepuri-2023-history-photo", str(tmp_path / "out"))
    assert result["thumbnail"] == "thumbnail.jpg"
    with Image.open(tmp_path / "out" / "thumbnail.jpg") as img:
        assert img.size == (480, 360)
    assert load_report(tmp_path / "out")["analysis"] is None


def test_job_timeout_grows_with_duration():
    assert job_timeout(10) == 220 and job_timeout(300) == 1380 and job_timeout(None) > 180


def test_run_analysis_reports_progress(store, tmp_path):
    from workers.analyze import run_analysis

    seen: list[float] = []
    report, pictures, error = run_analysis(scenes.frozen_slide(), store.get("shanxi-2023-microvideo"),
                                           tmp_path, progress=seen.append)
    assert seen == [0.05, 0.8, 1.0] and error is None
    assert pictures.contact_sheet is not None and report.analysis.static_ratio > 0.9
