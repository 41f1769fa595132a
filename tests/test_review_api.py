"""The review API against a real server and the real deep job: the deep report and pictures
of each entry, the append-only trail, waivers that change the effective verdict, keys
scoped to campaigns, and the campaign export (XLSX opened with openpyxl, CSV)."""

from __future__ import annotations

import csv
import io
import time
from urllib.parse import unquote

import pytest
from sqlalchemy import delete, select, text, update

from service.core.errors import TrailRewriteError
from service.review import ledger
from service.store.models import Decision, ReportRow
from tests.support.review_setup import CAMPAIGN, OTHER


def checks_of(review, name: str) -> dict[str, dict]:
    with review.live.client() as c:
        report = c.get(f"/api/submissions/{review.ids[name]}/report", headers=review.auth()).json()
    return {x["rule"]: x for x in report["checks"]}


def test_deep_job_stores_the_content_report_and_pictures(review):
    with review.live.services.db.session() as s:
        rows = s.scalars(select(ReportRow).where(ReportRow.submission_id.in_(list(review.ids.values())),
                                                 ReportRow.subject != "fixed").order_by(ReportRow.id))
        subjects = {r.submission_id: r.subject for r in rows}
    assert set(subjects.values()) == {"deep"}  # the latest report of every entry is the deep one
    flagged = {name: {r for r, c in checks_of(review, name).items() if c["status"] == "fail"} for name in review.ids}
    assert flagged["good"] == set()
    assert flagged["pillarboxed"] == {"borders"}
    assert flagged["frozen-slide"] == {"frozen_segments", "static_content"}
    assert flagged["black-opening"] == {"black_segments"}
    assert "silence" in flagged["silent"]
    assert "interlace_detected" in flagged["interlaced"]
    black = checks_of(review, "black-opening")["black_segments"]
    assert black["segments"][0][0] == 0.0 and black["segments"][0][1] == pytest.approx(2.0, abs=0.25)
    derived = review.live.services.storage.root / "derived" / review.ids["frozen-slide"]
    assert {"poster.jpg", "contact-sheet.jpg", "thumbnail.jpg", "report.json"} <= {p.name for p in derived.iterdir()}


def test_campaign_without_deep_analysis_gets_no_deep_job(review, small_video):
    with review.live.client() as c:
        r = c.post(f"/api/campaigns/{OTHER}/submissions", params={"name": "a.mp4"}, content=small_video.read_bytes())
        assert r.status_code == 201
        kinds = [j["kind"] for j in c.get(f"/api/submissions/{r.json()['id']}", headers=review.auth(review.admin_key))
                 .json()["jobs"]]
    assert kinds == ["check"]


def test_decisions_are_appended_and_the_latest_counts(review):
    sub = review.ids["good"]
    url = f"/api/submissions/{sub}/decisions"
    with review.live.client() as c:
        first = c.post(url, json={"decision": "needs_fix", "note": "片尾缺署名"}, headers=review.auth())
        second = c.post(url, json={"decision": "accept", "note": "已补充"}, headers=review.auth())
        assert first.status_code == second.status_code == 201
        assert second.json()["reviewer"] == "评审甲"
        trail = c.get(f"/api/submissions/{sub}/trail", headers=review.auth()).json()
    assert trail["decision"]["decision"] == "accept" and trail["decision"]["by"] == "评审甲"
    mine = [x for x in trail["trail"] if x["id"] in (first.json()["id"], second.json()["id"])]
    assert [(x["decision"], x["note"]) for x in mine] == [("needs_fix", "片尾缺署名"), ("accept", "已补充")]


def test_the_trail_cannot_be_rewritten(review):
    db = review.live.services.db
    with db.session() as s:
        key = s.scalar(select(ledger.ApiKey).where(ledger.ApiKey.name == "评审甲"))
        line = ledger.record(s, submission_id=review.ids["silent"], key=key, kind="decision", decision="reject")
    with pytest.raises(TrailRewriteError), db.session() as s:  # through the ORM
        s.get(Decision, line.id).decision = "accept"
    with pytest.raises(TrailRewriteError), db.session() as s:
        s.delete(s.get(Decision, line.id))
    with pytest.raises(Exception, match="append-only"), db.session() as s:  # by SQL: the database's triggers
        s.execute(update(Decision).where(Decision.id == line.id).values(decision="accept"))
    with pytest.raises(Exception, match="append-only"), db.session() as s:
        s.execute(delete(Decision).where(Decision.id == line.id))
    with pytest.raises(Exception, match="append-only"), db.session() as s:
        s.execute(text("DELETE FROM decisions"))
    with db.session() as s:
        assert s.get(Decision, line.id).decision == "reject"


def test_waiver_changes_the_effective_verdict_and_can_be_withdrawn(review):
    sub = review.ids["pillarboxed"]
    url = f"/api/submissions/{sub}/waivers"
    with review.live.client() as c:
        before = c.get(f"/api/submissions/{sub}/trail", headers=review.auth()).json()
        assert before["effective_verdict"] == "fail" and before["waived"] == []
        r = c.post(url, json={"rule": "borders", "note": "创作意图：4:3 历史影像"}, headers=review.auth())
        assert r.status_code == 201, r.text
        assert r.json()["waived"] == ["borders"] and r.json()["effective_verdict"] in ("pass", "warn")
        assert r.json()["verdict"] == "fail"  # the report itself is never changed
        assert r.json()["line"]["by"] == "评审甲" and r.json()["line"]["rule"] == "borders"
        back = c.post(url, json={"rule": "borders", "withdraw": True}, headers=review.auth()).json()
        assert back["waived"] == [] and back["effective_verdict"] == "fail"
        assert [x["kind"] for x in back["trail"]][-2:] == ["waive", "unwaive"]
        bad = c.post(url, json={"rule": "no_such_rule"}, headers=review.auth())
        assert bad.status_code == 422 and bad.json()["code"] == "unknown_rule"


def test_keys_of_other_campaigns_and_receipts_get_nothing(review):
    sub = review.ids["good"]
    with review.live.client() as c:
        assert c.get(f"/api/submissions/{sub}/trail", headers=review.auth(review.other_key)).status_code == 404
        w = c.post(f"/api/submissions/{sub}/waivers", json={"rule": "borders"}, headers=review.auth(review.other_key))
        assert w.status_code == 404
        assert c.get(f"/api/campaigns/{CAMPAIGN}/export.xlsx", headers=review.auth(review.other_key)).status_code == 403
        assert c.get(f"/api/campaigns/{CAMPAIGN}/export.csv").status_code == 401
        token = review.tokens["good"]  # a submitter's receipt opens their report, not the review
        assert c.get(f"/api/submissions/{sub}/trail", params={"token": token}).status_code == 401
        assert c.get(f"/api/campaigns/{CAMPAIGN}/export.csv", params={"token": token}).status_code == 401
        assert c.get(f"/api/campaigns/{CAMPAIGN}/export.csv", headers=review.auth(review.admin_key)).status_code == 200


def test_export_xlsx_opens_with_chinese_headers_one_row_per_entry(review):
    """Sets up its own waivers (the session's server is shared with the page tests): black-opening's
    black frames first unwaived (a content hint with its time), then waived (no hint, listed as waived)."""
    from openpyxl import load_workbook

    black_url = f"/api/submissions/{review.ids['black-opening']}/waivers"

    def export(c):
        r = c.get(f"/api/campaigns/{CAMPAIGN}/export.xlsx", headers=review.auth())
        assert r.status_code == 200
        rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
        return r, rows[0], {row[2]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}

    with review.live.client() as c:
        c.post(f"/api/submissions/{review.ids['interlaced']}/waivers",
               json={"rule": "scan_type", "note": "档案素材"}, headers=review.auth())
        assert c.post(black_url, json={"rule": "black_segments", "withdraw": True},
                      headers=review.auth()).status_code == 201
        r, head, by_name = export(c)
        assert c.post(black_url, json={"rule": "black_segments", "note": "片头黑场是创作意图"},
                      headers=review.auth()).status_code == 201
        _, _, waived = export(c)
        c.post(black_url, json={"rule": "black_segments", "withdraw": True}, headers=review.auth())  # as found
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    disp = r.headers["content-disposition"]
    assert disp.startswith(f'attachment; filename="{CAMPAIGN}-') and "filename*=UTF-8''" in disp
    assert unquote(disp.split("filename*=UTF-8''")[1]).startswith("科普微视频评审演示-作品-")
    assert head[:7] == ("序号", "作品编号", "文件名", "大小（兆）", "时长（秒）", "分辨率", "检查结论")
    assert {"不合格项", "警告项", "内容提示", "已豁免", "评审决定", "检查：黑边（全画幅）", "检查：静音"} <= set(head)
    assert set(by_name) == {f"{n}.mp4" for n in review.ids}  # one row per entry
    assert "黑边" in by_name["pillarboxed.mp4"]["不合格项"]
    black = by_name["black-opening.mp4"]
    assert black["检查：黑场"] != "已豁免" and "00:00:00.0" in black["内容提示"]
    assert "黑场" not in (black["已豁免"] or "")
    black = waived["black-opening.mp4"]
    assert black["检查：黑场"] == "已豁免" and not black["内容提示"] and "黑场" in black["已豁免"]
    assert by_name["interlaced.mp4"]["检查：扫描方式"] == "已豁免"
    assert by_name["frozen-slide.mp4"]["检查结论"] == "不通过"


def test_export_csv_in_english(review):
    with review.live.client() as c:
        r = c.get(f"/api/campaigns/{CAMPAIGN}/export.csv", params={"lang": "en"}, headers=review.auth())
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["No.", "Entry ID", "File name"] and len(rows) == 1 + len(review.ids)
    assert unquote(r.headers["content-disposition"].split("''")[1]).endswith(".csv")


def test_sign_in_over_http_and_the_fixed_copy(review):
    sub = review.ids["good"]
    fixed = review.live.services.storage.root / "derived" / sub / "fixed.mp4"
    fixed.write_bytes(b"fixed copy bytes")
    with review.live.services.db.session() as s:
        deep = s.scalar(select(ReportRow).where(ReportRow.submission_id == sub))
        s.add(ReportRow(submission_id=sub, subject="fixed", verdict="warn", report={**deep.report, "verdict": "warn"}))
    with review.live.client() as c:
        assert c.get(f"/review/c/{CAMPAIGN}").status_code == 303  # to the sign-in page
        bad = c.post("/review/login", data={"key": review.tokens["good"], "next": f"/review/c/{CAMPAIGN}"})
        assert bad.status_code == 401 and "mediacheck_review" not in c.cookies
        r = c.post("/review/login", data={"key": review.key, "next": f"/review/c/{CAMPAIGN}"})
        assert r.status_code == 303 and r.headers["location"] == f"/review/c/{CAMPAIGN}"
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
        assert review.key not in r.headers["set-cookie"]  # the key itself never goes to the browser
        assert c.get(f"/review/c/{CAMPAIGN}").status_code == 200
        assert c.get(f"/review/c/{OTHER}").status_code == 403
        page = c.get(f"/review/s/{sub}").text
        assert f'href="/review/s/{sub}/fixed"' in page and "修复后：通过（有警告）" in page
        assert c.get(f"/api/submissions/{sub}/trail").json()["verdict"] == "pass"  # still the original's report
        got = c.get(f"/review/s/{sub}/fixed")
        assert got.content == b"fixed copy bytes"
        assert "good-%E4%BF%AE%E5%A4%8D.mp4" in got.headers["content-disposition"]  # good-修复.mp4
        ranged = c.get(f"/review/s/{sub}/media", headers={"Range": "bytes=0-99"})
        assert ranged.status_code == 206 and len(ranged.content) == 100  # the player can seek
        foreign = c.post(f"/review/s/{sub}/decisions", data={"decision": "reject"},
                         headers={"Sec-Fetch-Site": "cross-site"})
        assert foreign.status_code == 403
        odd = c.post(f"/review/s/{sub}/waivers", data={"rule": "no_such_rule", "action": "waive"})
        assert odd.status_code == 400
        assert all(x["decision"] != "reject" for x in c.get(f"/api/submissions/{sub}/trail").json()["trail"])
        c.post("/review/logout")
        assert c.get(f"/review/c/{CAMPAIGN}").status_code == 303
    fixed.unlink()


def test_a_failed_analysis_is_said_and_the_quick_report_stands(review):
    """A file that can no longer be read when the deep job runs: the job fails with its reason,
    the quick check's report stays the latest, and the reviewer's pages say so."""
    from service.store.jobs import submit_job
    from service.store.models import Job, Submission
    from tests.support.scenes import SMALL

    live = review.live
    with live.client() as c:
        r = c.post(f"/api/campaigns/{OTHER}/submissions", params={"name": "坏.mp4"}, content=SMALL.good().read_bytes())
        sub_id = r.json()["id"]
    with live.services.db.session() as s:
        path = live.services.storage.path(s.get(Submission, sub_id).storage_key)
    path.chmod(0o644)
    path.write_bytes(b"no longer a video")  # a fault we cause for real: the bytes went bad
    submit_job(live.services.db, live.services.queue, kind="deep", submission_id=sub_id)
    deadline = time.monotonic() + 30
    while True:
        with live.services.db.session() as s:
            job = s.scalar(select(Job).where(Job.submission_id == sub_id, Job.kind == "deep"))
        if job.state == "failed" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert job.state == "failed" and job.error["type"] == "UnreadableMediaError"
    with live.client() as c:
        report = c.get(f"/api/submissions/{sub_id}/report", headers=review.auth(review.admin_key)).json()
        assert report["verdict"] == "pass" and report.get("analysis") is None  # the quick check's report
        c.post("/review/login", data={"key": review.admin_key})
        page = c.get(f"/review/s/{sub_id}").text
        board = c.get(f"/review/c/{OTHER}").text
    assert 'id="deep-failed"' in page and "内容分析失败" in page
    assert "分析失败" in board


def test_summary_rows_match_the_reports_after_check_and_deep(review):
    from service.core.summaries import summarise
    from service.review import board
    from service.store.models import Submission, SubmissionSummary

    with review.live.services.db.session() as s:
        for name, sub_id in review.ids.items():
            e = board.entry(s, review.live.services.storage, s.get(Submission, sub_id))
            row = s.get(SubmissionSummary, sub_id)
            want = summarise(e.report.model_dump(mode="json"), waived=e.state.waived,
                             decision=e.state.decision.decision if e.state.decision else None)
            got = {k: getattr(row, k) for k in want}
            assert got == want, name
            assert row.verdict == e.verdict and [c["rule"] for c in row.content] == e.warnings
            assert row.thumbnail and row.deep and row.status == "checked"


def _old_export_entries(review):
    """The export's entries the way it was made before the summary rows: every report parsed."""
    from service.review import board
    from service.review.export import ExportDecision, ExportEntry
    from service.store.models import Submission

    with review.live.services.db.session() as s:
        subs = s.scalars(select(Submission).where(Submission.campaign_id == CAMPAIGN, Submission.status != "refused")
                         .order_by(Submission.created_at, Submission.id)).all()
        out = []
        for sub in subs:
            e = board.entry(s, review.live.services.storage, sub)
            d = e.state.decision
            out.append(ExportEntry(e.report, sub.id, ExportDecision(d.decision, d.by, d.at, d.note) if d else None,
                                   e.state.waived))
    return out


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_streamed_export_equals_the_export_made_from_reports(review, tmp_path, lang):
    from openpyxl import load_workbook

    from service.review.export import write_csv, write_xlsx

    with review.live.client() as c:
        c.post(f"/api/submissions/{review.ids['silent']}/decisions", json={"decision": "reject", "note": "=无声"},
               headers=review.auth())
        csv_body = c.get(f"/api/campaigns/{CAMPAIGN}/export.csv", params={"lang": lang}, headers=review.auth())
        xlsx_body = c.get(f"/api/campaigns/{CAMPAIGN}/export.xlsx", params={"lang": lang}, headers=review.auth())
    entries = _old_export_entries(review)
    assert csv_body.content == write_csv(entries, tmp_path / "old.csv", lang=lang).read_bytes()
    old = load_workbook(write_xlsx(entries, tmp_path / "old.xlsx", lang=lang, title=CAMPAIGN)).active
    new = load_workbook(io.BytesIO(xlsx_body.content)).active
    assert list(new.iter_rows(values_only=True)) == list(old.iter_rows(values_only=True))
    assert new.freeze_panes == "D2" and new.auto_filter.ref == old.auto_filter.ref
    assert new["G2"].fill.fgColor.rgb == old["G2"].fill.fgColor.rgb  # the verdict's colour


def test_listing_api_pages_with_a_next_link_and_gzip(review):
    seen: list[str] = []
    with review.live.client() as c:
        url: str | None = f"/api/campaigns/{CAMPAIGN}/submissions?limit=4"
        pages = 0
        while url:
            r = c.get(url, headers=review.auth() | {"Accept-Encoding": "gzip"})
            assert r.status_code == 200
            body = r.json()
            seen += [x["id"] for x in body["items"]]
            pages += 1
            if body["next"]:
                assert r.headers["link"] == f'<{body["next"]}>; rel="next"'
            else:
                assert "link" not in r.headers
            url = body["next"]
        assert sorted(seen) == sorted(set(seen)) and set(review.ids.values()) <= set(seen) and pages >= 2
        item = c.get(f"/api/campaigns/{CAMPAIGN}/submissions", params={"verdict": "fail", "limit": 100},
                     headers=review.auth()).json()["items"]
        assert item and all(x["summary"]["verdict"] == "fail" for x in item)
        assert {x["id"] for x in item} >= {review.ids["frozen-slide"]}
        assert c.get(f"/api/campaigns/{CAMPAIGN}/submissions", params={"since": "2999-01-01T00:00:00"},
                     headers=review.auth()).json()["items"] == []
        bad = c.get(f"/api/campaigns/{CAMPAIGN}/submissions", params={"after": "xyz"}, headers=review.auth())
        assert bad.status_code == 400 and bad.json()["code"] == "bad_cursor"
        found = c.get(f"/api/campaigns/{CAMPAIGN}/submissions", params={"q": "ＦＲＯＺＥＮ"},  # full-width, folded
                      headers=review.auth()).json()["items"]
        assert [x["id"] for x in found] == [review.ids["frozen-slide"]]
        warned = c.get(f"/api/campaigns/{CAMPAIGN}/submissions", params={"warning": "any", "limit": 100},
                       headers=review.auth()).json()["items"]
        clean = c.get(f"/api/campaigns/{CAMPAIGN}/submissions", params={"warning": "none", "limit": 100},
                      headers=review.auth()).json()["items"]
        assert review.ids["frozen-slide"] in {x["id"] for x in warned}
        assert review.ids["good"] in {x["id"] for x in clean}
        assert all(x["summary"]["content"] for x in warned) and not any(x["summary"]["content"] for x in clean)
        unknown = c.get(f"/api/campaigns/{CAMPAIGN}/submissions", params={"sort": "detail:作者"}, headers=review.auth())
        assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_sort"
        page = c.get("/review/login?next=/review/c/" + "x" * 900, headers={"Accept-Encoding": "gzip"})
        big = c.get(f"/api/campaigns/{CAMPAIGN}/submissions", headers=review.auth() | {"Accept-Encoding": "gzip"})
        assert big.headers.get("content-encoding") == "gzip" and len(big.content) > 1000
        gz = review.auth() | {"Accept-Encoding": "gzip"}
        media = c.get(f"/api/submissions/{review.ids['good']}/file", headers=gz)
        assert "content-encoding" not in media.headers
        export = c.get(f"/api/campaigns/{CAMPAIGN}/export.csv", headers=gz)
        assert "content-encoding" not in export.headers
    assert page.status_code == 200 and page.headers.get("content-encoding") == "gzip"  # pages too


def test_a_background_export_gives_the_same_file(review):
    with review.live.client() as c:
        assert c.post(f"/api/campaigns/{CAMPAIGN}/exports", headers=review.auth(review.other_key)).status_code == 403
        r = c.post(f"/api/campaigns/{CAMPAIGN}/exports", params={"format": "csv"}, headers=review.auth())
        assert r.status_code == 202 and r.json()["entries"] >= len(review.ids)
        url = r.json()["links"]["self"]
        deadline = time.monotonic() + 30
        while (got := c.get(url, headers=review.auth())).status_code == 202 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
        streamed = c.get(f"/api/campaigns/{CAMPAIGN}/export.csv", headers=review.auth())
        assert got.content == streamed.content
        assert got.headers["content-disposition"] == streamed.headers["content-disposition"]
        other = c.get(f"/api/campaigns/{OTHER}/exports/{url.rsplit('/', 1)[1]}", headers=review.auth(review.admin_key))
        assert other.status_code == 404  # the job belongs to its own campaign
