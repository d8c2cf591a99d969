"""Shopper tokens: HMAC-SHA256 signed by the shop's backend with a shared secret.

Format: ``v1.<base64url(json payload)>.<base64url(signature)>`` with payload ``{"sub": customer id,
"exp": unix seconds}``. The shop's backend issues them for its logged-in shoppers; the demo sign-in
issues them for demo customers. The shopper id used everywhere comes from here, never from the model.

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
from pathlib import Path

from pydantic import SecretStr

from assistant.config.web_settings import EXAMPLE_TOKEN_SECRETS
from assistant.domain import ShopperIdentity
from assistant.errors import AuthError, ConfigError

__all__ = ["AuthError", "issue_token", "prepare_token_secret", "refuse_open_demo", "verify_token"]

log = logging.getLogger(__name__)
SECRET_FILE = "token_secret"
SECRET_SETTING = "security.token_secret (CONCIERGE_TOKEN_SECRET)"


def usable_secret(secret: str) -> bool:
    """A secret that may sign tokens: not empty, not one shown as an example anywhere."""
    return bool(secret.strip()) and secret.strip() not in EXAMPLE_TOKEN_SECRETS


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(customer_id: str, secret: str, ttl_s: int = 3600, now: Callable[[], float] = time.time) -> str:
    if not usable_secret(secret):
        raise AuthError("refusing to sign with an empty or example token secret",
                        user_message=f"Shopper tokens cannot be issued: set {SECRET_SETTING} to a random value.")
    payload = _b64(json.dumps({"sub": customer_id, "exp": int(now()) + ttl_s}, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"v1.{payload}".encode(), hashlib.sha256).digest()
    return f"v1.{payload}.{_b64(signature)}"


def verify_token(token: str, secret: str, now: Callable[[], float] = time.time,
                 max_lifetime_s: float | None = None) -> ShopperIdentity:
    """The verified shopper, or AuthError (malformed, forged, expired, or valid for longer than ``max_lifetime_s``
    from now). An empty or example ``secret`` verifies nothing."""
    if not usable_secret(secret):
        raise AuthError("no usable token secret: every token is refused")
    parts = (token or "").strip().split(".")
    if len(parts) != 3 or parts[0] != "v1":
        raise AuthError("malformed shopper token")
    expected = hmac.new(secret.encode(), f"v1.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        signature = _unb64(parts[2])
        payload = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeDecodeError) as e:
        raise AuthError("malformed shopper token") from e
    if not hmac.compare_digest(signature, expected):
        raise AuthError("shopper token signature does not match")
    if not isinstance(payload, dict) or not isinstance(payload.get("sub"), str) or not payload["sub"]:
        raise AuthError("shopper token has no subject")
    expires = payload.get("exp")
    if not isinstance(expires, int | float) or isinstance(expires, bool) or expires < now():
        raise AuthError("shopper token has expired")
    if max_lifetime_s is not None and expires - now() > max_lifetime_s:
        raise AuthError(f"shopper token is valid for longer than the {max_lifetime_s:g} s allowed "
                        "(security.max_token_lifetime_s)")
    return ShopperIdentity(customer_id=payload["sub"], expires_at=float(expires))


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
    log.warning("shopper token secret: none configured, made a random one in %s (mode 0600); later starts reuse it. "
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
