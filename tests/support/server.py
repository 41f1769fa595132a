"""A real uvicorn server on a free loopback port, in a thread of the test process (so tests
can look at the database and storage behind it)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from service.settings import Settings
from service.web.app import create_app
from service.web.server import server_limits


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_settings(tmp: Path, **over: object) -> Settings:
    base = {"data_dir": tmp, "check_wait_s": 30.0}
    base.update(over)
    return Settings(**base)  # type: ignore[arg-type]


class Live:
    def __init__(self, app: object, url: str) -> None:
        self.app = app
        self.url = url
        self.services = app.state.services  # type: ignore[attr-defined]

    def client(self, **kw: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kw)  # type: ignore[arg-type]


@contextmanager
def live_server(settings: Settings) -> Iterator[Live]:
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                            **server_limits(settings))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    try:
        yield Live(app, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=15)
