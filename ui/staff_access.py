"""Role checks for the staff routes: every router takes a ``require: RoleDependency`` (``ui.staff_auth``'s in the app,
a fake in unit tests). ``role_check`` supplies the real one when a router is built on its own."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from assistant.errors import ConciergeError, ConflictError, NotFoundError, ValidationError
from assistant.settings import SecuritySettings
from assistant.staff.roles import RoleDependency


def role_check(security: SecuritySettings, stores: Any, require: RoleDependency | None = None) -> RoleDependency:
    """``require`` as given, else the staff sign-in of ``ui.staff_auth`` on ``stores.staff`` (sessions and the
    ``X-API-Key`` service key, which acts as an admin)."""
    if require is not None:
        return require
    from ui.staff_auth import build_auth

    return build_auth(security, stores.staff).require


def http_error(e: ConciergeError) -> HTTPException:
    """A staff route's error: not found 404, bad input 422, a conflict (someone else's conversation, an existing
    id) 409, a failing dependency 503."""
    if isinstance(e, NotFoundError):
        return HTTPException(404, e.user_message)
    if isinstance(e, ValidationError):
        return HTTPException(422, e.user_message)
    if isinstance(e, ConflictError):
        return HTTPException(409, e.user_message)
    return HTTPException(503, e.user_message)
