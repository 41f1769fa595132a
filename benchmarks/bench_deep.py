"""Deep analysis vs a bare decode of the same file, in the same run.

    .venv/bin/python benchmarks/bench_deep.py [--rounds 3] [--file F]

Without --file it makes (once, cached in $MEDIACHECK_BENCH_MEDIA or .cache/bench) a
3-minute 1080p25 H.264 + AAC file: 10 s of a moving test pattern with camera-like grain
(so the bitrate, ~8 Mbit/s, and the decode cost are those of real footage), looped by
stream copy. Each round times, in alternating order, the bare decode
(``ffmpeg -i FILE -f null -``) and ``service.media.detector.analyze`` on the same file; the
figure is the ratio of the medians of the wall times. The target is ≤ 1.2
(docs/benchmarks.md). The CPU time (user + system of the ffmpeg child) is printed too:
on a machine shared with other work it is the steadier of the two figures."""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.media.detector import analyze, plan_analysis  # noqa: E402
from service.media.probe import probe  # noqa: E402

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


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def bare_decode(path: Path) -> tuple[float, float]:
    t, c = time.perf_counter(), _child_cpu()
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-f", "null", "-"], check=True)
    return time.perf_counter() - t, _child_cpu() - c


def deep(path: Path, facts) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    t, c = time.perf_counter(), _child_cpu()
    analyze(path, facts)
    return time.perf_counter() - t, _child_cpu() - c


NAIVE_GRAPH = ("[0:v:0]blackdetect=d=0.5,freezedetect=d=1,cropdetect=round=2:reset=1,idet,scdet;"
               "[0:a:0]silencedetect=d=1,ebur128=peak=true:framelog=verbose")
"""Every detector chained on every full-size frame: the graph the tuned one is compared to."""


def naive(path: Path) -> tuple[float, float]:
    t, c = time.perf_counter(), _child_cpu()
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-filter_complex", NAIVE_GRAPH,
                    "-f", "null", "-"], check=True)
    return time.perf_counter() - t, _child_cpu() - c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--file", type=Path)
    ap.add_argument("--naive", action="store_true",
                    help="also time the naive chain (every detector, full frames)")
    args = ap.parse_args()
    path = args.file or bench_file()
    facts = probe(path).facts
    print(f"file: {path.name}  {facts.width}x{facts.height} {facts.video_codec} {facts.frame_rate_fps:g} fps "
          f"{facts.duration_s:.0f} s {facts.size_bytes / 2**20:.0f} MiB  cores: {os.cpu_count()}")
    cmd = plan_analysis(path, facts).command
    print("graph:", cmd[cmd.index("-filter_complex") + 1], flush=True)
    bare: list[tuple[float, float]] = []
    full: list[tuple[float, float]] = []
    for i in range(args.rounds):
        if i % 2 == 0:
            bare.append(bare_decode(path))
            full.append(deep(path, facts))
        else:
            full.append(deep(path, facts))
            bare.append(bare_decode(path))
        (bw, bc), (dw, dc) = bare[-1], full[-1]
        print(f"round {i + 1}: bare decode {bw:.2f} s ({bc:.2f} s CPU), deep analysis {dw:.2f} s "
              f"({dc:.2f} s CPU), ratio wall {dw / bw:.3f}, CPU {dc / bc:.3f}", flush=True)
    if args.naive:
        nw, nc = naive(path)
        bw, bc = statistics.median(b[0] for b in bare), statistics.median(b[1] for b in bare)
        print(f"naive chain: {nw:.2f} s ({nc:.2f} s CPU), ratio wall {nw / bw:.3f}, CPU {nc / bc:.3f}",
              flush=True)
    wall = statistics.median(d[0] for d in full) / statistics.median(b[0] for b in bare)
    cpu = statistics.median(d[1] for d in full) / statistics.median(b[1] for b in bare)
    print(f"median: bare decode {statistics.median(b[0] for b in bare):.2f} s, deep analysis "
          f"{statistics.median(d[0] for d in full):.2f} s; ratio wall {wall:.3f}, CPU {cpu:.3f} "
          f"(target ≤ {TARGET})")
    return 0 if wall <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
