"""``StaffStore``: the shop's staff accounts (argon2 password hashes, roles) and their sign-in sessions.

A session token is 32 random bytes (URL-safe text) handed to the browser once; the database keeps only its
SHA-256 as ``StaffSession.id``, so a copy of the database signs nobody in. Sessions expire ``ttl_s`` seconds
after their last use (sliding; the last use is written at most once a minute). Changing a password or removing
an account ends all of that account's sessions.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.errors import ConflictError, NotFoundError, ValidationError
from assistant.staff.roles import ROLES, StaffPrincipal
from assistant.store import models as m
from assistant.store.clock import Clock, IdFactory, SystemClock, UuidIds
from assistant.store.db import read, write

if TYPE_CHECKING:
    from argon2 import PasswordHasher

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,127}$")
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024
#: a session's last use is written at most this often (sliding expiry without a write per request)
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class StaffAccount:
    """A staff member as stored (never the password hash)."""

    id: str
    username: str
    roles: frozenset[str]
    created_at: datetime
    disabled_at: datetime | None = None
    #: what a shopper sees beside this person's replies; None: "our team"
    display_name: str | None = None

    @property
    def principal(self) -> StaffPrincipal:
        return StaffPrincipal(self.username, self.roles)


@dataclass(frozen=True)
class StaffSessionInfo:
    """A live session: who, and until when (``expires_at`` moves forward with use)."""

    principal: StaffPrincipal
    created_at: datetime
    expires_at: datetime


def token_id(token: str) -> str:
    """What the database keeps of a session token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalize_username(username: str) -> str:
    return username.strip().lower()


def check_username(username: str) -> str:
    name = normalize_username(username)
    if not USERNAME.match(name):
        raise ValidationError(f"invalid staff username {username!r}", user_message=(
            "A username is 1-128 characters: letters, digits, '.', '_', '@' or '-', starting with a letter or "
            "digit (stored in lower case)."))
    return name


def check_roles(roles: list[str] | tuple[str, ...] | frozenset[str] | set[str]) -> frozenset[str]:
    chosen = frozenset(r.strip().lower() for r in roles if r.strip())
    unknown = sorted(chosen - set(ROLES))
    if unknown or not chosen:
        what = f"unknown role {', '.join(unknown)}" if unknown else "no role"
        raise ValidationError(f"{what} for a staff account",
                              user_message=f"Give one or more roles among {', '.join(ROLES)} (admin is all three).")
    return chosen


def check_password(password: str) -> str:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise ValidationError("password of the wrong length", user_message=(
            f"A password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters."))
    return password


MAX_DISPLAY_NAME_CHARS = 80


def check_display_name(name: str | None) -> str | None:
    """A display name as stored: trimmed, 1-80 printable characters; None or blank: none (the shopper sees "our
    team")."""
    if name is None or not name.strip():
        return None
    clean = " ".join(name.split())
    if len(clean) > MAX_DISPLAY_NAME_CHARS or not clean.isprintable() or re.search(r"[<>]", clean):
        raise ValidationError("invalid display name", user_message=(
            f"A display name has 1-{MAX_DISPLAY_NAME_CHARS} printable characters, without '<' or '>' (a first name "
            "is usual: it is what shoppers see beside your replies)."))
    return clean


def _roles_text(roles: frozenset[str]) -> str:
    return ",".join(r for r in ROLES if r in roles)


def _account(row: m.StaffUserRow) -> StaffAccount:
    roles = frozenset(r for r in row.roles.split(",") if r)
    return StaffAccount(id=row.id, username=row.username, roles=roles, created_at=row.created_at,
                        disabled_at=row.disabled_at, display_name=row.display_name)


def default_hasher() -> PasswordHasher:
    """argon2id with argon2-cffi's recommended parameters (RFC 9106 low-memory profile)."""
    from argon2 import PasswordHasher

    return PasswordHasher()


class StaffStore:
    """Staff accounts and sessions. ``hasher`` is an ``argon2.PasswordHasher`` (tests pass a cheap one)."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None, ids: IdFactory | None = None,
                 hasher: PasswordHasher | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()
        self._ids = ids or UuidIds()
        self._hasher = hasher
        self._dummy_hash: str | None = None

    @property
    def hasher(self) -> PasswordHasher:
        if self._hasher is None:
            self._hasher = default_hasher()
        return self._hasher

    def now(self) -> datetime:
        return self._clock.now()

    # accounts ------------------------------------------------------------------------------------------
    def add_user(self, username: str, password: str, roles: list[str] | tuple[str, ...] | frozenset[str],
                 display_name: str | None = None) -> StaffAccount:
        """A new account; ``ConflictError`` if the username is taken, ``ValidationError`` for a bad name,
        role, password or display name."""
        name, chosen, secret = check_username(username), check_roles(roles), check_password(password)
        shown = check_display_name(display_name)
        password_hash = self.hasher.hash(secret)
        with write(self._sessions, f"adding staff account {name}") as session:
            if session.scalars(select(m.StaffUserRow).where(m.StaffUserRow.username == name)).first() is not None:
                raise ConflictError(f"staff account {name} exists",
                                    user_message=f"There is already a staff account {name!r}.")
            row = m.StaffUserRow(id=self._ids.new_id(), username=name, password_hash=password_hash,
                              roles=_roles_text(chosen), created_at=self._clock.now(), display_name=shown)
            session.add(row)
            session.flush()
            return _account(row)

    def get_user(self, username: str) -> StaffAccount | None:
        with read(self._sessions, "reading a staff account") as session:
            row = self._row(session, username)
            return _account(row) if row is not None else None

    def list_users(self) -> list[StaffAccount]:
        """Every account, by username."""
        with read(self._sessions, "listing staff accounts") as session:
            return [_account(r) for r in session.scalars(select(m.StaffUserRow).order_by(m.StaffUserRow.username))]

    def remove_user(self, username: str) -> bool:
        """Delete the account and its sessions; ``False`` if there was none."""
        with write(self._sessions, f"removing staff account {username}") as session:
            row = self._row(session, username)
            if row is None:
                return False
            session.execute(delete(m.StaffSessionRow).where(m.StaffSessionRow.user_id == row.id))
            session.delete(row)
            return True

    def set_password(self, username: str, password: str) -> StaffAccount:
        """A new password; every session of the account ends (signed out everywhere)."""
        password_hash = self.hasher.hash(check_password(password))
        with write(self._sessions, f"changing the password of {username}") as session:
            row = self._existing(session, username)
            row.password_hash = password_hash
            session.execute(delete(m.StaffSessionRow).where(m.StaffSessionRow.user_id == row.id))
            session.flush()
            return _account(row)

    def set_roles(self, username: str, roles: list[str] | tuple[str, ...] | frozenset[str]) -> StaffAccount:
        """Replace the account's roles (effective at its next request)."""
        chosen = check_roles(roles)
        with write(self._sessions, f"changing the roles of {username}") as session:
            row = self._existing(session, username)
            row.roles = _roles_text(chosen)
            session.flush()
            return _account(row)

    def set_display_name(self, username: str, display_name: str | None) -> StaffAccount:
        """What shoppers see beside this person's replies (None or blank: "our team")."""
        shown = check_display_name(display_name)
        with write(self._sessions, f"changing the display name of {username}") as session:
            row = self._existing(session, username)
            row.display_name = shown
            session.flush()
            return _account(row)

    def verify_password(self, username: str, password: str) -> StaffAccount | None:
        """The account if the password is right (and the account not disabled), else ``None``.

        An unknown username costs one argon2 verification too, so timing does not tell which usernames
        exist. A hash made with older parameters is replaced by one with the current parameters.
        """
        from argon2.exceptions import InvalidHashError, VerificationError

        row = None
        if len(password) <= MAX_PASSWORD_CHARS and USERNAME.match(normalize_username(username)):
            with read(self._sessions, "reading a staff account") as session:
                row = self._row(session, username)
        stored = row.password_hash if row is not None else self._dummy()
        try:
            self.hasher.verify(stored, password[:MAX_PASSWORD_CHARS])
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled_at is not None:
            return None
        if self.hasher.check_needs_rehash(stored):
            new_hash = self.hasher.hash(password)
            with write(self._sessions, f"rehashing the password of {row.username}") as session:
                fresh = session.get(m.StaffUserRow, row.id)
                if fresh is not None and fresh.password_hash == stored:
                    fresh.password_hash = new_hash
        return _account(row)

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    @classmethod
    def _existing(cls, session: Session, username: str) -> m.StaffUserRow:
        """The account's row; ``NotFoundError`` when there is none."""
        row = cls._row(session, username)
        if row is None:
            raise NotFoundError(f"no staff account {username!r}",
                                user_message=f"There is no staff account {username!r}.")
        return row

    @staticmethod
    def _row(session: Session, username: str) -> m.StaffUserRow | None:
        name = normalize_username(username)
        if not USERNAME.match(name):  # never a stored name (and no NUL byte reaches PostgreSQL)
            return None
        return session.scalars(select(m.StaffUserRow).where(m.StaffUserRow.username == name)).first()

    # sessions ------------------------------------------------------------------------------------------
    def create_session(self, username: str, ttl_s: float) -> str:
        """Sign the account in: a new session valid for ``ttl_s`` seconds of inactivity. Returns the raw
        token (only its SHA-256 is stored)."""
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        with write(self._sessions, f"signing in {username}") as session:
            row = self._row(session, username)
            if row is None or row.disabled_at is not None:
                raise NotFoundError(f"no staff account {username!r}",
                                    user_message=f"There is no staff account {username!r}.")
            session.add(m.StaffSessionRow(id=token_id(token), user_id=row.id, created_at=now,
                                       expires_at=now + timedelta(seconds=ttl_s), last_seen_at=now))
        return token

    def session_for_token(self, token: str, ttl_s: float | None = None) -> StaffSessionInfo | None:
        """The live session of ``token``, or ``None`` (unknown, expired, account removed or disabled). An
        expired session is deleted. With ``ttl_s`` its expiry slides to ``now + ttl_s``."""
        if not token or len(token) > 256:
            return None
        key, now = token_id(token), self._clock.now()
        with write(self._sessions, "reading a staff session") as session:
            row = session.get(m.StaffSessionRow, key)
            if row is None:
                return None
            if row.expires_at <= now:
                session.delete(row)
                return None
            user = session.get(m.StaffUserRow, row.user_id)
            if user is None or user.disabled_at is not None:
                return None
            if ttl_s is not None and now - row.last_seen_at >= TOUCH_EVERY:
                row.last_seen_at = now
                row.expires_at = max(row.expires_at, now + timedelta(seconds=ttl_s))
            return StaffSessionInfo(_account(user).principal, row.created_at, row.expires_at)

    def principal_for_token(self, token: str, ttl_s: float | None = None) -> StaffPrincipal | None:
        """Who ``token`` signs in, or ``None`` (see ``session_for_token``)."""
        info = self.session_for_token(token, ttl_s)
        return info.principal if info is not None else None

    def delete_session(self, token: str) -> bool:
        """Sign out: the session of ``token`` ends. ``False`` if there was none."""
        with write(self._sessions, "signing out") as session:
            result = session.execute(delete(m.StaffSessionRow).where(m.StaffSessionRow.id == token_id(token)))
            return bool(getattr(result, "rowcount", 0))

    def purge_expired(self) -> int:
        """Delete every expired session; returns how many."""
        with write(self._sessions, "purging expired staff sessions") as session:
            result = session.execute(delete(m.StaffSessionRow).where(m.StaffSessionRow.expires_at <= self._clock.now()))
            return int(getattr(result, "rowcount", 0) or 0)

    def agents_active_since(self, since: datetime) -> int:
        """How many agents (the agent or admin role, account enabled) have a live session used since ``since``:
        whether anybody can take a hand-over now (support.agent_active_within_s)."""
        with read(self._sessions, "counting signed-in agents") as session:
            rows = session.execute(
                select(m.StaffUserRow.id, m.StaffUserRow.roles)
                .join(m.StaffSessionRow, m.StaffSessionRow.user_id == m.StaffUserRow.id)
                .where(m.StaffSessionRow.expires_at > self._clock.now(), m.StaffSessionRow.last_seen_at >= since,
                       m.StaffUserRow.disabled_at.is_(None)).distinct())
            return sum(StaffPrincipal("", frozenset(roles.split(","))).has("agent") for _id, roles in rows)

    def count_sessions(self, username: str | None = None) -> int:
        """Sessions stored (live or not yet purged), of one account or of all."""
        with read(self._sessions, "counting staff sessions") as session:
            query = select(func.count()).select_from(m.StaffSessionRow)
            if username is not None:
                query = query.join(m.StaffUserRow, m.StaffUserRow.id == m.StaffSessionRow.user_id).where(
                    m.StaffUserRow.username == normalize_username(username))
            return int(session.scalar(query) or 0)
