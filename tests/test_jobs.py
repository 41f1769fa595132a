"""Jobs: the RQ path against a real Redis (database 13, flushed before and after) with a
real worker process and a burst SimpleWorker; failure reasons in the database; timeouts
derived from the media; throttled progress."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from redis import Redis

from service.store.jobs import BASE_TIMEOUT_S, JobProgress, create_job, job_timeout
from service.store.models import Job, Submission
from tests.support.jobs import worker_env
from tests.support.server import live_server

REDIS_URL = "redis://127.0.0.1:6379/13"
"""This module's spare Redis database (the ``rq_settings`` fixture, tests/support/jobs.py)."""
URL = "/api/campaigns/test-video/submissions"


def test_upload_is_checked_by_a_separate_worker_process(rq_settings, small_video):
    from rq.job import Job as RqJob

    with live_server(rq_settings) as live:
        worker = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker"],
            env=worker_env(rq_settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            with live.client() as c:
                r = c.post(URL, params={"name": "w.mp4"}, content=small_video.read_bytes())
                assert r.status_code == 201, r.text
                body = r.json()
                job = c.get(body["links"]["job"]).json()
                ready = c.get("/readyz").json()
        finally:
            worker.send_signal(signal.SIGTERM)
            _, err = worker.communicate(timeout=30)
    assert body["verdict"] == "pass"
    assert ready["checks"]["redis"] == "ok" and ready["jobs"] == "rq"
    assert job["backend"] == "rq" and job["state"] == "finished" and job["result"]["verdict"] == "pass"
    rq_job = RqJob.fetch(job["id"], connection=Redis.from_url(REDIS_URL))
    assert rq_job.worker_name and rq_job.timeout == job["timeout_s"] > 180 - BASE_TIMEOUT_S
    assert b"Traceback" not in err


def test_burst_simple_worker_and_202_while_queued(rq_settings, small_video):
    from dataclasses import replace

    from rq import Queue, SimpleWorker

    from service.store.runtime import Context, use_context

    settings = replace(rq_settings, check_wait_s=0.3, metrics=True)
    with live_server(settings) as live, live.client() as c:
        r = c.post(URL, params={"name": "q.mp4"}, content=small_video.read_bytes())
        assert r.status_code == 202 and r.json()["job"]["state"] == "queued"
        body = r.json()
        assert c.get(body["links"]["self"]).json()["verdict"] is None
        conn = Redis.from_url(REDIS_URL)
        q = Queue(settings.queue_name, connection=conn)
        assert q.count == 1
        use_context(
            Context(
                settings=settings,
                db=live.services.db,
                storage=live.services.storage,
                store=live.services.store,
            )
        )
        try:
            SimpleWorker([q], connection=conn).work(burst=True)
        finally:
            use_context(None)
        after = c.get(body["links"]["self"]).json()
        metrics = c.get("/metrics").text
    assert after["verdict"] == "pass" and after["status"] == "checked"
    assert "mediacheck_queue_depth 0.0" in metrics


def test_failure_reason_is_stored_after_retries(rq_settings):
    from rq import SimpleWorker

    from service.core.profiles import ProfileStore
    from service.store.database import Database, migrate
    from service.store.jobs import RqQueue
    from service.store.runtime import Context, use_context
    from service.store.storage import Storage

    db = Database(rq_settings.db_url)
    migrate(db.engine)
    ctx = Context(
        settings=rq_settings,
        db=db,
        storage=Storage(rq_settings.storage_dir),
        store=ProfileStore(rq_settings.profiles_dir),
    )
    with db.session() as s:
        s.add(
            Submission(
                id="s" * 32,
                campaign_id="test-video",
                profile_id="test-video",
                file_name="gone.mp4",
                size_bytes=1,
                sha256="0" * 64,
                storage_key="originals/test-video/ss/" + "s" * 32,
                receipt_hash="1" * 64,
            )
        )
        s.flush()
        job = create_job(s, kind="nonexistent-kind", submission_id="s" * 32, timeout_s=60, retries=1, backend="rq")
    queue = RqQueue(REDIS_URL, rq_settings.queue_name)
    queue.enqueue(job.id, timeout_s=60, retries=1)
    use_context(ctx)
    try:
        SimpleWorker([queue.queue], connection=queue.connection).work(burst=True)
    finally:
        use_context(None)
        queue.shutdown()
    with db.session() as s:
        row = s.get(Job, job.id)
        assert row.state == "failed" and row.attempts == 2
        assert "nonexistent-kind" in row.error["detail"] and row.error["message"]["zh-CN"]


def test_timeout_grows_with_the_media():
    assert job_timeout("transcode", duration_s=300) > 180 * 5  # RQ's 180 s default would kill it
    assert job_timeout("transcode", duration_s=600) > job_timeout("transcode", duration_s=300)
    assert job_timeout("check", size_bytes=300 * 2**20) >= BASE_TIMEOUT_S + 15


def test_progress_is_written_at_most_once_a_second():
    saved: list[float] = []
    p = JobProgress(saved.append, interval=1.0)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.3:
        p(0.5)
    p(0.9, force=True)
    assert saved == [0.5, 0.9]


def test_inprocess_backend_when_no_redis(live, small_video):
    assert live.services.queue.backend == "inprocess"
    with live.client() as c:
        r = c.post(URL, params={"name": "i.mp4"}, content=small_video.read_bytes())
        assert c.get(r.json()["links"]["job"]).json()["backend"] == "inprocess"
        ready = c.get("/readyz").json()
    assert ready["status"] == "ready" and "redis" not in ready["checks"]


def test_a_new_job_kind_runs_through_the_same_api(live):
    """How the transcoder plugs in: register a task by kind, submit, read it at /api/jobs/{id}."""
    from service.store.jobs import submit_job
    from service.submissions.access import create_api_key
    from workers.registry import TASKS, task

    @task("test-steps")
    def steps(ctx, job, progress):
        for i in range(3):
            progress((i + 1) / 3, force=True)
        return {"steps": 3, "params": job.params}

    try:
        job_id = submit_job(
            live.services.db,
            live.services.queue,
            kind="test-steps",
            submission_id=None,
            params={"x": 1},
            duration_s=300,
        )
        with live.services.db.session() as s:
            _, admin = create_api_key(s, name="a", role="admin", campaigns=["*"])
            _, reviewer = create_api_key(s, name="r", role="reviewer", campaigns=["test-video"])
        with live.client() as c:
            for _ in range(100):
                job = c.get(f"/api/jobs/{job_id}", headers={"Authorization": f"Bearer {admin}"}).json()
                if job["state"] == "finished":
                    break
                time.sleep(0.05)
            hidden = c.get(f"/api/jobs/{job_id}", headers={"Authorization": f"Bearer {reviewer}"})
    finally:
        TASKS.pop("test-steps", None)
    assert job["state"] == "finished" and job["result"] == {"steps": 3, "params": {"x": 1}}
    assert job["progress"] == 1.0 and job["timeout_s"] == job_timeout("test-steps", duration_s=300)
    assert hidden.status_code == 404


def test_refusal_happens_in_the_worker_even_after_a_202(rq_settings, small_photo):
    """A photo sent to a video campaign is refused by the check itself, not only by the waiting request."""
    from dataclasses import replace

    from rq import Queue, SimpleWorker

    from service.store.runtime import Context, use_context

    settings = replace(rq_settings, check_wait_s=0.1)
    with live_server(settings) as live:
        with live.client() as c:
            r = c.post(URL, params={"name": "p.jpg"}, content=small_photo.read_bytes())
            assert r.status_code == 202
            conn = Redis.from_url(REDIS_URL)
            use_context(
                Context(
                    settings=settings, db=live.services.db, storage=live.services.storage, store=live.services.store
                )
            )
            try:
                SimpleWorker([Queue(settings.queue_name, connection=conn)], connection=conn).work(burst=True)
            finally:
                use_context(None)
            after = c.get(r.json()["links"]["self"]).json()
            gone = c.get(r.json()["links"]["file"])
        originals = [p for p in (live.services.storage.root / "originals").rglob("*") if p.is_file()]
    assert after["status"] == "refused" and gone.status_code == 410 and originals == []


def test_a_stalled_inprocess_job_is_given_up_and_the_queue_keeps_serving(live, small_video):
    """Issue 11.5: two jobs that never end (both in-process threads taken) are failed at their time
    budget with a bilingual reason, and an upload's check still runs meanwhile."""
    import threading

    from service.store.jobs import create_job
    from service.submissions.access import create_api_key
    from workers.registry import TASKS, task

    release = threading.Event()

    @task("test-stall")
    def stall(ctx, job, progress):
        release.wait(60)
        return {"late": True}

    queue = live.services.queue
    try:
        with live.services.db.session() as s:
            stalled = [create_job(s, kind="test-stall", submission_id=None, timeout_s=1, retries=0,
                                  backend="inprocess").id for _ in range(2)]
            _, admin = create_api_key(s, name="a", role="admin", campaigns=["*"])
        for job_id in stalled:
            queue.enqueue(job_id, timeout_s=1, retries=0)
        auth = {"Authorization": f"Bearer {admin}"}
        with live.client() as c:
            r = c.post(URL, params={"name": "after.mp4"}, content=small_video.read_bytes())
            assert r.status_code in (201, 202), r.text
            check_url = r.json()["links"]["job"]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                check = c.get(check_url).json()
                jobs = [c.get(f"/api/jobs/{j}", headers=auth).json() for j in stalled]
                if check["state"] == "finished" and all(j["state"] == "failed" for j in jobs):
                    break
                time.sleep(0.2)
        assert not release.is_set()  # the stalled jobs were still running all along
    finally:
        release.set()
        TASKS.pop("test-stall", None)
    assert check["state"] == "finished"
    for j in jobs:
        assert j["state"] == "failed", j
        assert "(1 s)" in j["error"]["message"]["en"] and "超过时限（1 秒）" in j["error"]["message"]["zh-CN"]


def test_inprocess_jobs_a_dead_process_left_are_failed_at_start(service_settings, tmp_path):
    """kill -9 of the API while a check runs left the job `started` for ever (bench_faults.py):
    the next start records it failed, with a reason, and the submission as `error`."""
    from dataclasses import replace

    from service.core.profiles import ProfileStore
    from service.store.database import Database, migrate
    from service.store.jobs import ORPHANED_REASON
    from service.store.runtime import Context, in_process_queue
    from service.store.storage import Storage

    settings = replace(service_settings, data_dir=tmp_path)
    db = Database(settings.db_url)
    migrate(db.engine)
    with db.session() as s:
        s.add(Submission(id="o" * 32, campaign_id="test-video", profile_id="test-video", file_name="k.mp4",
                         size_bytes=1, sha256="0" * 64, storage_key="originals/x", receipt_hash="1" * 64,
                         status="checking"))
        s.flush()
        left = [create_job(s, kind="check", submission_id="o" * 32, timeout_s=60, backend="inprocess"),
                create_job(s, kind="deep", submission_id=None, timeout_s=60, backend="inprocess"),
                create_job(s, kind="check", submission_id=None, timeout_s=60, backend="rq")]
        left[0].state = "started"
        ids = [j.id for j in left]
    ctx = Context(settings=settings, db=db, storage=Storage(settings.storage_dir), store=ProfileStore(
        settings.profiles_dir))
    queue = in_process_queue(ctx)
    try:
        with db.session() as s:
            rows = [s.get(Job, i) for i in ids]
            assert [r.state for r in rows] == ["failed", "failed", "queued"]  # RQ's own are RQ's business
            assert rows[0].error["message"] == ORPHANED_REASON["message"] and rows[0].finished_at is not None
            assert "服务在此任务排队或运行时停止" in rows[1].error["message"]["zh-CN"]
            assert s.get(Submission, "o" * 32).status == "error"
    finally:
        queue.shutdown()


def test_enqueue_waits_for_a_redis_that_restarts(monkeypatch):
    """Redis restarting under uploads answered 500 and left the check queued for good (bench_faults.py
    redis): the enqueue now asks again for a few seconds; a Redis gone for good is a 503."""
    import socket
    import threading

    import pytest

    import service.store.jobs as jobs
    from service.core.errors import RequestError
    from service.store.jobs import RqQueue

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):
            try:
                if Redis(port=port).ping():
                    break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.1)
        return proc

    redis = start()
    queue = RqQueue(f"redis://127.0.0.1:{port}/0", "restart-test")
    later: list[subprocess.Popen] = []
    timer = threading.Timer(1.0, lambda: later.append(start()))
    try:
        redis.terminate()
        redis.wait()
        timer.start()
        t = time.monotonic()
        queue.enqueue("r" * 32, timeout_s=60, retries=0)
        assert 0.9 < time.monotonic() - t < 10 and queue.depth() == 1
        later[0].terminate()
        later[0].wait()
        monkeypatch.setattr(jobs, "ENQUEUE_RETRY_DELAYS_S", (0.1, 0.1))
        with pytest.raises(RequestError) as e:
            queue.enqueue("s" * 32, timeout_s=60, retries=0)
        assert (e.value.status, e.value.code) == (503, "queue_unavailable")
        assert "请稍后重新上传" in e.value.message["zh-CN"] and "upload it again later" in e.value.message["en"]
    finally:
        timer.join()
        for p in [redis, *later]:
            if p.poll() is None:
                p.terminate()
                p.wait()
