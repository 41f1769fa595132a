"""How uvicorn serves the app: its limits on slow and oversized request heads. uvicorn closes
an idle keep-alive connection after ``timeout_keep_alive`` and h11 buffers at most
``h11_max_incomplete_event_size`` bytes of a head, but nothing bounds the *time* a client takes
to send its head: ``HeadTimeoutProtocol`` closes a connection whose request line and headers
have not all arrived ``head_timeout_s`` after their first byte (or after the connection opened).
A slow body is bounded by the app itself (``submissions.upload.idle_limited``)."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.settings import Settings


class HeadTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request head."""

    head_timeout_s: float | None = None
    """Seconds a request head may take; None: MEDIACHECK_HEAD_TIMEOUT_S (read once per process,
    so that the worker processes ``mediacheck serve --workers N`` spawns read it too)."""

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and self._head_timer is None:
            self._arm_head_timer()  # the first byte of the next request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._cancel_head_timer()  # the head is complete: the body is the app's

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self._head_timeout(), self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.info("closing a connection whose request head took over %ss", self._head_timeout())
            self.transport.close()

    def _head_timeout(self) -> float:
        return self.head_timeout_s or _head_timeout_from_env()


@functools.cache
def _head_timeout_from_env() -> float:
    return Settings.from_env().head_timeout_s


def server_limits(settings: Settings, *, spawned: bool = False) -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run``/``uvicorn.Config`` that bound slow and oversized
    request heads (docs/operations.md, "Limits and hardening"). ``spawned``: uvicorn may start
    worker processes, which import the protocol by name and read the head timeout from the
    environment (``settings`` came from there too)."""
    protocol: type[HeadTimeoutProtocol] = HeadTimeoutProtocol
    if not spawned:
        protocol = type("HeadTimeoutProtocol", (HeadTimeoutProtocol,), {"head_timeout_s": settings.head_timeout_s})
    return {
        "http": protocol,
        "timeout_keep_alive": settings.keep_alive_s,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }
