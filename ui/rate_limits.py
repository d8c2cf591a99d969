"""Rate limits and the request body limit of the web app.

``RateLimiter`` counts hits per (scope, key) with the ``limits`` library (moving window): scope ``chat_shopper``
(a shopper's chat turns), ``chat_ip`` (chat turns from one address), ``guest_ip`` (new guest conversations from
one address), ``login_ip`` and ``login_user`` (failed staff sign-ins from one address, and for one username from
one address) and ``login_slow`` (failed sign-ins for one username from anywhere, which slow its sign-ins down).
Counters live in ``security.rate_limit_storage``: ``memory://`` in one process, a Redis URL
(``redis://127.0.0.1:6379``) when replicas must share them. If the storage fails, the request is let through and
the failure logged: a Redis outage must not take the shop's chat down.

``BodySizeLimit`` refuses request bodies over ``security.max_request_bytes`` on every path with 413 (Gradio's
events and the file uploads have their own, larger limits), whether the size is declared (Content-Length) or only
seen while reading (chunked); file uploads (multipart bodies) go only where files are taken (415 elsewhere: the
shopper chat takes none).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.errors import ConfigError
from assistant.settings import SecuritySettings

log = logging.getLogger(__name__)

#: scope -> the SecuritySettings field that holds its rate
SCOPES = {
    "chat_shopper": "chat_rate_per_shopper",
    "chat_ip": "chat_rate_per_ip",
    "guest_ip": "guest_rate_per_ip",
    "login_ip": "login_rate_per_ip",
    "login_user": "login_rate_per_username",
}
#: failed sign-ins for one username are counted (up to this many) for the slow-down, never refused by it
SLOW_COUNT = "1000 per 15 minutes"


class RateLimiter:
    """``hit(scope, key)`` counts one request and returns ``None`` when allowed, else the seconds to wait.

    ``rates`` maps a scope to a rate string (``"20/minute"``, or several: ``"100/hour;20/minute"``).
    """

    def __init__(self, rates: Mapping[str, str], storage_uri: str = "memory://", prefix: str = "concierge") -> None:
        from limits import parse_many, strategies
        from limits.errors import ConfigurationError
        from limits.storage import storage_from_string

        rates = {"login_slow": SLOW_COUNT, **rates}
        try:
            self._items = {scope: parse_many(rate) for scope, rate in rates.items()}
        except ValueError as e:
            raise ConfigError(f"invalid rate limit in {dict(rates)}: {e}",
                              user_message="Write rate limits like '20/minute' or '100/hour;20/minute'.") from e
        try:
            # a Redis that does not answer costs a request 2 s at most, then it is let through (see _run)
            options = {"socket_connect_timeout": 2, "socket_timeout": 2} if storage_uri.startswith("redis") else {}
            self._storage = storage_from_string(storage_uri, **options)
        except (ConfigurationError, ValueError) as e:
            raise ConfigError(f"rate-limit storage {storage_uri!r}: {e}", user_message=(
                "Set security.rate_limit_storage to memory:// or redis://host:6379 (the redis package must be "
                "installed).")) from e
        self._limiter = strategies.MovingWindowRateLimiter(self._storage)
        self.prefix = prefix
        self.storage_uri = storage_uri

    @classmethod
    def from_settings(cls, security: SecuritySettings) -> RateLimiter:
        return cls({scope: getattr(security, field) for scope, field in SCOPES.items()},
                   security.rate_limit_storage, security.rate_limit_prefix)

    def hit(self, scope: str, key: str) -> int | None:
        """Count one request of ``key`` in ``scope``: ``None`` if allowed, else seconds until one is (a refused
        request is not counted)."""
        return self._run(scope, key, consume=True)

    def check(self, scope: str, key: str) -> int | None:
        """Like ``hit`` without counting: ``None`` if a request would be allowed now."""
        return self._run(scope, key, consume=False)

    def count(self, scope: str, key: str) -> int:
        """How many hits ``key`` has in ``scope``'s (first) window now; 0 when the storage fails."""
        item = self._items[scope][0]
        try:
            return int(item.amount - self._limiter.get_window_stats(item, self.prefix, scope, key).remaining)
        except Exception as e:  # storage down: nothing counted, say so in the log
            log.warning("rate limiter (%s) failed, counted 0: %s: %s", self.storage_uri, type(e).__name__, e)
            return 0

    def _run(self, scope: str, key: str, *, consume: bool) -> int | None:
        items = self._items.get(scope)
        if items is None:
            raise KeyError(f"no rate limit named {scope!r}: one of {', '.join(sorted(self._items))}")
        ids = (self.prefix, scope, key)
        try:
            blocked = [item for item in items if not self._limiter.test(item, *ids)]
            if not blocked and consume:
                blocked = [item for item in items if not self._limiter.hit(item, *ids)]
            if not blocked:
                return None
            now = time.time()
            return max(max(1, math.ceil(self._limiter.get_window_stats(item, *ids).reset_time - now))
                       for item in blocked)
        except Exception as e:  # storage down (Redis unreachable): let the request through, say so in the log
            log.warning("rate limiter (%s) failed, request allowed: %s: %s", self.storage_uri, type(e).__name__, e)
            return None


def client_ip(request: object) -> str:
    """The client's address of a starlette (or Gradio) request; behind a proxy, uvicorn's proxy headers
    handling (``forwarded_allow_ips``) puts the real one here."""
    client = getattr(request, "client", None)
    return str(getattr(client, "host", None) or "unknown")


def too_many(retry_after: int, what: str) -> tuple[str, dict[str, str]]:
    """The 429 message and headers: ``raise HTTPException(429, *too_many(...))``."""
    return (f"too many {what}: try again in {retry_after} s", {"Retry-After": str(retry_after)})


class _BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """ASGI middleware: 413 for bodies over ``max_bytes`` on every path; a path under a key of ``larger`` gets that
    limit instead (the longest matching key wins). Multipart bodies (file uploads) are taken only under a prefix of
    ``uploads`` (415 elsewhere)."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: Mapping[str, int] | None = None,
                 uploads: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = sorted((larger or {}).items(), key=lambda item: -len(item[0]))
        self.uploads = uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        content_type = next((v for k, v in scope.get("headers", []) if k == b"content-type"), b"").lower()
        if content_type.startswith(b"multipart/") and not path.startswith(self.uploads):
            await refuse(send, 415, "no file uploads are taken here", "UploadRefused")
            return
        limit = next((n for prefix, n in self.larger if path.startswith(prefix)), self.max_bytes)
        await self._limited(scope, receive, send, limit)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > max_bytes:
                await self._refuse(send, max_bytes)
                return
        state: dict[str, int] = {"received": 0, "too_large": False, "started": False, "answered": False}

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > max_bytes:
                    state["too_large"] = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if state["too_large"] and not state["started"]:
                if not state["answered"]:  # the app's answer to the failed read (FastAPI: 400) becomes a 413
                    state["answered"] = True
                    await self._refuse(send, max_bytes)
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            if not state["started"] and not state["answered"]:
                await self._refuse(send, max_bytes)

    async def _refuse(self, send: Send, max_bytes: int) -> None:
        await refuse(send, 413, f"request body too large: at most {max_bytes} bytes", "BodyTooLarge")


async def refuse(send: Send, status: int, detail: str, error: str, headers: Mapping[str, str] | None = None) -> None:
    """Answer with the app's JSON error shape ``{"detail", "error"}`` straight from an ASGI middleware."""
    body = json.dumps({"detail": detail, "error": error}).encode()
    extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *extra]})
    await send({"type": "http.response.body", "body": body})
