from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from service.profiles import ProfileStore
from service.report import Report
from service.settings import DEFAULT_PROFILES_DIR

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
