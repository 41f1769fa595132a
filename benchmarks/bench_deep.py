"""Deep analysis vs a bare decode of the same file, in the same run.

    .venv/bin/python benchmarks/bench_deep.py [--rounds 3] [--file F]

Without --file it makes (once, cached in $MEDIACHECK_BENCH_MEDIA or .cache/bench) a
3-minute 1080p25 H.264 + AAC file: 10 s of a moving test pattern with camera-like grain
(so the bitrate, ~8 Mbit/s, and the decode cost are those of real footage), looped by
stream copy. Each round times, in alternating order, the bare decode
(``ffmpeg -i FILE -f null -``) and ``service.analyze.analyze`` on the same file; the
figure is the ratio of the medians. The target is ≤ 1.2 (docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.analyze import analyze, plan_analysis  # noqa: E402
from service.probe import probe  # noqa: E402

CACHE = Path(os.environ.get("MEDIACHECK_BENCH_MEDIA") or ROOT / ".cache" / "bench")
TARGET = 1.2


def bench_file() -> Path:
    out = CACHE / "deep-3min-1080p.mp4"
    if out.exists():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    seg = CACHE / ".seg-10s.mp4"
    tmp = CACHE / f".tmp-{os.getpid()}.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                    "testsrc2=s=1920x1080:r=25:d=10", "-f", "lavfi", "-i",
                    "sine=frequency=330:sample_rate=48000:d=10", "-ac", "2",
                    "-vf", "gblur=sigma=1,noise=alls=6:allf=t", "-c:v", "libx264", "-preset", "veryfast",
                    "-b:v", "8M", "-maxrate", "10M", "-bufsize", "16M", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", "128k", str(seg)], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-stream_loop", "17", "-i", str(seg),
                    "-c", "copy", "-movflags", "+faststart", str(tmp)], check=True)
    seg.unlink()
    tmp.rename(out)
    return out


def bare_decode(path: Path) -> float:
    t = time.perf_counter()
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-f", "null", "-"], check=True)
    return time.perf_counter() - t


def deep(path: Path, facts) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    analyze(path, facts)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--file", type=Path)
    args = ap.parse_args()
    path = args.file or bench_file()
    facts = probe(path).facts
    print(f"file: {path.name}  {facts.width}x{facts.height} {facts.video_codec} {facts.frame_rate_fps:g} fps "
          f"{facts.duration_s:.0f} s {facts.size_bytes / 2**20:.0f} MiB  cores: {os.cpu_count()}")
    print("graph:", plan_analysis(path, facts).command[-8])
    bare: list[float] = []
    full: list[float] = []
    for i in range(args.rounds):
        if i % 2 == 0:
            bare.append(bare_decode(path))
            full.append(deep(path, facts))
        else:
            full.append(deep(path, facts))
            bare.append(bare_decode(path))
        print(f"round {i + 1}: bare decode {bare[-1]:.2f} s, deep analysis {full[-1]:.2f} s, "
              f"ratio {full[-1] / bare[-1]:.3f}")
    ratio = statistics.median(full) / statistics.median(bare)
    print(f"median: bare decode {statistics.median(bare):.2f} s, deep analysis {statistics.median(full):.2f} s, "
          f"ratio {ratio:.3f} (target ≤ {TARGET})")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
