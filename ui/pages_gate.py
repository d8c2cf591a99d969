"""The Gradio pages (the shopper chat at ``/``, the staff views at ``/staff``) behind a gate, so that a start does not
wait for them.

Importing Gradio and building both pages takes about 3 s of a start; the REST API, ``/healthz`` and ``/widget.js``
need none of it. ``concierge serve`` therefore builds the pages in a thread once the models and stores are loaded
(``PagesGate.build_in_background``) while the server already answers; until the pages are mounted, every path they
own answers a small "Concierge is starting" page: ``503`` with ``Retry-After`` and a ``<meta http-equiv="refresh">``,
so a browser that opens the chat that early gets the chat a moment later, and a client sees a temporary condition,
not an error. ``/healthz`` says which it is (``"pages": "starting" | "ready" | "failed"``).

The gate is mounted at ``/`` after every other route (where the chat page was mounted before). Once open it hands
each request to a FastAPI app holding the two Gradio mounts, exactly as they were mounted on the main app. Gradio's
start-up work (its queue, its cache cleaner: ``mount_gradio_app``'s lifespan) runs on the server's event loop when the
pages open, and stops when the server stops. ``PagesGate.build_now`` (``create_app``'s default, used by tests that
drive the app in process) builds the pages before the app is returned, as before.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

log = logging.getLogger(__name__)

PagesState = Literal["starting", "ready", "failed"]

#: seconds a client is asked to wait (``Retry-After``) and the starting page reloads after
RETRY_AFTER_S = 2

STARTING_PAGE = (
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    f"<meta http-equiv=\"refresh\" content=\"{RETRY_AFTER_S}\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>Concierge is starting</title>"
    "<style>body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2937;background:#f8fafc}"
    "main{max-width:32rem;margin:20vh auto 0;padding:0 1.5rem;text-align:center}h1{font-size:1.5rem}"
    "p{font-size:1.05rem;line-height:1.5}</style>"
    "</head>\n"
    "<body><main><h1>Concierge is starting</h1><p role=\"status\">Concierge is starting, this page reloads in a "
    "moment.</p></main></body></html>\n"
)

FAILED_PAGE = (
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Concierge: page unavailable</title>"
    "</head>\n<body><main><h1>This page is unavailable</h1><p>The server could not build its pages; the server's "
    "log says why.</p></main></body></html>\n"
)


class PagesGate:
    """An ASGI app for every path the Gradio pages own: the pages once open, until then the starting page."""

    def __init__(self) -> None:
        #: the app with both Gradio mounts; set once they answer (see the module's doc)
        self.pages: FastAPI | None = None
        self.failure: str | None = None
        #: seconds from ``build_in_background`` to the pages answering (None until then, or when built at once)
        self.opened_after_s: float | None = None
        self._built: concurrent.futures.Future[FastAPI] = concurrent.futures.Future()
        self._background = False
        self._started = 0.0
        self._on_open: list[Callable[[], None]] = []

    @property
    def state(self) -> PagesState:
        if self.pages is not None:
            return "ready"
        return "failed" if self.failure is not None else "starting"

    def build_now(self, build: Callable[[], FastAPI]) -> None:
        """Build the pages here and now; they answer at once (Gradio's start-up work runs in the lifespan)."""
        pages = build()
        self._built.set_result(pages)
        self.pages = pages

    def build_in_background(self, build: Callable[[], FastAPI]) -> None:
        """Build the pages in a thread started now; the server's lifespan opens them once built."""
        self._background = True
        self._started = time.perf_counter()

        def run() -> None:
            try:
                pages = build()
            except BaseException as e:  # noqa: BLE001 - reported through the future, logged where it is awaited
                with contextlib.suppress(concurrent.futures.InvalidStateError):  # the server stopped meanwhile
                    self._built.set_exception(e)
                return
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                self._built.set_result(pages)

        threading.Thread(target=run, name="concierge-pages", daemon=True).start()

    def when_open(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (on the event loop) once the pages answer; at once if they already do. A build that
        fails never calls it."""
        if self.pages is not None:
            callback()
        else:
            self._on_open.append(callback)

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        """The main app's lifespan: open the pages (at once, or when the thread has built them) and run Gradio's
        start-up work; undo it when the server stops."""
        if self.pages is not None and not self._background:  # built already: as ``mount_gradio_app`` does it
            async with self.pages.router.lifespan_context(self.pages):
                yield
            return
        stopping = asyncio.Event()
        opening = asyncio.create_task(self._open_until(stopping))
        try:
            yield
        finally:
            stopping.set()
            if not self._built.done():
                opening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await opening

    async def _open_until(self, stopping: asyncio.Event) -> None:
        try:
            pages = await asyncio.wrap_future(self._built)
        except Exception as e:
            self.failure = f"{type(e).__name__}: {e}"
            log.error("building the chat page and the staff views failed; the REST API still answers",
                      exc_info=e)
            return
        async with pages.router.lifespan_context(pages):  # mount_gradio_app's: the queues, the cache cleaner
            self.pages = pages
            if self._background:
                self.opened_after_s = time.perf_counter() - self._started
                log.info("the chat page and the staff views answer (built in %.1f s after the API)",
                         self.opened_after_s)
            for callback in self._on_open:
                callback()
            self._on_open.clear()
            await stopping.wait()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        pages = self.pages
        if pages is not None:
            await pages(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013})  # "try again later"
            return
        if scope["type"] != "http":
            return
        starting = self.failure is None
        body = (STARTING_PAGE if starting else FAILED_PAGE).encode()
        headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                   (b"cache-control", b"no-store")]
        if starting:
            headers.append((b"retry-after", str(RETRY_AFTER_S).encode()))
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})


def pages_app() -> FastAPI:
    """The app the Gradio pages are mounted on (no docs or OpenAPI routes of its own: every path is the pages')."""
    return FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
