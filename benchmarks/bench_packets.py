#!/usr/bin/env python3
"""What reading frame times for the frame-rate mode costs (issues 12.3 and 11.5): the old
single ffprobe run (format, streams and every stream's packets of the first 20 s, as JSON)
against the new way (format and streams; then every frame's time from an MP4/MOV index, read
in this process, or else the video stream's packet timestamps in three windows by a second
ffprobe run), interleaved over N rounds on each file given: wall time, CPU time (this process
and its children) and the bytes ffprobe printed.

    .venv/bin/python benchmarks/bench_packets.py FILE [FILE ...] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.core.facts import main_video_stream, parse_mp4_boxes, stream_fps  # noqa: E402
from service.media.mp4box import read_video_sample_times  # noqa: E402
from service.media.probe import ffprobe_command, packet_windows, packets_command  # noqa: E402


def old_command(p: Path) -> list[str]:
    """The probe's ffprobe run before issue 12.3."""
    return ["ffprobe", "-v", "error", "-hide_banner", "-of", "json", "-show_format", "-show_streams",
            "-show_program_version", "-show_entries", "packet=stream_index,pts", "-read_intervals", "%+20",
            "-i", str(p)]


def _cpu() -> float:
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_CHILDREN),
                                                 resource.getrusage(resource.RUSAGE_SELF)))


def old(p: Path) -> int:
    return len(subprocess.run(old_command(p), capture_output=True, check=True).stdout)


def new(p: Path) -> int:
    """The probe's way (``probe.frame_times``): its first ffprobe run, then the MP4 index, or else
    the windows' ffprobe run."""
    out = subprocess.run(ffprobe_command(p), capture_output=True, check=True).stdout
    data = json.loads(out)
    boxes = None
    if data["format"]["format_name"].startswith("mov,mp4"):
        with p.open("rb") as fh:
            def header_at(offset: int) -> bytes:
                fh.seek(offset)
                return fh.read(16)
            boxes = parse_mp4_boxes(header_at, p.stat().st_size)
    times = read_video_sample_times(p, boxes) if boxes else None
    if times is not None:  # what frame_times does first: the index, no process
        return len(out)
    v = main_video_stream(data)
    assert v is not None
    windows = packet_windows(float(data["format"]["duration"]), stream_fps(v))
    return len(out) + len(subprocess.run(packets_command(p, v["index"], windows), capture_output=True,
                                         check=True).stdout)


def timed(run, p: Path) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    """Wall seconds, CPU seconds and output bytes of ``run(p)``."""
    cpu, t0 = _cpu(), time.perf_counter()
    size = run(p)
    return time.perf_counter() - t0, _cpu() - cpu, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    for p in args.files:
        runs: dict[str, list[tuple[float, float, int]]] = {"old": [], "new": []}
        plans = {"old": old, "new": new}
        for name in plans:  # warm-up
            timed(plans[name], p)
        for r in range(args.rounds):
            for name in (("old", "new") if r % 2 == 0 else ("new", "old")):
                runs[name].append(timed(plans[name], p))
        print(f"{p.name} ({p.stat().st_size:,} B), median of {args.rounds}:")
        for name, rs in runs.items():
            wall = statistics.median(x[0] for x in rs) * 1000
            cpu = statistics.median(x[1] for x in rs) * 1000
            print(f"  {name}: {wall:7.0f} ms wall, {cpu:7.0f} ms CPU, {rs[0][2]:>12,} B printed")


if __name__ == "__main__":
    main()
