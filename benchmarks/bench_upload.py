"""Upload benchmarks (issue 3 §8). Run: ``.venv/bin/python benchmarks/bench_upload.py``.

1. Throughput: ``curl -T`` of a 300 MB MP4 to ``mediacheck serve`` over loopback, as a ratio
   to the same curl writing into a trivial sink (a socket server that discards the body) in
   the same run. The server answers as soon as the file is stored (check wait 0), so the
   figure is the upload path; the time to the verdict is reported apart.
2. Server RSS growth (peak VmRSS during the upload − RSS before it) for 300 MB and 1 GB.
3. Status endpoint latency under 200 concurrent clients (each polls GET /api/submissions/{id}
   once a second, jittered) while a rate-limited 300 MB upload runs: p50, p99, max.

Media are made once with ffmpeg (a 2 s 1080p clip, stream-copy looped) in
$MEDIACHECK_BENCH_DIR (default .cache/bench)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(os.environ.get("MEDIACHECK_BENCH_DIR") or ROOT / ".cache" / "bench")
CAMPAIGN = "guangxi-2023-kexuepai-video"  # its profile allows 1 GiB, so uploads up to 2 GiB
CLIENTS = 200
POLL_S = 1.0
STATUS_SECONDS = 15


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def media(size_mb: int) -> Path:
    BENCH.mkdir(parents=True, exist_ok=True)
    seg = BENCH / "seg-1080p-2s.mp4"
    if not seg.exists():
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=s=1920x1080:r=25:d=2",
                "-f",
                "lavfi",
                "-i",
                "sine=d=2",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-crf",
                "4",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-shortest",
                str(seg),
            ],
            check=True,
        )
    out = BENCH / f"big-{size_mb}MB.mp4"
    if not out.exists():
        loops = max(1, round(size_mb * 1_000_000 / seg.stat().st_size)) - 1
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-stream_loop",
                str(loops),
                "-i",
                str(seg),
                "-c",
                "copy",
                "-movflags",
                "+faststart",
                str(out),
            ],
            check=True,
        )
    return out


class Sink(threading.Thread):
    """A trivial HTTP sink: reads the headers and Content-Length bytes, answers 200."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, rest = data.partition(b"\r\n\r\n")
                length = next(
                    int(x.split(b":")[1]) for x in head.split(b"\r\n") if x.lower().startswith(b"content-length")
                )
                if b"100-continue" in head.lower():
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                got = len(rest)
                buf = bytearray(1 << 20)
                while got < length:
                    n = conn.recv_into(buf)
                    if not n:
                        break
                    got += n
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


FLOOR_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})
"""
"""The least any uvicorn application can do with an upload: read the body and drop it."""


def start_floor(tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    (tmp / "floor_app.py").write_text(FLOOR_APP)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "floor_app:app", "--port", str(port), "--log-level", "warning"], cwd=tmp
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/")
            return proc, port
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("floor server did not start")


def curl_put(path: Path, url: str, *extra: str) -> dict[str, float]:
    fmt = '{"total": %{time_total}, "speed": %{speed_upload}, "code": %{http_code}}'
    out = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", fmt, "-T", str(path), *extra, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Server:
    def __init__(self, data: Path, check_wait: float, workers: int = 1, fsync: bool = True) -> None:
        self.port = free_port()
        env = {**os.environ, "MEDIACHECK_DATA_DIR": str(data), "MEDIACHECK_CHECK_WAIT_S": str(check_wait),
               "MEDIACHECK_FSYNC": "1" if fsync else "0"}
        env.pop("MEDIACHECK_REDIS_URL", None)
        env.pop("MEDIACHECK_DATABASE_URL", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(self.port), "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(200):
            try:
                if httpx.get(self.url + "/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def upload_url(self, name: str) -> str:
        return f"{self.url}/api/campaigns/{CAMPAIGN}/submissions?name={name}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def measure_rss(server: Server, path: Path) -> tuple[dict[str, float], int, int]:
    before = rss_kb(server.proc.pid)
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kb(server.proc.pid))
            time.sleep(0.02)

    t = threading.Thread(target=sample)
    t.start()
    result = curl_put(path, server.upload_url(path.name))
    done.set()
    t.join()
    return result, before, peak


async def status_load(url: str, seconds: float) -> list[float]:
    """CLIENTS keep-alive connections, each sending GET ``url`` about once per POLL_S. Raw
    asyncio streams: an HTTP client library would cost more CPU than the server under test."""
    rest = url.removeprefix("http://")
    hostport, _, path = rest.partition("/")
    host, port = hostport.split(":")
    request = f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode()
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def one() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        await asyncio.sleep(random.random() * POLL_S)
        try:
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(x.split(b":")[1]) for x in head.split(b"\r\n") if x.lower().startswith(b"content-length")
                )
                await reader.readexactly(length)
                latencies.append((time.perf_counter() - t0) * 1000)
                assert head.startswith(b"HTTP/1.1 200"), head
                await asyncio.sleep(max(0.0, POLL_S * random.uniform(0.8, 1.2) - (time.perf_counter() - t0)))
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(CLIENTS)))
    return latencies


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    f300, f1g = media(300), media(1000)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"media: {f300.stat().st_size / 1e6:.0f} MB and {f1g.stat().st_size / 1e6:.0f} MB (curl {shutil.which('curl')})"
    )
    sink = Sink()
    sink.start()
    with tempfile.TemporaryDirectory(prefix="mediacheck-bench-") as tmp:
        floor, floor_port = start_floor(Path(tmp))
        server = Server(Path(tmp) / "data", check_wait=0)
        try:
            small = media(300).parent / "seg-1080p-2s.mp4"
            curl_put(small, server.upload_url("warmup.mp4"))  # imports, first probe, database
            rows = []
            for _ in range(3):
                s = curl_put(f300, f"http://127.0.0.1:{sink.port}/sink")
                fl = curl_put(f300, f"http://127.0.0.1:{floor_port}/")
                m, before, peak = measure_rss(server, f300)
                rows.append((s["speed"], fl["speed"], m["speed"], m["code"], (peak - before) / 1024))
            sink_speed, floor_speed, svc_speed = (statistics.median(r[i] for r in rows) for i in range(3))
            print(
                f"300 MB upload (median of 3): sink {sink_speed / 2**20:.0f} MiB/s, bare uvicorn app "
                f"{floor_speed / 2**20:.0f} MiB/s, mediacheck {svc_speed / 2**20:.0f} MiB/s (HTTP {rows[-1][3]}); "
                f"ratio to sink {svc_speed / sink_speed:.2f}, to bare uvicorn {svc_speed / floor_speed:.2f}; "
                f"RSS growth per upload {', '.join(f'{r[4]:.1f}' for r in rows)} MiB"
            )
            m, before, peak = measure_rss(server, f1g)
            print(
                f"1 GB upload: mediacheck {m['speed'] / 2**20:.0f} MiB/s (HTTP {m['code']:.0f}); "
                f"RSS growth {(peak - before) / 1024:.1f} MiB"
            )
        finally:
            server.stop()
        server = Server(Path(tmp) / "data-nofsync", check_wait=0, fsync=False)
        try:
            curl_put(small, server.upload_url("warmup.mp4"))
            speeds = []
            for _ in range(3):
                fl = curl_put(f300, f"http://127.0.0.1:{floor_port}/")
                m = curl_put(f300, server.upload_url(f300.name))
                speeds.append((fl["speed"], m["speed"]))
            fl_speed, nf_speed = (statistics.median(x[i] for x in speeds) for i in range(2))
            print(f"300 MB upload with MEDIACHECK_FSYNC=0 (median of 3): {nf_speed / 2**20:.0f} MiB/s; ratio to sink "
                  f"{nf_speed / sink_speed:.2f} (sink of the first measure), to bare uvicorn {nf_speed / fl_speed:.2f}")
        finally:
            server.stop()
            floor.terminate()
            floor.wait(timeout=30)
        for workers in (1, 2):
            server = Server(Path(tmp) / f"data-w{workers}", check_wait=60, workers=workers)
            try:
                t0 = time.perf_counter()
                first = json.loads(
                    subprocess.run(
                        ["curl", "-sS", "-T", str(f300), server.upload_url("verdict.mp4")],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                )
                if workers == 1:
                    print(
                        f"time to verdict, 300 MB (upload + quick check): {time.perf_counter() - t0:.2f} s, "
                        f"verdict {first['verdict']}"
                    )
                status_url = f"{server.url}/api/submissions/{first['id']}?token={first['receipt_token']}"
                up = subprocess.Popen(
                    [
                        "curl",
                        "-sS",
                        "-o",
                        "/dev/null",
                        "--limit-rate",
                        "25M",
                        "-T",
                        str(f300),
                        server.upload_url("during.mp4"),
                    ]
                )
                lat = asyncio.run(status_load(status_url, STATUS_SECONDS))
                up.wait(timeout=120)
                print(
                    f"status, {workers} server process(es), {CLIENTS} clients polling every {POLL_S:.0f} s during an "
                    f"upload: {len(lat)} requests, p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms, "
                    f"max {max(lat):.1f} ms"
                )
            finally:
                server.stop()
    sink.sock.close()


if __name__ == "__main__":
    main()
