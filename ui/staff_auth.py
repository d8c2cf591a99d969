"""Staff sign-in and the role check of every staff route.

A member of staff is recognised from, in this order:

- ``X-API-Key: <security.staff_api_key>``: the service key of scripts; it acts as an admin named ``service``
  (a wrong key is 401; while no key is configured, sending one is 403);
- ``Authorization: Bearer <session token>`` or the ``concierge_staff`` cookie (HttpOnly, SameSite=Lax, Path=/):
  a session made by signing in (``POST /api/v1/staff/login`` or the form at ``/staff/login``); the token is the
  cookie's value. Sessions end after ``security.staff_session_ttl_s`` without a request.

``require(role)`` is the FastAPI dependency routes use: it returns the ``StaffPrincipal``, or raises ``AuthError``
(401: not signed in, session expired or unknown) or ``Forbidden`` (403: signed in without the role; admin has every
role), answered by the app's error table. Accounts and sessions are the ``StaffAccounts`` service's
(``components.staff_accounts``).

Failed sign-ins: too many from one address (``security.login_rate_per_ip``), or for one username from one address
(``login_rate_per_username``), are refused from that address (429 with Retry-After); past
``login_slowdown_after`` failures for a username from anywhere, each sign-in for it waits first (1 s, doubling up to
``login_slowdown_max_s``). Nobody can lock the right password out from other addresses.

The sign-in form carries a CSRF token (double submit: a random value in a SameSite=Strict cookie and in the form,
which must match); every state-changing staff request must also come from this site (``ui.web_guards``).
"""

from __future__ import annotations

import asyncio
import html
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.errors import AuthError, ConciergeError, Forbidden
from assistant.settings import SecuritySettings
from assistant.staff.accounts import StaffAccounts, StaffSessionInfo, normalize_username
from assistant.staff.roles import ROLES, StaffPrincipal
from ui.error_table import responses
from ui.rate_limits import RateLimiter, client_ip, too_many

COOKIE = "concierge_staff"
CSRF_COOKIE = "concierge_csrf"
CSRF_FIELD = "csrf"
STALE_FORM = "this sign-in form has expired or did not come from this site: sign in again below"
SERVICE = StaffPrincipal("service", frozenset({"admin"}))
LOGIN_PAGE = "/staff/login"
HOME = "/staff/"
WRONG = "wrong username or password"
NOT_SIGNED_IN = (f"not signed in: sign in at {LOGIN_PAGE}, or send 'Authorization: Bearer <staff session token>' "
                 "or 'X-API-Key: <staff key>'")
EXPIRED = f"your staff session has expired or is unknown: sign in again at {LOGIN_PAGE}"

# what ``_credentials`` requires: a username with a character that is not blank, a password that is not empty
_LOGIN_SCHEMA = {"type": "object", "required": ["username", "password"], "properties": {
    "username": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"\S"},
    "password": {"type": "string", "minLength": 1, "maxLength": 1024}}}
LOGIN_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": _LOGIN_SCHEMA}, "application/x-www-form-urlencoded": {"schema": _LOGIN_SCHEMA}}}}


class SignedIn(BaseModel):
    """Who is signed in, with which roles, until when (``null`` for the service key)."""

    username: str
    roles: list[str]
    expires_at: str | None = Field(None, description="ISO 8601; moves forward with use.")


class SignedOut(BaseModel):
    status: str = "signed out"

# the staff credentials as OpenAPI security schemes (ui.openapi_contract): declared by every staff route through
# ``require``; ``authenticate`` reads the request itself, so the schemes only document (and never refuse)
_cookie_scheme = APIKeyCookie(name=COOKIE, auto_error=False, scheme_name="StaffCookie",
                              description="The staff session cookie, set by signing in (POST /api/v1/staff/login).")
_bearer_scheme = HTTPBearer(auto_error=False, scheme_name="StaffSession",
                            description="A staff session token (the session cookie's value).")
_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="StaffKey",
                           description="The service key (security.staff_api_key): an admin named 'service'.")


@dataclass(frozen=True)
class AccessRefusal:
    status: int
    detail: str

    def error(self) -> ConciergeError:
        """The error the app's error table answers with ``status`` and ``detail``."""
        kind = AuthError if self.status == 401 else Forbidden
        return kind(self.detail, user_message=self.detail)


class StaffAuth:
    """The sign-in routes (``router``), the role check (``require``) and ``principal_from_request`` for views that
    are not FastAPI routes (Gradio: ``principal_from_request(gr_request.request)``). Unpacks as
    ``router, require = build_auth(...)``."""

    def __init__(self, security: SecuritySettings, staff: StaffAccounts, limiter: RateLimiter | None = None) -> None:
        self.security = security
        self.staff = staff
        self._limiter = limiter
        self.router = self._routes()

    def __iter__(self) -> Iterator[Any]:
        return iter((self.router, self.require))

    @property
    def limiter(self) -> RateLimiter:
        if self._limiter is None:
            self._limiter = RateLimiter.from_settings(self.security)
        return self._limiter

    # who is asking ---------------------------------------------------------------------------------------
    def authenticate(self, request: HTTPConnection) -> StaffPrincipal | AccessRefusal:
        """The principal of a starlette request, or why there is none."""
        headers = request.headers
        if "x-api-key" in headers:
            key = self.security.staff_api_key.get_secret_value()
            if not key:
                return AccessRefusal(403, "the staff API key is off: set security.staff_api_key "
                                    f"(CONCIERGE_SECURITY__STAFF_API_KEY) to use X-API-Key, or sign in at {LOGIN_PAGE}")
            if secrets.compare_digest(headers["x-api-key"].encode(), key.encode()):
                return SERVICE
            return AccessRefusal(401, f"wrong staff key: send 'X-API-Key: <staff key>' or sign in at {LOGIN_PAGE}")
        tokens = [t for t in (_bearer_token(headers.get("authorization", "")), request.cookies.get(COOKIE)) if t]
        if not tokens:
            return AccessRefusal(401, NOT_SIGNED_IN)
        for token in tokens:
            principal = self.staff.principal_for_token(token, self.security.staff_session_ttl_s)
            if principal is not None:
                return principal
        return AccessRefusal(401, EXPIRED)

    def principal_from_request(self, request: HTTPConnection | None) -> StaffPrincipal | None:
        """The signed-in staff member of a starlette request (``gr.Request.request``), or ``None``."""
        if request is None:
            return None
        found = self.authenticate(request)
        return found if isinstance(found, StaffPrincipal) else None

    def require(self, role: str) -> Callable[..., StaffPrincipal]:
        """A FastAPI dependency: the principal if it has ``role``; 401 when not signed in, 403 without the role."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")

        def staff_member(request: Request, _c: str | None = Security(_cookie_scheme),
                         _b: HTTPAuthorizationCredentials | None = Security(_bearer_scheme),
                         _k: str | None = Security(_key_scheme)) -> StaffPrincipal:
            found = self.authenticate(request)
            if isinstance(found, AccessRefusal):
                raise found.error()
            if not found.has(role):
                missing = f"this needs the {role} role; {found.username} has {', '.join(sorted(found.roles)) or 'none'}"
                raise Forbidden(missing, user_message=missing)
            return found

        staff_member.__name__ = f"staff_{role}"
        return staff_member

    # signing in ------------------------------------------------------------------------------------------
    def login(self, username: str, password: str, ip: str) -> tuple[str, StaffSessionInfo]:
        """A new session for right credentials: (token, session). 401 ``WRONG`` for a wrong password or an
        unknown user alike; 429 once too many sign-ins failed from ``ip`` or for ``username``."""
        name = normalize_username(username)[:128]
        for scope, key in (("login_ip", ip), ("login_user", f"{name}@{ip}")):
            wait = self.limiter.check(scope, key)
            if wait is not None:
                raise HTTPException(429, *too_many(wait, "failed sign-ins"))
        account = self.staff.verify_password(name, password) if name and password else None
        if account is None:
            self.limiter.hit("login_ip", ip)
            self.limiter.hit("login_user", f"{name}@{ip}")
            self.limiter.hit("login_slow", name)
            raise HTTPException(401, WRONG)
        token = self.staff.create_session(account.username, self.security.staff_session_ttl_s)
        info = self.staff.session_for_token(token)
        assert info is not None  # just made
        return token, info

    def slowdown(self, username: str) -> float:
        """Seconds a sign-in for ``username`` waits before its password is checked: 0 until
        ``security.login_slowdown_after`` failures for it (from any address), then 1 s doubling per failure up to
        ``security.login_slowdown_max_s``."""
        failures = self.limiter.count("login_slow", normalize_username(username)[:128])
        excess = failures - self.security.login_slowdown_after
        return 0.0 if excess < 0 else float(min(self.security.login_slowdown_max_s, 2.0 ** min(excess, 16)))

    async def _signed_in(self, request: Request, username: str, password: str) -> tuple[str, StaffSessionInfo]:
        delay = await run_in_threadpool(self.slowdown, username)
        if delay:
            await asyncio.sleep(delay)
        return await run_in_threadpool(self.login, username, password, client_ip(request))

    def _set_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(COOKIE, token, httponly=True, samesite="lax", path="/",
                            secure=self.security.staff_cookie_secure)

    def _form(self, target: str, error: str | None = None, username: str = "", status: int = 200,
              headers: Mapping[str, str] | None = None) -> HTMLResponse:
        """The sign-in page with a fresh CSRF token, in the form and in its cookie."""
        csrf = secrets.token_urlsafe(32)
        response = HTMLResponse(_page(target, error, username, csrf), status_code=status, headers=headers)
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", path=LOGIN_PAGE,
                            secure=self.security.staff_cookie_secure)
        return response

    def _logout(self, request: Request, response: Response) -> None:
        for token in (_bearer_token(request.headers.get("authorization", "")), request.cookies.get(COOKIE)):
            if token:
                self.staff.delete_session(token)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")

    def _routes(self) -> APIRouter:
        router = APIRouter()

        @router.post("/api/v1/staff/login", tags=["staff"], openapi_extra=LOGIN_BODY, response_model=SignedIn,
                     responses=responses(401, 422, 429, s401=WRONG))
        async def api_login(request: Request) -> JSONResponse:
            """Sign in with ``{"username", "password"}`` (JSON or form-encoded): sets the session cookie and
            returns who signed in and until when (the expiry moves forward with use)."""
            username, password, _ = await _credentials(request)
            token, info = await self._signed_in(request, username, password)
            response = JSONResponse(_who(info.principal, info))
            self._set_cookie(response, token)
            return response

        @router.post("/api/v1/staff/logout", tags=["staff"], response_model=SignedOut)
        def api_logout(request: Request) -> JSONResponse:
            """End the session of the cookie or bearer token (signing out twice is fine)."""
            response = JSONResponse({"status": "signed out"})
            self._logout(request, response)
            return response

        @router.get("/api/v1/staff/me", tags=["staff"], response_model=SignedIn)
        def me(request: Request, _c: str | None = Security(_cookie_scheme),
               _b: HTTPAuthorizationCredentials | None = Security(_bearer_scheme),
               _k: str | None = Security(_key_scheme)) -> dict[str, Any]:
            """Who is signed in, with which roles, until when (``null`` for the service key)."""
            found = self.authenticate(request)
            if isinstance(found, AccessRefusal):
                raise found.error()
            info = None
            if found is not SERVICE:
                for token in (_bearer_token(request.headers.get("authorization", "")), request.cookies.get(COOKIE)):
                    if token and info is None:
                        info = self.staff.session_for_token(token)
            return _who(found, info)

        @router.get(LOGIN_PAGE, include_in_schema=False)
        def login_page(request: Request) -> HTMLResponse:
            return self._form(_safe_next(request.query_params.get("next")))

        @router.post(LOGIN_PAGE, include_in_schema=False)
        async def login_form(request: Request) -> Response:
            username, password, target = await _credentials(request)
            form_token = (await request.form()).get(CSRF_FIELD)
            cookie_token = request.cookies.get(CSRF_COOKIE)
            if not (isinstance(form_token, str) and cookie_token
                    and secrets.compare_digest(form_token.encode(), cookie_token.encode())):
                return self._form(target, STALE_FORM, username, status=403)
            try:
                token, _info = await self._signed_in(request, username, password)
            except HTTPException as e:
                return self._form(target, str(e.detail), username, status=e.status_code, headers=e.headers)
            response = RedirectResponse(target, status_code=303)
            response.delete_cookie(CSRF_COOKIE, path=LOGIN_PAGE, httponly=True, samesite="strict")
            self._set_cookie(response, token)
            return response

        @router.post("/staff/logout", include_in_schema=False)
        def logout_form(request: Request) -> Response:
            response = RedirectResponse(LOGIN_PAGE, status_code=303)
            self._logout(request, response)
            return response

        return router


class StaffSignInFirst:
    """ASGI middleware: a browser opening the staff page (``GET /staff/``) without a valid session is sent to the
    sign-in page. Plain ASGI, so every other request (the chat's streams included) passes untouched."""

    def __init__(self, app: ASGIApp, auth: StaffAuth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "GET" and scope.get("path") in ("/staff", "/staff/"):
            request = Request(scope)
            if await run_in_threadpool(self.auth.principal_from_request, request) is None:
                back = request.url.path + (f"?{request.url.query}" if request.url.query else "")  # ?handover=<id>
                response = RedirectResponse(f"{LOGIN_PAGE}?next={quote(back, safe='/')}", status_code=303)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def build_auth(security: SecuritySettings, staff: StaffAccounts, limiter: RateLimiter | None = None) -> StaffAuth:
    """``router, require = build_auth(settings.security, components.staff_accounts, limiter)``; the returned
    ``StaffAuth`` also has ``principal_from_request``."""
    return StaffAuth(security, staff, limiter)


def _bearer_token(authorization: str) -> str | None:
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return None


def _who(principal: StaffPrincipal, info: StaffSessionInfo | None) -> dict[str, Any]:
    return {"username": principal.username, "roles": sorted(principal.roles),
            "expires_at": info.expires_at.isoformat() if info is not None else None}


async def _credentials(request: Request) -> tuple[str, str, str]:
    """username, password and where to go next, from a JSON or a form-encoded body."""
    data: object
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except (ValueError, RecursionError) as e:
            raise HTTPException(422, "invalid request: the body is not JSON") from e
    else:
        try:
            data = await request.form()
        except (ValueError, AssertionError) as e:  # starlette answers broken multipart with its own 400
            raise HTTPException(422, "invalid request: send a JSON or form-encoded body") from e
    if not isinstance(data, Mapping):
        raise HTTPException(422, "invalid request: send {\"username\": ..., \"password\": ...}")
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username.strip() or not password:
        raise HTTPException(422, "invalid request: username and password are required")
    next_value = data.get("next")
    return username, password, _safe_next(next_value if isinstance(next_value, str) else None)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    return target


def _page(target: str, error: str | None = None, username: str = "", csrf: str = "") -> str:
    problem = f"<p class='error' role='alert'>{html.escape(error)}</p>" if error else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Staff sign-in · Concierge</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}}
label{{display:block;margin:.8rem 0 .2rem}}input{{width:100%;padding:.4rem;box-sizing:border-box}}
button{{margin-top:1rem;padding:.5rem 1.2rem}}.error{{color:#b00020}}</style></head>
<body><h1>Staff sign-in</h1>{problem}
<form method="post" action="{LOGIN_PAGE}">
<input type="hidden" name="next" value="{html.escape(target)}">
<input type="hidden" name="{CSRF_FIELD}" value="{html.escape(csrf)}">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required value="{html.escape(username)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form></body></html>"""
