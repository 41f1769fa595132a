#!/opt/mediacheck/venv/bin/python
"""Health check inside the mediacheck image (installed as /usr/local/bin/mediacheck-health).

    mediacheck-health [api [PORT]]   the API answers GET /healthz on 127.0.0.1:PORT (8000)
    mediacheck-health worker         this container's RQ worker is registered in $MEDIACHECK_REDIS_URL

Exit 0 when healthy, 1 when not (with the reason on stderr). A program rather than an inline
command because some container engines split a health-check command's arguments on spaces."""

from __future__ import annotations

import os
import socket
import sys
import urllib.request

TIMEOUT_S = 4.0
"""Seconds one probe may take (the engine's own timeout is a little longer)."""


DEFAULT_PORT = 8000
"""The port `mediacheck serve` listens on in the image."""


def api_alive(port: str = str(DEFAULT_PORT)) -> str | None:
    url = f"http://127.0.0.1:{int(port)}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return None if response.status == 200 else f"{url} answered {response.status}"
    except OSError as err:
        return f"{url}: {err}"


def worker_registered() -> str | None:
    """RQ names no worker by container, but records its host name: the container's."""
    from redis import Redis
    from rq import Worker

    url = os.environ.get("MEDIACHECK_REDIS_URL")
    if not url:
        return "MEDIACHECK_REDIS_URL is not set"
    try:
        conn = Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)
        hosts = [w.hostname for w in Worker.all(connection=conn)]
    except Exception as err:  # noqa: BLE001 - any failure means unhealthy
        return f"Redis: {type(err).__name__}: {err}"
    here = socket.gethostname()
    return None if here in hosts else f"no RQ worker of host {here} is registered"


def main(argv: list[str]) -> int:
    role, args = (argv[0], argv[1:]) if argv else ("api", [])
    checks = {"api": api_alive, "worker": worker_registered}
    if role not in checks:
        print("usage: mediacheck-health [api [PORT] | worker]", file=sys.stderr)
        return 2
    problem = checks[role](*args)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
