"""A small set of entries for batch tests: a folder and a zip of Chinese-named files that
pass, warn, fail, cannot be read, are not media, and are unsafe. Media is generated once
(cached); the test profile keeps the verdicts apart with tiny files."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.media import av, ffmpeg_media
from tests.support.zips import gbk_zip

PROFILE_YAML = """\
id: test-batch
version: "1"
extends: base-video
title: {zh-CN: 批量测试, en: Batch test}
kinds:
  video:
    container: {allowed: [mp4]}
    duration: {min: 0.5s, max: 3s}
"""


def profile_path(directory: Path) -> Path:
    p = directory / "test-batch.yaml"
    p.write_text(PROFILE_YAML, encoding="utf-8")
    return p


def good_mp4() -> Path:
    """Passes: MP4, H.264/AAC, 1 s, index first."""
    return ffmpeg_media("good.mp4", av("160x90", seconds=1, extra_v=["-movflags", "+faststart"]))


def warn_mp4() -> Path:
    """Warns: the index is at the end (faststart is recommended)."""
    return ffmpeg_media("warn.mp4", av("160x90", seconds=1))


def long_mp4() -> Path:
    """Fails: 4 s is longer than the 3 s the test profile allows."""
    return ffmpeg_media("long.mp4", av("64x36", rate="10", seconds=4, extra_v=["-movflags", "+faststart"]))


def mkv() -> Path:
    """Fails: not MP4."""
    return ffmpeg_media("v.mkv", av("64x36", seconds=1))


def build_folder(root: Path) -> Path:
    """entries/ with loose files and a sub-folder."""
    d = root / "entries"
    (d / "第二批").mkdir(parents=True)
    shutil.copyfile(good_mp4(), d / "科普微视频-张三-山西科协.mp4")
    shutil.copyfile(warn_mp4(), d / "第二批" / "实验-李四-太原一中.mp4")
    shutil.copyfile(long_mp4(), d / "太长-王五-晋中.mp4")
    shutil.copyfile(mkv(), d / "格式不对.mkv")
    (d / "损坏.mp4").write_bytes(b"\x00garbage" * 300)
    (d / "报名表.docx").write_bytes(b"PK not really a docx")
    (d / "说明.txt").write_text("作品说明", encoding="utf-8")
    (d / "Thumbs.db").write_bytes(b"\x00")
    return d


def build_zip(root: Path) -> Path:
    """A zip as Chinese Windows writes it (GBK names), with the hazards of the field."""
    members = [
        ("参赛作品/科普微视频-赵六-运城科协.mp4", good_mp4().read_bytes()),
        ("参赛作品/时长超标-钱七-大同.mp4", long_mp4().read_bytes()),
        ("参赛作品/报名表.doc", b"not media"),
        ("参赛作品/加密作品.mp4", good_mp4().read_bytes()),
        ("../越界.mp4", good_mp4().read_bytes()),
        ("炸弹.mp4", bytes(20 * 2**20)),
        ("内层.zip", b"PK\x05\x06" + bytes(18)),
    ]
    return gbk_zip(root / "第一批作品.zip", members, encrypted=("参赛作品/加密作品.mp4",))
