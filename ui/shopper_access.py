"""The shopper-facing checks of the REST API and the Gradio chat alike: the shopper token, the chat rate limits
and the demo sign-in (its list of customers and the tokens it issues).

Tokens are ``Authorization: Bearer <shopper token>`` on the API and a token in the chat's state (or ``?token=``)
on the Gradio page; both are verified here (``assistant.identity``). Chat turns are counted per shopper and per
address (``security.chat_rate_*``) in one ``RateLimiter`` shared by both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Header

from assistant.domain import ShopperIdentity
from assistant.errors import AuthError, NotFoundError
from assistant.identity import issue_token, verify_token
from assistant.privacy.shopper_data import ShopperData
from assistant.records import CustomerProfile
from assistant.settings import SecuritySettings
from ui.rate_limits import RateLimiter, client_ip

MISSING = "missing shopper token: send 'Authorization: Bearer <token>'"
DEMO_OFF = "demo sign-in is off"


class ShopperAccess:
    """``limiter``: chat turns per shopper and per address (default: one from the ``security.*`` settings)."""

    def __init__(self, security: SecuritySettings, shoppers: ShopperData, limiter: RateLimiter | None = None) -> None:
        self.security = security
        self.shoppers = shoppers
        self.limiter = limiter or RateLimiter.from_settings(security)

    @property
    def _secret(self) -> str:
        return self.security.token_secret.get_secret_value()

    # the token ------------------------------------------------------------------------------------------
    def verify(self, token: str) -> ShopperIdentity:
        """The shopper a token names; ``AuthError`` (401) if it is malformed, forged or expired."""
        try:
            return verify_token(token, self._secret)
        except AuthError as e:
            raise AuthError(e.message, user_message=f"{e}: sign in again to get a new token") from e

    def identity_of(self, token: str | None) -> ShopperIdentity | None:
        """The shopper of a token, or ``None`` for no token or a bad one (the Gradio chat: "sign in first")."""
        if not token:
            return None
        try:
            return self.verify(token)
        except AuthError:
            return None

    def from_header(self, authorization: str | None) -> ShopperIdentity:
        """The shopper of an ``Authorization: Bearer`` header; ``AuthError`` (401) without one or for a bad token."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise AuthError("no shopper token", user_message=MISSING)
        return self.verify(authorization[7:])

    def dependency(self) -> Callable[..., ShopperIdentity]:
        """The FastAPI dependency of the shopper routes."""

        def shopper(authorization: Annotated[str | None, Header()] = None) -> ShopperIdentity:
            return self.from_header(authorization)

        return shopper

    def issue(self, customer_id: str) -> str:
        return issue_token(customer_id, self._secret, self.security.token_ttl_s)

    # rate limits ----------------------------------------------------------------------------------------
    def chat_wait(self, customer_id: str, request: object) -> int | None:
        """Count one chat turn; the seconds to wait when this shopper or this address sent too many, else ``None``."""
        for scope, key in (("chat_shopper", customer_id), ("chat_ip", client_ip(request))):
            wait = self.limiter.hit(scope, key)
            if wait is not None:
                return wait
        return None

    # the demo sign-in -----------------------------------------------------------------------------------
    @property
    def demo_on(self) -> bool:
        return self.security.demo_sign_in

    def demo_customers(self, limit: int) -> list[CustomerProfile]:
        """The customers the demo sign-in can act as; ``NotFoundError`` (404) while it is off."""
        if not self.demo_on:
            raise NotFoundError(DEMO_OFF, user_message=DEMO_OFF)
        return self.shoppers.profiles(limit)

    def demo_token(self, customer_id: str) -> str:
        """A token for a demo customer; ``NotFoundError`` (404) while the demo sign-in is off or for no such one."""
        if not self.demo_on:
            raise NotFoundError(DEMO_OFF, user_message=DEMO_OFF)
        if not self.shoppers.exists(customer_id):
            raise NotFoundError(f"no customer {customer_id!r}", user_message=f"no customer {customer_id!r}")
        return self.issue(customer_id)
