"""The job runner's side of the tests: settings that send jobs to RQ on the test module's spare
Redis database (the fixtures ``redis_db`` and ``rq_settings``, registered in tests/conftest.py)
and the environment of a ``mediacheck worker`` process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from redis import Redis

from service.settings import Settings
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
