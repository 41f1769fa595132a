from __future__ import annotations

import dataclasses
import hashlib
import zipfile

import pytest

from service.batch.archive import decode_name, is_unsafe_path, list_members, member_problem, stream_member
from service.core.errors import ArchiveError
from tests.support.zips import gbk_zip


def test_gbk_names_without_the_utf8_flag_are_decoded(tmp_path):
    z = gbk_zip(tmp_path / "a.zip", [("参赛作品/科普微视频-张三-山西科协.mp4", b"x"), ("报名表.docx", b"y")])
    with zipfile.ZipFile(z) as zf:
        assert not zf.infolist()[0].flag_bits & 0x800
        assert zf.infolist()[0].filename != "参赛作品/科普微视频-张三-山西科协.mp4"  # zipfile alone gets it wrong
    assert [m.name for m in list_members(z)] == ["参赛作品/科普微视频-张三-山西科协.mp4", "报名表.docx"]


def test_utf8_flagged_and_ascii_names_are_kept(tmp_path):
    z = gbk_zip(tmp_path / "a.zip", [("新建文件夹/视频.mp4", b"x"), ("plain.mp4", b"y")], utf8=("新建文件夹/视频.mp4",))
    assert [m.name for m in list_members(z)] == ["新建文件夹/视频.mp4", "plain.mp4"]


def test_info_zip_unicode_path_extra_wins_over_the_legacy_name():
    info = zipfile.ZipInfo("??.mp4")
    utf8 = "视频.mp4".encode()
    body = b"\x01" + (0).to_bytes(4, "little") + utf8
    info.extra = (0x7075).to_bytes(2, "little") + len(body).to_bytes(2, "little") + body
    assert decode_name(info) == "视频.mp4"


def test_backslash_names_from_windows_become_slashes(tmp_path):
    z = gbk_zip(tmp_path / "a.zip", [("作品\\视频.mp4", b"x")])
    assert list_members(z)[0].name == "作品/视频.mp4"


@pytest.mark.parametrize("name,unsafe", [("../evil.mp4", True), ("a/../../evil.mp4", True), ("/etc/passwd", True),
                                         ("C:/Windows/x.mp4", True), ("a/b..c.mp4", False), ("作品/视频.mp4", False)])
def test_unsafe_paths(name, unsafe):
    assert is_unsafe_path(name) is unsafe


def test_encrypted_member_is_refused_before_reading(tmp_path):
    z = gbk_zip(tmp_path / "a.zip", [("密.mp4", b"secret")], encrypted=("密.mp4",))
    (m,) = list_members(z)
    assert m.encrypted
    problem = member_problem(m)
    assert problem is not None and problem.code == "encrypted"
    with pytest.raises(ArchiveError) as e:
        stream_member(z, m, tmp_path / "out.bin")
    assert e.value.code == "encrypted" and not (tmp_path / "out.bin").exists()


def test_zip_bomb_ratio_is_refused(tmp_path):
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.mp4", bytes(20 * 2**20))
    (m,) = list_members(z)
    assert m.size / m.compressed_size > 100
    problem = member_problem(m)
    assert problem is not None and problem.code == "zip_bomb"


def test_actual_bytes_are_counted_while_streaming(tmp_path):
    """A central directory that understates the size: the copy stops at the declared size."""
    z = tmp_path / "a.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("v.mp4", b"a" * 5000)
    (m,) = list_members(z)
    lying = dataclasses.replace(m, size=1000)
    with pytest.raises(ArchiveError) as e:
        stream_member(z, lying, tmp_path / "out.mp4")
    assert e.value.code == "zip_bomb" and not (tmp_path / "out.mp4").exists()


def test_stream_member_copies_and_hashes(tmp_path):
    data = bytes(range(256)) * 5000
    z = gbk_zip(tmp_path / "a.zip", [("视频.mp4", data)])
    (m,) = list_members(z)
    sha = stream_member(z, m, tmp_path / "out.mp4")
    assert sha == hashlib.sha256(data).hexdigest()
    assert (tmp_path / "out.mp4").read_bytes() == data


def test_corrupt_member_is_an_archive_error(tmp_path):
    z = gbk_zip(tmp_path / "a.zip", [("视频.mp4", bytes(range(256)) * 100)])
    raw = bytearray(z.read_bytes())
    raw[60:80] = b"\xff" * 20  # inside the compressed data
    z.write_bytes(bytes(raw))
    (m,) = list_members(z)
    with pytest.raises(ArchiveError) as e:
        stream_member(z, m, tmp_path / "out.mp4")
    assert e.value.code == "member_corrupt" and not (tmp_path / "out.mp4").exists()


def test_not_a_zip(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ArchiveError) as e:
        list_members(bad)
    assert e.value.code == "archive_unreadable"


def test_deflate64_from_windows_explorer_is_refused_with_a_clear_reason(tmp_path):
    z = tmp_path / "大文件.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("视频.mp4", b"x" * 100)
    raw = bytearray(z.read_bytes())
    for sig, method_at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):  # local header, central directory
        i = raw.find(sig)
        raw[i + method_at:i + method_at + 2] = (9).to_bytes(2, "little")  # Deflate64, as Explorer writes
    z.write_bytes(bytes(raw))
    (m,) = list_members(z)
    problem = member_problem(m)
    assert problem is not None and problem.code == "unsupported_compression"
    assert "Deflate64" in problem.message["zh-CN"] and "Deflate64" in problem.message["en"]
