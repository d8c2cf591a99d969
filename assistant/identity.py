"""Shopper tokens: HMAC-SHA256 signed by the shop's backend with a shared secret.

Format: ``v1.<base64url(json payload)>.<base64url(signature)>`` with payload ``{"sub": customer id,
"exp": unix seconds}``. The shop's backend issues them for its logged-in shoppers; the demo sign-in
issues them for demo customers. The shopper id used everywhere comes from here, never from the model.

Guest tokens (a visitor who is not signed in): ``g1.<base64url(json payload)>.<base64url(signature)>`` with payload
``{"sub": "guest:<random>", "sid": chat session id, "exp": unix seconds}``, signed by the server itself with a key
derived from the same secret for guests only (:func:`issue_guest_token`). A guest token names one conversation and
nothing else: ``verify_token`` never accepts one (another prefix, another key), and a customer token whose subject
starts with ``guest:`` is refused, so a guest can never pass for a customer, nor a customer for a guest.

No secret is ever known: an empty or documented example secret signs and verifies nothing, a token that would
stay valid longer than ``max_lifetime_s`` is refused, and :func:`prepare_token_secret` (the web server's start)
makes a random secret in the data folder when none is configured (``assistant.config.web_settings``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from assistant.config.web_settings import EXAMPLE_TOKEN_SECRETS
from assistant.domain import ShopperIdentity
from assistant.errors import AuthError, ConfigError

__all__ = ["GUEST_PREFIX", "AuthError", "GuestPass", "is_guest_token", "issue_guest_token", "issue_token",
           "prepare_token_secret", "refuse_open_demo", "verify_guest_token", "verify_token"]

log = logging.getLogger(__name__)
SECRET_FILE = "token_secret"
SECRET_SETTING = "security.token_secret (CONCIERGE_TOKEN_SECRET)"
#: the subject of every guest token: never a customer id (a customer token naming one is refused)
GUEST_PREFIX = "guest:"
GUEST_VERSION = "g1"
#: what the guest key is derived with: a guest token's signature never matches a customer token's
_GUEST_KEY_LABEL = b"concierge guest token v1"


def usable_secret(secret: str) -> bool:
    """A secret that may sign tokens: not empty, not one shown as an example anywhere."""
    return bool(secret.strip()) and secret.strip() not in EXAMPLE_TOKEN_SECRETS


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(customer_id: str, secret: str, ttl_s: int = 3600, now: Callable[[], float] = time.time) -> str:
    if customer_id.startswith(GUEST_PREFIX):
        raise AuthError(f"{customer_id!r} is a guest subject, not a customer id")
    if not usable_secret(secret):
        raise AuthError("refusing to sign with an empty or example token secret",
                        user_message=f"Shopper tokens cannot be issued: set {SECRET_SETTING} to a random value.")
    return _sign("v1", secret.encode(), {"sub": customer_id, "exp": int(now()) + ttl_s})


def _sign(version: str, key: bytes, payload: dict[str, object]) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{version}.{body}.{_b64(hmac.new(key, f'{version}.{body}'.encode(), hashlib.sha256).digest())}"


def _signed_payload(token: str, version: str, key: bytes, kind: str) -> dict[str, object]:
    """The payload of a token of ``version`` whose signature ``key`` made, or AuthError (``kind`` names the token
    in the message). The expiry and the subject are checked by the caller."""
    parts = (token or "").strip().split(".")
    if len(parts) != 3 or parts[0] != version:
        raise AuthError(f"malformed {kind} token")
    expected = hmac.new(key, f"{version}.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        signature = _unb64(parts[2])
        payload = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeDecodeError) as e:
        raise AuthError(f"malformed {kind} token") from e
    if not hmac.compare_digest(signature, expected):
        raise AuthError(f"{kind} token signature does not match")
    if not isinstance(payload, dict):
        raise AuthError(f"{kind} token has no subject")
    return payload


def _check_expiry(expires: object, now: Callable[[], float], max_lifetime_s: float | None, kind: str,
                  setting: str) -> float:
    if not isinstance(expires, int | float) or isinstance(expires, bool) or expires < now():
        raise AuthError(f"{kind} token has expired")
    if max_lifetime_s is not None and expires - now() > max_lifetime_s:
        raise AuthError(f"{kind} token is valid for longer than the {max_lifetime_s:g} s allowed{setting}")
    return float(expires)


def verify_token(token: str, secret: str, now: Callable[[], float] = time.time,
                 max_lifetime_s: float | None = None) -> ShopperIdentity:
    """The verified shopper, or AuthError (malformed, forged, expired, or valid for longer than ``max_lifetime_s``
    from now). An empty or example ``secret`` verifies nothing."""
    if not usable_secret(secret):
        raise AuthError("no usable token secret: every token is refused")
    payload = _signed_payload(token, "v1", secret.encode(), "shopper")
    subject = payload.get("sub")
    if not isinstance(subject, str) or not subject:
        raise AuthError("shopper token has no subject")
    if subject.startswith(GUEST_PREFIX):
        raise AuthError("shopper token names a guest, not a customer")
    expires = _check_expiry(payload.get("exp"), now, max_lifetime_s, "shopper", " (security.max_token_lifetime_s)")
    return ShopperIdentity(customer_id=subject, expires_at=expires)


@dataclass(frozen=True)
class GuestPass:
    """A verified guest: ``guest_id`` (``guest:<random>``) and the one conversation the guest token opens."""

    guest_id: str
    session_id: str
    expires_at: float


def _guest_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _GUEST_KEY_LABEL, hashlib.sha256).digest()


def is_guest_token(token: str | None) -> bool:
    """A token in the guest format (not yet verified)."""
    return (token or "").strip().startswith(f"{GUEST_VERSION}.")


def issue_guest_token(session_id: str, secret: str, ttl_s: int, guest_id: str | None = None,
                      now: Callable[[], float] = time.time) -> tuple[str, GuestPass]:
    """A guest token for conversation ``session_id`` (a new ``guest:<random>`` subject unless ``guest_id`` renews
    one). Refuses an empty or example secret like ``issue_token``."""
    if not usable_secret(secret):
        raise AuthError("refusing to sign guest tokens with an empty or example token secret")
    guest = guest_id if guest_id and guest_id.startswith(GUEST_PREFIX) else GUEST_PREFIX + secrets.token_urlsafe(12)
    expires = int(now()) + ttl_s
    token = _sign(GUEST_VERSION, _guest_key(secret), {"sub": guest, "sid": session_id, "exp": expires})
    return token, GuestPass(guest, session_id, float(expires))


def verify_guest_token(token: str, secret: str, now: Callable[[], float] = time.time,
                       max_lifetime_s: float | None = None) -> GuestPass:
    """The verified guest and their conversation, or ``AuthError`` (malformed, forged, expired, too long-lived, or
    a customer token)."""
    if not usable_secret(secret):
        raise AuthError("no usable token secret: every token is refused")
    payload = _signed_payload(token, GUEST_VERSION, _guest_key(secret), "guest")
    session = payload.get("sid")
    if not str(payload.get("sub") or "").startswith(GUEST_PREFIX) or not isinstance(session, str) or not session:
        raise AuthError("guest token names no guest conversation")
    expires = _check_expiry(payload.get("exp"), now, max_lifetime_s, "guest", "")
    return GuestPass(str(payload["sub"]), session, expires)


def prepare_token_secret(secret: SecretStr, data_dir: Path) -> SecretStr:
    """The secret the server signs and verifies with: the configured one, or without one the secret kept in
    ``<data_dir>/token_secret`` (made on first start, mode 0600, the log says where). ``ConfigError`` for a
    documented example value, so a server never starts on a known secret."""
    configured = secret.get_secret_value().strip()
    if configured:
        if configured in EXAMPLE_TOKEN_SECRETS:
            raise ConfigError(f"the token secret is {configured!r}, an example value from the docs: anyone could sign "
                              "shopper tokens with it", user_message=(
                                  f"Set {SECRET_SETTING} to a random value shared with the shop's backend (e.g. "
                                  "python -c 'import secrets; print(secrets.token_urlsafe(32))'), or leave it empty "
                                  f"to have one made in the data folder ({SECRET_FILE})."))
        return SecretStr(configured)
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return SecretStr(_read_secret(path))
    made = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(made + "\n")
    log.info("shopper token secret: none configured, made a random one in %s (mode 0600); later starts reuse it. "
             "Give the shop's backend that value, or set %s.", path.resolve(), SECRET_SETTING)
    return SecretStr(made)


def _read_secret(path: Path) -> str:
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
        log.warning("shopper token secret %s was readable by others: now mode 0600", path)
    value = path.read_text(encoding="utf-8").strip()
    if not usable_secret(value):
        raise ConfigError(f"{path} holds an empty or example token secret", user_message=(
            f"Delete {path} to have a new random secret made, or set {SECRET_SETTING}."))
    log.info("shopper token secret: using the one kept in %s", path.resolve())
    return value


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def refuse_open_demo(demo_sign_in: bool, host: str) -> None:
    """``ConfigError`` when the demo sign-in (anyone may act as a demo customer) would be served beyond loopback."""
    if demo_sign_in and not is_loopback(host):
        raise ConfigError(f"demo sign-in is on and the server would listen on {host}", user_message=(
            "The demo sign-in lets anyone act as a demo customer, so it only runs on a loopback address. Set "
            "security.demo_sign_in to false (CONCIERGE_SECURITY__DEMO_SIGN_IN=false), or serve on 127.0.0.1."))
