"""Role checks for the staff routes: every router takes a ``require: RoleDependency`` (``ui.auth``'s in the app,
a fake in unit tests). ``role_check`` supplies the real one when a router is built on its own."""

from __future__ import annotations

from typing import Any

from assistant.settings import SecuritySettings
from assistant.staff_roles import RoleDependency


def role_check(security: SecuritySettings, stores: Any, require: RoleDependency | None = None) -> RoleDependency:
    """``require`` as given, else the staff sign-in of ``ui.auth`` on ``stores.staff`` (sessions and the
    ``X-API-Key`` service key, which acts as an admin)."""
    if require is not None:
        return require
    from ui.auth import build_auth

    return build_auth(security, stores.staff).require
