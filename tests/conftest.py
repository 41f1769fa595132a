from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from service.core.profiles import ProfileStore
from service.core.report import Report
from service.settings import DEFAULT_PROFILES_DIR
from tests.support.browser import browser  # noqa: F401  (headless Chromium, per module)
from tests.support.ci_skips import pytest_runtest_makereport  # noqa: F401  (CI=true: such skips fail)
from tests.support.jobs import redis_db, rq_settings  # noqa: F401  (fixtures of the job tests)

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "report.schema.json"


@pytest.fixture(scope="session")
def store() -> ProfileStore:
    return ProfileStore(DEFAULT_PROFILES_DIR)


@pytest.fixture(scope="session")
def report_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def validate_report(report_schema):
    """Validate a report (model or JSON dict) against the published schema."""
    validator = jsonschema.Draft202012Validator(report_schema)

    def validate(report: Report | dict) -> dict:
        data = json.loads(report.model_dump_json()) if isinstance(report, Report) else report
        validator.validate(data)
        return data

    return validate


# ---------------------------------------------------------------- service fixtures
TEST_PROFILES = Path(__file__).resolve().parent / "profiles"


@pytest.fixture
def profiles_dir(tmp_path: Path) -> Path:
    """The shipped profiles plus the tiny test profiles (tests/profiles)."""
    import shutil

    d = tmp_path / "profiles"
    shutil.copytree(DEFAULT_PROFILES_DIR, d)
    for p in TEST_PROFILES.glob("*.yaml"):
        shutil.copy(p, d / p.name)
    return d


@pytest.fixture
def service_settings(tmp_path: Path, profiles_dir: Path):
    from service.settings import Settings

    return Settings(data_dir=tmp_path / "data", profiles_dir=profiles_dir, check_wait_s=30.0)


@pytest.fixture
def live(service_settings):
    from tests.support.server import live_server

    with live_server(service_settings) as server:
        yield server


@pytest.fixture(scope="session")
def small_video() -> Path:
    """A compliant clip for the test-video profile: 320×180, 1 s, H.264 + AAC, MP4."""
    from tests.support.media import av, ffmpeg_media

    return ffmpeg_media("small.mp4", av("320x180", seconds=1) + ["-movflags", "+faststart"])


@pytest.fixture(scope="session")
def square_video() -> Path:
    """Breaks the test-video profile: 1:1 aspect, no audio."""
    from tests.support.media import av, ffmpeg_media

    return ffmpeg_media("square.mp4", av("200x200", seconds=1, audio=False))


@pytest.fixture(scope="session")
def small_photo() -> Path:
    from tests.support.media import ffmpeg_media

    return ffmpeg_media("photo.jpg", ["-f", "lavfi", "-i", "testsrc2=s=320x240", "-frames:v", "1"])


# ---------------------------------------------------------------- reviewer fixtures
@pytest.fixture(scope="session")
def review(tmp_path_factory):
    """A live server with a campaign of six entries (tests/support/scenes.py, SMALL) analysed deeply, and
    keys: a reviewer of that campaign, a reviewer of another one, an admin. Shared by the
    review tests (they only add to it: decisions and waivers are append-only)."""
    import shutil

    from service.settings import Settings
    from tests.support.review_setup import populate
    from tests.support.server import live_server

    tmp = tmp_path_factory.mktemp("review")
    d = tmp / "profiles"
    shutil.copytree(DEFAULT_PROFILES_DIR, d)
    for p in TEST_PROFILES.glob("*.yaml"):
        shutil.copy(p, d / p.name)
    settings = Settings(data_dir=tmp / "data", profiles_dir=d, check_wait_s=30.0)
    with live_server(settings) as live:
        yield populate(live)
