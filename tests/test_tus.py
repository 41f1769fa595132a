"""tus 1.0 with the real ``tuspy`` client, and the protocol's edges by hand: a connection
broken mid-PATCH keeps what arrived, the upload resumes, and the stored file's sha256 is
the source's."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
from tusclient import client as tus_client

from service.store.models import Submission, Upload

ENDPOINT = "/files/test-video/"
TUS = {"Tus-Resumable": "1.0.0"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def meta(**kw: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in kw.items())


def test_tuspy_uploads_with_checksums_and_gets_the_verdict(live, small_video):
    c = tus_client.TusClient(live.url + ENDPOINT)
    with open(small_video, "rb") as fh:
        up = c.uploader(file_stream=fh, chunk_size=16 * 1024, metadata={"filename": "科普.mp4"}, upload_checksum=True)
        up.upload()
    headers = up.request.response_headers
    assert headers["mediacheck-verdict"] == "pass"
    with live.services.db.session() as s:
        sub = s.get(Submission, headers["mediacheck-submission"])
        assert sub.file_name == "科普.mp4" and sub.sha256 == sha(small_video.read_bytes())
    stored = live.services.storage.path(sub.storage_key).read_bytes()
    assert sha(stored) == sha(small_video.read_bytes())
    assert list((live.services.storage.root / "tus").iterdir()) == []


def test_broken_connection_then_tuspy_resumes(live, small_video):
    data = small_video.read_bytes()
    c = tus_client.TusClient(live.url + ENDPOINT)
    with open(small_video, "rb") as fh:
        _cut_and_resume(live, c, fh, data)


def _cut_and_resume(live, c, fh, data):
    first = c.uploader(file_stream=fh, chunk_size=10_000, metadata={"filename": "cut.mp4"})
    first.upload(stop_at=10_000)
    assert first.offset == 10_000
    # a PATCH that promises the rest but is cut off after 7,000 bytes
    path = first.url.removeprefix(live.url)
    host, port = live.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (
                f"PATCH {path} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 10000\r\n"
                "Content-Type: application/offset+octet-stream\r\n"
                f"Content-Length: {len(data) - 10_000}\r\n\r\n"
            ).encode()
            + data[10_000:17_000]
        )
        time.sleep(0.5)  # the server reads what came, then the connection breaks
        sock.close()
    for _ in range(100):  # the server notices the disconnect and keeps what arrived
        offset = int(c.uploader(file_stream=fh, url=first.url).get_offset())
        if offset == 17_000:
            break
        time.sleep(0.05)
    assert offset == 17_000
    resumed = c.uploader(file_stream=fh, url=first.url, chunk_size=64 * 1024)
    assert resumed.offset == 17_000
    resumed.upload()
    headers = resumed.request.response_headers
    assert headers["mediacheck-verdict"] == "pass"
    with live.services.db.session() as s:
        sub = s.get(Submission, headers["mediacheck-submission"])
    assert sha(live.services.storage.path(sub.storage_key).read_bytes()) == sha(data)


def test_protocol_edges(live, small_video):
    data = small_video.read_bytes()
    with live.client() as c:
        opt = c.options(ENDPOINT)
        assert opt.status_code == 204 and "creation-with-upload" in opt.headers["tus-extension"]
        assert int(opt.headers["tus-max-size"]) == 2 * 2**20
        too_big = c.post(
            ENDPOINT,
            headers=TUS | {"Upload-Length": str(2 * 2**20 + 1), "Upload-Metadata": meta(filename="a.mp4")},
        )
        assert too_big.status_code == 413 and too_big.json()["code"] == "upload_too_large"
        assert c.post(ENDPOINT, headers={"Upload-Length": "10"}).status_code == 412
        bad_name = c.post(ENDPOINT, headers=TUS | {"Upload-Length": "10", "Upload-Metadata": meta(filename="../x")})
        assert bad_name.status_code == 400
        # creation-with-upload: the first half in the POST
        r = c.post(
            ENDPOINT,
            content=data[:5000],
            headers=TUS
            | {
                "Upload-Length": str(len(data)),
                "Upload-Metadata": meta(filename="w.mp4"),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert r.status_code == 201 and r.headers["upload-offset"] == "5000" and r.headers["upload-expires"]
        url = r.headers["location"]
        assert c.head(url, headers=TUS).headers["upload-offset"] == "5000"
        wrong_type = c.patch(url, content=data[5000:], headers=TUS | {"Upload-Offset": "5000"})
        assert wrong_type.status_code == 415
        h = TUS | {"Content-Type": "application/offset+octet-stream"}
        assert c.patch(url, content=data[4000:], headers=h | {"Upload-Offset": "4000"}).status_code == 409
        bad_sum = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
        r460 = c.patch(
            url,
            content=data[5000:6000],
            headers=h | {"Upload-Offset": "5000", "Upload-Checksum": f"sha256 {bad_sum}"},
        )
        assert r460.status_code == 460
        assert c.head(url, headers=TUS).headers["upload-offset"] == "5000"
        over = c.patch(url, content=data[5000:] + b"extra", headers=h | {"Upload-Offset": "5000"})
        assert over.status_code == 413
        assert c.head(url, headers=TUS).headers["upload-offset"] == "5000"
        done = c.patch(url, content=data[5000:], headers=h | {"Upload-Offset": "5000"})
        assert done.status_code == 204 and done.headers["mediacheck-verdict"] == "pass"
        # termination
        t = c.post(ENDPOINT, headers=TUS | {"Upload-Length": "100", "Upload-Metadata": meta(filename="t.mp4")})
        turl = t.headers["location"]
        assert c.delete(turl, headers=TUS).status_code == 204
        assert c.head(turl, headers=TUS).status_code == 404
    assert sorted(os.listdir(live.services.storage.root / "tus")) == []


def test_abandoned_uploads_expire(live):
    from service.web.routes.tus import expire_uploads

    with live.client() as c:
        r = c.post(ENDPOINT, headers=TUS | {"Upload-Length": "100", "Upload-Metadata": meta(filename="old.mp4")})
        url = r.headers["location"]
    upload_id = url.rsplit("/", 1)[1]
    with live.services.db.session() as s:
        s.get(Upload, upload_id).updated_at = datetime.now(UTC) - timedelta(days=2)
    with live.client() as c:
        assert c.head(url, headers=TUS).status_code == 410
    assert expire_uploads(live.services) == 1
    assert not live.services.storage.tus_path(upload_id).exists()


@pytest.mark.parametrize("length", ["0"])
def test_empty_upload_refused(live, length):
    with live.client() as c:
        r = c.post(ENDPOINT, headers=TUS | {"Upload-Length": length, "Upload-Metadata": meta(filename="e.mp4")})
    assert r.status_code == 400 and r.json()["code"] == "empty_body"


def test_cleanup_command_expires_uploads_and_stray_temporaries(live, monkeypatch):
    import io

    from service.cli.main import main

    with live.client() as c:
        url = c.post(
            ENDPOINT, headers=TUS | {"Upload-Length": "100", "Upload-Metadata": meta(filename="o.mp4")}
        ).headers["location"]
    upload_id = url.rsplit("/", 1)[1]
    with live.services.db.session() as s:
        s.get(Upload, upload_id).updated_at = datetime.now(UTC) - timedelta(days=2)
    stray = live.services.storage.root / "tmp" / "up-crashed"
    stray.write_bytes(b"x")
    os.utime(stray, (0, 0))
    abandoned = live.services.storage.root / "derived" / "s1" / ".mediacheck-fix-job1"
    abandoned.mkdir(parents=True)
    (abandoned / "partial.mp4").write_bytes(b"half")
    os.utime(abandoned, (0, 0))
    fresh = live.services.storage.root / "derived" / "s1" / ".mediacheck-fix-job2"
    fresh.mkdir()
    exports = live.services.storage.root / "exports"
    exports.mkdir(exist_ok=True)
    old_export, new_export = exports / "job-old.xlsx", exports / "job-new.csv"
    old_export.write_bytes(b"old")
    new_export.write_bytes(b"new")
    os.utime(old_export, (time.time() - 8 * 24 * 3600,) * 2)  # kept 7 days by default
    out = io.StringIO()
    settings = live.services.settings
    monkeypatch.setenv("MEDIACHECK_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MEDIACHECK_PROFILES_DIR", str(settings.profiles_dir))
    assert main(["cleanup"], out=out) == 0
    assert out.getvalue() == ("expired resumable uploads: 1; stray temporary files removed: 1; "
                              "abandoned fix folders removed: 1; background exports removed: 1\n")
    assert not old_export.exists() and new_export.is_file()
    assert not stray.exists() and not live.services.storage.tus_path(upload_id).exists()
    assert not abandoned.exists() and fresh.is_dir()  # a fix still running keeps its folder


def test_a_client_that_lost_the_last_answer_gets_the_receipt_again(live, small_video):
    data = small_video.read_bytes()
    with live.client() as c:
        r = c.post(ENDPOINT, content=data, headers=TUS | {"Upload-Length": str(len(data)),
                   "Upload-Metadata": meta(filename="lost.mp4"), "Content-Type": "application/offset+octet-stream"})
        assert r.status_code == 201 and r.headers["mediacheck-verdict"] == "pass"
        token, sub_id = r.headers["mediacheck-receipt-token"], r.headers["mediacheck-submission"]
        again = c.head(r.headers["location"], headers=TUS)
        assert again.headers["upload-offset"] == str(len(data))
        assert (again.headers["mediacheck-submission"], again.headers["mediacheck-receipt-token"]) == (sub_id, token)
        assert c.get(f"/api/submissions/{sub_id}", params={"token": token}).json()["verdict"] == "pass"
