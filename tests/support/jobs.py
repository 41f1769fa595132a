"""The job runner's side of the tests: settings that send jobs to RQ on the test module's spare
Redis database (the fixtures ``redis_db`` and ``rq_settings``, registered in tests/conftest.py),
the environment of a ``mediacheck worker`` process, a runner context of the tests' own, and a
submission staged as the service holds it (original stored, quick check run) for a job to work on."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from redis import Redis

from service.core.profiles import ProfileStore
from service.settings import Settings
from service.store.database import Database, migrate
from service.store.jobs import create_job
from service.store.models import Submission
from service.store.runtime import Context, run_in_process
from service.store.storage import Storage
from tests.support.fixapi import write_fix_profiles
from tests.support.redisdb import clean_redis


@pytest.fixture
def redis_db(request: pytest.FixtureRequest) -> Iterator[Redis]:
    """The test module's spare Redis database (its ``REDIS_URL``), flushed before and after; when no
    Redis answers, its tests are skipped (failed when the module sets ``REDIS_REQUIRED``)."""
    yield from clean_redis(request.module.REDIS_URL, required=getattr(request.module, "REDIS_REQUIRED", False))


@pytest.fixture
def rq_settings(request: pytest.FixtureRequest, service_settings: Settings, profiles_dir: Path,
                redis_db: Redis) -> Settings:
    """The service's test settings with jobs sent to RQ: the module's ``REDIS_URL``, a queue of
    the module's own, the fix test profiles written; a module's ``RQ_SETTINGS`` (e.g. a short
    ``check_wait_s``) overrides."""
    write_fix_profiles(profiles_dir)
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")
    over = getattr(request.module, "RQ_SETTINGS", {})
    return replace(service_settings, redis_url=request.module.REDIS_URL, queue_name=f"mediacheck-{name}", **over)


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment of a ``mediacheck worker`` process that serves ``settings``' queue."""
    return {
        **os.environ,
        "MEDIACHECK_REDIS_URL": settings.redis_url,
        "MEDIACHECK_DATA_DIR": str(settings.data_dir),
        "MEDIACHECK_PROFILES_DIR": str(settings.profiles_dir),
        "MEDIACHECK_QUEUE": settings.queue_name,
    }


def job_context(settings: Settings) -> Context:
    """A runner context for ``settings`` (the database migrated), without a queue."""
    db = Database(settings.db_url)
    migrate(db.engine)
    return Context(settings=settings, db=db, storage=Storage(settings.storage_dir, fsync=settings.fsync),
                   store=ProfileStore(settings.profiles_dir))


def stage_submission(ctx: Context, src: Path, profile_id: str, *, campaign_id: str | None = None,
                     name: str | None = None, check: bool = True) -> str:
    """A submission of ``src`` as the service holds it after an upload: the original in storage
    and its row; with ``check``, its quick check run (the ``check`` job, by the runner's name, no
    follow-ups queued). Returns the submission's id."""
    sub_id = uuid.uuid4().hex
    campaign = campaign_id or profile_id
    key = ctx.storage.original_key(campaign, sub_id)
    with tempfile.TemporaryDirectory(dir=ctx.storage.root / "tmp") as tmp:
        copy = Path(tmp) / "upload"
        shutil.copyfile(src, copy)
        ctx.storage.commit(copy, key)
    with ctx.db.session() as s:
        s.add(Submission(id=sub_id, campaign_id=campaign, profile_id=profile_id, file_name=name or src.name,
                         size_bytes=src.stat().st_size, sha256=hashlib.sha256(src.read_bytes()).hexdigest(),
                         storage_key=key, receipt_hash=secrets.token_hex(32)))
    if check:
        with ctx.db.session() as s:
            job_id = create_job(s, kind="check", submission_id=sub_id, timeout_s=60, backend="inprocess").id
        run_in_process(job_id, replace(ctx, queue=None))
    return sub_id
