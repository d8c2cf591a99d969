"""Running the web app under uvicorn with the limits of ``settings.server``: idle keep-alive connections close after
``timeout_keep_alive_s``, a request head must arrive whole within ``header_timeout_s`` (and a body may not pause
longer than that between chunks), heads are at most ``max_header_bytes``, and past ``limit_concurrency``
connections new requests get 503. Proxies in ``forwarded_allow_ips`` may set the client address and scheme.

uvicorn has no header-read timeout of its own (its keep-alive timer stops at the first byte of a request), so
``read_timeout_protocol`` adds one to its h11 protocol.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from assistant.settings import Settings


class _ReadTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol with a read timer: armed when a connection opens and when the next request starts
    arriving; reset by every chunk of a request body; stopped once the request has arrived whole. When it fires
    the connection is closed."""

    read_timeout_s: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and self._read_timer is None:
            self._arm()  # the next request on a kept-alive connection: its head starts arriving now
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            self._arm()  # a body may go on as long as it does not stall
        elif state is not h11.IDLE:
            self._disarm()  # the request is in (or the connection is switching protocols / closing)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._read_timer = self.loop.call_later(self.read_timeout_s, self._read_timed_out)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _read_timed_out(self) -> None:
        self._read_timer = None
        if not self.transport.is_closing():
            self.logger.info("closing a connection that sent no complete request in %.0f s", self.read_timeout_s)
            self.transport.close()


def read_timeout_protocol(read_timeout_s: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a ``read_timeout_s`` header (and body stall) timeout."""
    return type("ReadTimeoutProtocol", (_ReadTimeoutProtocol,), {"read_timeout_s": read_timeout_s})


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run`` / ``uvicorn.Config`` for ``settings.server``."""
    server = settings.server
    return {"host": settings.app.host, "port": settings.app.port,
            "http": read_timeout_protocol(server.header_timeout_s),
            "timeout_keep_alive": server.timeout_keep_alive_s, "h11_max_incomplete_event_size": server.max_header_bytes,
            "limit_concurrency": server.limit_concurrency, "proxy_headers": True,
            "forwarded_allow_ips": server.forwarded_allow_ips, "log_level": "warning"}
