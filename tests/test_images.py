"""Pictures that cost more than their size (issue 11.5): a 12000×12000 PNG of a few hundred KB is
probed and made a thumbnail of without its 432 MB of pixels in the service's process; a large
picture of another format is decoded in a child process under a memory limit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.media import ffmpeg_media, written

RSS_GROWTH_LIMIT_MB = 150
"""Most the probe and the thumbnail of one costly picture may grow the process by."""

_MEASURE = """
import json, resource, sys, tempfile
from pathlib import Path
from service.media.probe import probe
from service.media.pictures import photo_thumbnail
from service.core.errors import UnreadableMediaError
from PIL import Image
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {}
try:
    facts = probe(sys.argv[1]).facts
    out["size"] = [facts.width, facts.height]
    with Image.open(photo_thumbnail(sys.argv[1], Path(tempfile.mkdtemp()))) as t:
        out["thumb"] = list(t.size)
except UnreadableMediaError as e:
    out["error"] = e.code
out["growth_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps(out))
"""


def measured(path: Path) -> dict:
    """Probe and thumbnail ``path`` in a fresh interpreter; what came out and its peak RSS growth."""
    proc = subprocess.run([sys.executable, "-W", "error", "-c", _MEASURE, str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def big_png() -> Path:
    path = ffmpeg_media("12k.png", ["-f", "lavfi", "-i", "testsrc2=s=12000x12000:d=1", "-frames:v", "1",
                                    "-compression_level", "9"])
    assert path.stat().st_size < 64 << 20
    return path


def test_a_12000_square_png_is_probed_and_shrunk_in_bounded_memory(big_png):
    got = measured(big_png)
    assert got["size"] == [12000, 12000] and got["thumb"] == [480, 480]
    assert got["growth_mb"] < RSS_GROWTH_LIMIT_MB, got  # decoding it whole: +550 MB


def test_a_truncated_large_png_is_found_without_its_pixels(big_png):
    data = big_png.read_bytes()
    got = measured(written("12k-cut.png", data[: len(data) * 2 // 3]))
    assert got["error"] == "truncated" and got["growth_mb"] < RSS_GROWTH_LIMIT_MB, got


@pytest.fixture(scope="module")
def big_gif() -> Path:
    """A GIF whose pixels (12000×12000 with a palette, 144 MB) are over the in-process budget."""
    return ffmpeg_media("12k.gif", ["-f", "lavfi", "-i", "testsrc2=s=12000x12000:d=1", "-frames:v", "1"])


def test_a_large_picture_of_another_format_is_decoded_in_a_child(big_gif):
    from service.media.images import DECODE_BUDGET_BYTES

    assert DECODE_BUDGET_BYTES < 12000 * 12000
    got = measured(big_gif)
    assert got["size"] == [12000, 12000] and got["thumb"] == [480, 480]
    assert got["growth_mb"] < RSS_GROWTH_LIMIT_MB, got


def test_a_truncated_large_gif_is_found_by_the_child(big_gif):
    data = big_gif.read_bytes()
    got = measured(written("12k-cut.gif", data[: len(data) // 2]))
    assert got["error"] == "truncated", got


def test_the_decoding_child_runs_out_of_memory_visibly(big_gif, monkeypatch):
    """Past DECODE_MEMORY_LIMIT the child fails and the probe says the file costs too much."""
    import service.media.images as images
    from service.core.errors import UnreadableMediaError
    from service.media.probe import probe

    monkeypatch.setattr(images, "DECODE_MEMORY_LIMIT", 200 << 20)
    with pytest.raises(UnreadableMediaError) as e:
        probe(big_gif)
    assert e.value.code == "over_budget" and "200 MiB" in e.value.message["en"]
    assert "内存超过上限" in e.value.message["zh-CN"]
