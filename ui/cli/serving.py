"""Running the web app under uvicorn with the limits of ``settings.server``: idle keep-alive connections close after
``timeout_keep_alive_s``, a request head must arrive whole within ``header_timeout_s`` (and a body may not pause
longer than that between chunks), heads are at most ``max_header_bytes``, and past ``limit_concurrency``
connections new requests get 503. Proxies in ``forwarded_allow_ips`` may set the client address and scheme.

uvicorn has no header-read timeout of its own (its keep-alive timer stops at the first byte of a request), so
``read_timeout_protocol`` adds one to its h11 protocol.

``serve_app`` is ``concierge serve``: a newcomer sees the start's steps (the project's own INFO lines, e.g. the demo
import on first start), then, once the port is open and the pages answer (``ui.pages_gate``: they are built after
the REST API answers), :func:`start_banner`: where the shopper chat and the staff
views are and the one command that makes the first staff account. A start that fails says what to try.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h11
import typer
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from assistant.errors import ConciergeError
from assistant.settings import Settings

if TYPE_CHECKING:
    from ui.cli.cli_context import CliContext

#: the project's packages: their INFO lines are the start's progress (third-party INFO stays hidden)
PROJECT_LOGGERS = ("assistant", "knowledge", "ui")


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


# ---- concierge serve: progress, the banner, failures that say what to try ----------------------------------

def show_start_progress() -> None:
    """Show the project's own INFO lines (the start's progress) unless logging is already more verbose (``-v``)."""
    if logging.getLogger().getEffectiveLevel() > logging.INFO:
        for name in PROJECT_LOGGERS:
            logging.getLogger(name).setLevel(logging.INFO)


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):  # every address: this machine's loopback is one of them
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def staff_command(profiles: list[str] | None = None, config: Path | None = None) -> str:
    """The command that creates a staff account on the same settings (profiles, config file) as this server."""
    exe = Path(sys.executable).parent / "concierge"
    try:
        relative = os.path.relpath(exe)
    except ValueError:  # another drive (Windows)
        relative = ".."
    shown = str(exe) if relative.startswith("..") else relative
    options = "".join(f" --profile {p}" for p in profiles or []) + (f" --config {config}" if config else "")
    return f"{shown}{options} users add YOUR_NAME --role admin"


def start_banner(settings: Settings, command: str, staff_accounts: int) -> list[str]:
    """The last lines of a start: where the shopper chat is, where the staff views are, and the one command that
    creates the first staff account (with ``staff_accounts`` already there, how to add one)."""
    base = f"http://{_url_host(settings.app.host)}:{settings.app.port}"
    if staff_accounts:
        account = f"  Staff accounts: {staff_accounts}; add one with:  {command}"
    else:
        account = f"  First staff account:  {command}   (it asks for a password)"
    return ["", "Concierge is ready.",
            f"  Shopper chat:  {base}/",
            f"  Staff views:   {base}/staff/   (sign in with a staff account)",
            account,
            "Stop it with Ctrl+C.", ""]


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server that calls ``on_ready`` once its port is open (a port in use never announces)."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.on_ready()


START_HINT = ("read the error above; `concierge status` shows whether the stores answer, -v logs every step; "
              "a damaged data folder: move it away and start again (the demo shop is imported afresh)")


def _start_failed(step: str, hint: str) -> None:
    typer.echo(f"\nstart failed in phase \"start\" ({step}).\nTry: {hint}", err=True)


def serve_app(run: CliContext, host: str | None, port: int | None) -> None:
    """``concierge serve``: build the app (the demo import on first start), listen, then print the banner."""
    from assistant.components import limit_torch_threads

    show_start_progress()
    try:
        limit_torch_threads(run.settings)  # before torch and llama.cpp load
        from ui.server import create_app

        components = run.components
        s = components.settings
        s.app.host, s.app.port = host or s.app.host, port or s.app.port  # what the start checks (demo sign-in) see
        web = create_app(components, pages_in_background=True)  # the REST API answers before the pages
        accounts = len(components.stores.staff.list_users())
    except ConciergeError:
        _start_failed("loading the models and the shop, building the app", "what the error below says")
        raise  # it carries its own message and what to do (ui.cli.main prints both)
    except Exception:
        _start_failed("loading the models and the shop, building the app", START_HINT)
        raise
    banner = start_banner(s, staff_command(run.profiles, run.config), accounts)
    # the banner once the port is open and the pages answer (the REST API answers from the port's opening)
    server = AnnouncingServer(uvicorn.Config(web, **uvicorn_options(s)),
                              on_ready=lambda: web.state.pages.when_open(lambda: typer.echo("\n".join(banner))))
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    except SystemExit:
        if not server.started:
            _start_failed(f"listening on {s.app.host}:{s.app.port}",
                          "another program uses that port: stop it, or start on another one with --port")
        raise
    if not server.started:
        _start_failed(f"listening on {s.app.host}:{s.app.port}", START_HINT)
        raise typer.Exit(3)
