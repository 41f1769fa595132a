"""Receipt tokens and scoped API keys: one submitter cannot read another's submission, a
reviewer cannot read another campaign's."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from service.core.errors import RequestError
from service.store.database import Database, migrate
from service.store.ids import new_id, new_token
from service.store.models import ApiKey, Job, Submission
from service.submissions.access import (
    Caller,
    active_key,
    active_key_by_id,
    create_api_key,
    digest,
    is_id,
    readable_job,
    readable_submission,
    require_campaign,
    reviewable_entry,
)
from service.submissions.campaigns import create_campaign

URL = "/api/campaigns/{}/submissions"


def upload(c, campaign, data, name="a.mp4"):
    r = c.post(URL.format(campaign), params={"name": name}, content=data)
    assert r.status_code == 201, r.text
    return r.json()


def test_only_the_receipt_token_reveals_a_submission(live, small_video, square_video):
    with live.client() as c:
        a = upload(c, "test-video", small_video.read_bytes())
        b = upload(c, "test-video", square_video.read_bytes())
        sub = f"/api/submissions/{a['id']}"
        assert c.get(sub, params={"token": a["receipt_token"]}).json()["id"] == a["id"]
        assert c.get(sub, headers={"X-Receipt-Token": a["receipt_token"]}).status_code == 200
        no = c.get(sub)
        assert no.status_code == 401 and no.json()["code"] == "receipt_required"
        other = c.get(sub, params={"token": b["receipt_token"]})
        assert other.status_code == 404 and other.json()["code"] == "submission_not_found"
        for path in ("/report", "/file"):
            assert c.get(sub + path, params={"token": b["receipt_token"]}).status_code == 404
        assert c.get(f"/api/jobs/{a['job']['id']}", params={"token": b["receipt_token"]}).status_code == 404


def test_reviewer_keys_are_scoped_to_campaigns(live, small_video):
    with live.services.db.session() as s:
        create_campaign(s, live.services.store, campaign_id="camp-a", profiles=["test-video"])
        create_campaign(s, live.services.store, campaign_id="camp-b", profiles=["test-video"])
        _, key_a = create_api_key(s, name="reviewer A", role="reviewer", campaigns=["camp-a"])
        _, admin = create_api_key(s, name="admin", role="admin", campaigns=["*"])
    with live.client() as c:
        in_a = upload(c, "camp-a", small_video.read_bytes())
        in_b = upload(c, "camp-b", small_video.read_bytes())
        auth = {"Authorization": f"Bearer {key_a}"}
        assert c.get(f"/api/submissions/{in_a['id']}", headers=auth).status_code == 200
        assert c.get(f"/api/submissions/{in_b['id']}", headers=auth).status_code == 404
        listed = c.get("/api/campaigns/camp-a/submissions", headers=auth).json()["items"]
        assert [x["id"] for x in listed] == [in_a["id"]]
        assert c.get("/api/campaigns/camp-b/submissions", headers=auth).json()["code"] == "not_in_scope"
        assert c.get(f"/api/submissions/{in_b['id']}", headers={"Authorization": f"Bearer {admin}"}).status_code == 200
        bad = c.get(f"/api/submissions/{in_a['id']}", headers={"Authorization": "Bearer mck_nope"})
        assert bad.status_code == 401 and bad.json()["code"] == "invalid_key"


def test_keys_and_tokens_are_stored_hashed(live, small_video):
    with live.services.db.session() as s:
        row, secret = create_api_key(s, name="r", role="reviewer", campaigns=["test-video"])
    with live.services.db.session() as s:
        stored = s.get(ApiKey, row.id)
        assert stored.key_hash == digest(secret) and secret not in stored.key_hash
    db_bytes = (live.services.settings.data_dir / "mediacheck.db").read_bytes()
    assert secret.encode() not in db_bytes


def test_check_command_does_not_import_the_web_stack():
    code = (
        "import sys; from service.cli.main import build_parser; build_parser(); import service.media.checker;"
        "bad=[m for m in ('fastapi','sqlalchemy','rq','redis','uvicorn','starlette') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_reviewer_records_a_decision_only_in_scope(live, small_video):
    from sqlalchemy import select

    from service.store.models import Decision

    with live.services.db.session() as s:
        create_campaign(s, live.services.store, campaign_id="camp-c", profiles=["test-video"])
        _, key_c = create_api_key(s, name="评审 C", role="reviewer", campaigns=["camp-c"])
        _, key_other = create_api_key(s, name="other", role="reviewer", campaigns=["test-video"])
    with live.client() as c:
        sub = upload(c, "camp-c", small_video.read_bytes())
        url = f"/api/submissions/{sub['id']}/decisions"
        ok = c.post(url, json={"decision": "accept", "note": "画面清晰"}, headers={"Authorization": f"Bearer {key_c}"})
        assert ok.status_code == 201 and ok.json()["reviewer"] == "评审 C"
        assert (
            c.post(url, json={"decision": "accept"}, headers={"Authorization": f"Bearer {key_other}"}).status_code
            == 404
        )
        assert c.post(url, json={"decision": "maybe"}, headers={"Authorization": f"Bearer {key_c}"}).status_code == 422
        assert c.post(url + f"?token={sub['receipt_token']}", json={"decision": "accept"}).status_code == 401
    with live.services.db.session() as s:
        rows = s.scalars(select(Decision).where(Decision.submission_id == sub["id"])).all()
        assert [(r.decision, r.note) for r in rows] == [("accept", "画面清晰")]


def test_tokens_stay_out_of_access_logs_and_referers(live, small_video):
    import logging

    from service.web.logs import RedactTokens

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:1", "GET", "/api/submissions/x?token=SECRET&lang=en", "1.1", 200), None)
    RedactTokens().filter(record)
    assert "SECRET" not in record.getMessage() and "token=[redacted]&lang=en" in record.getMessage()
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:1", "POST", "/api/campaigns/c/submissions?name=%E6%98%9F-%E5%BC%A0.mp4",
                                "1.1", 201), None)
    RedactTokens().filter(record)  # a file name built from entry details (title, author) is personal data
    assert "%E5%BC%A0" not in record.getMessage() and "?name=[redacted]" in record.getMessage()
    assert any(isinstance(f, RedactTokens) for f in logging.getLogger("uvicorn.access").filters)
    with live.client() as c:
        body = upload(c, "test-video", small_video.read_bytes())
        page = c.get(body["report_url"] + "&format=html")
    assert page.headers["referrer-policy"] == "no-referrer"


# ------------------------------------------------------------------ the rules of access.py, one by one
def _rows(tmp_path):
    """A database with submissions in camp-a (one refused) and camp-b, a job of each and a job
    of no submission; returns the database and the receipt tokens by submission id."""
    db = Database(f"sqlite:///{tmp_path / 'access.db'}")
    migrate(db.engine)
    tokens = {}
    with db.session() as s:
        for sub_id, campaign, status in (("a" * 32, "camp-a", "checked"), ("r" * 32, "camp-a", "refused"),
                                         ("b" * 32, "camp-b", "checked")):
            tokens[sub_id] = new_token()
            s.add(Submission(id=sub_id, campaign_id=campaign, profile_id="test-video", file_name="x.mp4",
                             size_bytes=1, sha256="0" * 64, storage_key=f"k/{sub_id}",
                             receipt_hash=digest(tokens[sub_id]), status=status))
        s.flush()
        for job_id, sub_id in (("ja", "a" * 32), ("jb", "b" * 32), ("jn", None)):
            s.add(Job(id=job_id, kind="check", submission_id=sub_id))
        assert len(new_id()) == 32
    return db, tokens


def _key(campaigns, role="reviewer"):
    return ApiKey(id="k", name="k", key_hash="h", role=role, campaigns=campaigns)


def test_rule_campaign_a_key_covers_its_campaigns_only():
    assert Caller(key=_key(["camp-a"])).may_read_campaign("camp-a")
    assert Caller(key=_key(["*"])).may_read_campaign("camp-b")
    assert not Caller(key=_key(["camp-a"])).may_read_campaign("camp-b")
    assert not Caller(token="a receipt token").may_read_campaign("camp-a")
    require_campaign(Caller(key=_key(["camp-a"])), "camp-a")
    with pytest.raises(RequestError) as refused:
        require_campaign(Caller(key=_key(["camp-a"])), "camp-b")
    assert (refused.value.status, refused.value.code) == (403, "not_in_scope")


def test_rule_submission_its_token_or_a_key_of_its_campaign(tmp_path):
    db, tokens = _rows(tmp_path)
    a, b = "a" * 32, "b" * 32
    with db.session() as s:
        assert readable_submission(s, Caller(token=tokens[a]), a).id == a
        assert readable_submission(s, Caller(key=_key(["camp-b"])), b).id == b
        for caller, sub_id, status in ((Caller(token=tokens[b]), a, 404), (Caller(key=_key(["camp-a"])), b, 404),
                                       (Caller(), a, 401), (Caller(key=_key(["*"])), a + "0", 404)):
            with pytest.raises(RequestError) as refused:
                readable_submission(s, caller, sub_id)
            assert refused.value.status == status


def test_rule_review_entry_in_a_covered_campaign_and_not_refused(tmp_path):
    db, _ = _rows(tmp_path)
    with db.session() as s:
        entry = reviewable_entry(s, _key(["camp-a"]), "a" * 32)
        assert entry is not None and entry.id == "a" * 32
        assert reviewable_entry(s, _key(["camp-a"]), "b" * 32) is None  # another campaign
        assert reviewable_entry(s, _key(["camp-a"]), "r" * 32) is None  # refused: not an entry
        assert reviewable_entry(s, _key(["*"]), "a" * 33) is None  # no id is that long
        assert reviewable_entry(s, _key(["*"]), "b" * 32) is not None
    assert is_id("a" * 32) and not is_id("a" * 33)  # a longer id is never looked up


def test_rule_job_whoever_reads_its_submission_else_admins(tmp_path):
    db, tokens = _rows(tmp_path)
    with db.session() as s:
        assert readable_job(s, Caller(token=tokens["a" * 32]), "ja").id == "ja"
        assert readable_job(s, Caller(key=_key(["camp-b"])), "jb").id == "jb"
        assert readable_job(s, Caller(key=_key(["camp-a"], role="admin")), "jn").id == "jn"
        for caller, job_id in ((Caller(token=tokens["b" * 32]), "ja"), (Caller(key=_key(["camp-a"])), "jb"),
                               (Caller(key=_key(["*"])), "jn"), (Caller(), "ja"),
                               (Caller(key=_key(["*"], role="admin")), "nope")):
            with pytest.raises(RequestError) as refused:
                readable_job(s, caller, job_id)
            assert (refused.value.status, refused.value.code) == (404, "job_not_found")


def test_rule_key_live_until_revoked_by_secret_or_by_id(tmp_path):
    db, _ = _rows(tmp_path)
    with db.session() as s:
        s.add(ApiKey(id="live", name="live", key_hash=digest("live-secret"), role="reviewer", campaigns=["*"]))
        s.add(ApiKey(id="gone", name="gone", key_hash=digest("gone-secret"), role="reviewer", campaigns=["*"],
                     revoked_at=datetime.now(UTC)))
        s.flush()
        assert active_key(s, "live-secret").id == "live"
        assert active_key_by_id(s, "live").id == "live"
        assert active_key(s, "gone-secret") is None and active_key_by_id(s, "gone") is None
        assert active_key(s, "") is None and active_key_by_id(s, "nope") is None
