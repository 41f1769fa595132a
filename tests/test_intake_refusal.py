"""Which failed checks refuse an upload (its bytes removed) and which keep it: an error that says
something about the file refuses it; an error of ours (a tool, the disk, a limit) keeps it."""

from __future__ import annotations

import pytest

from service.submissions.intake import FILE_FAULTS, refusal


def error_report(code: str) -> dict:
    return {"verdict": "error", "checks": [], "error": {"code": code, "message": {"zh-CN": "坏", "en": "bad"}}}


@pytest.mark.parametrize("code", sorted(FILE_FAULTS))
def test_a_file_that_is_not_media_is_refused(code: str) -> None:
    problem = refusal(error_report(code))
    assert problem is not None and problem.status == 422 and problem.code == "unreadable_media"


@pytest.mark.parametrize("code", ["tool_error", "io_error", "over_budget"])
def test_an_error_of_ours_keeps_the_upload(code: str) -> None:
    assert refusal(error_report(code)) is None


def test_a_kind_the_campaign_does_not_take_is_refused() -> None:
    report = {"verdict": "fail", "checks": [{"rule": "media_kind", "status": "fail", "expected": "video",
                                             "actual": "image", "message": {"zh-CN": "要视频", "en": "video"}}]}
    problem = refusal(report)
    assert problem is not None and problem.status == 415 and problem.code == "wrong_kind"
