"""What CI runs: under CI=true a test skipped for a part the make targets install fails
(tests/support/ci_skips.py); other skips, and every skip outside CI, stay skips."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SAMPLE = '''
import pytest

@pytest.mark.skipif(True, reason="needs podman and docker.io/library/debian:bookworm-slim")
def test_container(): pass

def test_database():
    pytest.skip("no PostgreSQL reachable: connection refused")

def test_not_installable():
    pytest.skip("this tree has no `mediacheck serve` yet")
'''


def _run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"} | ({"CI": ci} if ci is not None else {})
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.support.ci_skips", "-q", "-rfEs",
                           "-p", "no:cacheprovider", "test_sample.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


def test_installable_skips_fail_in_ci(tmp_path):
    done = _run(tmp_path, "true")
    assert done.returncode == 1
    last = done.stdout.strip().splitlines()[-1]
    assert "1 failed" in last and "1 skipped" in last and "1 error" in last, done.stdout
    assert "skipped in CI for a part `make test` / `make test-deploy` installs" in done.stdout


def test_skips_stay_skips_outside_ci(tmp_path):
    done = _run(tmp_path, None)
    assert done.returncode == 0 and "3 skipped" in done.stdout, done.stdout
