"""Hostile requests against a live server (issue 11): stored bytes are served with the type the
check found, never the one the client declared; oversized metadata and forms, bad tus counts and
checksums, forged cookies, a DELETE during a PATCH, a PATCH past its length and slow clients each
get a clear 4xx, never a 500."""

from __future__ import annotations

import base64
import os
import socket
import struct
import time
from dataclasses import replace

import pytest

from service.core.media_types import served_type
from service.review.sessions import COOKIE, issue, parse_session
from service.store.models import Submission
from service.submissions.access import create_api_key
from service.web.deps import secret_of
from tests.support.server import live_server
from tests.test_api import assert_problem, read_response

URL = "/api/campaigns/test-video/submissions"
TUS_URL = "/files/test-video/"
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET = {"Content-Type": "application/offset+octet-stream"}
SCRIPT = b"<html><script>fetch('/review/s/x/decisions',{method:'POST'})</script></html>"
SANDBOX = "default-src 'none'; frame-ancestors 'none'; sandbox"


def meta(**kw: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in kw.items())


def leftovers(live) -> list[str]:
    return sorted(os.listdir(live.services.storage.root / "tmp"))


@pytest.fixture(scope="module")
def scripted_mp4(tmp_path_factory, small_video):
    """The small clip with a top-level ``free`` box that carries an HTML page with a script."""
    box = struct.pack(">I", 8 + len(SCRIPT)) + b"free" + SCRIPT
    path = tmp_path_factory.mktemp("hostile") / "scripted.mp4"
    path.write_bytes(small_video.read_bytes() + box)
    return path


def _upload(c, how: str, data: bytes) -> tuple[str, str]:
    """Upload ``data`` declared as text/html; returns (submission id, receipt token)."""
    if how == "raw":
        r = c.post(URL, params={"name": "page.mp4"}, content=data, headers={"Content-Type": "text/html"})
    elif how == "multipart":
        r = c.post(URL, files={"file": ("page.mp4", data, "text/html")})
    else:
        created = c.post(TUS_URL, headers=TUS | {"Upload-Length": str(len(data)),
                                                "Upload-Metadata": meta(filename="page.mp4", filetype="text/html")})
        done = c.patch(created.headers["location"], content=data, headers=TUS | OFFSET | {"Upload-Offset": "0"})
        assert done.status_code == 204, done.text
        return done.headers["mediacheck-submission"], done.headers["mediacheck-receipt-token"]
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["receipt_token"]


@pytest.mark.parametrize("how", ["raw", "multipart", "tus"])
def test_media_is_served_with_the_probed_type_not_the_declared_one(live, scripted_mp4, how):
    with live.services.db.session() as s:
        _, key = create_api_key(s, name="评审", role="reviewer", campaigns=["test-video"])
    with live.client() as c:
        sub_id, token = _upload(c, how, scripted_mp4.read_bytes())
        with live.services.db.session() as s:
            sub = s.get(Submission, sub_id)
            assert sub is not None and sub.content_type == "text/html"  # kept as declared, nothing more
        download = c.get(f"/api/submissions/{sub_id}/file", params={"token": token})
        assert download.status_code == 200 and download.content == scripted_mp4.read_bytes()
        assert download.headers["content-type"] == "video/mp4"
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.headers["content-security-policy"] == SANDBOX
        assert download.headers["content-disposition"].startswith("attachment")
        # the reviewer's player link, signed in
        from service.submissions.access import active_key

        with live.services.db.session() as s:
            key_id = active_key(s, key).id  # type: ignore[union-attr]
        c.cookies.set(COOKIE, issue(secret_of(live.services), key_id))
        media = c.get(f"/review/s/{sub_id}/media")
        assert media.status_code == 200, media.text
        assert media.headers["content-type"] == "video/mp4"
        assert media.headers["content-disposition"].startswith("inline")
        assert media.headers["x-content-type-options"] == "nosniff"
        assert media.headers["content-security-policy"] == SANDBOX
        ranged = c.get(f"/review/s/{sub_id}/media", headers={"Range": "bytes=0-9"})
        assert ranged.status_code == 206 and ranged.headers["content-type"] == "video/mp4"
        page = c.get("/")  # pages keep their own policy (no sandbox), but never a sniffed type
        assert page.headers["content-type"].startswith("text/html") and "content-security-policy" not in page.headers
        assert page.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        (None, ("application/octet-stream", False)),
        ({"media": None, "verdict": "error"}, ("application/octet-stream", False)),
        ({"media": {"kind": "video", "container": "mp4"}}, ("video/mp4", True)),
        ({"media": {"kind": "video", "container": "mov"}}, ("video/quicktime", True)),
        ({"media": {"kind": "image", "container": "jpeg"}}, ("image/jpeg", True)),
        ({"media": {"kind": "unknown", "container": "html"}}, ("application/octet-stream", False)),
        ({"media": {"kind": "video", "container": "svg"}}, ("application/octet-stream", False)),
    ],
)
def test_served_type_comes_from_the_report(report, expected):
    assert served_type(report) == expected


def test_a_file_the_check_cannot_name_is_an_octet_stream_attachment(live):
    """A submission whose check found no media (here: not checked yet, no report) is served as
    an attachment of application/octet-stream, whatever was declared."""
    with live.services.db.session() as s:
        _, key = create_api_key(s, name="评审", role="reviewer", campaigns=["test-video"])
        from service.submissions.access import active_key

        key_id = active_key(s, key).id  # type: ignore[union-attr]
    storage = live.services.storage
    with live.services.db.session() as s:
        from datetime import UTC, datetime

        sub = Submission(id="h" * 32, campaign_id="test-video", profile_id="test-video", file_name="x.html",
                         content_type="text/html", size_bytes=len(SCRIPT), sha256="0" * 64,
                         storage_key=storage.original_key("test-video", "h" * 32), receipt_hash="x",
                         status="received", created_at=datetime.now(UTC))
        src = storage.root / "tmp" / "page"
        src.write_bytes(SCRIPT)
        storage.commit(src, sub.storage_key)
        s.add(sub)
    with live.client() as c:
        c.cookies.set(COOKIE, issue(secret_of(live.services), key_id))
        r = c.get(f"/review/s/{'h' * 32}/media")
    assert r.status_code == 200 and r.content == SCRIPT
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["content-security-policy"] == SANDBOX


# ------------------------------------------------------------------ tus headers
def test_upload_metadata_is_bounded(live):
    with live.client() as c:
        big = c.post(TUS_URL, headers=TUS | {"Upload-Length": "10",
                                            "Upload-Metadata": meta(filename="a.mp4", x="y" * 4000)})
        body = assert_problem(big, 400, "tus_metadata_invalid")
        assert "4096" in body["message"]["en"]
        value = c.post(TUS_URL, headers=TUS | {"Upload-Length": "10", "Upload-Metadata": meta(filename="a" * 1100)})
        assert "1024" in assert_problem(value, 400, "tus_metadata_invalid")["message"]["en"]
        many = meta(filename="a.mp4", **{f"k{i}": "v" for i in range(16)})
        keys = c.post(TUS_URL, headers=TUS | {"Upload-Length": "10", "Upload-Metadata": many})
        assert_problem(keys, 400, "tus_metadata_invalid")
        ok = c.post(TUS_URL, headers=TUS | {"Upload-Length": "10", "Upload-Metadata": meta(filename="a.mp4")})
        assert ok.status_code == 201


@pytest.mark.parametrize("value", [b"\xb2", b"1\xb2", "²".encode(), b"9" * 5000, b"-1", b"1e3", "１０".encode()])
def test_strange_counts_are_400(live, value):
    with live.client() as c:
        r = c.post(TUS_URL, headers=TUS | {"Upload-Length": value,
                                           "Upload-Metadata": meta(filename="a.mp4")})
        assert_problem(r, 400, "tus_header_invalid")
        created = c.post(TUS_URL, headers=TUS | {"Upload-Length": "10", "Upload-Metadata": meta(filename="a.mp4")})
        url = created.headers["location"]
        p = c.patch(url, content=b"x", headers=TUS | OFFSET | {"Upload-Offset": value})
        assert_problem(p, 400, "tus_header_invalid")


@pytest.mark.parametrize("checksum", ["sha1 abc", "sha1 !!!!", "sha256 " + base64.b64encode(b"short").decode(), "md5"])
def test_malformed_checksums_are_400(live, checksum):
    with live.client() as c:
        created = c.post(TUS_URL, headers=TUS | {"Upload-Length": "10", "Upload-Metadata": meta(filename="a.mp4")})
        url = created.headers["location"]
        r = c.patch(url, content=b"0123456789", headers=TUS | OFFSET | {"Upload-Offset": "0",
                                                                        "Upload-Checksum": checksum})
        assert_problem(r, 400, "tus_checksum_invalid")
        assert c.head(url, headers=TUS).headers["upload-offset"] == "0"


def test_patch_past_the_length_says_so(live):
    with live.client() as c:
        created = c.post(TUS_URL, headers=TUS | {"Upload-Length": "10", "Upload-Metadata": meta(filename="a.mp4")})
        url = created.headers["location"]
        r = c.patch(url, content=b"x" * 25, headers=TUS | OFFSET | {"Upload-Offset": "0"})
        body = assert_problem(r, 413, "tus_past_length")
        assert "Upload-Length of 10 bytes" in body["message"]["en"] and "Upload-Length" in body["message"]["zh-CN"]
        assert c.head(url, headers=TUS).headers["upload-offset"] == "0"


def test_delete_while_a_patch_writes_is_423(live):
    with live.client() as c:
        created = c.post(TUS_URL, headers=TUS | {"Upload-Length": "100000", "Upload-Metadata": meta(filename="a.mp4")})
        url = created.headers["location"]
        host, port = live.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall((f"PATCH {url} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                          "Content-Type: application/offset+octet-stream\r\nContent-Length: 50000\r\n\r\n").encode()
                         + b"a" * 1000)
            time.sleep(0.5)  # the PATCH holds the upload
            busy = c.delete(url, headers=TUS)
            assert_problem(busy, 423, "tus_locked")
            sock.sendall(b"a" * 49000)
            assert " 204 " in read_response(sock).split("\r\n")[0]
        assert c.head(url, headers=TUS).headers["upload-offset"] == "50000"  # the PATCH was not cut short
        assert c.delete(url, headers=TUS).status_code == 204
        assert c.head(url, headers=TUS).status_code == 404


def test_delete_then_patch_is_404_not_500(live):
    with live.client() as c:
        created = c.post(TUS_URL, headers=TUS | {"Upload-Length": "10", "Upload-Metadata": meta(filename="a.mp4")})
        url = created.headers["location"]
        assert c.delete(url, headers=TUS).status_code == 204
        r = c.patch(url, content=b"0123456789", headers=TUS | OFFSET | {"Upload-Offset": "0"})
        assert_problem(r, 404, "upload_not_found")


# ------------------------------------------------------------------ multipart fields
def test_form_fields_are_capped_in_number_and_size(live, small_video):
    data = small_video.read_bytes()
    with live.client() as c:
        many = c.post(URL, data={f"f{i}": "v" for i in range(40)}, files={"file": ("a.mp4", data, "video/mp4")})
        body = assert_problem(many, 400, "too_many_fields")
        assert "16" in body["message"]["en"]
        big = c.post(URL, data={f"f{i}": "v" * 60_000 for i in range(5)}, files={"file": ("a.mp4", data, "video/mp4")})
        assert_problem(big, 413, "fields_too_large")
        one = c.post(URL, data={"x": "v" * 70_000}, files={"file": ("a.mp4", data, "video/mp4")})
        assert_problem(one, 413, "field_too_large")
        fine = c.post(URL, data={"name": "好.mp4"}, files={"file": ("a.mp4", data, "video/mp4")})
        assert fine.status_code == 201
    assert leftovers(live) == []


# ------------------------------------------------------------------ sessions
def test_a_forged_cookie_with_any_bytes_is_no_session(live):
    secret = b"s" * 32
    assert parse_session(secret, "v1.é.9999999999.x") is None
    assert parse_session(secret, "v1.k.99999999999999999999999.x") is None
    good = issue(secret, "k")
    assert parse_session(secret, good) == "k"
    host, port = live.url.removeprefix("http://").split(":")
    for value in ("v1.\xe9\xff.1.\xe9".encode("latin-1"), "v1.键.1.签".encode()):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"GET /review/ HTTP/1.1\r\nHost: x\r\nCookie: " + COOKIE.encode() + b"=" + value
                         + b"\r\nConnection: close\r\n\r\n")
            status = read_response(sock).split("\r\n")[0]
        assert " 303 " in status, status  # to the sign-in page


# ------------------------------------------------------------------ slow clients
@pytest.fixture
def impatient(service_settings):
    with live_server(replace(service_settings, body_idle_s=1.0, body_min_rate=1000, head_timeout_s=1.0)) as live:
        yield live


def _connect(live) -> socket.socket:
    host, port = live.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def test_a_body_that_stops_is_dropped_with_408(impatient):
    with _connect(impatient) as sock:
        sock.sendall((f"POST {URL}?name=a.mp4 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n").encode()
                     + b"x" * 1000)
        t0 = time.monotonic()
        response = read_response(sock)
    assert " 408 " in response.split("\r\n")[0] and "body_idle" in response
    assert time.monotonic() - t0 < 5
    assert leftovers(impatient) == []


def test_a_body_that_trickles_is_dropped_with_408(impatient):
    """One byte every 0.2 s never leaves the connection idle, but is under 1000 bytes a second."""
    with _connect(impatient) as sock:
        sock.sendall((f"POST {URL}?name=a.mp4 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n").encode())
        t0 = time.monotonic()
        sock.settimeout(0.2)
        response = b""
        while time.monotonic() - t0 < 8 and b"\r\n\r\n" not in response:
            try:
                sock.sendall(b"x")
                response += sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
    head = response.decode("utf-8", "replace")
    assert " 408 " in head.split("\r\n")[0] and time.monotonic() - t0 < 5, head
    assert leftovers(impatient) == []


def test_a_sign_in_form_that_stops_is_dropped_with_408(impatient):
    with _connect(impatient) as sock:
        sock.sendall(b"POST /review/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 100\r\n\r\nkey=mc_")
        response = read_response(sock)
    assert " 408 " in response.split("\r\n")[0] and "body_idle" in response


def test_a_tus_patch_that_stops_keeps_what_arrived(impatient):
    with impatient.client() as c:
        created = c.post(TUS_URL, headers=TUS | {"Upload-Length": "5000", "Upload-Metadata": meta(filename="a.mp4")})
        url = created.headers["location"]
        with _connect(impatient) as sock:
            sock.sendall((f"PATCH {url} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                          "Content-Type: application/offset+octet-stream\r\nContent-Length: 5000\r\n\r\n").encode()
                         + b"x" * 1000)
            response = read_response(sock)
        assert " 408 " in response.split("\r\n")[0] and "body_idle" in response
        assert '"upload_offset":1000' in response and "resume" in response
        assert c.head(url, headers=TUS).headers["upload-offset"] == "1000"


def test_a_slow_request_head_is_cut_off(impatient):
    with _connect(impatient) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        t0 = time.monotonic()
        for _ in range(3):
            time.sleep(0.4)
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
        sock.settimeout(5)
        try:
            closed = sock.recv(100) == b""
        except ConnectionResetError:
            closed = True
    assert closed and time.monotonic() - t0 < 5
    with impatient.client() as c:  # a normal client is unaffected
        assert c.get("/healthz").status_code == 200


def test_hardening_settings_from_the_environment():
    from service.settings import Settings

    default = Settings.from_env({})
    assert default.metrics is False and default.free_space_reserve == 256 * 2**20
    assert (default.body_idle_s, default.head_timeout_s, default.keep_alive_s) == (60.0, 10.0, 5.0)
    assert default.body_min_rate == 1024
    env = {"MEDIACHECK_METRICS": "1", "MEDIACHECK_FREE_SPACE_RESERVE": "1048576", "MEDIACHECK_BODY_IDLE_S": "7",
           "MEDIACHECK_BODY_MIN_RATE": "10",
           "MEDIACHECK_HEAD_TIMEOUT_S": "3", "MEDIACHECK_KEEP_ALIVE_S": "2", "MEDIACHECK_MAX_HEADER_BYTES": "8192"}
    s = Settings.from_env(env)
    assert (s.metrics, s.free_space_reserve, s.body_idle_s, s.body_min_rate, s.head_timeout_s, s.keep_alive_s,
            s.max_header_bytes) == (True, 1048576, 7.0, 10, 3.0, 2.0, 8192)
    from service.web.server import server_limits

    limits = server_limits(s)
    assert limits["timeout_keep_alive"] == 2.0 and limits["h11_max_incomplete_event_size"] == 8192
    assert limits["http"].head_timeout_s == 3.0
    assert server_limits(s, spawned=True)["http"].__module__ == "service.web.server"  # importable by name
