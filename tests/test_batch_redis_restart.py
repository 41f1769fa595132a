"""``mediacheck batch --queue`` while its Redis restarts without persistence (every queued job lost): the
batch waits for Redis instead of stopping with a traceback, sends the lost jobs again, and every file ends
in results.jsonl exactly once; a Redis that stays away gets every file in flight listed as failed.
A Redis of the test's own (tests/support/own_redis.py)."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, SimpleWorker

from service.batch import queue as batch_queue
from service.batch.queue import QUEUE_NAME
from service.batch.runner import BatchOptions, BatchResult, run_batch
from service.core.profiles import ProfileStore, load_profile
from service.settings import DEFAULT_PROFILES_DIR
from tests.support.batch_set import good_mp4, profile_path
from tests.support.own_redis import OwnRedis
from tests.support.own_redis import own_redis as own_redis  # noqa: F401 - the fixture

FILES = 4


def _folder(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    for i in range(FILES):
        (d / f"作品{i}.mp4").write_bytes(good_mp4().read_bytes())
    return d


def _start(tmp_path: Path, url: str) -> tuple[threading.Thread, dict[str, BatchResult], Path]:
    profile = load_profile(profile_path(tmp_path), ProfileStore(DEFAULT_PROFILES_DIR))
    out = tmp_path / "out"
    opts = BatchOptions(paths=[str(_folder(tmp_path))], out_dir=out, profile=profile, queue_url=url)
    result: dict[str, BatchResult] = {}
    runner = threading.Thread(target=lambda: result.update(r=run_batch(opts, stream=io.StringIO())))
    runner.start()
    return runner, result, out


def _wait_queued(url: str, count: int) -> Queue:
    queue = Queue(QUEUE_NAME, connection=Redis.from_url(url))
    deadline = time.monotonic() + 30
    while queue.count < count:
        assert time.monotonic() < deadline, queue.count
        time.sleep(0.05)
    return queue


def _records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]


def test_a_redis_restart_loses_no_file_and_records_none_twice(tmp_path: Path, own_redis: OwnRedis) -> None:
    runner, result, out = _start(tmp_path, own_redis.url)
    queue = _wait_queued(own_redis.url, FILES)
    SimpleWorker([queue], connection=queue.connection).work(burst=True, max_jobs=1)  # one file done
    deadline = time.monotonic() + 30
    while not (out / "results.jsonl").exists() or len(_records(out)) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    own_redis.stop()  # the other jobs are lost with it
    time.sleep(1.5)  # the batch polls a Redis that does not answer
    assert runner.is_alive()  # was: redis.exceptions.ConnectionError, the batch stopped
    own_redis.start()
    queue = _wait_queued(own_redis.url, FILES - 1)  # sent again
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    runner.join(timeout=60)
    assert not runner.is_alive()
    names = [r["entry"]["name"] for r in _records(out)]
    verdicts = {r["report"]["verdict"] for r in _records(out)}
    assert sorted(names) == sorted(f"in/作品{i}.mp4" for i in range(FILES))  # each once
    assert verdicts == {"pass"} and result["r"].checked == FILES


def test_a_redis_that_stays_away_gets_every_file_listed_as_failed(tmp_path: Path, own_redis: OwnRedis,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_queue, "REDIS_OUTAGE_S", 1.0)
    runner, result, out = _start(tmp_path, own_redis.url)
    _wait_queued(own_redis.url, FILES)
    own_redis.stop()
    runner.join(timeout=60)
    assert not runner.is_alive()
    records = _records(out)
    assert sorted(r["entry"]["name"] for r in records) == sorted(f"in/作品{i}.mp4" for i in range(FILES))
    for r in records:
        assert r["report"]["verdict"] == "error" and r["report"]["error"]["code"] == "worker_failed"
        message = r["report"]["error"]["message"]
        assert "队列任务失败" in message["zh-CN"] and "Redis did not answer" in message["en"]
    assert result["r"].checked == FILES
