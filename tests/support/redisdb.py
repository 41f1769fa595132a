"""A spare Redis database for one test: flushed before and after (each test module uses its own number)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis


def clean_redis(url: str, *, required: bool = False) -> Iterator[Redis]:
    """Yield a connection to ``url`` with the database flushed before and after. When no
    Redis answers, the test is skipped (or failed when ``required``). Use with ``yield from``."""
    conn = Redis.from_url(url)
    try:
        conn.ping()
    except Exception as e:  # noqa: BLE001 - any connection failure means "no Redis here"
        conn.close()
        (pytest.fail if required else pytest.skip)(f"no Redis at {url}: {e}")
    conn.flushdb()
    try:
        yield conn
    finally:
        conn.flushdb()
        conn.close()
