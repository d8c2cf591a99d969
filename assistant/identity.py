"""Shopper tokens: HMAC-SHA256 signed by the shop's backend with a shared secret.

Format: ``v1.<base64url(json payload)>.<base64url(signature)>`` with payload ``{"sub": customer id,
"exp": unix seconds}``. The shop's backend issues them for its logged-in shoppers; the demo sign-in
issues them for demo customers. The shopper id used everywhere comes from here, never from the model.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

from assistant.domain import ShopperIdentity
from assistant.errors import AuthError

__all__ = ["AuthError", "issue_token", "verify_token"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(customer_id: str, secret: str, ttl_s: int = 3600, now: Callable[[], float] = time.time) -> str:
    payload = _b64(json.dumps({"sub": customer_id, "exp": int(now()) + ttl_s}, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"v1.{payload}".encode(), hashlib.sha256).digest()
    return f"v1.{payload}.{_b64(signature)}"


def verify_token(token: str, secret: str, now: Callable[[], float] = time.time) -> ShopperIdentity:
    """The verified shopper, or AuthError (malformed, forged or expired)."""
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
    if not isinstance(expires, int | float) or expires < now():
        raise AuthError("shopper token has expired")
    return ShopperIdentity(customer_id=payload["sub"], expires_at=float(expires))
