#!/usr/bin/env python3
"""Speed of a quick check (issue 2, section 6): one whole ``mediacheck check`` process on a
3-minute 1080p H.264 + AAC MP4 of about 185 MB, against ``mediaconch`` with an equivalent
policy and against bare ``ffprobe``, interleaved over N rounds in one run.

    .venv/bin/python benchmarks/bench_check.py [--rounds 10] [--cache-dir DIR] [--json OUT]

The media is generated once (6 s of noisy 1080p test pattern encoded at ~7 Mbit/s,
stream-copy looped to 180 s, plus 180 s of AAC) and cached outside the repo, by default
in ~/.cache/mediacheck-bench. The MediaConch policy is derived from the profile's rules
(required rules plain, recommended rules ``level="warn"``), and before timing the script
checks that both tools reach the same verdict on a passing, a warning and a failing file.

MediaConch keeps every report in a database under $HOME and answers a file it has seen
from there; a submission is always a new file, so each timed run uses ``--Force`` and a
private HOME. The database-hit time is printed too, for reference.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from service.core.profiles import Profile, ProfileStore  # noqa: E402
from service.settings import Settings  # noqa: E402

DEFAULT_CACHE = Path(os.environ.get("MEDIACHECK_BENCH_CACHE") or Path.home() / ".cache" / "mediacheck-bench")
"""Where the generated media lives (never inside the repo)."""

TARGET_BYTES = 185_000_000
"""Size aimed at for the big file (about 185 MB); accepted within ±6%."""

DURATION_S = 180
"""Length of the big file: 3 minutes."""

SEGMENT_S = 6
"""Seconds of video actually encoded; the rest is a stream-copy loop of it."""


# ------------------------------------------------------------------ media


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


def _probe(path: Path) -> tuple[float, int]:
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_format", str(path)],
                         check=True, capture_output=True).stdout
    fmt = json.loads(out)["format"]
    return float(fmt["duration"]), int(fmt["size"])


def make_media(cache: Path) -> dict[str, Path]:
    """The big passing file, the same without faststart (a warning) and a small failing one."""
    cache.mkdir(parents=True, exist_ok=True)
    big = cache / "check-1080p-180s.mp4"
    late_moov = cache / "check-1080p-180s-moov-last.mp4"
    small = cache / "check-360p-2s.mp4"
    if not big.exists():
        audio = cache / "tone-180s.m4a"
        _ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={DURATION_S}",
                "-c:a", "aac", "-b:a", "128k", str(audio))
        kbps = 7200
        for _ in range(3):
            seg = cache / f"seg-{kbps}k.mp4"
            _ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=1920x1080:r=25:d={SEGMENT_S},noise=alls=30:allf=t",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "50",
                    "-b:v", f"{kbps}k", "-maxrate", f"{kbps}k", "-bufsize", f"{2 * kbps}k", "-an", str(seg))
            tmp = cache / f".tmp-{os.getpid()}.mp4"
            _ffmpeg("-stream_loop", "-1", "-i", str(seg), "-i", str(audio), "-map", "0:v", "-map", "1:a",
                    "-c", "copy", "-t", str(DURATION_S), "-movflags", "+faststart", str(tmp))
            seg.unlink()
            duration, size = _probe(tmp)
            if abs(size - TARGET_BYTES) <= 0.06 * TARGET_BYTES and abs(duration - DURATION_S) < 0.5:
                tmp.rename(big)
                break
            kbps = int(kbps * TARGET_BYTES / size)
            tmp.unlink()
        else:
            raise SystemExit("could not hit the target size; check ffmpeg")
        audio.unlink()
    if not late_moov.exists():
        tmp = cache / f".tmp-{os.getpid()}.mp4"
        _ffmpeg("-i", str(big), "-c", "copy", str(tmp))  # no +faststart: the moov box goes last
        tmp.rename(late_moov)
    if not small.exists():
        tmp = cache / f".tmp-{os.getpid()}.mp4"
        _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=2", "-f", "lavfi", "-i",
                "sine=frequency=440:sample_rate=48000:d=2", "-c:v", "libx264", "-preset", "ultrafast",
                "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(tmp))
        tmp.rename(small)
    return {"pass": big, "warn": late_moov, "fail": small}


# ------------------------------------------------------------------ policy


def _rule(name: str, track: str, field: str, op: str, value: object, warn: bool) -> str:
    level = ' level="warn"' if warn else ""
    return (f'  <rule name="{escape(name)}" value="{field}" tracktype="{track}" occurrence="*" '
            f'operator="{escape(op)}"{level}>{escape(str(value))}</rule>')


def policy_xml(profile: Profile) -> str:
    """A MediaConch policy equivalent to the video rules of ``profile``. Raises on a rule
    this translation does not know, so the two never silently drift apart."""
    spec = profile.kinds["video"]
    lines: list[str] = []
    for rid, rule in spec.items():
        warn = rule.severity == "recommended"

        def add(track: str, field: str, op: str, value: object, rid: str = rid, warn: bool = warn) -> None:
            lines.append(_rule(f"{rid}: {track}/{field} {op} {value}", track, field, op, value, warn))

        if rid == "container":
            assert rule.allowed == ("mp4",), rule.allowed  # type: ignore[attr-defined]
            add("General", "Format", "=", "MPEG-4")
            add("General", "Format_Profile", "=", "Base Media")  # not QuickTime
        elif rid == "audio_present":
            add("General", "AudioCount", ">=", 1)
        elif rid == "resolution":
            assert rule.min is not None and rule.min.long_edge is None  # type: ignore[attr-defined]
            add("Video", "Height", ">=", rule.min.short_edge)  # type: ignore[attr-defined] # landscape only
        elif rid == "aspect_ratio":
            (ratio,) = rule.allowed  # type: ignore[attr-defined]
            tol = rule.tolerance  # type: ignore[attr-defined]
            add("Video", "DisplayAspectRatio", ">=", f"{ratio.value * (1 - tol):.3f}")
            add("Video", "DisplayAspectRatio", "<=", f"{ratio.value * (1 + tol):.3f}")
        elif rid == "orientation":
            assert rule.allowed == ("landscape",)  # type: ignore[attr-defined]
            add("Video", "DisplayAspectRatio", ">", "1.000")
        elif rid == "scan_type":
            assert rule.allowed == ("progressive",)  # type: ignore[attr-defined]
            add("Video", "ScanType", "=", "Progressive")
        elif rid == "duration":
            lo, hi = rule.window()  # type: ignore[attr-defined]
            add("General", "Duration", ">=", f"{lo:g}")
            add("General", "Duration", "<=", f"{hi:g}")
        elif rid == "file_size":
            add("General", "FileSize", ">=", rule.min.bytes)  # type: ignore[attr-defined]
            add("General", "FileSize", "<=", rule.max.bytes)  # type: ignore[attr-defined]
        elif rid == "video_codec":
            assert rule.allowed == ("h264",)  # type: ignore[attr-defined]
            add("Video", "Format", "=", "AVC")
        elif rid == "audio_codec":
            assert rule.allowed == ("aac",)  # type: ignore[attr-defined]
            add("Audio", "Format", "=", "AAC")
        elif rid == "pixel_format":
            assert set(rule.allowed) == {"yuv420p", "yuvj420p"}  # type: ignore[attr-defined]
            add("Video", "ChromaSubsampling", "=", "4:2:0")
            add("Video", "BitDepth", "=", 8)
        elif rid == "frame_rate":
            add("Video", "FrameRate", ">=", f"{rule.min:.3f}")  # type: ignore[attr-defined]
            add("Video", "FrameRate", "<=", f"{rule.max:.3f}")  # type: ignore[attr-defined]
        elif rid == "frame_rate_mode":
            assert rule.allowed == ("constant",)  # type: ignore[attr-defined]
            add("Video", "FrameRate_Mode", "=", "CFR")
        elif rid == "faststart":
            add("General", "IsStreamable", "=", "Yes")
        else:
            raise SystemExit(f"no MediaConch translation for rule {rid!r}")
    assert not spec.alternatives and profile.filename is None
    return "\n".join([
        '<?xml version="1.0"?>',
        f'<policy type="and" name="{escape(profile.id)}">',
        f"  <description>{escape(profile.title.en)} (generated by benchmarks/bench_check.py)</description>",
        *lines, "</policy>", ""])


# ------------------------------------------------------------------ commands


def _cpu_children() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _run(cmd: list[str], env: dict[str, str] | None = None, cpu: list[float] | None = None) -> tuple[float, str]:
    """Wall seconds and stdout of one run; its CPU seconds (with its children) go to ``cpu``."""
    c = _cpu_children()
    t = time.perf_counter()
    res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, env=env)
    elapsed = time.perf_counter() - t
    if cpu is not None:
        cpu.append(_cpu_children() - c)
    if res.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} exited {res.returncode}: {res.stderr.decode(errors='replace')[-500:]}")
    return elapsed, res.stdout.decode("utf-8", errors="replace")


def mediaconch_verdict(stdout: str) -> str:
    m = re.match(r"(pass|warn|fail|N/A)!", stdout.strip())
    if not m:
        raise SystemExit(f"unexpected mediaconch output: {stdout[:300]}")
    return m.group(1)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(q * len(ordered)))) - 1]


def import_summary(python: str, argv: list[str], cwd: Path, runs: int = 5) -> dict[str, object]:
    """``python -X importtime`` of the real check command: the total (sum of top-level
    imports, median of ``runs``) and the top-level imports that cost most."""
    totals: list[float] = []
    tops: dict[str, list[float]] = {}
    for _ in range(runs):
        code = "import sys; from service.cli.main import main; sys.exit(main())"
        err = subprocess.run([python, "-X", "importtime", "-c", code, *argv], cwd=cwd,
                             capture_output=True, text=True).stderr
        total = 0.0
        for line in err.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
            if m and m.group(3) == "":
                total += int(m.group(2)) / 1000
                tops.setdefault(m.group(4), []).append(int(m.group(2)) / 1000)
        totals.append(total)
    top = sorted(((statistics.median(v), k) for k, v in tops.items()), reverse=True)[:10]
    return {"total_ms": round(statistics.median(totals), 1), "top_ms": {k: round(v, 1) for v, k in top}}


def machine() -> dict[str, object]:
    model = platform.processor()
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = re.search(r"model name\s*:\s*(.+)", cpuinfo).group(1).strip()  # type: ignore[union-attr]
    except (OSError, AttributeError):
        pass
    rev = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True,
                         text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(), "revision": rev,
            "loadavg_start": os.getloadavg()}


def _version(cmd: list[str]) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()
    return out[0] if out else "?"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--profile", default="shanxi-2023-microvideo")
    ap.add_argument("--mediacheck", default=str(Path(sys.executable).parent / "mediacheck"),
                    help="the console script to time (default: the one beside this python)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    for tool in ("ffmpeg", "ffprobe", "mediaconch", args.mediacheck):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found")

    info = machine()
    media = make_media(args.cache_dir)
    profile = ProfileStore(Settings.from_env().profiles_dir).get(args.profile)
    work = Path(tempfile.mkdtemp(prefix="mediaconch-home-", dir=args.cache_dir))
    try:
        policy = work / f"{profile.id}.xml"
        policy.write_text(policy_xml(profile), encoding="utf-8")
        mc_env = {**os.environ, "HOME": str(work)}  # a private MediaConch database
        big = media["pass"]
        cmds = {
            "mediacheck": [args.mediacheck, "check", str(big), "--profile", profile.id, "--format", "json"],
            "mediaconch": ["mediaconch", "--Force", "-p", str(policy), str(big)],
            "ffprobe": ["ffprobe", "-v", "error", "-show_format", "-show_streams", str(big)],
        }

        # the two tools agree, on a passing, a warning and a failing file
        agreement = {}
        for expect, path in media.items():
            _, ours = _run([args.mediacheck, "check", str(path), "--profile", profile.id, "--format", "json"])
            _, theirs = _run(["mediaconch", "--Force", "-p", str(policy), str(path)], env=mc_env)
            ours_v, theirs_v = json.loads(ours)["verdict"], mediaconch_verdict(theirs)
            agreement[path.name] = {"expected": expect, "mediacheck": ours_v, "mediaconch": theirs_v}
            if not ours_v == theirs_v == expect:
                raise SystemExit(f"verdicts differ on {path.name}: expected {expect}, mediacheck {ours_v}, "
                                 f"mediaconch {theirs_v}\n{theirs}")

        times: dict[str, list[float]] = {k: [] for k in cmds}
        cpu: dict[str, list[float]] = {k: [] for k in cmds}
        stages: dict[str, list[float]] = {}
        for name, cmd in cmds.items():  # warm-up: page cache, .pyc files, MediaConch's database file
            _run(cmd, env=mc_env if name == "mediaconch" else None)
        names = list(cmds)
        for r in range(args.rounds):
            for name in names[r % 3:] + names[:r % 3]:  # rotate the order every round
                elapsed, out = _run(cmds[name], env=mc_env if name == "mediaconch" else None, cpu=cpu[name])
                times[name].append(elapsed * 1000)
                if name == "mediacheck":
                    for k, v in json.loads(out)["timings_ms"].items():
                        stages.setdefault(k, []).append(v)
        cached = [_run(["mediaconch", "-p", str(policy), str(big)], env=mc_env)[0] * 1000 for _ in range(3)]
        # the interpreter of the timed console script, outside the repo: it imports the code it installed
        imports = import_summary(str(Path(args.mediacheck).with_name("python")), cmds["mediacheck"][1:], work)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    info["loadavg_end"] = os.getloadavg()
    duration, size = _probe(big)
    summary = {name: {"median_ms": round(statistics.median(v), 1), "p90_ms": round(percentile(v, 0.9), 1),
                      "cpu_median_ms": round(1000 * statistics.median(cpu[name]), 1)}
               for name, v in times.items()}
    med = {k: v["median_ms"] for k, v in summary.items()}
    result = {
        "machine": info,
        "tools": {"ffprobe": _version(["ffprobe", "-version"]), "mediaconch": _version(["mediaconch", "--Version"])},
        "file": {"name": big.name, "size_bytes": size, "duration_s": duration},
        "rounds": args.rounds, "commands": {k: " ".join(v) for k, v in cmds.items()},
        "agreement": agreement, "wall_ms": summary, "raw_ms": {k: [round(x, 1) for x in v] for k, v in times.items()},
        "ratio_mediacheck_to_mediaconch": round(med["mediacheck"] / med["mediaconch"], 2),
        "ratio_mediacheck_to_ffprobe": round(med["mediacheck"] / med["ffprobe"], 2),
        "mediacheck_stages_median_ms": {k: round(statistics.median(v), 1) for k, v in stages.items()},
        "mediaconch_database_hit_median_ms": round(statistics.median(cached), 1),
        "import": imports,
    }
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, "
          f"load {info['loadavg_start'][0]:.2f} → {info['loadavg_end'][0]:.2f}, "
          f"mediacheck {info['revision']}")
    print(f"file: {big} ({size:,} B, {duration:.1f} s); {args.rounds} interleaved rounds")
    for name, s in summary.items():
        print(f"  {name:<11} median {s['median_ms']:7.1f} ms   p90 {s['p90_ms']:7.1f} ms   "
              f"CPU {s['cpu_median_ms']:6.1f} ms   {result['commands'][name]}")
    print(f"  ratio mediacheck/mediaconch {result['ratio_mediacheck_to_mediaconch']}, "
          f"mediacheck/ffprobe {result['ratio_mediacheck_to_ffprobe']}")
    print(f"  mediacheck stages (median, in-process): {result['mediacheck_stages_median_ms']}")
    print(f"  mediaconch answering from its database (not a new file): "
          f"{result['mediaconch_database_hit_median_ms']} ms")
    print(f"  imports of the check command: {imports['total_ms']} ms; top: {imports['top_ms']}")
    print(f"  verdicts agree: {agreement}")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
