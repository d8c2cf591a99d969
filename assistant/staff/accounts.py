"""Staff accounts as the sign-in sees them: check a password, open, look up and end sessions.

The service ``ui.staff_auth`` (the REST sign-in and every staff route's role check) and the staff page use;
the accounts themselves (argon2 hashes, hashed session tokens) live in the store.
"""

from __future__ import annotations

from assistant.staff.roles import StaffPrincipal
from assistant.store.staff_accounts import StaffAccount, StaffSessionInfo, StaffStore, normalize_username

__all__ = ["StaffAccount", "StaffAccounts", "StaffSessionInfo", "normalize_username"]


class StaffAccounts:
    def __init__(self, store: StaffStore) -> None:
        self._store = store

    def verify_password(self, username: str, password: str) -> StaffAccount | None:
        """The account for right credentials, ``None`` for a wrong password or an unknown user alike."""
        return self._store.verify_password(username, password)

    def create_session(self, username: str, ttl_s: float) -> str:
        """A new session's token (handed out once; only its hash is stored)."""
        return self._store.create_session(username, ttl_s)

    def session_for_token(self, token: str, ttl_s: float | None = None) -> StaffSessionInfo | None:
        return self._store.session_for_token(token, ttl_s)

    def principal_for_token(self, token: str, ttl_s: float | None = None) -> StaffPrincipal | None:
        """Who a live session token signs in (its expiry moves forward), ``None`` if expired or unknown."""
        return self._store.principal_for_token(token, ttl_s)

    def delete_session(self, token: str) -> bool:
        return self._store.delete_session(token)

    def get_user(self, username: str) -> StaffAccount | None:
        return self._store.get_user(username)

    def list_users(self) -> list[StaffAccount]:
        return self._store.list_users()
