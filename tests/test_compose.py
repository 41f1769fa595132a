"""docker-compose.yml stays in step with the Dockerfile, the CLI and itself. Pure checks of the
file; plus the schema check of `docker-compose config` where that program is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
APP = ("migrate", "api", "worker")
"""The services that run the mediacheck image."""


def dockerfile_instruction(name: str) -> list[str]:
    """The arguments of every instruction ``name`` in the Dockerfile (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text(encoding="utf-8"))
    return [line.split(None, 1)[1] for line in text.splitlines() if line.startswith(name + " ")]


def dockerfile_env() -> dict[str, str]:
    return dict(re.findall(r"(MEDIACHECK_\w+)=(\S+)", " ".join(dockerfile_instruction("ENV"))))


def test_api_runs_the_image_default_command():
    assert dockerfile_instruction("CMD") == ['["mediacheck", "serve", "--host", "0.0.0.0", "--port", "8000"]']
    assert SERVICES["api"]["command"] == ["mediacheck", "serve", "--host", "0.0.0.0", "--port", "8000"]
    assert SERVICES["api"]["ports"] == ["${MEDIACHECK_BIND:-127.0.0.1}:${MEDIACHECK_PORT:-8000}:8000"]


@pytest.mark.parametrize("name", APP)
def test_app_services_share_one_image_and_the_media_volume(name):
    service = SERVICES[name]
    assert service["image"] == SERVICES["api"]["image"]
    data_dir = dockerfile_env()["MEDIACHECK_DATA_DIR"]
    assert service["volumes"] == [f"media:{data_dir}"]
    assert service["environment"]["MEDIACHECK_DATA_DIR"] == data_dir
    assert service["environment"]["MEDIACHECK_DATABASE_URL"].startswith("postgresql://mediacheck:")
    assert service["environment"]["MEDIACHECK_DATABASE_URL"].endswith("@postgres:5432/mediacheck")
    assert service["environment"]["MEDIACHECK_REDIS_URL"] == "redis://redis:6379/0"
    assert service["cap_drop"] == ["ALL"]


def test_migration_runs_once_before_api_and_workers():
    assert SERVICES["migrate"]["command"] == ["mediacheck", "migrate"]
    assert SERVICES["migrate"]["restart"] == "no"
    assert SERVICES["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("api", "worker"):
        assert SERVICES[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"},
                                                "redis": {"condition": "service_healthy"}}


def test_workers_scale_and_have_their_own_health_check():
    worker = SERVICES["worker"]
    assert worker["command"][:2] == ["mediacheck", "worker"]
    assert worker["deploy"]["replicas"] == "${MEDIACHECK_WORKERS:-2}"
    assert worker["healthcheck"]["test"] == ["CMD", "mediacheck-health", "worker"]
    assert SERVICES["api"]["healthcheck"]["test"] == ["CMD", "mediacheck-health"]
    assert dockerfile_instruction("HEALTHCHECK")[0].endswith('CMD ["mediacheck-health"]')


def test_postgres_password_is_the_same_in_the_url_and_the_server():
    url = SERVICES["api"]["environment"]["MEDIACHECK_DATABASE_URL"]
    password = SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert f":{password}@" in url
    assert set(COMPOSE["volumes"]) == {"media", "pgdata", "redis-data"}


@pytest.mark.container
@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed (make deploy-deps)")
def test_docker_compose_accepts_the_file():
    done = subprocess.run(["docker-compose", "-f", str(REPO / "docker-compose.yml"), "config", "--quiet"],
                          capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert (done.returncode, done.stderr) == (0, "")
