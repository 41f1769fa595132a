"""``process.run_with_progress``: progress blocks, timeout, cancel and failure all end the child."""

from __future__ import annotations

import time

import pytest

from service import process
from service.errors import ToolCancelledError, ToolError, ToolTimeoutError

LONG = ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-v", "error", "-progress", "pipe:1", "-re",
        "-f", "lavfi", "-i", "testsrc2=s=64x36:r=25:d=60", "-f", "null", "-"]


def test_progress_blocks_carry_out_time_and_end() -> None:
    blocks: list[dict[str, str]] = []
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-v", "error", "-progress", "pipe:1",
           "-f", "lavfi", "-i", "testsrc2=s=64x36:r=25:d=2", "-f", "null", "-"]
    done = process.run_with_progress(cmd, timeout=30, on_progress=lambda b: blocks.append(dict(b)))
    assert done.returncode == 0
    assert blocks[-1]["progress"] == "end"
    assert int(blocks[-1]["out_time_us"]) >= 1_900_000


def test_a_timeout_kills_the_child_quickly() -> None:
    t = time.monotonic()
    with pytest.raises(ToolTimeoutError):
        process.run_with_progress(LONG, timeout=1.0, on_progress=lambda b: None)
    assert time.monotonic() - t < 5


def test_cancel_kills_the_child() -> None:
    t = time.monotonic()
    start = time.monotonic()
    with pytest.raises(ToolCancelledError):
        process.run_with_progress(LONG, timeout=60, on_progress=lambda b: None,
                                  cancelled=lambda: time.monotonic() - start > 0.5)
    assert time.monotonic() - t < 5


def test_a_failing_callback_kills_the_child() -> None:
    def boom(block: dict[str, str]) -> None:
        raise RuntimeError("callback failed")

    t = time.monotonic()
    with pytest.raises(RuntimeError):
        process.run_with_progress(LONG, timeout=60, on_progress=boom)
    assert time.monotonic() - t < 5


def test_a_failing_tool_raises_with_the_end_of_stderr() -> None:
    with pytest.raises(ToolError) as e:
        process.run_with_progress(["ffmpeg", "-hide_banner", "-v", "error", "-i", "/nonexistent.mp4", "-f", "null",
                                   "-"], timeout=30, on_progress=lambda b: None)
    assert e.value.returncode not in (None, 0) and "nonexistent" in e.value.stderr
