"""The organisers' API against a real server: campaigns created and changed with their entry
fields (422 bilingual on bad input), uploads that carry entry details (multipart, raw header,
tus metadata: 422 before a byte is stored, 409 over a per-field limit, the file-name pattern),
keys listed and revoked (at once, sessions included), the export's detail columns and the
hand-over zip with its manifest."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from service.store.models import ReportRow, Submission, SubmissionSummary
from service.submissions.access import create_api_key
from service.submissions.campaign_admin import recheck_state

CAMPAIGN = {
    "id": "sci-2026",
    "title": {"zh-CN": "科普微视频大赛", "en": "Science micro-video contest"},
    "profiles": ["test-video"],
    "deadline": "2099-06-30T23:59:59",
    "fields": [
        {"key": "title", "label": {"zh-CN": "作品名称", "en": "Title"}, "type": "text", "required": True,
         "max_length": 30},
        {"key": "author", "label": {"zh-CN": "作者", "en": "Author"}, "type": "text", "required": True},
        {"key": "phone", "label": {"zh-CN": "联系电话", "en": "Phone"}, "type": "phone"},
    ],
    "limits": [{"field": "author", "max_entries": 2}],
    "file_name_pattern": "{作品名称}-{作者}",
}


@pytest.fixture
def org(live):
    with live.services.db.session() as s:
        _, admin = create_api_key(s, name="组委会", role="admin", campaigns=["*"])
        _, reviewer = create_api_key(s, name="评审", role="reviewer", campaigns=["sci-2026"])
    return live, {"Authorization": f"Bearer {admin}"}, {"Authorization": f"Bearer {reviewer}"}


def create(c, admin, body=CAMPAIGN):
    r = c.post("/api/campaigns", json=body, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()


def stored_files(live) -> set[str]:
    root = live.services.storage.root
    return {p.name for p in (root / "originals").rglob("*") if p.is_file()} | \
        {p.name for p in (root / "tmp").iterdir()}


def test_create_change_and_read_a_campaign(org):
    live, admin, reviewer = org
    with live.client() as c:
        assert c.post("/api/campaigns", json=CAMPAIGN).status_code == 401
        assert c.post("/api/campaigns", json=CAMPAIGN, headers=reviewer).status_code == 403
        got = create(c, admin)
        shanghai = datetime(2099, 6, 30, 23, 59, 59, tzinfo=ZoneInfo("Asia/Shanghai"))  # when no zone is given
        assert datetime.fromisoformat(got["deadline"]) == shanghai
        assert [f["key"] for f in got["fields"]] == ["title", "author", "phone"]
        assert c.post("/api/campaigns", json=CAMPAIGN, headers=admin).status_code == 409
        public = c.get("/api/campaigns/sci-2026").json()
        assert public["fields"][0]["label"] == {"zh-CN": "作品名称", "en": "Title"}
        assert public["file_name_pattern"] == "{作品名称}-{作者}" and public["closed"] is False
        r = c.patch("/api/campaigns/sci-2026", json={"closed": True, "title": {"zh-CN": "新名", "en": "New"}},
                    headers=admin)
        assert r.status_code == 200 and r.json()["closed"] and r.json()["title"]["zh-CN"] == "新名"
        up = c.post("/api/campaigns/sci-2026/submissions", params={"name": "x.mp4"}, content=b"x")
        assert up.status_code == 403 and up.json()["code"] == "campaign_closed"
        assert c.patch("/api/campaigns/sci-2026", json={"closed": False}, headers=admin).json()["closed"] is False


@pytest.mark.parametrize(("patch", "where"), [
    ({"profiles": ["no-such-profile"]}, "profiles"),
    ({"fields": [{"key": "a", "label": {"zh-CN": "甲"}, "type": "date"}]}, "fields.0.type"),
    ({"limits": [{"field": "nobody", "max_entries": 2}]}, None),
    ({"id": "Bad Id"}, "id"),
    ({"colour": "red"}, "colour"),
])
def test_bad_campaigns_get_bilingual_422(org, patch, where):
    live, admin, _ = org
    with live.client() as c:
        r = c.post("/api/campaigns", json={**CAMPAIGN, **patch}, headers=admin)
    body = r.json()
    assert r.status_code == 422 and body["code"] == "invalid_campaign", body
    assert body["message"]["zh-CN"].startswith("活动设置有误") and body["message"]["en"].startswith("Invalid campaign")
    if where:
        assert where in json.dumps(body, ensure_ascii=False)


def test_details_on_every_kind_of_upload(org, small_video):
    live, admin, reviewer = org
    data = small_video.read_bytes()
    details = {"title": "星空", "author": "张三", "phone": "１３８００１３８０００"}
    with live.client() as c:
        create(c, admin)
        url = "/api/campaigns/sci-2026/submissions"
        # multipart, details before the file
        r = c.post(url, files={"details": (None, json.dumps(details)), "file": ("星空-张三.mp4", data, "video/mp4")})
        assert r.status_code == 201, r.text
        first, token = r.json()["id"], r.json()["receipt_token"]
        page = c.get(f"/api/submissions/{first}/report", params={"format": "html", "token": token}).text
        assert '<dd data-field="author">张三</dd>' in page and "<dt>作品名称</dt>" in page
        # raw, percent-encoded header; the author written full-width with spaces counts as the same author
        r = c.post(url, params={"name": "月亮-张三.mp4"}, content=data,
                   headers={"X-Entry-Details": quote(json.dumps({"title": "月亮", "author": " 张三 "}))})
        assert r.status_code == 201, r.text
        # a third entry by the same author: 409, nothing stored
        before = stored_files(live)
        r = c.post(url, params={"name": "太阳-张三.mp4"}, content=data,
                   headers={"X-Entry-Details": quote(json.dumps({"title": "太阳", "author": "张　三"}))})
        assert r.status_code == 409 and r.json()["code"] == "entry_limit" and r.json()["field"] == "author"
        # missing required field, bad phone, bad JSON, wrong file name: 422 before a byte is stored
        for hdr, name, code, field in [
            ({"author": "李四"}, "x-李四.mp4", "invalid_details", "title"),
            ({"title": "x", "author": "李四", "phone": "call me"}, "x-李四.mp4", "invalid_details", "phone"),
            ({"title": "x", "author": "李四"}, "good.mp4", "file_name_mismatch", None),
        ]:
            r = c.post(url, params={"name": name}, content=data, headers={"X-Entry-Details": quote(json.dumps(hdr))})
            assert r.status_code == 422 and r.json()["code"] == code, r.text
            assert r.json().get("field") == field
            assert r.json()["message"]["zh-CN"] and r.json()["message"]["en"]
        r = c.post(url, files={"details": (None, "{not json"), "file": ("x.mp4", data, "video/mp4")})
        assert r.status_code == 422 and r.json()["code"] == "invalid_details"
        r = c.post(url, files={"file": ("x.mp4", data, "video/mp4")})  # no details at all
        assert r.status_code == 422 and r.json()["field"] == "title"
        assert stored_files(live) == before
        # tus: details in Upload-Metadata, checked at creation
        def meta(d):
            return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in d.items())
        bad = c.post("/files/sci-2026/", headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
                     "Upload-Metadata": meta({"filename": "a-王五.mp4", "details": json.dumps({"author": "王五"})})})
        assert bad.status_code == 422 and bad.json()["field"] == "title"
        tus_meta = meta({"filename": "风-王五.mp4", "details": json.dumps({"title": "风", "author": "王五"})})
        ok = c.post("/files/sci-2026/", content=data, headers={
            "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
            "Content-Type": "application/offset+octet-stream", "Upload-Metadata": tus_meta})
        assert ok.status_code == 201, ok.text
        tus_id = ok.headers["Mediacheck-Submission"]
        # the submitter sees the details with the receipt; another campaign's reviewer does not get in
        rec = c.get(f"/api/submissions/{first}", headers=reviewer).json()
        assert rec["details"] == {"title": "星空", "author": "张三", "phone": "13800138000"}
    with live.services.db.session() as s:
        got = {x.file_name: x.details for x in s.scalars(select(Submission))}
    assert got["风-王五.mp4"] == {"title": "风", "author": "王五"}
    assert got["月亮-张三.mp4"] == {"title": "月亮", "author": "张三"}
    assert tus_id


def test_keys_listed_and_revoked_at_once(org):
    live, admin, _ = org
    with live.client() as c:
        create(c, admin)
        made = c.post("/api/keys", json={"name": "评审乙", "role": "reviewer", "campaigns": ["sci-2026"]},
                      headers=admin)
        assert made.status_code == 201
        secret, key_id = made.json()["secret"], made.json()["id"]
        listed = c.get("/api/keys", params={"campaign": "sci-2026"}, headers=admin).json()
        assert {"评审乙", "评审"} <= {k["name"] for k in listed} and all("secret" not in k for k in listed)
        # a browser session of that key
        r = c.post("/review/login", data={"key": secret, "next": "/review/"}, follow_redirects=False)
        assert r.status_code == 303
        assert c.get("/review/c/sci-2026", follow_redirects=False).status_code == 200
        assert c.get("/api/campaigns/sci-2026/export.csv", headers={"Authorization": f"Bearer {secret}"}
                     ).status_code == 200
        assert c.post(f"/api/keys/{key_id}/revoke", headers=admin).json()["revoked_at"]
        assert c.get("/api/campaigns/sci-2026/export.csv", headers={"Authorization": f"Bearer {secret}"}
                     ).status_code == 401
        assert c.get("/review/c/sci-2026", follow_redirects=False).status_code == 303  # the session ended too


def test_export_and_handover(org, small_video):
    live, admin, reviewer = org
    data = small_video.read_bytes()
    entries = [("星空", "张三"), ("月亮", "李四"), ("CON", "王五")]
    with live.client() as c:
        create(c, admin)
        ids = []
        for title, author in entries:
            r = c.post("/api/campaigns/sci-2026/submissions", params={"name": f"{title}-{author}.mp4"},
                       content=data + title.encode(),  # distinct files
                       headers={"X-Entry-Details": quote(json.dumps({"title": title, "author": author}))})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        for sub_id, decision in zip(ids, ["accept", "reject", "accept"], strict=True):
            r = c.post(f"/api/submissions/{sub_id}/decisions", json={"decision": decision}, headers=reviewer)
            assert r.status_code in (200, 201), r.text
        rows = list(csv.reader(io.StringIO(c.get("/api/campaigns/sci-2026/export.csv", headers=reviewer)
                                           .content.decode("utf-8-sig"))))
        assert {"作品名称", "作者", "联系电话"} <= set(rows[0])
        assert rows[1][rows[0].index("作者")] == "张三"
        en = next(csv.reader(io.StringIO(c.get("/api/campaigns/sci-2026/export.csv", params={"lang": "en"},
                                               headers=reviewer).content.decode("utf-8-sig"))))
        assert {"Title", "Author", "Phone"} <= set(en)
        assert c.get("/api/campaigns/sci-2026/handover.zip", headers=reviewer).status_code == 403
        r = c.get("/api/campaigns/sci-2026/handover.zip", params={"decision": "accept"}, headers=admin)
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    assert zf.namelist() == ["manifest.xlsx", "001-星空-张三.mp4", "002-CON-王五.mp4"]
    assert zf.read("001-星空-张三.mp4") == data + "星空".encode()
    ws = load_workbook(io.BytesIO(zf.read("manifest.xlsx"))).active
    head = [c.value for c in ws[1]]
    table = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert [r[head.index("交付文件名")] for r in table] == ["001-星空-张三.mp4", "002-CON-王五.mp4"]
    assert [r[head.index("作品名称")] for r in table] == ["星空", "CON"]
    assert [r[head.index("评审决定")] for r in table] == ["接受", "接受"]


def wait_checked(c, headers, n: int) -> list[dict]:
    """The campaign's entries once all ``n`` are checked (their summary rows hold a verdict)."""
    for _ in range(300):
        items = c.get("/api/campaigns/sci-2026/submissions", params={"dir": "asc"}, headers=headers).json()["items"]
        if len(items) == n and all(i["summary"]["verdict"] != "pending" for i in items):
            return items
        time.sleep(0.1)
    raise AssertionError(items)


def test_details_reach_the_paged_dashboard_exports_overview_and_trail(org, small_video):
    """Issue 13's details over issue 14's summary rows: the dashboard shows a page's details and
    finds entries by them (Chinese, full-width), the streamed and background exports carry one
    column per field, the overview counts from the summary rows, and a decision posted to the API
    is a trail row with its reviewer (written through the ledger)."""
    from service.review.overview import campaign_overview
    from service.store.models import Decision

    live, admin, reviewer = org
    data = small_video.read_bytes()
    entries = [("星空探秘", "张三"), ("ＡＢＣ实验", "李四")]  # the second title in full-width letters
    with live.client() as c:
        create(c, admin)
        ids = []
        for title, author in entries:
            r = c.post("/api/campaigns/sci-2026/submissions", params={"name": f"{title}-{author}.mp4"},
                       content=data + title.encode(), headers={"X-Entry-Details": quote(json.dumps(
                           {"title": title, "author": author}))})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        items = wait_checked(c, reviewer, 2)
        assert [i["details"]["author"] for i in items] == ["张三", "李四"]
        r = c.post(f"/api/submissions/{ids[0]}/decisions", json={"decision": "accept", "note": " 好 "},
                   headers=reviewer)
        assert r.status_code == 201 and r.json()["reviewer"] == "评审" and r.json()["note"] == "好", r.text
        with live.services.db.session() as s:
            (row,) = s.scalars(select(Decision).where(Decision.submission_id == ids[0])).all()
            assert (row.kind, row.reviewer, row.decision) == ("decision", "评审", "accept")
        secret = reviewer["Authorization"].removeprefix("Bearer ")
        assert c.post("/review/login", data={"key": secret, "next": "/review/c/sci-2026"}).status_code in (200, 303)

        def shown(**params: str) -> list[str]:
            page = c.get("/review/c/sci-2026", params=params)
            assert page.status_code == 200
            return [i for i in ids if f'data-id="{i}"' in page.text]

        page = c.get("/review/c/sci-2026").text
        assert 'class="row-details"' in page and "星空探秘" in page and "李四" in page
        assert shown() == ids
        assert shown(q="张三") == [ids[0]]  # a detail value (Chinese)
        assert shown(q="李四") == [ids[1]]
        assert shown(q="abc") == [ids[1]]  # full-width ＡＢＣ folds to abc
        assert shown(q="ＡＢＣ") == [ids[1]] and shown(q="实验") == [ids[1]]
        assert shown(q="无此作品") == []

        def ordered(**params: str) -> tuple[list[str], str]:
            page = c.get("/review/c/sci-2026", params=params).text
            at = {i: page.find(f'data-id="{i}"') for i in ids}
            return sorted((i for i in ids if at[i] >= 0), key=at.__getitem__), page

        # sorting by an entry field: offered for each declared field, by its label, and used
        offered = re.findall(r'<a href="([^"]+)" data-sort="(detail:[a-z]+)"[^>]*>([^<]+)</a>', page)
        assert [(k, name) for _, k, name in offered] == [("detail:title", "作品名称"), ("detail:author", "作者"),
                                                         ("detail:phone", "联系电话")]
        assert "sort=detail%3Aauthor" in offered[1][0]
        by_author, page = ordered(sort="detail:author")
        assert by_author == ids  # 张三 before 李四 (U+5F20 < U+674E)
        assert 'data-sort="detail:author" aria-current="true" class="asc"' in page
        assert '<input type="hidden" name="sort" value="detail:author">' in page  # the filters keep the order
        assert ordered(sort="detail:author", dir="desc")[0] == ids[::-1]
        assert ordered(sort="detail:author", q="李四")[0] == [ids[1]]  # with a search
        assert ordered(sort="detail:nothing")[0] == ids  # an undeclared field: the default order
        assert ">Author</a>" in c.get("/review/c/sci-2026", params={"lang": "en"}).text
        rows = list(csv.reader(io.StringIO(c.get("/api/campaigns/sci-2026/export.csv", headers=reviewer)
                                           .content.decode("utf-8-sig"))))
        head = rows[0]
        n = head.index("决定时间") + 1  # the last fixed column, then one per field
        assert head[n:n + 3] == ["作品名称", "作者", "联系电话"] and head[n + 3].startswith("检查：")
        assert [r[head.index("作品名称")] for r in rows[1:]] == ["星空探秘", "ＡＢＣ实验"]
        xlsx = c.get("/api/campaigns/sci-2026/export.xlsx", params={"lang": "en"}, headers=reviewer)
        ws = load_workbook(io.BytesIO(xlsx.content)).active
        en = [x.value for x in ws[1]]
        assert [[x.value for x in r][en.index("Author")] for r in ws.iter_rows(min_row=2)] == ["张三", "李四"]
        job = c.post("/api/campaigns/sci-2026/exports", params={"format": "csv"}, headers=reviewer).json()
        for _ in range(300):
            done = c.get(job["links"]["self"], headers=reviewer)
            if done.status_code != 202:
                break
            time.sleep(0.1)
        assert done.status_code == 200, done.text
        assert list(csv.reader(io.StringIO(done.content.decode("utf-8-sig")))) == rows
        passing = c.get("/api/campaigns/sci-2026/handover.zip", params={"decision": "pass"}, headers=admin)
        names = zipfile.ZipFile(io.BytesIO(passing.content)).namelist()
        chosen = [i for i in items if i["summary"]["verdict"] in ("pass", "warn")]
        assert len(chosen) == 2 and len(names) == 3  # the manifest and both files
    with live.services.db.session() as s:
        o = campaign_overview(s, live.services.storage, "sci-2026")
    verdict = items[0]["summary"]["verdict"]
    assert o.entries == 2 and o.per_verdict == {verdict: 2}
    assert sum(n for _, n in o.per_day) == 2 and o.fixed == 0
    assert o.storage_bytes >= 2 * len(data)


def test_profile_change_keeps_reports_and_rechecks_on_request(org, small_video):
    live, admin, reviewer = org
    with live.client() as c:
        create(c, admin, {**CAMPAIGN, "fields": [], "limits": [], "file_name_pattern": None})
        r = c.post("/api/campaigns/sci-2026/submissions", params={"name": "a.mp4"}, content=small_video.read_bytes())
        assert r.status_code == 201, r.text
        sub_id = r.json()["id"]
        wait_checked(c, admin, 1)
        with live.services.db.session() as s:
            before = set(s.get(SubmissionSummary, sub_id).rule_ids.split())  # type: ignore[union-attr]
        assert c.patch("/api/campaigns/sci-2026", json={"profiles": ["test-deep"]}, headers=admin).status_code == 200
        assert c.get(f"/api/submissions/{sub_id}", headers=admin).json()["profile_id"] == "test-video"  # kept
        with live.services.db.session() as s:
            assert recheck_state(s, "sci-2026")["stale"] == 1
        assert c.post("/api/campaigns/sci-2026/recheck", headers=reviewer).status_code == 403
        r = c.post("/api/campaigns/sci-2026/recheck", headers=admin)
        assert r.status_code == 202
        job = r.json()["job_url"]
        for _ in range(300):
            state = c.get(job, headers=admin).json()
            if state["state"] in ("finished", "failed"):
                break
            time.sleep(0.1)
        assert state["state"] == "finished" and state["progress"] == 1.0, state
        assert c.get(f"/api/submissions/{sub_id}", headers=admin).json()["profile_id"] == "test-deep"
        report = c.get(f"/api/submissions/{sub_id}/report", headers=admin).json()
        assert report["profile"]["id"] == "test-deep"
    with live.services.db.session() as s:
        subjects = [r.subject for r in s.scalars(select(ReportRow).where(ReportRow.submission_id == sub_id)
                                                 .order_by(ReportRow.id))]
        assert subjects == ["original", "recheck"]  # the first report stays
        summary = s.get(SubmissionSummary, sub_id)  # the listing's row follows the re-check's report
        assert summary is not None and set(summary.rule_ids.split()) == {c["rule"] for c in report["checks"]}
        assert summary.report_verdict == report["verdict"] and set(summary.rule_ids.split()) != before
        assert recheck_state(s, "sci-2026")["stale"] == 0


PASTED = """id: kepu-pasted
version: "1"
title: {zh-CN: 粘贴的规格, en: Pasted profile}
kinds:
  video:
    container: {allowed: [mp4]}
    duration: {min: 0.5s, max: 10s}
"""


def test_a_pasted_profile_is_checked_with_its_line_and_kept(org, small_video):
    live, admin, _ = org
    body = {k: v for k, v in CAMPAIGN.items() if k not in ("profiles", "fields", "limits", "file_name_pattern")}
    with live.client() as c:
        bad = PASTED.replace("duration: {min: 0.5s, max: 10s}", "duration: {min: soon}")
        r = c.post("/api/campaigns", json={**body, "profile_yaml": bad}, headers=admin)
        assert r.status_code == 422 and r.json()["code"] == "invalid_profile", r.text
        assert r.json()["line"] == 7 and "第 7 行" in r.json()["message"]["zh-CN"]
        broken = c.post("/api/campaigns", json={**body, "profile_yaml": "id: x\nkinds: [\n"}, headers=admin).json()
        assert broken["code"] == "invalid_profile" and broken["line"] == 3
        taken = c.post("/api/campaigns", json={**body, "profile_yaml": PASTED.replace("kepu-pasted", "test-video")},
                       headers=admin)
        assert taken.status_code == 422 and "test-video" in taken.json()["message"]["en"]
        assert c.get("/api/campaigns/sci-2026").status_code == 404  # nothing saved
        r = c.post("/api/campaigns", json={**body, "profile_yaml": PASTED}, headers=admin)
        assert r.status_code == 201 and r.json()["profiles"] == ["kepu-pasted"], r.text
        up = c.post("/api/campaigns/sci-2026/submissions", params={"name": "a.mp4"}, content=small_video.read_bytes())
        assert up.status_code == 201 and up.json()["profile_id"] == "kepu-pasted"
    assert (live.services.settings.pasted_profiles_dir / "kepu-pasted.yaml").read_text(encoding="utf-8") == PASTED
    assert [p.name for p in live.services.settings.pasted_profiles_dir.iterdir()] == ["kepu-pasted.yaml"]


def test_uploads_at_once_cannot_pass_a_limit_together(org, small_video):
    live, admin, _ = org
    data = small_video.read_bytes()
    with live.client() as c:
        create(c, admin, {**CAMPAIGN, "file_name_pattern": None})

    def send(i: int) -> int:
        with live.client() as c:
            details = quote(json.dumps({"title": f"作品{i}", "author": "张三"}))
            return c.post("/api/campaigns/sci-2026/submissions", params={"name": f"{i}.mp4"},
                          content=data + bytes([i]), headers={"X-Entry-Details": details}).status_code

    with ThreadPoolExecutor(5) as pool:
        codes = sorted(pool.map(send, range(5)))
    assert codes == [201, 201, 409, 409, 409]
