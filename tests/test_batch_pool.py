"""The local pool: a worker process that dies mid-file costs only the files it held."""

from __future__ import annotations

import os
import signal
import time

from service.batch.entries import collect_entries
from service.batch.pool import PoolDispatcher
from service.batch.task import TaskOptions
from service.core.profiles import ProfileStore, load_profile
from service.settings import DEFAULT_PROFILES_DIR
from tests.support.batch_set import good_mp4, profile_path


def _collect_all(dispatcher, timeout=60.0):
    out, deadline = [], time.monotonic() + timeout
    while dispatcher.in_flight() and time.monotonic() < deadline:
        out += dispatcher.collect(0.2)
    return out


def test_a_killed_worker_fails_its_file_and_a_new_pool_takes_the_rest(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.mp4").write_bytes(good_mp4().read_bytes())
    (d / "b.mp4").write_bytes(good_mp4().read_bytes() + b"\0")
    a, b = collect_entries([d])
    profile = load_profile(profile_path(tmp_path), ProfileStore(DEFAULT_PROFILES_DIR))
    work = tmp_path / "work"
    work.mkdir()
    options = TaskOptions(profile=profile, out_dir=str(tmp_path), work_dir=str(work), tools_key="t")
    dispatcher = PoolDispatcher(options, jobs=1, kind="process")
    try:
        dispatcher.submit(a, None)
        deadline = time.monotonic() + 30
        while not dispatcher.pool._processes and time.monotonic() < deadline:  # noqa: SLF001
            time.sleep(0.01)
        for pid in list(dispatcher.pool._processes):  # noqa: SLF001 - the real fault: SIGKILL
            os.kill(pid, signal.SIGKILL)
        ((entry, record),) = _collect_all(dispatcher)
        assert entry.name == "in/a.mp4"
        assert record.report is not None and record.report.error is not None
        assert record.report.error.code == "worker_failed" and not record.reusable
        dispatcher.submit(b, None)
        ((entry, record),) = _collect_all(dispatcher)
        assert entry.name == "in/b.mp4" and record.verdict == "pass"
    finally:
        dispatcher.close(kill=False)
