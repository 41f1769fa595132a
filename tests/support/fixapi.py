"""The set-up of the fix tests that go through the API (in-process and under RQ): two test
profiles (a MOV fails only fixable rules; a slow re-encode to cancel), their media, and the
client's steps (upload a file, wait for a job)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.support.media import av, ffmpeg_media

FIX_PROFILE = """\
id: test-fix
version: "1"
title: {zh-CN: 修复测试活动, en: Fix test campaign}
size_unit: binary
kinds:
  video:
    container: {allowed: [mp4]}
    faststart: {required: true}
    audio_present: {required: true}
    duration: {min: 1s, max: 20s}
"""
"""MP4 with the index first, 1–20 s: a MOV fails only fixable rules (remuxed, not re-encoded)."""

SLOW_PROFILE = """\
id: test-fix-slow
version: "1"
title: {zh-CN: 慢速修复测试, en: Slow fix test}
kinds:
  video:
    container: {allowed: [mp4]}
    video_codec: {allowed: [h264]}
    fix: {preset: slow}
"""
"""H.264 wanted, re-encoded with preset slow: a fix that runs long enough to be cancelled."""


def mov() -> Path:
    """320×180, 2 s, H.264 + AAC in QuickTime (index at the end)."""
    return ffmpeg_media("fixapi.mov", av("320x180", seconds=2) + ["-f", "mov"])


def short_mov() -> Path:
    """Too short for ``duration: {min: 1s}``: unfixable."""
    return ffmpeg_media("fixapi-short.mov", av("320x180", seconds=0.4) + ["-f", "mov"])


def mpeg4_720p() -> Path:
    """1280×720, 10 s, MPEG-4 Part 2 in MP4: needs a re-encode to H.264."""
    return ffmpeg_media(
        "fixapi-720p-mpeg4.mp4",
        av("1280x720", seconds=10, vcodec=["-c:v", "mpeg4", "-q:v", "5"]) + ["-movflags", "+faststart"],
    )


def write_fix_profiles(profiles_dir: Path) -> None:
    (profiles_dir / "test-fix.yaml").write_text(FIX_PROFILE, encoding="utf-8")
    (profiles_dir / "test-fix-slow.yaml").write_text(SLOW_PROFILE, encoding="utf-8")


def upload(c: httpx.Client, campaign: str, path: Path, name: str) -> dict:
    r = c.post(f"/api/campaigns/{campaign}/submissions", params={"name": name}, content=path.read_bytes())
    assert r.status_code == 201, r.text
    return r.json()


def wait_job(c: httpx.Client, url: str, timeout: float = 60, until=("finished", "failed", "cancelled")) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = c.get(url).json()
        if job["state"] in until or time.monotonic() > deadline:
            return job
        time.sleep(0.1)
