"""``mediacheck batch --queue``: a real Redis (database 12, flushed before and after) and a
real burst worker consuming the jobs while the batch gathers their records."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest
from rq import Queue, SimpleWorker

from service.batch.queue import QUEUE_NAME
from service.batch.runner import BatchOptions, run_batch
from service.core.profiles import ProfileStore, load_profile
from service.settings import DEFAULT_PROFILES_DIR
from tests.support.batch_set import build_zip, good_mp4, long_mp4, profile_path
from tests.support.redisdb import clean_redis

REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture
def redis():
    yield from clean_redis(REDIS_URL)


def test_queue_fans_out_to_workers_and_gathers_their_reports(tmp_path, redis):
    d = tmp_path / "in"
    d.mkdir()
    (d / "好.mp4").write_bytes(good_mp4().read_bytes())
    (d / "长.mp4").write_bytes(long_mp4().read_bytes())
    (d / "readme.txt").write_text("x")
    archive = build_zip(tmp_path)
    profile = load_profile(profile_path(tmp_path), ProfileStore(DEFAULT_PROFILES_DIR))
    out = tmp_path / "out"
    opts = BatchOptions(paths=[str(d), str(archive)], out_dir=out, profile=profile, queue_url=REDIS_URL)
    result = {}
    progress = io.StringIO()
    runner = threading.Thread(target=lambda: result.update(r=run_batch(opts, stream=progress)))
    runner.start()
    queue = Queue(QUEUE_NAME, connection=redis)
    deadline = time.monotonic() + 30
    while queue.count < 4 and time.monotonic() < deadline:  # 2 loose files + 2 media members
        time.sleep(0.05)
    assert queue.count == 4
    SimpleWorker([queue], connection=redis).work(burst=True)
    runner.join(timeout=60)
    assert not runner.is_alive()
    r = result["r"]
    assert (r.exit_code, r.checked) == (1, 4)
    assert "no RQ worker listens on mediacheck-batch yet" in progress.getvalue()  # none was running at first
    records = {json.loads(line)["entry"]["name"]: json.loads(line)
               for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()}
    verdicts = {name: rec["report"]["verdict"] if rec["report"] else "skipped" for name, rec in records.items()}
    assert verdicts["in/好.mp4"] == "pass"
    assert verdicts["in/长.mp4"] == "fail"
    assert verdicts["第一批作品.zip/参赛作品/科普微视频-赵六-运城科协.mp4"] == "pass"
    assert verdicts["第一批作品.zip/参赛作品/时长超标-钱七-大同.mp4"] == "fail"
    assert verdicts["in/readme.txt"] == "skipped"
    assert (out / "summary.xlsx").exists() and (out / "index.html").exists()
    assert list((out / ".mediacheck" / "work").iterdir()) == []


def test_a_job_that_never_runs_becomes_an_error_report(tmp_path, redis):
    """A job cancelled on the queue (or failed on a worker) is an error, never a hang."""
    d = tmp_path / "in"
    d.mkdir()
    (d / "好.mp4").write_bytes(good_mp4().read_bytes())
    profile = load_profile(profile_path(tmp_path), ProfileStore(DEFAULT_PROFILES_DIR))
    opts = BatchOptions(paths=[str(d)], out_dir=tmp_path / "out", profile=profile, queue_url=REDIS_URL)
    result = {}
    runner = threading.Thread(target=lambda: result.update(r=run_batch(opts, stream=io.StringIO())))
    runner.start()
    queue = Queue(QUEUE_NAME, connection=redis)
    deadline = time.monotonic() + 30
    while queue.count < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    (job,) = queue.get_jobs()
    job.cancel()
    runner.join(timeout=60)
    assert not runner.is_alive()
    (rec,) = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert result["r"].exit_code == 1
    assert rec["report"]["verdict"] == "error"
    assert rec["report"]["error"]["code"] == "worker_failed"
    assert "队列任务失败" in rec["report"]["error"]["message"]["zh-CN"]
