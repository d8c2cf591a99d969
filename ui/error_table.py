"""The one error table of the web app: the ConciergeError family (and the knowledge base's outage) to an HTTP
status and a JSON body, registered once on the FastAPI app by :func:`install_error_table`.

Routers raise the assistant's errors and never translate them: not found 404, bad input 422, a conflict 409,
not signed in 401, not allowed 403, a file type no importer reads 415, a file over the limit 413, a failing
dependency 503. The body is ``{"detail": <user message>, "error": <error class>}`` (a conversation another agent
has adds ``held_by`` and what was not sent). Anything else is a 500 whose body carries an ``error_id`` that is
logged with the traceback, so a report can be matched to the log line.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
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

    app.add_exception_handler(ConciergeError, listed)
    app.add_exception_handler(KnowledgeUnavailable, listed)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_middleware(InternalErrors)
    return app
