"""In CI (``CI=true``, as ``.ci/run`` sets it), a test skipped for want of a part that ``make test``
or ``make test-deploy`` installs — Redis, PostgreSQL, Chromium, tus-js-client (npm), podman and
the base image, docker-compose — fails instead: a green CI run must not hide the tests it did not
run. Elsewhere such skips stay skips (a developer may lack podman). A pytest hook, imported by
``tests/conftest.py``."""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

INSTALLABLE = ("podman", "docker-compose", "PostgreSQL", "Redis", "chromium", "npm ci")
"""Words of the skip reasons that name a part the make targets install."""


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail") or os.environ.get("CI", "").lower() != "true":
        return
    reason = _reason(report)
    if any(word in reason for word in INSTALLABLE):
        report.outcome = "failed"
        report.longrepr = (f"skipped in CI for a part `make test` / `make test-deploy` installs: {reason}\n"
                           "(a skip outside CI; in CI the set-up must have failed)")
