"""``process.run_with_progress``: progress blocks, timeout, cancel and failure all end the child."""

from __future__ import annotations

import time

import pytest

from service.core.errors import ToolCancelledError, ToolError, ToolTimeoutError
from service.media import process

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


def test_the_child_dies_with_the_process_that_started_it(tmp_path) -> None:
    # a worker killed with SIGKILL runs no cleanup; ffmpeg ignores SIGPIPE and would encode on for nobody
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys; from service.media import process\n"
        f"process.run_with_progress({LONG!r}, timeout=60, on_progress=lambda b: print('tick', flush=True))\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None and parent.stdout.readline().startswith("tick")
    child = int(Path(f"/proc/{parent.pid}/task/{parent.pid}/children").read_text().split()[0])
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    def alive() -> bool:
        try:
            return "zombie" not in Path(f"/proc/{child}/status").read_text()
        except OSError:
            return False

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and alive():
        time.sleep(0.05)
    assert not alive()
