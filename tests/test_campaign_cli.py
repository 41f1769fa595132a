"""``mediacheck campaign create`` with the organisers' options (entry fields, limits, file-name
rule, a profile of one's own), ``close`` and ``open``: the same checks as the API."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from service.store.database import Database, aware
from service.store.models import Campaign
from tests.test_apikey_cli import run

PROFILE = """id: own-video
version: "1"
title: {zh-CN: 自己的规格, en: Own profile}
kinds:
  video:
    container: {allowed: [mp4]}
"""


def test_campaign_with_fields_limits_and_an_own_profile(tmp_path, monkeypatch, capsys):
    from service.cli.main import main

    monkeypatch.setenv("MEDIACHECK_DATA_DIR", str(tmp_path))
    (tmp_path / "own.yaml").write_text(PROFILE, encoding="utf-8")
    out = run("campaign", "create", "kepu", "--profile-yaml", str(tmp_path / "own.yaml"), "--title-zh", "科普",
              "--deadline", "2099-05-31T18:00:00+08:00",
              "--field", "title:作品名称:Title:text:required", "--field", "author:第一作者:First author",
              "--limit", "author=2", "--file-name-pattern", "{作品名称}-{第一作者}")
    assert out == "campaign kepu saved\n"
    db = Database(f"sqlite:///{tmp_path / 'mediacheck.db'}")
    with db.session() as s:
        row = s.get(Campaign, "kepu")
        assert row.profiles == ["own-video"] and row.limits == [{"field": "author", "max_entries": 2}]
        assert aware(row.deadline) == datetime(2099, 5, 31, 10, tzinfo=UTC)  # 18:00 in Beijing, kept in UTC
        assert [(f["key"], f["label"]["zh-CN"], f["required"]) for f in row.fields] == [
            ("title", "作品名称", True), ("author", "第一作者", False)]
    assert (tmp_path / "profiles" / "own-video.yaml").is_file()
    assert "closed" in run("campaign", "close", "kepu")
    assert "closed" in [line for line in run("campaign", "list").splitlines() if line.startswith("kepu ")][0]
    run("campaign", "open", "kepu")
    # a limit on a field the campaign does not have: the API's bilingual refusal, exit 1
    assert main(["campaign", "create", "kepu2", "--profile", "own-video", "--limit", "nobody=1"], io.StringIO()) == 1
    err = capsys.readouterr().err
    assert "活动设置有误" in err and "Invalid campaign" in err
    with db.session() as s:
        assert s.get(Campaign, "kepu2") is None  # nothing half-saved
