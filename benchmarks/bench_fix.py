#!/usr/bin/env python3
"""Speed and quality of the auto-fix (issue 4, section 4), each against its peer in the same run.

    .venv/bin/python benchmarks/bench_fix.py [--rounds 3] [--only remux,reencode,landing] [--json OUT]

1. remux: the whole remux-only fix of a ~185 MB QuickTime MOV (plan, ffmpeg stream copy
   with the index moved to the front, re-check with probe + SHA-256, atomic move) against
   two peers, interleaved over ``--rounds``: ``cp`` of the same file, and a durable copy
   (``cp`` then ``sync`` of the copy, timed together: the fix fsyncs its output before it
   appears, so a ``cp`` whose bytes may still be only in the page cache flatters the peer).
   The original's report is given, as in the service where the upload was checked already.
   ``publish_median_s``: what is left of the output's fdatasync after its re-check, the rename
   and the folder's fsync.
2. reencode: the whole re-encode fix of a 20 s 1080p clip (CBR with filler to land in a size
   window, AAC, faststart, re-check) against the hand-written ffmpeg command with the same
   settings, interleaved; SSIM of the fixed file against its source (ffmpeg ``ssim``).
3. landing: size-window landing over generated 640×360 inputs of three complexities
   (static slide, test pattern, noise) at 2, 3½ and 5 minutes, all starting below the
   window; counts first-try landings; SSIM of the 2-minute ones.

Media is generated once and cached outside the repo (``$MEDIACHECK_BENCH_CACHE`` or
~/.cache/mediacheck-bench); outputs go to a temporary directory on the same disk.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from service.core.profiles import Profile, load_profile  # noqa: E402
from service.fix.transcode import fix_file  # noqa: E402
from service.media import mp4box  # noqa: E402
from service.media.checker import check_file  # noqa: E402

CACHE = Path(os.environ.get("MEDIACHECK_BENCH_CACHE") or Path.home() / ".cache" / "mediacheck-bench")
"""Where the generated media lives (never inside the repo)."""

PROFILE = """\
id: {id}
version: "1"
title: {{zh-CN: 基准测试, en: benchmark}}
size_unit: binary
kinds:
  video:
    container: {{allowed: [mp4]}}
    video_codec: {{allowed: [h264]}}
    audio_codec: {{allowed: [aac]}}
    faststart: {{required: true}}
    duration: {{min: {dmin}, max: 5min}}
    file_size: {{min: {smin}, max: {smax}}}
"""


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


def cached(name: str, make) -> Path:  # type: ignore[no-untyped-def]
    out = CACHE / name
    if not out.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(".tmp-" + name)
        make(tmp)
        tmp.rename(out)
    return out


def write_profile(directory: Path, pid: str, dmin: str, smin: str, smax: str) -> Profile:
    path = directory / f"{pid}.yaml"
    path.write_text(PROFILE.format(id=pid, dmin=dmin, smin=smin, smax=smax), encoding="utf-8")
    return load_profile(path)


def ssim(fixed: Path, source: Path) -> float:
    out = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(fixed), "-i", str(source),
                          "-lavfi", "[0:v][1:v]ssim", "-f", "null", "-"], capture_output=True, text=True,
                         check=True).stderr
    return float(out.rsplit("All:", 1)[1].split()[0])


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (robust on a shared, loaded machine)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed_both(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(wall seconds, CPU seconds) of ``fn``."""
    c, t = cpu_seconds(), time.perf_counter()
    fn()
    return time.perf_counter() - t, cpu_seconds() - c


# ------------------------------------------------------------------ 1. remux


def big_mov() -> Path:
    def make(tmp: Path) -> None:
        seg = tmp.with_name(".seg.mov")
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=30:d=10", "-f", "lavfi", "-i",
               "sine=d=10:sample_rate=48000", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "20M",
               "-maxrate", "20M", "-bufsize", "20M", "-c:a", "aac", "-b:a", "192k", "-shortest", "-f", "mov", str(seg))
        ffmpeg("-stream_loop", "6", "-i", str(seg), "-c", "copy", "-f", "mov", str(tmp))
        seg.unlink()
    return cached("fix-remux-185MB.mov", make)


def durable_copy(src: Path, dst: Path) -> None:
    """``cp`` then ``sync`` of the copy (coreutils ``sync FILE`` is an fsync of that file): the
    peer of a fix that makes its output durable before it appears under its name."""
    subprocess.run(["cp", str(src), str(dst)], check=True)
    subprocess.run(["sync", str(dst)], check=True)


def bench_remux(work: Path, rounds: int) -> dict[str, object]:
    src = big_mov()
    prof = write_profile(work, "bench-remux", "10s", "100兆", "300兆")
    before = check_file(src, prof)
    cp_t, cp_sync_t, fix_t, step_t, recheck_t, publish_t, bare_t, ff_t = [], [], [], [], [], [], [], []
    for i in range(rounds):
        dst_cp, dst_fix = work / f"cp-{i}.mov", work / f"fix-{i}.mp4"
        cp_t.append(timed(lambda: subprocess.run(["cp", str(src), str(dst_cp)], check=True)))  # noqa: B023
        durable = work / f"cp-sync-{i}.mov"
        cp_sync_t.append(timed(lambda: durable_copy(src, durable)))  # noqa: B023
        durable.unlink()
        result = None

        def run() -> None:
            nonlocal result
            result = fix_file(src, prof, dst_fix, before=before)  # noqa: B023

        fix_t.append(timed(run))
        assert result is not None and result.status == "fixed" and result.plan.mode == "remux", result
        step_t.append(result.timings_ms["transcode"] / 1000)
        bare = work / f"bare-{i}.mp4"
        bare_t.append(timed(lambda: mp4box.rewrite(src, bare, digest=False)))  # noqa: B023
        bare.unlink()
        ff = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(src), "-map", "0:V:0", "-map", "0:a:0", "-c", "copy",
              "-movflags", "+faststart", "-f", "mp4", str(bare)]
        ff_t.append(timed(lambda: subprocess.run(ff, check=True)))  # noqa: B023
        bare.unlink()
        recheck_t.append(result.timings_ms["recheck"] / 1000)
        publish_t.append(result.timings_ms.get("publish", 0.0) / 1000)
        dst_cp.unlink()
        dst_fix.unlink()
    cp_m, fix_m = statistics.median(cp_t), statistics.median(fix_t)
    cp_sync_m = statistics.median(cp_sync_t)
    step_m = statistics.median(step_t)
    print(f"remux: whole fix {fix_m:.3f} s = {fix_m / cp_m:.2f}× cp ({cp_m:.3f} s), "
          f"{fix_m / cp_sync_m:.2f}× cp + sync ({cp_sync_m:.3f} s); medians of {rounds}", flush=True)
    return {"size_bytes": src.stat().st_size, "cp_s": cp_t, "fix_s": fix_t, "cp_median_s": round(cp_m, 3),
            "fix_median_s": round(fix_m, 3), "ratio": round(fix_m / cp_m, 2),
            "cp_sync_s": cp_sync_t, "cp_sync_median_s": round(cp_sync_m, 3),
            "ratio_cp_sync": round(fix_m / cp_sync_m, 2),
            "remux_step_median_s": round(step_m, 3), "remux_step_ratio": round(step_m / cp_m, 2),
            "recheck_median_s": round(statistics.median(recheck_t), 3),
            "publish_median_s": round(statistics.median(publish_t), 3),
            "box_copy_without_hash_median_s": round(statistics.median(bare_t), 3),
            "box_copy_without_hash_ratio": round(statistics.median(bare_t) / cp_m, 2),
            "ffmpeg_faststart_remux_median_s": round(statistics.median(ff_t), 3),
            "ffmpeg_faststart_remux_ratio": round(statistics.median(ff_t) / cp_m, 2)}


# ------------------------------------------------------------------ 2. re-encode


def clip_1080p() -> Path:
    def make(tmp: Path) -> None:
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=25:d=20", "-f", "lavfi", "-i",
               "sine=d=20:sample_rate=48000", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12",
               "-c:a", "aac", "-b:a", "192k", "-shortest", "-f", "mov", str(tmp))
    return cached("fix-reencode-1080p-20s.mov", make)


def bench_reencode(work: Path, rounds: int) -> dict[str, object]:
    src = clip_1080p()
    prof = write_profile(work, "bench-reencode", "5s", "20MiB", "30MiB")
    before = check_file(src, prof)
    fix_t, hand_t, fix_cpu, hand_cpu, ssims = [], [], [], [], []
    for i in range(rounds):
        dst = work / f"fix-{i}.mp4"
        result = None

        def run() -> None:
            nonlocal result
            result = fix_file(src, prof, dst, before=before)  # noqa: B023

        wall, cpu = timed_both(run)
        fix_t.append(wall)
        fix_cpu.append(cpu)
        assert result is not None and result.status == "fixed" and result.plan.mode == "reencode", result.reason
        v = result.plan.video
        assert v is not None and v.video_bitrate
        b = str(v.video_bitrate)
        hand = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(src), "-map", "0:V:0", "-map", "0:a:0",
                "-vf", "setsar=1,format=yuv420p", "-c:v", "libx264", "-preset", v.preset, "-profile:v", "high",
                "-pix_fmt", "yuv420p", "-b:v", b, "-minrate", b, "-maxrate", b, "-bufsize", b,
                "-x264-params", "nal-hrd=cbr", "-c:a", "aac", "-b:a", str(v.audio_bitrate), "-ar", "48000",
                "-movflags", "+faststart", "-f", "mp4", str(work / f"hand-{i}.mp4")]
        wall, cpu = timed_both(lambda: subprocess.run(hand, check=True))  # noqa: B023
        hand_t.append(wall)
        hand_cpu.append(cpu)
        ssims.append(ssim(dst, src))
        dst.unlink()
        (work / f"hand-{i}.mp4").unlink()
    fm, hm = statistics.median(fix_t), statistics.median(hand_t)
    fc, hc = statistics.median(fix_cpu), statistics.median(hand_cpu)
    return {"fix_s": fix_t, "hand_s": hand_t, "fix_median_s": round(fm, 2), "hand_median_s": round(hm, 2),
            "ratio": round(fm / hm, 3), "fix_cpu_s": fix_cpu, "hand_cpu_s": hand_cpu,
            "fix_cpu_median_s": round(fc, 2), "hand_cpu_median_s": round(hc, 2), "cpu_ratio": round(fc / hc, 3),
            "ssim": ssims, "preset": "fast", "video_kbps": round((v.video_bitrate or 0) / 1000)}


# ------------------------------------------------------------------ 3. landing

SOURCES = {
    "static slide": "color=c=0x203060:s=640x360:r=25,drawbox=x=60:y=60:w=520:h=60:color=white:t=fill,"
                    "drawbox=x=60:y=160:w=380:h=20:color=gray:t=fill",
    "test pattern": "testsrc2=s=640x360:r=25",
    "noise": "testsrc2=s=640x360:r=25,noise=alls=40:allf=t+u",
}


def landing_source(kind: str, seconds: int) -> Path:
    def make(tmp: Path) -> None:
        ffmpeg("-f", "lavfi", "-i", f"{SOURCES[kind]},trim=duration={seconds}", "-f", "lavfi", "-i",
               f"sine=d={seconds}:sample_rate=48000", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "400k",
               "-maxrate", "400k", "-bufsize", "800k", "-c:a", "aac", "-b:a", "64k", "-shortest",
               "-movflags", "+faststart", str(tmp))
    return cached(f"fix-landing-{kind.replace(' ', '-')}-{seconds}s.mp4", make)


def bench_landing(work: Path) -> dict[str, object]:
    prof = write_profile(work, "bench-landing", "1min", "25MiB", "45MiB")
    rows = []
    for seconds in (120, 210, 300):
        for kind in SOURCES:
            src = landing_source(kind, seconds)
            before = check_file(src, prof)
            dst = work / "landing.mp4"
            t = time.perf_counter()
            result = fix_file(src, prof, dst, before=before)
            elapsed = time.perf_counter() - t
            size = result.after.file.size_bytes if result.after else None
            v = result.plan.video
            row = {"content": kind, "seconds": seconds, "status": result.status, "attempts": result.attempts,
                   "bytes": size, "target_bytes": v.target_bytes if v else None, "window": [v.min_bytes, v.max_bytes]
                   if v else None, "video_kbps": round((v.video_bitrate or 0) / 1000) if v else None,
                   "elapsed_s": round(elapsed, 1)}
            if seconds == 120 and result.status == "fixed":
                row["ssim"] = ssim(dst, src)
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
            dst.unlink(missing_ok=True)
    first = sum(1 for r in rows if r["status"] == "fixed" and r["attempts"] == 1)
    return {"rows": rows, "first_try": first, "total": len(rows)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="remux,reencode,landing")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    results: dict[str, object] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores (shared)",
                                  "ffmpeg": subprocess.run(["ffmpeg", "-version"], capture_output=True,
                                                           text=True).stdout.split("\n")[0]}
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="work-", dir=CACHE))  # same disk as the media
    try:
        for part in args.only.split(","):
            fn = {"remux": lambda: bench_remux(work, args.rounds),
                  "reencode": lambda: bench_reencode(work, args.rounds),
                  "landing": lambda: bench_landing(work)}[part]
            results[part] = fn()
            print(part, json.dumps(results[part], ensure_ascii=False), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
