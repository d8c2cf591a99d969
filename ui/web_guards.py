"""The browser-facing guards of the web app, as plain ASGI middleware in front of every path (the Gradio apps
included):

- ``OriginGuard``: state-changing requests (POST, PUT, PATCH, DELETE) to staff routes, and any that carry the staff
  session cookie, must come from this site: a ``Sec-Fetch-Site`` of ``cross-site`` / ``same-site`` or a foreign
  ``Origin`` is refused with 403 before the app sees it (requests without either header come from scripts, not
  browsers, and pass to the usual sign-in checks). CORS is answered here too, for every path: only origins in
  ``security.allowed_origins`` (the shop's own pages, for the chat widget) get it, never on staff routes, and any
  CORS header the Gradio apps add for another origin is dropped.
- ``JsonDepthLimit``: a JSON body nested deeper than ``security.max_json_depth`` is a 422 (Python's parser would
  raise RecursionError, a 500).
- ``SecurityHeaders``: the staff pages get a Content-Security-Policy (nothing from other hosts, no framing) and
  ``X-Frame-Options: DENY``; everything else (the shopper chat, which the widget opens in an iframe) may be framed
  by this site and by ``security.allowed_origins`` only (CSP ``frame-ancestors``; ``X-Frame-Options: SAMEORIGIN``
  too when no other origin is allowed, for browsers that know only that header); every response gets
  ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ui.rate_limits import refuse

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: every path a staff member's session reaches (tests/unit/test_same_origin.py checks that each route requiring a
#: staff role is under one of them)
STAFF_PATHS = ("/staff", "/api/v1/staff/", "/api/v1/handovers", "/api/v1/copilot/", "/api/v1/review/",
               "/api/v1/analytics/", "/api/v1/admin/", "/api/v1/copy", "/api/v1/customers/",
               "/api/v1/offers/evaluation", "/api/v1/campaigns")
#: the staff pages' policy: Gradio's page needs its inline config script and inline styles; nothing may load from,
#: post to or frame it from another host
STAFF_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
             "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' data: blob:; connect-src 'self'; "
             "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
             "frame-ancestors 'none'")
CROSS_SITE = "cross-site requests to staff routes are refused: use Concierge's own pages"
NO_CORS = "cross-origin requests from {origin} are not allowed (security.allowed_origins)"


def is_staff_path(path: str) -> bool:
    return path == "/staff" or path.startswith(STAFF_PATHS)


def own_origin(scope: Scope) -> str:
    """``scheme://host[:port]`` this request was sent to (the scheme as uvicorn's proxy handling saw it)."""
    host = Headers(scope=scope).get("host", "").lower()
    return f"{scope.get('scheme', 'http')}://{host}"


class OriginGuard:
    """Same-origin writes for staff, and CORS only for ``allowed`` origins (see the module's doc)."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str] = (), cookie: str = "concierge_staff") -> None:
        self.app = app
        self.allowed = frozenset(o.rstrip("/").lower() for o in allowed)
        self.cookie = cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = (headers.get("origin") or "").rstrip("/").lower()
        site = (headers.get("sec-fetch-site") or "").lower()
        path = str(scope.get("path", ""))
        staff = is_staff_path(path)
        mine = origin == own_origin(scope)
        if scope.get("method") == "OPTIONS" and origin and "access-control-request-method" in headers:
            if staff or (not mine and origin not in self.allowed):
                await refuse(send, 403, NO_CORS.format(origin=origin), "CrossOriginRefused")
                return
            await self._preflight(send, origin, headers)
            return
        if scope.get("method") in UNSAFE and (staff or f"{self.cookie}=" in headers.get("cookie", "")):
            foreign_origin = bool(origin) and not mine
            if site in ("cross-site", "same-site") or foreign_origin:
                await refuse(send, 403, CROSS_SITE, "CrossSiteRequest")
                return
        grant = bool(origin) and not mine and not staff and origin in self.allowed

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for name in [k for k in out if k.lower().startswith("access-control-")]:
                    del out[name]
                if grant:
                    out["Access-Control-Allow-Origin"] = origin
                    out["Access-Control-Allow-Credentials"] = "true"
                    out["Access-Control-Expose-Headers"] = "Retry-After"
                    out.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, sending)

    @staticmethod
    async def _preflight(send: Send, origin: str, headers: Headers) -> None:
        allow = [(b"access-control-allow-origin", origin.encode("latin-1")),
                 (b"access-control-allow-credentials", b"true"),
                 (b"access-control-allow-methods", b"GET, POST, PUT, PATCH, DELETE"),
                 (b"access-control-max-age", b"600"), (b"vary", b"Origin"), (b"content-length", b"0")]
        requested = headers.get("access-control-request-headers")
        if requested:
            allow.append((b"access-control-allow-headers", requested.encode("latin-1")))
        await send({"type": "http.response.start", "status": 204, "headers": allow})
        await send({"type": "http.response.body", "body": b""})


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings skipped; malformed text is measured as
    well as it can be, the parser will refuse it)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRINGS.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(0, depth - 1)
    return deepest


class JsonDepthLimit:
    """422 for a JSON request body nested deeper than ``max_depth``; other bodies pass untouched. The body is read
    here (``BodySizeLimit``, outside, bounds it) and handed on unchanged."""

    def __init__(self, app: ASGIApp, max_depth: int) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = Headers(scope=scope).get("content-type", "").lower() if scope["type"] == "http" else ""
        media = content_type.split(";")[0].strip()
        if not (media == "application/json" or media.endswith("+json")):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if json_depth(body) > self.max_depth:
            await refuse(send, 422, f"invalid request: JSON nested deeper than {self.max_depth} levels",
                         "ValidationError")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def shopper_frame_policy(frame_origins: Iterable[str] = ()) -> str:
    """The CSP of every page but the staff pages: only this site and the allowed origins (the shop's pages with the
    widget) may frame it, so no other site can wrap the shopper chat in its own page (clickjacking)."""
    origins = sorted({o.rstrip("/").lower() for o in frame_origins})
    return " ".join(["frame-ancestors", "'self'", *origins])


class SecurityHeaders:
    """``X-Content-Type-Options: nosniff`` everywhere; the staff pages' CSP, frame and referrer protection; who may
    frame the other pages (``frame_origins``: ``security.allowed_origins``)."""

    def __init__(self, app: ASGIApp, frame_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.frame_policy = shopper_frame_policy(frame_origins)
        #: browsers that ignore ``frame-ancestors`` get the old header, which cannot name another origin
        self.same_origin_only = self.frame_policy == shopper_frame_policy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        staff = str(scope.get("path", "")).startswith("/staff")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out.setdefault("X-Content-Type-Options", "nosniff")
                if staff:
                    out["Content-Security-Policy"] = STAFF_CSP
                    out["X-Frame-Options"] = "DENY"
                    out["Referrer-Policy"] = "same-origin"
                elif "frame-ancestors" not in out.get("Content-Security-Policy", ""):
                    policy = out.get("Content-Security-Policy")
                    out["Content-Security-Policy"] = f"{policy}; {self.frame_policy}" if policy else self.frame_policy
                    if self.same_origin_only:
                        out.setdefault("X-Frame-Options", "SAMEORIGIN")
            await send(message)

        await self.app(scope, receive, sending)
