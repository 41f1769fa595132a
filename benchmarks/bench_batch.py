"""Benchmark ``mediacheck batch`` against MediaConch with an equivalent policy, on the same
files in the same run, and measure memory over many small files.

    python benchmarks/bench_batch.py speed [--count 30] [--min-mb 100] [--max-mb 350] [--jobs 2]
    python benchmarks/bench_batch.py memory [--small 1000] [--jobs 2]
    python benchmarks/bench_batch.py decompose [--jobs 4]     # check_file with and without hashing

The big set (1080p25 H.264/AAC, sizes spread evenly between --min-mb and --max-mb) is made
cheaply by stream-copy looping four seconds of encoded content, and cached outside the
repository ($MEDIACHECK_BENCH_CACHE, default ~/.cache/mediacheck-bench). Page cache is
warmed before timing, so both tools read from memory; each tool runs --rounds times
and the best wall time counts. MediaConch gets a fresh HOME (its report database) and
--Force, once as one process over all files and once split over --jobs processes."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
POLICY = REPO / "benchmarks" / "shanxi-2023-microvideo.mediaconch.xml"
PROFILE = "shanxi-2023-microvideo"
CACHE = Path(os.environ.get("MEDIACHECK_BENCH_CACHE") or Path.home() / ".cache" / "mediacheck-bench")
SEED_SECONDS = 4


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


def seed(directory: Path) -> Path:
    """Four seconds of 1080p25 at about 9 Mbit/s (noise keeps the encoder honest)."""
    out = directory / "seed-1080p.mp4"
    if not out.exists():
        tmp = out.with_name(".tmp-" + out.name)
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=1920x1080:r=25:d={SEED_SECONDS},noise=alls=12:allf=t",
               "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={SEED_SECONDS}",
               "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "9M", "-maxrate", "9M", "-bufsize", "18M",
               "-pix_fmt", "yuv420p", "-g", "50", "-c:a", "aac", "-b:a", "128k", "-shortest", "-f", "mp4", str(tmp))
        tmp.rename(out)
    return out


def big_set(count: int, min_mb: int, max_mb: int) -> list[Path]:
    directory = CACHE / f"batch-{count}x{min_mb}-{max_mb}MB"
    directory.mkdir(parents=True, exist_ok=True)
    src = seed(CACHE)
    seed_mb = src.stat().st_size / 2**20
    files = []
    for i in range(count):
        target = min_mb + (max_mb - min_mb) * i / max(count - 1, 1)
        loops = max(1, round(target / seed_mb))
        out = directory / f"作品{i:03d}-{int(target)}MB.mp4"
        if not out.exists():
            tmp = out.with_name(f".tmp-{out.name}")
            fast = ["-movflags", "+faststart"] if i % 2 == 0 else []
            ffmpeg("-stream_loop", str(loops - 1), "-i", str(src), "-c", "copy", *fast, "-f", "mp4", str(tmp))
            tmp.rename(out)
        files.append(out)
    return files


def warm(files: list[Path]) -> None:
    for f in files:
        with f.open("rb") as fh:
            while fh.read(8 << 20):
                pass


def child_cpu() -> float:
    """CPU seconds (user + system) of every finished child and their descendants so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=env)
    return time.perf_counter() - t, proc


def run_mediacheck(src: Path, jobs: int, executor: str = "process") -> tuple[float, dict[str, int]]:
    with tempfile.TemporaryDirectory() as out:
        wall, proc = timed([sys.executable, "-m", "service.cli", "batch", str(src), "--profile", PROFILE, "--out",
                            out, "--jobs", str(jobs), "--executor", executor])
        if proc.returncode not in (0, 1):
            raise SystemExit(f"mediacheck failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
        verdicts: dict[str, int] = {}
        for line in Path(out, "results.jsonl").read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            v = rec["report"]["verdict"] if rec["report"] else "skipped"
            verdicts[v] = verdicts.get(v, 0) + 1
    return wall, verdicts


def run_mediaconch(files: list[Path], procs: int) -> tuple[float, dict[str, int]]:
    """MediaConch over ``files``, split over ``procs`` processes (each with its own HOME)."""
    with tempfile.TemporaryDirectory() as home:
        chunks = [files[i::procs] for i in range(procs)]
        outs: list[bytes] = [b""] * procs

        def one(i: int) -> None:
            env = dict(os.environ, HOME=f"{home}/{i}")
            Path(env["HOME"]).mkdir()
            proc = subprocess.run(["mediaconch", "--Force", "-p", str(POLICY), *map(str, chunks[i])],
                                  capture_output=True, env=env)
            outs[i] = proc.stdout

        t = time.perf_counter()
        threads = [threading.Thread(target=one, args=(i,)) for i in range(procs)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t
    return wall, mediaconch_verdicts(b"".join(outs).decode("utf-8", "replace"))


def mediaconch_verdicts(text: str) -> dict[str, int]:
    """Verdicts from MediaConch's short output, one block per file. Given several files at
    once MediaConch 23.03 marks the policy ``fail`` even when only ``level="warn"`` rules
    miss (one file at a time it says ``warn``), so the verdict is taken from the rule lines:
    fail if a rule failed, warn if one warned, else pass."""
    verdicts: dict[str, int] = {}
    current: list[str] | None = None
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith(("pass!", "fail!", "warn!", "info!")):
            current = []
            blocks.append(current)
        elif current is not None and line.strip().startswith("--   ["):
            current.append(line.strip()[len("--   ["):].split(":")[0])
    for rules in blocks:
        v = "fail" if "fail" in rules else "warn" if "warn" in rules else "pass"
        verdicts[v] = verdicts.get(v, 0) + 1
    return verdicts


def cpu_cell(name: str, values: list[float]) -> str:
    """Median CPU seconds; n/a for the process pool, whose forkserver workers are not our
    children (their CPU never reaches RUSAGE_CHILDREN)."""
    return "n/a" if "(processes)" in name else f"{statistics.median(values):.1f}"


def speed(args: argparse.Namespace) -> None:
    t = time.perf_counter()
    files = big_set(args.count, args.min_mb, args.max_mb)
    gen_s = time.perf_counter() - t
    total_mb = sum(f.stat().st_size for f in files) / 2**20
    src = files[0].parent
    warm(files)
    results: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    verdicts: dict[str, dict[str, int]] = {}
    runs: dict[str, Callable[[], tuple[float, dict[str, int]]]] = {}
    for jobs in map(int, args.mediacheck_jobs.split(",")):
        for executor in args.executors.split(","):
            runs[f"mediacheck batch --jobs {jobs} ({executor}es)" if executor == "process" else
                 f"mediacheck batch --jobs {jobs} ({executor}s)"] = partial(run_mediacheck, src, jobs, executor)
    for procs in map(int, args.mediaconch_procs.split(",")):
        runs[f"MediaConch, {procs} process{'es' if procs > 1 else ''}"] = partial(run_mediaconch, files, procs)
    for _ in range(args.rounds):  # interleaved, so drift on a shared machine hits every tool alike
        for name, fn in runs.items():
            c0 = child_cpu()
            wall, v = fn()
            cpu.setdefault(name, []).append(child_cpu() - c0)
            results.setdefault(name, []).append(wall)
            verdicts[name] = v
    best = {name: min(walls) for name, walls in results.items()}
    conch = {name: wall for name, wall in best.items() if name.startswith("MediaConch")}
    print(f"\n{len(files)} files, {total_mb / 1024:.2f} GiB ({total_mb / len(files):.0f} MiB each on average), "
          f"generated/cached in {gen_s:.0f} s; {args.rounds} round(s), best wall time; "
          f"{os.cpu_count()} cores\n")
    print("The goal's peer is the first MediaConch column: its CLI over the same files, as it ships (one process;")
    print("it has no option to run files in parallel). The other columns split the files by hand over N processes.\n")
    heads = " | ".join(f"vs {name}" for name in conch)
    print(f"| tool | wall s (best) | all rounds | files/s | {heads} | CPU s (median) | verdicts |")
    print("|---|---:|---|---:|" + "---:|" * len(conch) + "---:|---|")
    for name, wall in best.items():
        rounds = ", ".join(f"{w:.1f}" for w in results[name])
        ratios = " | ".join(f"{peer / wall:.2f}×" for peer in conch.values())
        print(f"| {name} | {wall:.1f} | {rounds} | {len(files) / wall:.2f} | {ratios} | "
              f"{cpu_cell(name, cpu[name])} | {json.dumps(verdicts[name], sort_keys=True)} |")


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _descendants(pid: int) -> list[int]:
    """Children, grandchildren…: pool workers are the forkserver's children, not ours."""
    out, todo = [], _children(pid)
    while todo:
        c = todo.pop()
        out.append(c)
        todo += _children(c)
    return out


def memory(args: argparse.Namespace) -> None:
    directory = CACHE / f"small-{args.small}"
    if not directory.exists() or len(list(directory.iterdir())) < args.small:
        tmp = Path(tempfile.mkdtemp(dir=CACHE))
        tiny = tmp / "tiny.mp4"
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=1", "-f", "lavfi", "-i", "sine=d=1",
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
               "-movflags", "+faststart", str(tiny))
        data = tiny.read_bytes()
        out = tmp / "set"
        out.mkdir()
        for i in range(args.small):
            (out / f"小文件{i:04d}.mp4").write_bytes(data + i.to_bytes(4, "big"))  # distinct sha256 each
        shutil.rmtree(directory, ignore_errors=True)
        out.rename(directory)
        shutil.rmtree(tmp)
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.Popen([sys.executable, "-m", "service.cli", "batch", str(directory), "--profile", PROFILE,
                                 "--out", out, "--jobs", str(args.jobs), "--executor", args.executor],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples: list[tuple[int, int, int]] = []  # (files done, main RSS kB, largest descendant RSS kB)
        results = Path(out, "results.jsonl")
        t = time.perf_counter()
        while proc.poll() is None:
            done = results.read_bytes().count(b"\n") if results.exists() else 0
            workers = [_rss_kb(c) for c in _descendants(proc.pid)]
            samples.append((done, _rss_kb(proc.pid), max([w for w in workers if w > 0] or [0])))
            time.sleep(0.25)
        wall = time.perf_counter() - t
    marks = []
    for frac in (0.1, 0.25, 0.5, 0.75, 1.0):
        want = int(args.small * frac)
        s = next((s for s in samples if s[0] >= want), samples[-1])
        marks.append((frac, s))
    print(f"\n{args.small} small files, --jobs {args.jobs} ({args.executor}), wall {wall:.1f} s "
          f"({args.small / wall:.1f} files/s), exit {proc.returncode}\n")
    print("| files done | main process RSS MiB | largest child RSS MiB (pool workers, ffprobe) |")
    print("|---:|---:|---:|")
    for frac, (done, main_kb, worker_kb) in marks:
        print(f"| {done} ({frac:.0%}) | {main_kb / 1024:.1f} | {worker_kb / 1024:.1f} |")
    peak_main = max(s[1] for s in samples) / 1024
    peak_worker = max(s[2] for s in samples) / 1024
    print(f"\npeak: main {peak_main:.1f} MiB, worker {peak_worker:.1f} MiB")


def decompose(args: argparse.Namespace) -> None:
    """Where mediacheck's time goes: check_file over the big set in-process, with and
    without hashing (sha256 given), ``--jobs`` threads, interleaved rounds."""
    from concurrent.futures import ThreadPoolExecutor

    from service.core.profiles import ProfileStore
    from service.media.checker import check_file
    from service.settings import DEFAULT_PROFILES_DIR

    profile = ProfileStore(DEFAULT_PROFILES_DIR).get(PROFILE)
    files = big_set(args.count, args.min_mb, args.max_mb)
    warm(files)

    def cpu() -> float:
        me = resource.getrusage(resource.RUSAGE_SELF)
        return me.ru_utime + me.ru_stime + child_cpu()

    print(f"| per {len(files)} files | wall s | CPU s |\n|---|---:|---:|")
    for _ in range(args.rounds):
        for label, kw in (("check_file (probe + MediaInfo + sha256)", {}),
                          ("check_file with the sha256 given (no hashing)", {"sha256": "0" * 64})):
            c, t = cpu(), time.perf_counter()
            with ThreadPoolExecutor(args.jobs) as ex:
                list(ex.map(lambda f, kw=kw: check_file(f, profile, **kw), files))
            print(f"| {label} | {time.perf_counter() - t:.1f} | {cpu() - c:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    sp = sub.add_parser("speed")
    sp.add_argument("--count", type=int, default=30)
    sp.add_argument("--min-mb", type=int, default=100)
    sp.add_argument("--max-mb", type=int, default=350)
    sp.add_argument("--mediacheck-jobs", default="2", help="comma-separated --jobs values to time")
    sp.add_argument("--executors", default="process,thread", help="comma-separated: process, thread")
    sp.add_argument("--mediaconch-procs", default="1,2", help="comma-separated MediaConch process counts; "
                    "the first is the goal's peer")
    sp.add_argument("--rounds", type=int, default=3)
    mp = sub.add_parser("memory")
    mp.add_argument("--small", type=int, default=1000)
    mp.add_argument("--jobs", type=int, default=2)
    mp.add_argument("--executor", choices=("process", "thread"), default="process")
    dp = sub.add_parser("decompose")
    dp.add_argument("--count", type=int, default=30)
    dp.add_argument("--min-mb", type=int, default=100)
    dp.add_argument("--max-mb", type=int, default=350)
    dp.add_argument("--jobs", type=int, default=4)
    dp.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    {"speed": speed, "memory": memory, "decompose": decompose}[args.what](args)


if __name__ == "__main__":
    main()
