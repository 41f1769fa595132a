"""The upload API against a real uvicorn server: raw and multipart uploads, verdicts,
reports, duplicates, and every bad input refused with a problem and nothing half-stored."""

from __future__ import annotations

import hashlib
import os
import socket
import stat
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from service.store.models import ReportRow, Submission

URL = "/api/campaigns/test-video/submissions"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stored(live) -> list[Path]:
    root = live.services.storage.root / "originals"
    return [p for p in root.rglob("*") if p.is_file()]


def leftovers(live) -> list[Path]:
    return list((live.services.storage.root / "tmp").iterdir())


def count_submissions(live, status: str | None = None) -> int:
    with live.services.db.session() as s:
        q = select(func.count()).select_from(Submission)
        if status:
            q = q.where(Submission.status == status)
        return int(s.scalar(q) or 0)


def read_response(sock: socket.socket) -> str:
    """Read one whole HTTP response (headers and a Content-Length body) from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        0,
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return (head + b"\r\n\r\n" + body).decode("utf-8", "replace")


def assert_problem(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code
    assert body["message"]["zh-CN"] and body["message"]["en"]
    return body


def test_raw_upload_passes_and_stores_the_original(live, small_video, validate_report):
    with live.client() as c:
        r = c.post(
            URL,
            params={"name": "作品名-作者-单位.mp4"},
            content=small_video.read_bytes(),
            headers={"Content-Type": "video/mp4"},
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["verdict"] == "pass"
        assert body["file_name"] == "作品名-作者-单位.mp4"
        assert body["sha256"] == sha(small_video)
        assert len(body["receipt_token"]) >= 40
        report = c.get(body["report_url"]).json()
    validate_report(report)
    assert report["verdict"] == "pass" and report["file"]["sha256"] == sha(small_video)
    [original] = stored(live)
    assert sha(original) == sha(small_video)
    assert not os.stat(original).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert "作品" not in str(original)  # user names are metadata, never paths
    assert leftovers(live) == []


def test_curl_put_with_the_name_in_a_header(live, small_video):
    import subprocess
    from urllib.parse import quote

    out = subprocess.run(
        ["curl", "-sS", "-T", str(small_video), "-H", f"X-File-Name: {quote('微视频.mp4')}", live.url + URL],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    import json

    body = json.loads(out)
    assert body["verdict"] == "pass" and body["file_name"] == "微视频.mp4"


def test_multipart_upload_and_download_keep_the_chinese_name(live, small_video):
    with live.client() as c:
        r = c.post(URL, files={"file": ("科普 视频.mp4", small_video.read_bytes(), "video/mp4")})
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["verdict"] == "pass" and body["file_name"] == "科普 视频.mp4"
        d = c.get(body["links"]["file"])
    assert d.status_code == 200 and d.content == small_video.read_bytes()
    assert "filename*=UTF-8''%E7%A7%91%E6%99%AE%20%E8%A7%86%E9%A2%91.mp4" in d.headers["content-disposition"]


def test_failing_file_lists_its_failed_rules(live, square_video):
    with live.client() as c:
        r = c.post(URL, params={"name": "square.mp4"}, content=square_video.read_bytes())
        assert r.status_code == 201
        assert r.json()["verdict"] == "fail"
        report = c.get(r.json()["report_url"]).json()
        failed = {x["rule"] for x in report["checks"] if x["status"] == "fail"}
        assert {"aspect_ratio", "audio_present"} <= failed
        page = c.get(r.json()["report_url"] + "&format=html")
    assert page.status_code == 200 and "不通过" in page.text and "aspect_ratio" in page.text
    assert "要求" in page.text and "实际" in page.text


def test_same_content_twice_is_a_duplicate_stored_once(live, small_video):
    with live.client() as c:
        first = c.post(URL, params={"name": "a.mp4"}, content=small_video.read_bytes()).json()
        second = c.post(URL, params={"name": "b.mp4"}, content=small_video.read_bytes()).json()
    assert second["duplicate_of"] == first["id"]
    assert second["duplicate"]["message"]["zh-CN"]
    assert second["receipt_token"] != first["receipt_token"]
    assert len(stored(live)) == 1


def test_declared_length_over_the_limit_is_refused_before_the_body(live):
    limit = 2 * 2**20  # test-video allows 1 MiB, so uploads up to 2 MiB
    host, port = live.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (
                f"POST {URL}?name=big.mp4 HTTP/1.1\r\nHost: x\r\nContent-Length: {limit + 1}\r\n"
                "Content-Type: application/octet-stream\r\nExpect: 100-continue\r\n\r\n"
            ).encode()
        )
        answer = read_response(sock)
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "upload_too_large" in answer
    assert leftovers(live) == [] and count_submissions(live) == 0


def test_streamed_body_over_the_limit_stops_at_the_limit(live):
    """A chunked body of 64 MiB, no Content-Length, against the campaign's 2 MiB: the 413 comes once
    the limit is passed, while the client is still sending (not after the server read it all)."""
    import select

    limit = 2 * 2**20  # test-video allows 1 MiB, so uploads up to 2 MiB
    chunk = b"\0" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    host, port = live.url.removeprefix("http://").split(":")
    sent = 0
    answer = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        sock.sendall((f"POST {URL}?name=big.mp4 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                      "Content-Type: application/octet-stream\r\n\r\n").encode())
        while sent < 64 * 2**20:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        sock.settimeout(10)
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    text = answer.decode("utf-8", "replace")
    assert text.startswith("HTTP/1.1 413"), text[:200]
    assert '"code":"upload_too_large"' in text.replace(" ", "") and f'"limit_bytes":{limit}' in text.replace(" ", "")
    assert limit < sent < limit + 8 * 2**20, sent  # the server stopped reading soon after the limit
    assert leftovers(live) == [] and count_submissions(live) == 0


def test_empty_body_is_refused(live):
    with live.client() as c:
        assert_problem(c.post(URL, params={"name": "e.mp4"}, content=b""), 400, "empty_body")
    assert leftovers(live) == [] and count_submissions(live) == 0


@pytest.mark.parametrize("declared_extra", [1000])
def test_lying_content_length_and_aborted_upload_leave_nothing(live, small_video, declared_extra):
    data = small_video.read_bytes()
    host, port = live.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (
                f"POST {URL}?name=cut.mp4 HTTP/1.1\r\nHost: x\r\nContent-Length: {len(data) + declared_extra}\r\n\r\n"
            ).encode()
            + data
        )
        sock.shutdown(socket.SHUT_WR)  # the client goes away before sending what it declared
        sock.recv(65536)
    import time

    for _ in range(50):
        if not leftovers(live):
            break
        time.sleep(0.05)
    assert leftovers(live) == [] and count_submissions(live) == 0 and stored(live) == []


def test_wrong_kind_is_refused_and_not_kept(live, small_photo):
    with live.client() as c:
        r = c.post(URL, params={"name": "photo.jpg"}, content=small_photo.read_bytes())
    body = assert_problem(r, 415, "wrong_kind")
    assert "图片" in body["message"]["zh-CN"]
    assert stored(live) == [] and count_submissions(live, "refused") == 1


def test_random_bytes_are_refused_as_unreadable(live):
    with live.client() as c:
        r = c.post(URL, params={"name": "noise.mp4"}, content=os.urandom(4096))
    assert_problem(r, 422, "unreadable_media")
    assert stored(live) == []


def test_unknown_campaign_is_a_404_problem(live):
    with live.client() as c:
        body = assert_problem(
            c.post("/api/campaigns/no-such/submissions?name=a.mp4", content=b"x"), 404, "campaign_not_found"
        )
    assert "no-such" in body["message"]["en"]


@pytest.mark.parametrize("name", ["../../etc/passwd", "a\x00b.mp4", "x" * 2000 + ".mp4", "dir/a.mp4", "..\\a.mp4"])
def test_bad_file_names_are_refused(live, small_video, name):
    with live.client() as c:
        r = c.post(URL, params={"name": name}, content=small_video.read_bytes())
    assert_problem(r, 400, "invalid_file_name")
    assert stored(live) == [] and leftovers(live) == []


def test_multipart_bad_name_is_refused(live, small_video):
    with live.client() as c:
        r = c.post(URL, files={"file": ("../x.mp4", small_video.read_bytes(), "video/mp4")})
    assert_problem(r, 400, "invalid_file_name")
    assert stored(live) == [] and leftovers(live) == []


def test_closed_campaign_refuses_uploads(live, small_video):
    from datetime import UTC, datetime

    from service.submissions.campaigns import create_campaign

    with live.services.db.session() as s:
        create_campaign(
            s,
            live.services.store,
            campaign_id="closed-one",
            profiles=["test-video"],
            deadline=datetime(2023, 4, 28, 16, 0, tzinfo=UTC),
        )
    with live.client() as c:
        body = assert_problem(
            c.post("/api/campaigns/closed-one/submissions?name=a.mp4", content=small_video.read_bytes()),
            403,
            "campaign_closed",
        )
    assert "2023-04-28" in body["message"]["zh-CN"]


def test_campaign_with_two_profiles_takes_video_and_photo(live, small_video, small_photo):
    from service.submissions.campaigns import create_campaign

    with live.services.db.session() as s:
        create_campaign(s, live.services.store, campaign_id="both", profiles=["test-video", "test-photo"])
    with live.client() as c:
        v = c.post("/api/campaigns/both/submissions?name=v.mp4", content=small_video.read_bytes()).json()
        p = c.post("/api/campaigns/both/submissions?name=p.jpg", content=small_photo.read_bytes()).json()
    assert (v["profile_id"], v["verdict"]) == ("test-video", "pass")
    assert (p["profile_id"], p["verdict"]) == ("test-photo", "pass")


def test_default_campaign_exists_for_each_shipped_profile(live):
    with live.client() as c:
        ids = {x["id"] for x in c.get("/api/campaigns").json()}
        assert {"shanxi-2023-microvideo", "guangxi-2023-kexuepai-photo"} <= ids
        assert "base-video" not in ids
        info = c.get("/api/campaigns/shanxi-2023-microvideo").json()
    assert info["client_rules"]["kinds"]["video"]["min_duration_s"] == 120
    assert any(r["text"]["zh-CN"].startswith("分辨率") for r in info["rules"])


def test_report_rows_and_job_are_recorded(live, small_video):
    with live.client() as c:
        body = c.post(URL, params={"name": "a.mp4"}, content=small_video.read_bytes()).json()
        job = c.get(body["links"]["job"]).json()
    assert job["state"] == "finished" and job["kind"] == "check" and job["progress"] == 1.0
    assert job["result"]["verdict"] == "pass" and job["backend"] == "inprocess"
    with live.services.db.session() as s:
        rows = s.scalars(select(ReportRow).where(ReportRow.submission_id == body["id"])).all()
    assert [r.verdict for r in rows] == ["pass"]


def test_openapi_lists_the_paths(live):
    with live.client() as c:
        paths = c.get("/openapi.json").json()["paths"]
    for p in (
        "/api/campaigns/{campaign_id}/submissions",
        "/api/submissions/{sub_id}",
        "/api/submissions/{sub_id}/report",
        "/api/jobs/{job_id}",
    ):
        assert p in paths
    assert "multipart/form-data" in paths["/api/campaigns/{campaign_id}/submissions"]["post"]["requestBody"]["content"]


def test_multipart_edge_cases(live, small_video):
    data = small_video.read_bytes()
    with live.client() as c:
        two = c.post(URL, files=[("file", ("a.mp4", data, "video/mp4")), ("other", ("b.mp4", data, "video/mp4"))])
        assert_problem(two, 400, "one_file_only")
        assert_problem(c.post(URL, files={"file": ("", data, "video/mp4")}), 400, "invalid_file_name")
        assert_problem(
            c.post(
                URL,
                data={"only": "text"},
                headers={"Content-Type": "multipart/form-data; boundary=zz"},
                content=b'--zz\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--zz--\r\n',
            ),
            400,
            "no_file",
        )
        big = c.post(URL, files={"file": ("big.mp4", b"\0" * (3 * 2**20), "video/mp4")})
        assert_problem(big, 413, "upload_too_large")
        named = c.post(URL, files={"file": ("x.mp4", data, "video/mp4")}, data={"name": "显示名.mp4"})
        assert named.status_code == 201 and named.json()["file_name"] == "显示名.mp4"
    assert leftovers(live) == []


def test_metrics_count_uploads_and_verdicts(service_settings, small_video, square_video):
    from dataclasses import replace

    from tests.support.server import live_server

    with live_server(replace(service_settings, metrics=True)) as live, live.client() as c:
        c.post(URL, params={"name": "a.mp4"}, content=small_video.read_bytes())
        c.post(URL, params={"name": "b.mp4"}, content=square_video.read_bytes())
        c.post(URL, params={"name": "../c.mp4"}, content=small_video.read_bytes())
        text = c.get("/metrics").text
    assert 'mediacheck_uploads_total{campaign="test-video",outcome="accepted"} 2.0' in text
    assert 'mediacheck_uploads_total{campaign="test-video",outcome="refused"} 1.0' in text
    assert 'mediacheck_verdicts_total{verdict="pass"} 1.0' in text
    assert 'mediacheck_verdicts_total{verdict="fail"} 1.0' in text
    assert 'mediacheck_job_duration_seconds_count{kind="check"} 2.0' in text


def test_metrics_are_off_unless_asked_for(live):
    with live.client() as c:
        r = c.get("/metrics")
    assert_problem(r, 404, "not_found")
    assert "mediacheck_" not in r.text


def test_report_page_escapes_the_file_name(live, small_video):
    with live.client() as c:
        body = c.post(URL, params={"name": "<img src=x onerror=alert(1)>.mp4"}, content=small_video.read_bytes()).json()
        page = c.get(body["report_url"] + "&format=html").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;.mp4" in page


def test_fsync_setting():
    from service.settings import Settings

    assert Settings.from_env({}).fsync is True
    assert Settings.from_env({"MEDIACHECK_FSYNC": "0"}).fsync is False
    assert Settings.from_env({"MEDIACHECK_FSYNC": "off"}).fsync is False
