"""Role checks for the staff routes: every router takes a ``require: RoleDependency`` (``ui.staff_auth``'s in the app,
a fake in unit tests). ``role_check`` supplies the real one when a router is built on its own."""

from __future__ import annotations

from assistant.settings import SecuritySettings
from assistant.staff.accounts import StaffAccounts
from assistant.staff.roles import RoleDependency


def role_check(security: SecuritySettings, accounts: StaffAccounts,
               require: RoleDependency | None = None) -> RoleDependency:
    """``require`` as given, else the staff sign-in of ``ui.staff_auth`` on ``accounts`` (sessions and the
    ``X-API-Key`` service key, which acts as an admin)."""
    if require is not None:
        return require
    from ui.staff_auth import build_auth

    return build_auth(security, accounts).require
