"""bench_scale ``--http-process``: the CSV export measured as a deployment serves it.

The server is its own process (``mediacheck serve``: uvicorn, one worker) on the benchmark's
scratch data directory and database, and the client is another process (curl with the
reviewer's ``Authorization: Bearer`` header), so neither shares a GIL with the other nor with
the filler. Each export is fetched ``RUNS`` times; curl reports the time to the first byte and
the total, and the server's peak RSS (VmHWM, reset before each run) and the CPU time it used are read from /proc.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

RUNS = 3
CURL_FORMAT = "%{http_code} %{size_download} %{time_starttransfer} %{time_total}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in bytes."""
    got = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            got[line.split(":")[0]] = int(line.split()[1]) * 1024
    return got["VmRSS"], got["VmHWM"]


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve(code_dir: Path, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``mediacheck serve`` from ``code_dir`` in a process of its own; waits until it answers."""
    port = _free_port()
    env = os.environ | env | {"PYTHONPATH": str(code_dir)}
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1",
                                 "--port", str(port)], cwd=code_dir, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"mediacheck serve exited: {log.read_text()[-1500:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, url
        except OSError:
            if time.monotonic() > deadline:
                proc.terminate()
                raise RuntimeError("mediacheck serve did not start") from None
            time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def curl_export(url: str, campaign: str, key: str, rows: int, pid: int, fmt: str = "csv") -> dict[str, Any]:
    """``RUNS`` fetches of one export with curl: first byte, total, rows/s, server RSS growth."""
    runs = []
    for _ in range(RUNS):
        before, _ = _status(pid)
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        load = os.getloadavg()[0]
        cpu = _cpu_s(pid)
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", CURL_FORMAT, "-H", f"Authorization: Bearer {key}",
                            f"{url}/api/campaigns/{campaign}/export.{fmt}"],
                           capture_output=True, text=True, timeout=3600, check=True)
        code, size, first, total = r.stdout.split()
        assert code == "200", (code, url)
        _, peak = _status(pid)
        cpu = _cpu_s(pid) - cpu
        runs.append({"first_byte_ms": round(float(first) * 1000, 1), "total_s": round(float(total), 3),
                     "bytes": int(size), "rows_per_s": round(rows / float(total)),
                     "server_rss_growth_mb": round((peak - before) / 2**20, 1), "server_cpu_s": round(cpu, 2),
                     "load_1min": round(load, 2)})
    rates = [x["rows_per_s"] for x in runs]
    return {"runs": runs, "rows_per_s_median": statistics.median(rates), "rows_per_s_min": min(rates),
            "rows_per_s_max": max(rates)}


def measure(settings: Any, campaign: str, key: str, rows: int, root: Path) -> dict[str, Any]:
    """This code's ``mediacheck serve`` on the run's data directory and database."""
    env = {"MEDIACHECK_DATA_DIR": str(settings.data_dir), "MEDIACHECK_PROFILES_DIR": str(settings.profiles_dir),
           "MEDIACHECK_DATABASE_URL": settings.db_url}
    log = settings.data_dir.parent / "serve.log"
    proc, url = serve(root, env, log)
    try:
        return {"csv": curl_export(url, campaign, key, rows, proc.pid),
                "server": "mediacheck serve (uvicorn, 1 worker), its own process; client: curl"}
    finally:
        stop(proc)


def peer_db(db_file: Path, copy_dir: Path) -> Path:
    """A copy of the SQLite database for the old code (``copy_dir/peer.db``), its WAL folded in
    first and stamped 0004 (the revision before the summary rows, which the old code never had)."""
    db_copy = copy_dir / "peer.db"
    src = create_engine(f"sqlite:///{db_file}")
    with src.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
    src.dispose()
    shutil.copyfile(db_file, db_copy)
    eng = create_engine(f"sqlite:///{db_copy}")
    with eng.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    eng.dispose()
    return db_copy


def measure_peer(peer_dir: Path, settings: Any, db_file: Path, campaign: str, key: str, rows: int) -> dict[str, Any]:
    """The code in ``peer_dir`` served the same way, on a copy of the SQLite database stamped 0004."""
    copy_dir = Path(tempfile.mkdtemp(prefix="peer-proc-", dir=settings.data_dir.parent))
    db_copy = peer_db(db_file, copy_dir)
    env = {"MEDIACHECK_DATA_DIR": str(copy_dir), "MEDIACHECK_PROFILES_DIR": str(settings.profiles_dir),
           "MEDIACHECK_DATABASE_URL": f"sqlite:///{db_copy}"}
    try:
        proc, url = serve(peer_dir, env, copy_dir / "serve.log")
        try:
            return {"csv": curl_export(url, campaign, key, rows, proc.pid)}
        finally:
            stop(proc)
    finally:
        shutil.rmtree(copy_dir, ignore_errors=True)
