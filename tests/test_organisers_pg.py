"""The organisers' API on PostgreSQL (tests/test_organisers_api.py runs on SQLite): campaigns with
entry fields, details on every kind of upload with the per-field limit (uploads at once too), the
re-check, the export and the hand-over, against a fresh PostgreSQL database migrated from nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.support.server import live_server
from tests.test_database import pg_url  # noqa: F401  (the fresh database per test)
from tests.test_organisers_api import (  # noqa: F401  (the same tests, with live below)
    org,
    test_create_change_and_read_a_campaign,
    test_details_on_every_kind_of_upload,
    test_details_reach_the_paged_dashboard_exports_overview_and_trail,
    test_export_and_handover,
    test_profile_change_keeps_reports_and_rechecks_on_request,
    test_uploads_at_once_cannot_pass_a_limit_together,
)


@pytest.fixture
def live(pg_url, service_settings):  # noqa: F811
    settings = replace(service_settings, database_url=pg_url.replace("postgresql+psycopg://", "postgresql://"))
    with live_server(settings) as server:
        assert server.services.db.engine.dialect.name == "postgresql"
        yield server

