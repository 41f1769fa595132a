"""The organiser pages over HTTP (the Chromium walk is tests/test_organiser_story.py): sign-in
with an admin key, a campaign created and changed from the form (refused input shown again
with a bilingual reason), closed and opened, a reviewer key made (shown once) and revoked, the
overview's numbers; reviewers and strangers kept out."""

from __future__ import annotations

import re
import time

import pytest

from service.store.models import Campaign
from service.submissions.access import create_api_key

FORM = {
    "lang": "zh-CN", "id": "demo-2026", "title_zh": "演示活动", "title_en": "Demo", "profiles": "test-video",
    "deadline": "2099-01-31T18:00", "timezone": "Asia/Shanghai", "max_upload_mb": "",
    "f0_key": "title", "f0_zh": "作品名称", "f0_en": "Title", "f0_type": "text", "f0_required": "on", "f0_max": "40",
    "f1_key": "author", "f1_zh": "作者", "f1_en": "Author", "f1_type": "text", "f1_required": "on",
    "f2_key": "", "f2_zh": "", "l0_field": "author", "l0_max": "2", "file_name_pattern": "{作品名称}-{作者}",
}


@pytest.fixture
def admin(live):
    with live.services.db.session() as s:
        _, admin = create_api_key(s, name="组委会", role="admin", campaigns=["*"])
        _, reviewer = create_api_key(s, name="评审", role="reviewer", campaigns=["*"])
    with live.client(follow_redirects=True) as c:
        assert c.post("/review/login", data={"key": admin, "next": "/organise/"}).status_code == 200
        yield c, live, reviewer


def test_strangers_and_reviewers_are_kept_out(live, admin):
    _, _, reviewer = admin
    with live.client() as c:
        to = c.get("/organise/", follow_redirects=False).headers["location"]
        assert to.startswith("/review/login?next=/organise/")
        c.post("/review/login", data={"key": reviewer, "next": "/organise/"})
        assert c.get("/organise/").status_code == 403
        assert c.post("/organise/new", data=FORM).status_code == 403


def test_create_edit_close_and_keys(admin):
    c, live, _ = admin
    r = c.post("/organise/new", data={**FORM, "f0_type": "date"})
    assert r.status_code == 422 and "活动设置有误" in r.text and 'value="演示活动"' in r.text  # typed values kept
    r = c.post("/organise/new", data=FORM, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/organise/c/demo-2026"
    with live.services.db.session() as s:
        row = s.get(Campaign, "demo-2026")
        assert [f["key"] for f in row.fields] == ["title", "author"] and row.limits == [{"field": "author",
                                                                                          "max_entries": 2}]
        assert row.deadline.isoformat().startswith("2099-01-31T10:00")  # 18:00 Beijing time in UTC
    page = c.get("/organise/c/demo-2026").text
    assert 'id="n-entries">0<' in page and 'value="作者"' in page
    english = c.get("/organise/c/demo-2026?lang=en").text
    assert "<h2>Overview</h2>" in english and "Entry details" in english and '<html lang="en"' in english
    assert "demo-2026" in c.get("/organise/").text
    # edit: a third field; close and open
    r = c.post("/organise/c/demo-2026", data={**FORM, "f2_key": "school", "f2_zh": "学校", "f2_type": "text"})
    assert r.status_code == 200  # redirected back to the page
    assert c.get("/api/campaigns/demo-2026").json()["fields"][2]["label"]["zh-CN"] == "学校"
    c.post("/organise/c/demo-2026/state", data={"closed": "1"})
    assert c.get("/api/campaigns/demo-2026").json()["closed"] is True
    c.post("/organise/c/demo-2026/state", data={"closed": "0"})
    assert c.get("/api/campaigns/demo-2026").json()["closed"] is False
    # a reviewer key, shown once with its sign-in link; then revoked
    r = c.post("/organise/c/demo-2026/keys", data={"name": "评审丙", "role": "reviewer"})
    assert r.status_code == 201
    secret = re.search(r'id="new-key-secret" readonly size="60" value="(mck_[^"]+)"', r.text).group(1)
    assert f"#key={secret}" in r.text
    assert secret not in c.get("/organise/c/demo-2026").text  # never again
    with live.client() as other:
        other.post("/review/login", data={"key": secret, "next": "/review/c/demo-2026"})
        assert other.get("/review/c/demo-2026", follow_redirects=False).status_code == 200
        key_id = re.search(r'<tr data-key="([^"]+)"><td>评审丙</td>', c.get("/organise/c/demo-2026").text).group(1)
        c.post(f"/organise/c/demo-2026/keys/{key_id}/revoke", data={})
        assert other.get("/review/c/demo-2026", follow_redirects=False).status_code == 303
    assert "已吊销" in c.get("/organise/c/demo-2026").text
    # a re-check of every entry, started from the page (no entries: finished at once)
    r = c.post("/organise/c/demo-2026/recheck", data={})
    assert r.status_code == 200 and 'id="recheck-job"' in r.text
    for _ in range(100):
        page = c.get("/organise/c/demo-2026").text
        if 'data-state="finished"' in page:
            break
        time.sleep(0.1)
    assert "已完成 100%" in page


def test_cross_site_form_refused(admin):
    c, _, _ = admin
    r = c.post("/organise/new", data=FORM, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403


def test_a_profile_pasted_in_the_form(admin):
    c, live, _ = admin
    yaml_text = ("id: demo-pasted\nversion: '1'\ntitle: {zh-CN: 粘贴, en: Pasted}\nkinds:\n  video:\n"
                 "    duration: {min: nonsense}\n")
    form = {**FORM, "profiles": "", "profile_yaml": yaml_text}
    r = c.post("/organise/new", data=form)
    assert r.status_code == 422 and "第 6 行" in r.text and "nonsense" in r.text  # the typed YAML is kept
    r = c.post("/organise/new", data={**form, "profile_yaml": yaml_text.replace("nonsense", "1s")})
    assert r.status_code == 200 and r.url.path == "/organise/c/demo-2026"
    assert c.get("/api/campaigns/demo-2026").json()["profiles"] == ["demo-pasted"]
    assert 'value="demo-pasted" checked' in r.text  # now listed with the shipped ones


NOTICE = ("作品要求：作品须为 MP4 格式，画面比例 16:9，分辨率不低于 1920×1080，时长 2-5 分钟，"
          "文件大小不超过 300 兆。作品须有片头片尾。")


def test_a_profile_drafted_from_the_notice_fills_the_form_then_saves(admin):
    c, live, _ = admin
    empty = c.post("/organise/new", data={**FORM, "draft": "1", "notice_text": "  "})
    assert empty.status_code == 422 and "请先粘贴通知" in empty.text
    r = c.post("/organise/new", data={**FORM, "profiles": "", "draft": "1", "notice_text": NOTICE})
    assert r.status_code == 200 and 'id="c-drafted"' in r.text
    with live.services.db.session() as s:
        assert s.get(Campaign, "demo-2026") is None  # drafting saves nothing
    drafted = re.search(r'id="c-profile-yaml"[^>]*>(.*?)</textarea>', r.text, re.S).group(1)
    yaml_text = drafted.replace("&#34;", '"').replace("&#39;", "'").replace("&gt;", ">").replace("&lt;", "<") \
        .replace("&amp;", "&")
    assert "id: demo-2026-draft" in yaml_text and "16:9" in yaml_text and "片尾" in yaml_text
    assert "min: 1920x1080" in yaml_text
    assert 'value="演示活动"' in r.text and NOTICE in r.text  # what was typed stays
    saved = c.post("/organise/new", data={**FORM, "profiles": "", "profile_yaml": yaml_text}, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:500]
    with live.services.db.session() as s:
        assert s.get(Campaign, "demo-2026").profiles == ["demo-2026-draft"]
