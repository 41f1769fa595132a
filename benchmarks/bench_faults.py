"""Faults under load (issue 11, "Beyond the probe"). Run: ``.venv/bin/python benchmarks/bench_faults.py``
(``--clients``, ``--size-mb`` scale the load; ``load``, ``kill``, ``redis``, ``pg``, ``worker`` or ``batch`` runs
one part).

1. ``load``: N concurrent uploads of S MB each, raw bodies and tus uploads alternating, every file
   distinct (the benchmark clip plus a unique tail), against ``mediacheck serve`` (SQLite, in-process
   jobs, check wait 0). While they run, one client polls ``/healthz`` every 0.1 s. Afterwards: every
   upload has exactly one submission, every stored file's sha256 (re-read from storage) is the
   client's, the server's RSS growth (peak VmRSS − before), the status p50/p99/max.
2. ``kill``: a raw upload and a tus upload are in flight when the API gets SIGKILL; the API is started
   again on the same data directory; the tus upload is resumed from the offset the server reports
   (HEAD), the raw one is sent again. Afterwards: each file is stored once with the right sha256,
   nothing is recorded half (no submission without its file), and every job ends (finished or failed)
   — counted after a grace period, with the jobs the kill left behind listed.
3. ``pg``: uploads in flight while PostgreSQL restarts (``--pg-url`` to a database of a cluster this
   benchmark may restart, ``--pg-cluster VERSION/NAME``; ``make postgres PG_PORT=5441`` makes one).
   Afterwards: how each upload was answered, no submission without its file, no stored original without
   its submission, and every upload that failed is stored when sent again.
4. ``redis``: RQ mode (``mediacheck serve`` and one ``mediacheck worker``, a Redis of its own without
   persistence) while Redis restarts under uploads: how each upload was answered, whether the worker
   survived, and whether every job recorded in the database still ends (a queue kept only in Redis is
   lost with it).
5. ``worker``: ``kill -9`` of an RQ worker and its work horse mid-transcode (a fix on request of an MPEG-4
   clip, ``--clip-s`` long, killed once ``GET /api/jobs/{id}`` shows progress), a new worker started; with
   ``--kills 2`` the retry's worker is killed too. Afterwards: the job's states, whether it ended, its
   attempts, fixed copies recorded (and whether any is registered with a file of another sha256), ffmpeg
   processes left running.
6. ``batch``: Redis restarted (no persistence) during ``mediacheck batch --queue`` with one ``mediacheck
   worker`` on the batch queue; a batch that stops short is run again. Afterwards: each file's lines in
   results.jsonl (none twice, none missing), those listed as failed, whether the worker survived.

The clip is made once with ffmpeg (benchmarks/bench_upload.py ``media``). Results go to stdout as JSON."""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_upload import CAMPAIGN, ROOT, Server, free_port, media, rss_kb  # noqa: E402

CHUNK = 1 << 20
"""Bytes per body chunk (raw) and per PATCH (tus: 8 MiB)."""

TUS_PATCH = 8 << 20


def body(base: Path, tail: bytes, *, delay_s: float = 0.0) -> Iterator[bytes]:
    """The clip's bytes, then ``tail`` (a unique ending: no two uploads are duplicates)."""
    with base.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk
            if delay_s:
                time.sleep(delay_s)
    yield tail


def digest(base: Path, tail: bytes) -> str:
    h = hashlib.sha256()
    for chunk in body(base, tail):
        h.update(chunk)
    return h.hexdigest()


def raw_upload(server: Server, base: Path, tail: bytes, name: str, *, delay_s: float = 0.0) -> dict:
    with httpx.Client(timeout=600) as c:
        r = c.post(server.upload_url(name), content=body(base, tail, delay_s=delay_s))
    return {"status": r.status_code, "id": r.json().get("id") if r.status_code in (201, 202) else None}


class Tus:
    """A minimal tus 1.0 client: create, PATCH in 8 MiB pieces from a given offset, HEAD."""

    def __init__(self, base: Path, tail: bytes, name: str) -> None:
        self.base, self.tail, self.name = base, tail, name
        self.size = base.stat().st_size + len(tail)
        self.path: str | None = None

    def _bytes(self, offset: int) -> Iterator[bytes]:
        piece, sent = bytearray(), 0
        for chunk in body(self.base, self.tail):
            if sent + len(chunk) <= offset:
                sent += len(chunk)
                continue
            chunk = chunk[max(0, offset - sent):]
            sent = max(sent, offset) + len(chunk)
            piece += chunk
            while len(piece) >= TUS_PATCH:
                yield bytes(piece[:TUS_PATCH])
                del piece[:TUS_PATCH]
        if piece:
            yield bytes(piece)

    def create(self, url: str) -> None:
        b64 = base64.b64encode
        meta = f"filename {b64(self.name.encode()).decode()},filetype {b64(b'video/mp4').decode()}"
        with httpx.Client(timeout=60) as c:
            r = c.post(f"{url}/files/{CAMPAIGN}/", headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(self.size),
                                                          "Upload-Metadata": meta})
        assert r.status_code == 201, r.text
        loc = r.headers["location"]
        self.path = loc if loc.startswith("/") else "/" + loc.split("/", 3)[3]

    def offset(self, url: str) -> int:
        with httpx.Client(timeout=60) as c:
            r = c.head(url + str(self.path), headers={"Tus-Resumable": "1.0.0"})
        return int(r.headers["upload-offset"])

    def send(self, url: str, offset: int = 0, *, stop_after: int | None = None, delay_s: float = 0.0) -> dict:
        """PATCH from ``offset`` to the end (or ``stop_after`` pieces); the submission id at the end."""
        sub = None
        with httpx.Client(timeout=600) as c:
            for i, piece in enumerate(self._bytes(offset)):
                if stop_after is not None and i >= stop_after:
                    break
                r = c.patch(url + str(self.path), content=piece, headers={
                    "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream"})
                if r.status_code != 204:
                    return {"status": r.status_code, "id": None, "offset": offset, "error": r.text[:300]}
                offset = int(r.headers["upload-offset"])
                sub = r.headers.get("mediacheck-submission") or sub
                if delay_s:
                    time.sleep(delay_s)
        return {"status": 204, "id": sub, "offset": offset}


def stored(data: Path, pg_url: str | None = None) -> list[dict]:
    """Every submission row, with the sha256 of its stored file re-read from storage."""
    query = "SELECT id, file_name, sha256, storage_key, status, verdict FROM submissions"
    if pg_url:
        import psycopg

        with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://")) as db:
            rows = db.execute(query).fetchall()
    else:
        with sqlite3.connect(data / "mediacheck.db") as db:
            rows = db.execute(query).fetchall()
    out = []
    for sub_id, name, sha, key, status, verdict in rows:
        path = data / "storage" / key
        on_disk = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
        out.append({"id": sub_id, "name": name, "sha256": sha, "on_disk": on_disk, "status": status,
                    "verdict": verdict})
    return out


def jobs(data: Path) -> dict[str, int]:
    with sqlite3.connect(data / "mediacheck.db") as db:
        return dict(db.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())


def poll(url: str, stop: threading.Event, latencies: list[float]) -> None:
    with httpx.Client(timeout=30) as c:
        while not stop.is_set():
            t = time.perf_counter()
            try:
                c.get(url + "/healthz")
                latencies.append((time.perf_counter() - t) * 1000)
            except httpx.HTTPError:
                latencies.append(float("inf"))
            time.sleep(0.1)


def part_load(base: Path, clients: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        data = Path(tmp)
        server = Server(data, check_wait=0)
        try:
            before = rss_kb(server.proc.pid)
            peak = before
            tails = [os.urandom(32) for _ in range(clients)]
            want = {digest(base, t) for t in tails}
            results: list[dict] = [{} for _ in range(clients)]

            def one(i: int) -> None:
                name = f"load-{i}.mp4"
                if i % 2 == 0:
                    results[i] = raw_upload(server, base, tails[i], name)
                else:
                    up = Tus(base, tails[i], name)
                    up.create(server.url)
                    results[i] = up.send(server.url)

            stop, latencies = threading.Event(), []
            poller = threading.Thread(target=poll, args=(server.url, stop, latencies))
            poller.start()
            t0 = time.perf_counter()
            threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
            for t in threads:
                t.start()
            while any(t.is_alive() for t in threads):
                peak = max(peak, rss_kb(server.proc.pid))
                time.sleep(0.05)
            elapsed = time.perf_counter() - t0
            stop.set()
            poller.join()
            rows = stored(data)
        finally:
            server.stop()
    ok = [r for r in rows if r["sha256"] == r["on_disk"] and r["sha256"] in want]
    finite = sorted(x for x in latencies if x != float("inf"))
    return {
        "clients": clients, "size_mb": round(base.stat().st_size / 1e6), "seconds": round(elapsed, 1),
        "answers": sorted({r.get("status") for r in results}),
        "submissions": len(rows), "sha256_match": len(ok), "distinct": len({r["sha256"] for r in rows}),
        "rss_growth_mb": round((peak - before) / 1024), "status_ms": {
            "p50": round(statistics.median(finite), 1) if finite else None,
            "p99": round(finite[int(len(finite) * 0.99) - 1], 1) if finite else None,
            "max": round(finite[-1], 1) if finite else None,
            "failed": sum(1 for x in latencies if x == float("inf"))},
    }


def part_kill(base: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        data = Path(tmp)
        server = Server(data, check_wait=0)
        raw_tail, tus_tail = os.urandom(32), os.urandom(32)
        up = Tus(base, tus_tail, "kill-tus.mp4")
        up.create(server.url)
        first = up.send(server.url, stop_after=2)  # two pieces stored
        answers: dict[str, object] = {}
        raw = threading.Thread(target=lambda: answers.update(raw=_try(lambda: raw_upload(
            server, base, raw_tail, "kill-raw.mp4", delay_s=0.05))))
        patch = threading.Thread(target=lambda: answers.update(tus=_try(lambda: up.send(
            server.url, first["offset"], delay_s=0.3))))
        raw.start()
        patch.start()
        time.sleep(1.5)
        os.kill(server.proc.pid, signal.SIGKILL)  # mid-upload, both
        server.proc.wait()
        raw.join()
        patch.join()
        tmp_left = sum(1 for _ in (data / "storage" / "tmp").glob("*")) if (data / "storage" / "tmp").exists() else 0
        after_kill = stored(data)
        server = Server(data, check_wait=0)  # restarted on the same data directory
        try:
            offset = up.offset(server.url)
            resumed = up.send(server.url, offset)
            # the raw client sends again only when it got no answer (as a person would)
            again = raw_upload(server, base, raw_tail, "kill-raw.mp4") if not isinstance(answers["raw"], dict) \
                else {"status": "not needed"}
            time.sleep(10)  # the checks of the two uploads
            rows = stored(data)
            states = jobs(data)
        finally:
            server.stop()
    want = {digest(base, raw_tail), digest(base, tus_tail)}
    return {
        "answers_during_kill": {k: str(v)[:120] for k, v in answers.items()},
        "recorded_at_kill": len(after_kill),
        "half_recorded_at_kill": sum(1 for r in after_kill if r["on_disk"] is None),
        "tmp_files_left_by_kill": tmp_left, "tus_offset_after_restart": offset,
        "tus_resumed": resumed.get("status"), "raw_again": again.get("status"),
        "submissions": len(rows),
        "sha256_match": sum(1 for r in rows if r["sha256"] == r["on_disk"] and r["sha256"] in want),
        "recorded_twice": len(rows) - len({r["sha256"] for r in rows}), "jobs": states,
    }


class PgServer(Server):
    """``mediacheck serve`` on PostgreSQL (``Server`` runs it on SQLite)."""

    def __init__(self, data: Path, pg_url: str) -> None:  # noqa: D107 - (Server's start, with the database)
        import subprocess

        self.port = free_port()
        env = {**os.environ, "MEDIACHECK_DATA_DIR": str(data), "MEDIACHECK_CHECK_WAIT_S": "0",
               "MEDIACHECK_DATABASE_URL": pg_url}
        env.pop("MEDIACHECK_REDIS_URL", None)
        self.proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(self.port)],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                if httpx.get(self.url + "/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")


def part_pg(base: Path, clients: int, pg_url: str, cluster: str) -> dict:
    import subprocess

    admin = pg_url.rsplit("/", 1)[0] + "/postgres"
    name = f"bench_faults_{os.getpid()}"
    import psycopg

    plain = admin.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    url = pg_url.rsplit("/", 1)[0] + f"/{name}"
    version, cname = cluster.split("/")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
            data = Path(tmp)
            server = PgServer(data, url)
            try:
                tails, answers, threads = slow_uploads(server, base, "pg", clients)
                time.sleep(1.0)
                t0 = time.perf_counter()
                subprocess.run(["pg_ctlcluster", version, cname, "restart", "-m", "fast"], check=True)
                restart_s = time.perf_counter() - t0
                for t in threads:
                    t.join()
                rows_after = stored(data, url)
                originals = sum(1 for p in (data / "storage" / "originals").rglob("*") if p.is_file())
                retried = [raw_upload(server, base, tails[i], f"pg-{i}.mp4") for i in range(clients)
                           if not (isinstance(answers[i], dict) and answers[i].get("status") in (201, 202))]
                for _ in range(60):  # the checks: every job should end (finished or failed)
                    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as db:
                        if not db.execute("SELECT count(*) FROM jobs WHERE state IN ('queued', 'started')"
                                          ).fetchone()[0]:
                            break
                    time.sleep(0.5)
                rows = stored(data, url)
                with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as db:
                    states = dict(db.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
            finally:
                server.stop()
    finally:
        with psycopg.connect(plain, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    want = {digest(base, t) for t in tails}
    codes: dict[str, int] = {}
    for a in answers:
        key = str(a.get("status")) if isinstance(a, dict) else str(a).split(":")[0]
        codes[key] = codes.get(key, 0) + 1
    return {
        "clients": clients, "restart_s": round(restart_s, 1), "answers_during_restart": codes,
        "recorded_after_restart": len(rows_after),
        "half_recorded": [f'{r["name"]}: {r["status"]}/{r["verdict"]}' for r in rows_after if r["on_disk"] is None],
        "originals_without_a_row": originals - len(rows_after),
        "sent_again": len(retried), "sent_again_answers": sorted({str(r.get("status")) for r in retried}),
        "submissions": len(rows), "sha256_match": sum(1 for r in rows if r["sha256"] == r["on_disk"]
                                                      and r["sha256"] in want),
        "recorded_twice": len(rows) - len({r["sha256"] for r in rows}), "jobs": states,
    }


def part_redis(base: Path, clients: int) -> dict:
    import subprocess

    port = free_port()
    redis_cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    redis = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        data = Path(tmp)
        env = {**os.environ, "MEDIACHECK_DATA_DIR": str(data), "MEDIACHECK_CHECK_WAIT_S": "0",
               "MEDIACHECK_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        env.pop("MEDIACHECK_DATABASE_URL", None)
        server = RedisServer(env)
        worker = subprocess.Popen([sys.executable, "-m", "service.cli", "worker"], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            tails, answers, threads = slow_uploads(server, base, "redis", clients)
            time.sleep(1.0)
            redis.terminate()
            redis.wait()
            time.sleep(1.0)
            redis = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL)
            for t in threads:
                t.join()
            for _ in range(120):  # up to a minute for the jobs to end
                states = jobs(data)
                if not states.get("queued") and not states.get("started"):
                    break
                time.sleep(0.5)
            rows = stored(data)
            worker_alive = worker.poll() is None
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            server.stop()
            redis.terminate()
            redis.wait()
    want = {digest(base, t) for t in tails}
    codes: dict[str, int] = {}
    for a in answers:
        key = str(a.get("status")) if isinstance(a, dict) else str(a).split(":")[0]
        codes[key] = codes.get(key, 0) + 1
    return {
        "clients": clients, "answers_during_restart": codes, "worker_survived": worker_alive,
        "submissions": len(rows), "sha256_match": sum(1 for r in rows if r["sha256"] == r["on_disk"]
                                                      and r["sha256"] in want),
        "half_recorded": sum(1 for r in rows if r["on_disk"] is None), "jobs_after_a_minute": states,
    }


class RedisServer(Server):
    """``mediacheck serve`` with the given environment (RQ mode)."""

    def __init__(self, env: dict[str, str]) -> None:  # noqa: D107
        import subprocess

        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(self.port)],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                if httpx.get(self.url + "/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")


SLOW_FIX_PROFILE = """\
id: bench-faults-fix
version: "1"
title: {zh-CN: 故障测试修复, en: Fault bench fix}
kinds:
  video:
    container: {allowed: [mp4]}
    video_codec: {allowed: [h264]}
    fix: {preset: slow}
"""
"""H.264 wanted, re-encoded with preset slow: a transcode long enough to be killed in the middle."""


def mpeg4_clip(seconds: int) -> Path:
    """1280×720 MPEG-4 Part 2 in MP4, ``seconds`` long: needs a re-encode to H.264."""
    import subprocess

    from bench_upload import BENCH

    out = BENCH / f"faults-mpeg4-720p-{seconds}s.mp4"
    if not out.exists():
        BENCH.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc2=size=1280x720:rate=25:d={seconds}", "-f", "lavfi", "-i",
                        f"sine=frequency=440:duration={seconds}", "-c:v", "mpeg4", "-q:v", "5",
                        "-c:a", "aac", "-movflags", "+faststart", str(out)], check=True)
    return out


def children(pid: int) -> list[int]:
    """The direct child processes of ``pid`` (a worker's work horse)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def ffmpeg_pids() -> set[int]:
    pids = set()
    for d in Path("/proc").glob("[0-9]*"):
        try:
            if (d / "comm").read_text().strip() == "ffmpeg":
                pids.add(int(d.name))
        except OSError:
            continue
    return pids


def _attempts(data: Path) -> int:
    with sqlite3.connect(data / "mediacheck.db") as db:
        row = db.execute("SELECT attempts FROM jobs WHERE kind='transcode'").fetchone()
    return int(row[0]) if row else 0


def part_worker(seconds: int, wait_s: float, kills: int = 1) -> dict:
    """kill -9 of an RQ worker and its work horse mid-transcode; a new worker started."""
    import subprocess

    clip = mpeg4_clip(seconds)
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        data = Path(tmp)
        profiles = data / "profiles"
        profiles.mkdir()
        (profiles / "bench-faults-fix.yaml").write_text(SLOW_FIX_PROFILE, encoding="utf-8")
        env = {**os.environ, "MEDIACHECK_DATA_DIR": str(data), "MEDIACHECK_CHECK_WAIT_S": "0",
               "MEDIACHECK_PROFILES_DIR": str(profiles), "MEDIACHECK_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        env.pop("MEDIACHECK_DATABASE_URL", None)
        server = RedisServer(env)
        ffmpeg_before = ffmpeg_pids()

        def start_worker() -> subprocess.Popen:
            return subprocess.Popen([sys.executable, "-m", "service.cli", "worker"], env=env, cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        worker = start_worker()
        seen: list[str] = []
        try:
            with httpx.Client(base_url=server.url, timeout=60) as c:
                r = c.post("/api/campaigns/bench-faults-fix/submissions", params={"name": "kill-worker.mp4"},
                           content=clip.read_bytes())
                assert r.status_code in (201, 202), r.text
                sub = r.json()
                token = sub["receipt_token"]
                for _ in range(600):  # the check, then the fix on request
                    r = c.post(f"/api/submissions/{sub['id']}/fix", params={"token": token})
                    if r.status_code == 202:
                        break
                    time.sleep(0.1)
                assert r.status_code == 202, r.text
                job_url = r.json()["links"]["job"]
                t0 = time.monotonic()
                horses: list[int] = []
                percent_at_kill = []
                for k in range(kills):  # kill the worker that runs attempt k + 1, then start another
                    job = c.get(job_url).json()
                    while not (job["state"] == "started" and (job.get("detail") or {}).get("percent", 0) > 0
                               and _attempts(data) == k + 1):
                        assert job["state"] in ("queued", "started") and time.monotonic() - t0 < 600, job
                        time.sleep(0.2)
                        job = c.get(job_url).json()
                    percent_at_kill.append(job["detail"]["percent"])
                    horses += children(worker.pid)
                    for pid in children(worker.pid):
                        os.kill(pid, signal.SIGKILL)
                    os.kill(worker.pid, signal.SIGKILL)
                    worker.wait()
                    time.sleep(2)
                    if k == 0:
                        orphans = sorted(ffmpeg_pids() - ffmpeg_before)
                        derived_at_kill = sorted(str(p.relative_to(data)) for p in
                                                 (data / "storage").rglob("derived/**/*") if p.is_file())
                    worker = start_worker()
                t1 = time.monotonic()
                while time.monotonic() - t1 < wait_s:
                    job = c.get(job_url).json()
                    if not seen or seen[-1] != job["state"]:
                        seen.append(job["state"])
                    if job["state"] not in ("queued", "started"):
                        break
                    time.sleep(1)
                ended_after_s = round(time.monotonic() - t1, 1)
                fixed = c.get(f"/api/submissions/{sub['id']}/fixed", params={"token": token})
            with sqlite3.connect(data / "mediacheck.db") as db:
                copies = db.execute("SELECT storage_key, sha256, job_id FROM fixed_copies").fetchall()
                attempts = db.execute("SELECT attempts, retries FROM jobs WHERE kind='transcode'").fetchall()
            derived = sorted(p for p in (data / "storage").rglob("derived/**/*") if p.is_file())
            registered = {k for k, _sha, _j in copies}
            half = [str(p.relative_to(data)) for p in derived
                    if str(p.relative_to(data / "storage")) in registered
                    and hashlib.sha256(p.read_bytes()).hexdigest() != next(
                        sha for k, sha, _j in copies if k == str(p.relative_to(data / "storage")))]
        finally:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
            server.stop()
            redis.terminate()
            redis.wait()
    return {
        "clip_s": seconds, "kills": kills, "percent_at_kill": percent_at_kill, "horses_killed": len(horses),
        "ffmpeg_left_running_after_kill": len(orphans), "derived_files_at_kill": derived_at_kill,
        "job_states_seen_after_restart": seen, "ended_after_s": ended_after_s, "final_state": job["state"],
        "error": job.get("error"), "result_status": (job.get("result") or {}).get("status"),
        "attempts_retries": attempts, "fixed_copies": len(copies),
        "fixed_copies_of_distinct_jobs": len({j for _k, _s, j in copies}),
        "fixed_served": fixed.status_code, "derived_files": len(derived),
        "registered_but_not_matching_sha256": half,
    }


def part_batch(files: int, clip_s: int) -> dict:
    """Redis restarted (no persistence: every job lost) during ``mediacheck batch --queue`` with one
    ``mediacheck worker`` on the batch queue; when the batch stops short it is run again (resumed), as a
    person would."""
    import subprocess

    clip = mpeg4_clip(clip_s).read_bytes()
    port = free_port()
    redis_cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    redis = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    url = f"redis://127.0.0.1:{port}/0"
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        data = Path(tmp)
        src, out = data / "in", data / "out"
        src.mkdir()
        for i in range(files):
            (src / f"batch-{i:02d}.mp4").write_bytes(clip + os.urandom(32))
        profile = data / "bench-faults-fix.yaml"
        profile.write_text(SLOW_FIX_PROFILE, encoding="utf-8")
        env = {**os.environ, "MEDIACHECK_DATA_DIR": str(data / "svc"), "MEDIACHECK_REDIS_URL": url,
               "MEDIACHECK_QUEUE": "mediacheck-batch"}
        env.pop("MEDIACHECK_DATABASE_URL", None)
        worker_log = (data / "worker.log").open("wb")
        worker = subprocess.Popen([sys.executable, "-m", "service.cli", "worker"], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=worker_log)
        cmd = [sys.executable, "-m", "service.cli", "batch", str(src), "--profile", str(profile), "--out", str(out),
               "--queue", url]
        results = out / "results.jsonl"

        def lines() -> list[dict]:
            return [json.loads(x) for x in results.read_text(encoding="utf-8").splitlines()] if results.exists() else []

        runs = []
        try:
            t0 = time.perf_counter()
            batch = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            while len(lines()) < max(1, files // 4) and batch.poll() is None:
                time.sleep(0.1)
            done_at_restart = len(lines())
            redis.terminate()
            redis.wait()
            time.sleep(1.0)
            redis = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL)
            _, err = batch.communicate(timeout=900)
            runs.append({"exit": batch.returncode, "seconds": round(time.perf_counter() - t0, 1),
                         "stderr_tail": err.decode(errors="replace").strip().splitlines()[-1:]})
            first = lines()
            if len(first) < files:  # stopped short: run it again (it resumes)
                again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, timeout=900)
                runs.append({"exit": again.returncode,
                             "stderr_tail": again.stderr.decode(errors="replace").strip().splitlines()[-1:]})
            final = lines()
            worker_alive = worker.poll() is None
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            worker_log.close()
            worker_said = [x for x in (data / "worker.log").read_text(errors="replace").splitlines()
                           if "Error" in x][-2:]
            redis.terminate()
            redis.wait()
    names = [r["entry"]["name"] for r in final]
    failed = [r["entry"]["name"] for r in final if (r.get("report") or {}).get("verdict") == "error"]
    return {
        "files": files, "done_at_restart": done_at_restart, "runs": runs, "lines_after_first_run": len(first),
        "entries_in_results": len(set(names)), "recorded_twice": len(names) - len(set(names)),
        "missing": files - len(set(names)), "listed_failed": len(failed), "worker_survived": worker_alive,
        "worker_errors": worker_said,
        "failed_reasons": sorted({str(((r.get("report") or {}).get("error") or {}).get("message", ""))[:160]
                                  for r in final if (r.get("report") or {}).get("verdict") == "error"}),
    }


def slow_uploads(server: Server, base: Path, prefix: str, clients: int
                 ) -> tuple[list[bytes], list[object], list[threading.Thread]]:
    """``clients`` slow raw uploads (``PREFIX-i.mp4``, a tail of their own each, so every digest
    differs) started in threads, to be caught by a fault: ``answers[i]`` is what client i saw."""
    tails = [os.urandom(32) for _ in range(clients)]
    answers: list[object] = [None] * clients

    def one(i: int) -> None:
        answers[i] = _try(lambda: raw_upload(server, base, tails[i], f"{prefix}-{i}.mp4", delay_s=0.03))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    return tails, answers, threads


def _try(fn):  # type: ignore[no-untyped-def]
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - what the client saw when the server died
        return f"{type(e).__name__}: {e}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("part", nargs="?", choices=("load", "kill", "pg", "redis", "worker", "batch", "all"), default="all")
    ap.add_argument("--pg-url", help="postgresql+psycopg://postgres@127.0.0.1:5441/postgres (for `pg`)")
    ap.add_argument("--pg-cluster", help="VERSION/NAME of that cluster, which `pg` restarts (pg_ctlcluster)")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--size-mb", type=int, default=300)
    ap.add_argument("--clip-s", type=int, default=20, help="`worker`: seconds of the clip to re-encode")
    ap.add_argument("--wait-s", type=float, default=300, help="`worker`: how long the job may take to end")
    ap.add_argument("--kills", type=int, default=1, help="`worker`: how many workers are killed, one after another")
    ap.add_argument("--files", type=int, default=16, help="`batch`: files in the folder")
    args = ap.parse_args()
    base = media(args.size_mb) if args.part not in ("worker", "batch") else Path()
    out = {}
    if args.part in ("load", "all"):
        out["load"] = part_load(base, args.clients)
    if args.part in ("kill", "all"):
        out["kill"] = part_kill(base)
    if args.part in ("redis", "all"):
        out["redis"] = part_redis(base, min(args.clients, 6))
    if args.part in ("worker", "all"):
        out["worker"] = part_worker(args.clip_s, args.wait_s, args.kills)
    if args.part in ("batch", "all"):
        out["batch"] = part_batch(args.files, min(args.clip_s, 4))
    if args.part == "pg" or (args.part == "all" and args.pg_url):
        out["pg"] = part_pg(base, min(args.clients, 6), args.pg_url, args.pg_cluster)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
