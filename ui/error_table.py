"""The one error table of the web app: the ConciergeError family (and the knowledge base's outage) to an HTTP
status and a JSON body, registered once on the FastAPI app by :func:`install_error_table`.

Routers raise the assistant's errors and never translate them: not found 404, bad input 422, a conflict 409,
not signed in 401, not allowed 403, a file type no importer reads 415, a file over the limit 413, a failing
dependency 503. The body is ``{"detail": <user message>, "error": <error class>}`` (a conversation another agent
has adds ``held_by`` and what was not sent). Anything else is a 500 whose body carries an ``error_id`` that is
logged with the traceback, so a report can be matched to the log line.

That body is :class:`ErrorBody`, the one error model of the API: FastAPI's own input checks (422), the
``HTTPException`` s of routes and of the router (401, 404, 405, 429, 503) and the middleware's refusals
(``ui.rate_limits.refuse``: 403, 413, 415, 422) answer with it too; ``responses(...)`` documents it on a route.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.errors import (
    AuthError,
    ConciergeError,
    ConfigError,
    ConflictError,
    Forbidden,
    ModelUnavailable,
    NotFoundError,
    StoreError,
    ValidationError,
)
from assistant.staff.admin import UnsupportedFile, UploadTooLarge
from assistant.staff.copilot import HeldByAnotherAgent
from knowledge.knowledge_store import KnowledgeUnavailable

log = logging.getLogger(__name__)

#: the most specific class of an error (along its MRO) that is listed here gives its status
STATUS: Mapping[type[BaseException], int] = {
    AuthError: 401,
    Forbidden: 403,
    NotFoundError: 404,
    ConflictError: 409,
    UploadTooLarge: 413,
    UnsupportedFile: 415,
    ValidationError: 422,
    StoreError: 503,
    ModelUnavailable: 503,
    ConfigError: 503,
    KnowledgeUnavailable: 503,
    ConciergeError: 503,  # a failure inside Concierge without a more specific kind: a dependency failed
}
INTERNAL = "Something went wrong inside Concierge; quote the error id when you report it."
#: the ``error`` of an ``HTTPException`` (raised by a route or by the router itself) by its status
HTTP_ERRORS: Mapping[int, str] = {400: "BadRequest", 401: "AuthError", 403: "Forbidden", 404: "NotFoundError",
                                  405: "MethodNotAllowed", 409: "ConflictError", 413: "BodyTooLarge",
                                  415: "UnsupportedMediaType", 422: "ValidationError", 429: "TooManyRequests",
                                  503: "Unavailable"}


class ErrorBody(BaseModel):
    """Every error answer of the API: what went wrong and what to do, and which kind of error it was."""

    detail: str = Field(..., description="What went wrong and what to do about it, for a person to read.")
    error: str = Field(..., description="The kind of error, e.g. ValidationError, NotFoundError, AuthError, "
                                        "ConflictError, TooManyRequests, BodyTooLarge, InternalError.")
    error_id: str | None = Field(None, description="Only on a 500: quote it to find the logged traceback.")
    held_by: str | None = Field(None, description="409 on a conversation another agent has: that agent.")
    unsent: dict[str, Any] | None = Field(None, description="409 on a copilot send: the text that was not sent.")


#: what each error status means, the description of its documented response
MEANING: Mapping[int, str] = {
    400: "The request could not be read (a broken form or multipart body).",
    401: "Not signed in, or the token, session or key is wrong or expired.",
    403: "Signed in without the role this needs, or a cross-site write to a staff route.",
    404: "No such resource (or it is not the caller's).",
    405: "The path exists but not with this method (see the Allow header).",
    409: "A conflict with the current state (an existing id, an offer code in use, another agent's conversation, "
         "reviewed already).",
    413: "The request body is over the limit (security.max_request_bytes; uploads: knowledge.max_file_mb).",
    415: "A body of a type this route does not take (multipart file uploads are taken only by uploads).",
    422: "The request is not valid: the detail names the field (also JSON nested too deeply).",
    429: "Too many requests: wait the seconds of the Retry-After header.",
    503: "A dependency (database, knowledge base, model) is unavailable: try again later.",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}}


def responses(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each error status with :class:`ErrorBody` and what it means there
    (``described``: ``s404="no such offer"`` overrides the general meaning)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorBody,
                                 "description": described.get(f"s{status}", MEANING.get(status, "An error."))}
        if status in (429, 503):
            entry["headers"] = RETRY_AFTER
        out[status] = entry
    return out


def status_of(error: Exception) -> int | None:
    """The status the table gives ``error``, ``None`` when it is not in the table (a 500)."""
    for cls in type(error).__mro__:
        status = STATUS.get(cls)
        if status is not None:
            return status
    return None


def error_body(error: Exception) -> dict[str, object]:
    """The JSON body of a listed error: what to do about it, and which kind of error it was."""
    if isinstance(error, ConciergeError):
        body: dict[str, object] = {"detail": error.user_message, "error": type(error).__name__}
    else:
        body = {"detail": f"the knowledge base is unavailable: {error}", "error": type(error).__name__}
    if isinstance(error, HeldByAnotherAgent):
        body["held_by"] = error.agent
        if error.unsent is not None:
            body["unsent"] = error.unsent
    return body


def error_response(error: Exception) -> JSONResponse:
    """The response for any exception: the table's status and body, else a 500 with a logged error id."""
    status = status_of(error)
    if status is None:
        return internal_error(error)
    if status >= 500:
        log.warning("request failed: %s", error)
    return JSONResponse(error_body(error), status_code=status)


def internal_error(error: BaseException) -> JSONResponse:
    error_id = uuid.uuid4().hex[:12]
    log.error("internal error %s: %s: %s", error_id, type(error).__name__, error, exc_info=error)
    return JSONResponse({"detail": INTERNAL, "error": "InternalError", "error_id": error_id}, status_code=500)


def invalid_request(error: RequestValidationError) -> JSONResponse:
    """FastAPI's own input checks (bad query parameters, malformed bodies) as one readable 422."""
    problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'][1:])}: {err['msg']}" for err in error.errors())
    return JSONResponse({"detail": f"invalid request: {problems}", "error": "ValidationError"}, status_code=422)


def http_error(error: StarletteHTTPException) -> JSONResponse:
    """An ``HTTPException`` (a route's 401 / 429 / 503, the router's 404 / 405) in the one error shape, its headers
    (Retry-After, Allow) kept."""
    status = error.status_code
    kind = HTTP_ERRORS.get(status)
    if kind is None:
        try:
            kind = HTTPStatus(status).phrase.replace(" ", "").replace("-", "")
        except ValueError:
            kind = "Error"
    return JSONResponse({"detail": str(error.detail), "error": kind}, status_code=status,
                        headers=dict(error.headers or {}))


class InternalErrors:
    """ASGI middleware, innermost: an exception no handler took becomes a 500 with a logged error id (once the
    response has started, as in a stream, nothing can be sent any more and it propagates)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as e:
            if started:
                raise
            await internal_error(e)(scope, receive, send)


def install_error_table(app: FastAPI) -> FastAPI:
    """Register the table on ``app`` (once, before the other middleware): every listed error, FastAPI's input
    checks, and the 500 for anything else."""

    async def listed(_request: Request, error: Exception) -> JSONResponse:
        return error_response(error)

    async def invalid(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return invalid_request(error)

    async def http(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        return http_error(error)

    app.add_exception_handler(ConciergeError, listed)
    app.add_exception_handler(KnowledgeUnavailable, listed)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http)
    app.add_middleware(InternalErrors)
    return app
