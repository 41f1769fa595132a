from __future__ import annotations

import pytest

from service.batch.entries import collect_entries
from tests.support.batch_set import good_mp4
from tests.support.zips import gbk_zip


def _by_name(entries):
    return {e.name: e for e in entries}


def test_folder_walk_classifies_by_extension_and_content(tmp_path):
    d = tmp_path / "收件"
    (d / "__MACOSX").mkdir(parents=True)
    (d / "无扩展名视频").write_bytes(good_mp4().read_bytes())  # sniffed: ftyp box
    (d / "a.MP4").write_bytes(b"x")  # upper-case extension still counts
    (d / "作品.rar").write_bytes(b"Rar!")
    (d / "._a.MP4").write_bytes(b"x")
    (d / "__MACOSX" / "junk.mp4").write_bytes(b"x")
    (d / "notes.txt").write_text("hello")
    got = {name: (e.action, e.reason_code) for name, e in _by_name(collect_entries([d])).items()}
    assert got == {
        "收件/无扩展名视频": ("check", None),
        "收件/a.MP4": ("check", None),
        "收件/作品.rar": ("skip", "archive_unsupported"),
        "收件/._a.MP4": ("skip", "system_file"),
        "收件/__MACOSX/junk.mp4": ("skip", "system_file"),
        "收件/notes.txt": ("skip", "not_media"),
    }


def test_order_is_stable_and_ids_survive_a_rerun(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    for n in ("b.mp4", "a.mp4", "c.jpg"):
        (d / n).write_bytes(b"x")
    first = collect_entries([d])
    assert [e.name for e in first] == ["in/a.mp4", "in/b.mp4", "in/c.jpg"]
    assert [(e.id, e.stamp) for e in collect_entries([d])] == [(e.id, e.stamp) for e in first]
    (d / "a.mp4").write_bytes(b"changed")
    assert collect_entries([d])[0].stamp != first[0].stamp


def test_zip_members_carry_the_archive_and_the_raw_name(tmp_path):
    z = gbk_zip(tmp_path / "作品.zip", [("张三/视频.mp4", b"x"), ("张三/", b"")])
    (e,) = collect_entries([z])
    assert e.name == "作品.zip/张三/视频.mp4"
    assert e.source == str(z.resolve())
    assert e.member is not None and e.member != "张三/视频.mp4"  # the CP437 reading zipfile keys on
    assert e.basename == "视频.mp4"


def test_a_broken_zip_is_one_rejected_entry(tmp_path):
    bad = tmp_path / "坏.zip"
    bad.write_bytes(b"not a zip at all")
    (e,) = collect_entries([bad])
    assert (e.action, e.reason_code, e.name) == ("reject", "archive_unreadable", "坏.zip")


def test_missing_path_raises_before_any_work(tmp_path):
    with pytest.raises(FileNotFoundError):
        collect_entries([tmp_path / "nope"])


def test_a_folder_that_cannot_be_listed_is_reported(tmp_path):
    """A real listing failure even as root: a folder whose full path exceeds PATH_MAX."""
    import os
    import shutil

    d = tmp_path / "in"
    d.mkdir()
    fd = os.open(d, os.O_RDONLY)
    depth = 0
    try:
        while len(str(d)) + depth * 201 < 4200:
            os.mkdir("x" * 200, dir_fd=fd)
            nxt = os.open("x" * 200, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd, depth = nxt, depth + 1
    finally:
        os.close(fd)
    try:
        got = [(e.action, e.reason_code) for e in collect_entries([d])]
    finally:
        shutil.rmtree(d)
    assert ("reject", "io_error") in got


def test_links_out_of_the_folder_and_special_files_are_listed_as_skipped(tmp_path):
    """Issue 11.8/11.9: a link to /etc/passwd (file) or /etc (folder) is not followed, a FIFO is
    not opened; each is listed with its reason. Links inside the folder are fine."""
    import os
    import socket

    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "a.mp4").write_bytes(b"x")
    outside = tmp_path / "elsewhere.mp4"
    outside.write_bytes(b"secret")
    (d / "passwd.mp4").symlink_to("/etc/passwd")
    (d / "out.mp4").symlink_to(outside)
    (d / "etc").symlink_to("/etc")
    (d / "inside.mp4").symlink_to(d / "sub" / "a.mp4")
    (d / "again").symlink_to("sub")
    (d / "gone.mp4").symlink_to(d / "missing.mp4")
    os.mkfifo(d / "pipe.mp4")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(d / "sock.mp4"))
    try:
        got = {name: (e.action, e.reason_code) for name, e in _by_name(collect_entries([d])).items()}
    finally:
        sock.close()
    assert got == {
        "in/sub/a.mp4": ("check", None),
        "in/inside.mp4": ("check", None),
        "in/passwd.mp4": ("skip", "link_outside"),
        "in/out.mp4": ("skip", "link_outside"),
        "in/etc": ("skip", "link_outside"),
        "in/again": ("skip", "linked_folder"),
        "in/gone.mp4": ("skip", "broken_link"),
        "in/pipe.mp4": ("skip", "not_regular_file"),
        "in/sock.mp4": ("skip", "not_regular_file"),
    }
    reasons = {e.name: e.reason for e in collect_entries([d])}
    assert "/etc/passwd" in reasons["in/passwd.mp4"]["en"] and "所选文件夹之外" in reasons["in/passwd.mp4"]["zh-CN"]
    assert "FIFO" in reasons["in/pipe.mp4"]["en"]


def test_a_link_into_another_given_folder_is_followed(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (b / "v.mp4").write_bytes(b"x")
    (a / "v.mp4").symlink_to(b / "v.mp4")
    got = {name: (e.action, e.reason_code) for name, e in _by_name(collect_entries([a, b])).items()}
    assert got == {"a/v.mp4": ("check", None), "b/v.mp4": ("check", None)}
    assert [(e.action, e.reason_code) for e in collect_entries([a])] == [("skip", "link_outside")]
