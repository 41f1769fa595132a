"""Migrations and the database edge: SQLite by default, and a real PostgreSQL (a fresh
database made and dropped by the test) when one listens on 127.0.0.1:5432."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, inspect, text

from service.store.database import Database, current_revision, migrate
from service.store.models import Submission
from service.store.search import UNMODELLED
from tests.support.pg import PG_ADMIN_URL, scratch_database
from tests.support.server import live_server

TABLES = {
    "campaigns",
    "submissions",
    "reports",
    "submission_summaries",
    "summary_counts",
    "entry_sort_keys",
    "jobs",
    "decisions",
    "api_keys",
    "uploads",
    "fixed_copies",
    "alembic_version",
}
FTS_TABLES = {name for kind, name in UNMODELLED if kind == "table"}
"""SQLite only: the search index (migration 0007), an FTS5 table and its shadow tables."""


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from service.store.database import MIGRATIONS_DIR

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    return head


def test_sqlite_migrates_from_nothing_to_head(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    assert current_revision(db.engine) is None
    migrate(db.engine)
    assert current_revision(db.engine) == head_revision()
    assert set(inspect(db.engine).get_table_names()) == TABLES | FTS_TABLES
    migrate(db.engine)  # idempotent
    from alembic import command

    from service.store.database import alembic_config

    command.downgrade(alembic_config(db.engine), "base")
    assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}


@pytest.fixture
def pg_url():
    yield from scratch_database("mediacheck_t")


def test_postgresql_end_to_end(pg_url, service_settings, small_video):
    settings = replace(service_settings, database_url=pg_url.replace("postgresql+psycopg://", "postgresql://"))
    with live_server(settings) as live:
        assert live.services.db.engine.dialect.name == "postgresql"
        with live.client() as c:
            r = c.post(
                "/api/campaigns/test-video/submissions",
                params={"name": "视频.mp4"},
                content=small_video.read_bytes(),
            )
            assert r.status_code == 201, r.text
            assert c.get("/readyz").json()["checks"]["database"] == "ok"
            status = c.get(r.json()["links"]["self"]).json()  # read in a thread (not SQLite)
            assert status["verdict"] == "pass" and status["jobs"][0]["state"] == "finished"
            assert not live.services.db.local
        with live.services.db.session() as s:
            sub = s.get(Submission, r.json()["id"])
            assert sub.file_name == "视频.mp4" and sub.verdict == "pass"
            assert sub.created_at.tzinfo is not None
    db = Database(pg_url)
    assert current_revision(db.engine) == head_revision()
    db.dispose()


def test_migrations_match_the_models(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from service.store.models import Base
    from service.store.search import modelled

    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    migrate(db.engine)
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": modelled})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_review_trail_migration_keeps_earlier_decisions(tmp_path):
    """0001 → 0002 on a database with a decision: it stays, as kind 'decision', and is then append-only."""
    db = Database(f"sqlite:///{tmp_path / 'u.db'}")
    migrate(db.engine, "0001")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO submissions (id, campaign_id, profile_id, file_name, size_bytes, sha256, "
                          "storage_key, receipt_hash, status, created_at) VALUES ('s1', 'c', 'p', 'a.mp4', 1, 'x', "
                          "'k', 'h', 'checked', '2026-01-01')"))
        conn.execute(text("INSERT INTO decisions (submission_id, key_id, decision, note, created_at) "
                          "VALUES ('s1', 'k1', 'accept', '好', '2026-01-01')"))
    migrate(db.engine)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT kind, decision, note FROM decisions")).one() == ("decision", "accept", "好")
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("UPDATE decisions SET decision = 'reject'"))
    db.dispose()


def test_review_trail_is_append_only_in_postgresql(pg_url):
    db = Database(pg_url)
    migrate(db.engine)
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO submissions (id, campaign_id, profile_id, file_name, size_bytes, sha256, "
                          "storage_key, receipt_hash, status, created_at) VALUES ('s1', 'c', 'p', 'a.mp4', 1, 'x', "
                          "'k', 'h', 'checked', now())"))
        conn.execute(text("INSERT INTO decisions (submission_id, key_id, kind, decision, created_at) "
                          "VALUES ('s1', 'k1', 'decision', 'accept', now())"))
    for sql in ("UPDATE decisions SET decision = 'reject'", "DELETE FROM decisions"):
        with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(sql))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT decision FROM decisions")).scalar() == "accept"
    db.dispose()


def _migrate_in_processes(url: str, n: int) -> list[subprocess.CompletedProcess[str]]:
    """``mediacheck migrate`` started ``n`` times at once, as docker-compose starts the API and
    its workers, each migrating at start."""
    code = "import sys; from service.store.database import Database, migrate; migrate(Database(sys.argv[1]).engine)"
    procs = [subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(n)]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=120), *p.communicate()) for p in procs]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_migrations_take_turns(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'race.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    for _ in range(2):  # a race is a matter of luck: two tries of four processes each, on fresh databases
        if backend == "sqlite":
            (tmp_path / "race.db").unlink(missing_ok=True)
        else:
            admin = create_engine(url)
            with admin.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            admin.dispose()
        results = _migrate_in_processes(url, 4)
        assert [r.returncode for r in results] == [0] * 4, "\n".join(r.stderr[-1500:] for r in results)
        engine = create_engine(url)
        assert current_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) == TABLES | (FTS_TABLES if backend == "sqlite" else set())
        engine.dispose()


def test_a_job_outlives_a_database_that_goes_away(pg_url, service_settings):
    """PostgreSQL unreachable for ~2 s while a job fails (its connections cut, new ones refused, as in
    a restart): the failure is recorded once the database is back, and the retry finishes the job.
    Before, the job stayed `started` for good (benchmarks/bench_faults.py pg)."""
    import threading
    import time

    from service.core.profiles import ProfileStore
    from service.store.jobs import InProcessQueue, create_job
    from service.store.models import Job
    from service.store.runtime import Context, run_in_process
    from service.store.storage import Storage
    from workers.registry import TASKS, task

    name = pg_url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    settings = replace(service_settings, database_url=pg_url)
    db = Database(pg_url)
    migrate(db.engine)
    ctx = Context(settings=settings, db=db, storage=Storage(settings.storage_dir),
                  store=ProfileStore(settings.profiles_dir))
    attempts: list[int] = []

    def reopen() -> None:
        time.sleep(2)
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))

    @task("test-db-away")
    def flaky(ctx, job, progress):
        attempts.append(1)
        if len(attempts) == 1:
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            threading.Thread(target=reopen).start()
            raise RuntimeError("a tool crashed while the database was away")
        return {"ok": True}

    queue = InProcessQueue(lambda job_id: run_in_process(job_id, ctx))
    try:
        with db.session() as s:
            job_id = create_job(s, kind="test-db-away", submission_id=None, timeout_s=60, retries=1,
                                backend="inprocess").id
        queue.enqueue(job_id, timeout_s=60, retries=1)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            try:
                with db.session() as s:
                    row = s.get(Job, job_id)
                    if row.state in ("finished", "failed"):
                        break
            except Exception:  # noqa: BLE001 - the database is away for a moment
                pass
            time.sleep(0.3)
        assert len(attempts) == 2
        assert (row.state, row.result, row.attempts) == ("finished", {"ok": True}, 2)
    finally:
        TASKS.pop("test-db-away", None)
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        queue.shutdown()
        db.dispose()
        admin.dispose()


def test_sqlite_keeps_planner_statistics(tmp_path, monkeypatch):
    """A connection going back to the pool lets SQLite analyse the tables it queried (at most
    every SQLITE_OPTIMIZE_EVERY_S): without statistics its planner sorted 40,000 rows for a
    dashboard filter that an index answers in order."""
    from service.store import database

    monkeypatch.setattr(database, "SQLITE_OPTIMIZE_EVERY_S", 0.0)
    db = Database(f"sqlite:///{tmp_path / 'stats.db'}")
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (c TEXT, w INTEGER, at INTEGER)"))
        conn.execute(text("CREATE INDEX ix_t_w ON t (c, w)"))
        conn.execute(text("CREATE INDEX ix_t_at ON t (c, at)"))
        conn.execute(text("INSERT INTO t VALUES ('a', :w, :at)"), [{"w": i % 3, "at": i} for i in range(300)])
    with db.engine.connect() as conn:  # a query that uses the table's indexes, then back to the pool
        assert conn.execute(text("SELECT at FROM t WHERE c = 'a' AND w > 0 ORDER BY at LIMIT 5")).scalars().all() \
            == [1, 2, 4, 5, 7]
    with db.engine.connect() as conn:
        stats = dict(conn.execute(text("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 't'")).all())
    assert set(stats) == {"ix_t_w", "ix_t_at"}
    assert stats["ix_t_at"].split()[0] == "300"
