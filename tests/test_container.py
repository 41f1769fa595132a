"""The Dockerfile really builds and the image really checks and serves (with podman).

Skipped where podman or the local base image is missing (set them up with
scripts/podman-setup.sh). The build reuses podman's layer cache: after a first build a
code change rebuilds in seconds."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from service.core.profiles import ProfileStore
from service.media.checker import check_file
from service.settings import DEFAULT_PROFILES_DIR
from tests.support.media import av, ffmpeg_media

REPO = Path(__file__).resolve().parent.parent
BASE_IMAGE = "docker.io/library/debian:bookworm-slim"
IMAGE = "localhost/mediacheck-test:latest"
BUILD_TIMEOUT_S = 900
RUN_TIMEOUT_S = 60
SERVE_START_TIMEOUT_S = 60
IMAGE_UID = 10001


def _podman_ready() -> bool:
    if shutil.which("podman") is None:
        return False
    found = subprocess.run(["podman", "image", "exists", BASE_IMAGE], capture_output=True, timeout=30)
    return found.returncode == 0


pytestmark = [
    pytest.mark.container,
    pytest.mark.skipif(not _podman_ready(), reason=f"needs podman and {BASE_IMAGE}: scripts/podman-setup.sh"),
]


def podman(*args: str, timeout: float = RUN_TIMEOUT_S, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        pytest.fail(f"podman {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done


def run_in_image(*cmd: str, mounts: dict[Path, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``podman run --rm`` a command in the test image (no health checks: no systemd here)."""
    volumes = [f"--volume={src}:{dst}:ro" for src, dst in (mounts or {}).items()]
    return podman("run", "--rm", "--no-healthcheck", *volumes, IMAGE, *cmd, check=False)


@pytest.fixture(scope="module")
def image() -> str:
    """Build the image from the working tree (pip trusts the host's CA bundle, handed in as a secret)."""
    cmd = ["build", "--pull=never", "--format", "docker", "--tag", IMAGE]
    ca = Path(os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt")
    if ca.is_file():
        cmd.append(f"--secret=id=build-ca,src={ca}")
    podman(*cmd, str(REPO), timeout=BUILD_TIMEOUT_S)
    return IMAGE


@pytest.fixture(scope="module")
def image_config(image: str) -> dict:
    return json.loads(podman("image", "inspect", image).stdout)[0]


def test_image_runs_as_the_mediacheck_user_with_a_writable_data_volume(image_config):
    config = image_config["Config"]
    assert config["User"] == "mediacheck"
    assert "/var/lib/mediacheck" in config["Volumes"]
    assert "8000/tcp" in config["ExposedPorts"]
    assert config["Cmd"] == ["mediacheck", "serve", "--host", "0.0.0.0", "--port", "8000"]
    assert image_config["Healthcheck"]["Test"] == ["CMD", "mediacheck-health"]

    done = run_in_image("sh", "-c", "id -u && touch /var/lib/mediacheck/probe && echo $MEDIACHECK_DATA_DIR")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(IMAGE_UID), "/var/lib/mediacheck"]


def test_health_check_fails_when_nothing_serves(image):
    done = run_in_image("mediacheck-health")
    assert done.returncode == 1
    assert "127.0.0.1:8000/healthz" in done.stderr
    done = run_in_image("mediacheck-health", "worker")
    assert (done.returncode, done.stderr.strip()) == (1, "unhealthy: MEDIACHECK_REDIS_URL is not set")


def test_image_lists_the_shipped_profiles(image):
    done = run_in_image("mediacheck", "profiles")
    assert done.returncode == 0, done.stderr
    shipped = sorted(p.stem for p in (REPO / "profiles").glob("*.yaml") if not p.stem.startswith("base-"))
    listed = sorted(line.split()[0] for line in done.stdout.splitlines() if line.strip())
    assert listed == shipped


def test_image_checks_a_file_as_the_host_does(image):
    media = ffmpeg_media("container-1080p.mp4", av("1920x1080", seconds=1))
    done = run_in_image("mediacheck", "check", "--profile", "shanxi-2023-microvideo", "--format", "json",
                        "/media/科普视频.mp4", mounts={media: "/media/科普视频.mp4"})
    assert done.returncode == 1, done.stderr  # exit 1: the file fails the profile
    report = json.loads(done.stdout.splitlines()[0])
    statuses = {c["rule"]: c["status"] for c in report["checks"]}
    assert (report["verdict"], report["file"]["name"]) == ("fail", "科普视频.mp4")
    assert statuses["resolution"] == "pass"
    assert statuses["duration"] == "fail"  # one second, two to five minutes asked
    assert statuses["file_size"] == "fail"
    assert report["tools"]["ffprobe"].startswith("5.1")  # Debian bookworm's ffmpeg
    assert report["file"]["sha256"] is not None

    host = check_file(media, ProfileStore(DEFAULT_PROFILES_DIR).get("shanxi-2023-microvideo"),
                      display_name="科普视频.mp4")
    assert report["verdict"] == host.verdict
    assert statuses == {c.rule: c.status for c in host.checks}
    assert report["file"]["sha256"] == host.file.sha256


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _post_file(url: str, path: Path) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=path.read_bytes(), method="POST",
                                     headers={"Content-Type": "video/mp4"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


@pytest.fixture(scope="module")
def serves(image):
    if run_in_image("mediacheck", "serve", "--help").returncode != 0:
        pytest.skip("this tree has no `mediacheck serve` yet")
    return image


@contextmanager
def served(image: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """The image's default command in a detached container; yields (base URL, container name)
    once /healthz answers."""
    port, name = _free_port(), f"mediacheck-test-{uuid.uuid4().hex[:8]}"
    options = [f"--env={k}={v}" for k, v in (env or {}).items()]
    podman("run", "--detach", "--rm", "--name", name, "--no-healthcheck", *options,
           "--publish", f"127.0.0.1:{port}:8000", image)
    try:
        deadline, status = time.monotonic() + SERVE_START_TIMEOUT_S, 0
        while time.monotonic() < deadline:
            try:
                status, _ = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except (ConnectionError, urllib.error.URLError, TimeoutError):
                time.sleep(0.5)
        assert status == 200, podman("logs", name, check=False).stderr[-3000:]
        yield f"http://127.0.0.1:{port}", name
    finally:
        podman("rm", "--force", "--volumes", "--time", "3", name, check=False)


def test_image_serves_health_readiness_and_uploads(serves):
    with served(serves) as (url, name):
        # SQLite in the data volume, no Redis configured, ffprobe from Debian: ready.
        status, body = _get(f"{url}/readyz")
        assert status == 200, body
        assert json.loads(body)["checks"]["ffprobe"] == "ok"
        # The image's own HEALTHCHECK command passes against the running server.
        health = podman("exec", name, *_healthcheck_cmd(serves), check=False)
        assert health.returncode == 0, health.stderr
        # An upload is stored in the data volume and checked by the image's ffprobe.
        media = ffmpeg_media("container-1080p.mp4", av("1920x1080", seconds=1))
        upload = f"{url}/api/campaigns/shanxi-2023-microvideo/submissions?name=clip.mp4"
        status, sub = _post_file(upload, media)
        assert status == 201, sub
        assert (sub["verdict"], sub["size_bytes"]) == ("fail", media.stat().st_size)
        size = f"{media.stat().st_size}c"
        stored = podman("exec", name, "find", "/var/lib/mediacheck", "-type", "f", "-size", size)
        assert stored.stdout.strip(), "the original is not in the data volume"


def test_unreachable_redis_makes_the_api_unready_but_alive(serves):
    with served(serves, {"MEDIACHECK_REDIS_URL": "redis://127.0.0.1:1/0"}) as (url, name):
        status, body = _get(f"{url}/readyz")
        assert status == 503, body
        checks = json.loads(body)["checks"]
        assert checks["redis"].startswith("error: ")
        assert (checks["database"], checks["ffprobe"]) == ("ok", "ok")
        # Liveness stays green: the engine must not restart the API for an outage elsewhere.
        assert podman("exec", name, *_healthcheck_cmd(serves), check=False).returncode == 0


def _healthcheck_cmd(image: str) -> list[str]:
    test = json.loads(podman("image", "inspect", image).stdout)[0]["Healthcheck"]["Test"]
    assert test[0] == "CMD"
    return test[1:]
