"""The shopper-facing checks of the REST API and the Gradio chat alike: the shopper token, the chat rate limits
and the demo sign-in (its list of customers and the tokens it issues).

The demo sign-in is off unless ``security.demo_sign_in`` is set, and even then it only ever signs in the bundled
demo shops' customers: a stored customer imported with a bundled demo shop (origin ``demo/customers`` or
``demo_zh/customers``, whichever ``app.demo_shop`` loaded) whose id and e-mail are those of that shop's
``customers.jsonl``; imported customers never. Tokens valid for longer than
``security.max_token_lifetime_s`` are refused whatever signed them.

Tokens are ``Authorization: Bearer <shopper token>`` on the API and a token in the chat's state (or ``?token=``)
on the Gradio page; both are verified here (``assistant.identity``). Chat turns are counted per shopper and per
address (``security.chat_rate_*``) in one ``RateLimiter`` shared by both.

Guests (``security.guest_sessions``): a visitor without a token chats as a guest. The server opens a guest
conversation and signs a guest token for it (:meth:`ShopperAccess.issue_guest`), which the client sends back as
``Authorization: Bearer <guest token>``; it opens that one conversation and nothing else: every route that needs a
customer refuses it (401), as it refuses a forged or expired one. New guest conversations are counted per address
(``security.guest_rate_per_ip``), a guest's turns per guest and per address like a customer's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assistant.domain import ShopperIdentity
from assistant.errors import AuthError, NotFoundError
from assistant.identity import (
    GuestPass,
    is_guest_token,
    issue_guest_token,
    issue_token,
    verify_guest_token,
    verify_token,
)
from assistant.privacy.shopper_data import ShopperData
from assistant.records import ConsentState, CustomerProfile
from assistant.settings import SecuritySettings
from ui.rate_limits import RateLimiter, client_ip

MISSING = "missing shopper token: send 'Authorization: Bearer <token>'"
GUEST_EXPIRED = "start a new conversation: send the message without a token to chat as a guest again"
GUESTS_OFF = "guest chat is off: sign in first"
DEMO_OFF = "demo sign-in is off"
#: the shopper token as an OpenAPI security scheme; it only documents: ``from_header`` reads and checks the header
SHOPPER_TOKEN = HTTPBearer(auto_error=False, scheme_name="ShopperToken", description=(
    "A shopper token: signed by the shop's backend with security.token_secret (assistant.identity), or issued by "
    "the demo sign-in (POST /api/v1/demo/token)."))


@lru_cache(maxsize=1)
def bundled_demo_customers() -> dict[str, tuple[str, str]]:
    """Id -> (origin, e-mail) of every customer of the bundled demo shops (``knowledge/demo/customers.jsonl``,
    ``knowledge/demo_zh/customers.jsonl``: their ids differ). The origin is what ingest_shop names the shop's
    customer import (``demo/customers``)."""
    from assistant.shop.shop_import import DEMO_SHOPS, demo_shop_path

    found: dict[str, tuple[str, str]] = {}
    for shop in DEMO_SHOPS:
        folder = demo_shop_path(shop)
        for line in (folder / "customers.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                found[str(record["id"])] = (f"{folder.name}/customers", str(record.get("email") or ""))
    return found


def is_demo_customer(profile: CustomerProfile | None) -> bool:
    """A stored customer that came with a bundled demo shop (never an imported one)."""
    known = bundled_demo_customers().get(profile.id) if profile is not None else None
    return profile is not None and known == (profile.origin, profile.email or "")


class ShopperAccess:
    """``limiter``: chat turns per shopper and per address (default: one from the ``security.*`` settings);
    ``customer``: a stored customer's profile by id, for the demo sign-in (default: read from ``shoppers``' export)."""

    def __init__(self, security: SecuritySettings, shoppers: ShopperData, limiter: RateLimiter | None = None,
                 customer: Callable[[str], CustomerProfile | None] | None = None) -> None:
        self.security = security
        self.shoppers = shoppers
        self.limiter = limiter or RateLimiter.from_settings(security)
        self._customer = customer or self._customer_from_export

    @property
    def _secret(self) -> str:
        return self.security.token_secret.get_secret_value()

    # the token ------------------------------------------------------------------------------------------
    def verify(self, token: str) -> ShopperIdentity:
        """The shopper a token names; ``AuthError`` (401) if it is malformed, forged or expired."""
        try:
            return verify_token(token, self._secret, max_lifetime_s=self.security.max_token_lifetime_s)
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
        """The FastAPI dependency of the shopper routes; it declares the ``ShopperToken`` security scheme, so the
        OpenAPI document says which routes need a shopper token."""

        def shopper(request: Request, _token: Annotated[HTTPAuthorizationCredentials | None,
                                                          Security(SHOPPER_TOKEN)] = None) -> ShopperIdentity:
            return self.from_header(request.headers.get("authorization"))

        return shopper

    # guests ---------------------------------------------------------------------------------------------
    @property
    def guests_on(self) -> bool:
        return self.security.guest_sessions

    @property
    def guest_ttl_s(self) -> int:
        return min(self.security.guest_token_ttl_s, self.security.max_token_lifetime_s)

    def guest_pass(self, token: str) -> GuestPass:
        """The guest and conversation a guest token names; ``AuthError`` (401) if it is malformed, forged, expired or
        not a guest token, or while guest chat is off."""
        if not self.guests_on:
            raise AuthError("guest chat is off", user_message=GUESTS_OFF)
        try:
            return verify_guest_token(token, self._secret, max_lifetime_s=self.security.max_token_lifetime_s)
        except AuthError as e:
            raise AuthError(e.message, user_message=f"{e}: {GUEST_EXPIRED}") from e

    def issue_guest(self, session_id: str, guest_id: str | None = None) -> tuple[str, GuestPass]:
        """A guest token for a guest conversation (renewed for ``guest_id`` when given)."""
        return issue_guest_token(session_id, self._secret, self.guest_ttl_s, guest_id)

    def guest_or_none(self, token: str | None) -> GuestPass | None:
        """The guest of a guest token, or ``None`` for none or a bad one (the Gradio chat: a new guest conversation)."""
        if not token or not self.guests_on:
            return None
        try:
            return self.guest_pass(token)
        except AuthError:
            return None

    def caller(self, authorization: str | None) -> ShopperIdentity | GuestPass | None:
        """Who sent a request: a customer (shopper token), a guest (guest token), or ``None`` without a token (a new
        guest, where guests are on); ``AuthError`` (401) for a bad token of either kind."""
        if not authorization:
            return None
        if not authorization.lower().startswith("bearer "):
            raise AuthError("no shopper token", user_message=MISSING)
        token = authorization[7:]
        return self.guest_pass(token) if is_guest_token(token) else self.verify(token)

    def caller_dependency(self) -> Callable[..., ShopperIdentity | GuestPass | None]:
        """The dependency of the routes a guest may use too (chat, the conversation, feedback); it declares the
        ``ShopperToken`` scheme (a shopper or a guest token)."""

        def caller(request: Request, _token: Annotated[HTTPAuthorizationCredentials | None,
                                                         Security(SHOPPER_TOKEN)] = None
                   ) -> ShopperIdentity | GuestPass | None:
            return self.caller(request.headers.get("authorization"))

        return caller

    def new_guest_wait(self, request: object) -> int | None:
        """Count one new guest conversation from this address (and one chat turn from it); seconds to wait when it
        opened too many, else ``None``."""
        address = client_ip(request)
        for scope in ("chat_ip", "guest_ip"):  # neither is counted when the other refuses
            wait = self.limiter.check(scope, address)
            if wait is not None:
                return wait
        for scope in ("chat_ip", "guest_ip"):
            wait = self.limiter.hit(scope, address)
            if wait is not None:
                return wait
        return None

    def issue(self, customer_id: str) -> str:
        """A token for a demo customer (the chat page's demo sign-in): ``NotFoundError`` (404) while the demo
        sign-in is off, and for anyone who is not one of the bundled demo shop's customers."""
        return self.demo_token(customer_id)

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
        """The bundled demo shop's customers the demo sign-in can act as; ``NotFoundError`` (404) while it is off."""
        if not self.demo_on:
            raise NotFoundError(DEMO_OFF, user_message=DEMO_OFF)
        found = []
        for customer_id in sorted(bundled_demo_customers()):
            profile = self._customer(customer_id)
            if is_demo_customer(profile):
                assert profile is not None
                found.append(profile)
                if len(found) >= limit:
                    break
        return found

    def demo_token(self, customer_id: str) -> str:
        """A token for a demo customer; ``NotFoundError`` (404) while the demo sign-in is off, for no such customer
        and for a customer who did not come with the bundled demo shop."""
        if not self.demo_on:
            raise NotFoundError(DEMO_OFF, user_message=DEMO_OFF)
        if customer_id not in bundled_demo_customers() or not is_demo_customer(self._customer(customer_id)):
            missing = f"no demo customer {customer_id!r}"
            raise NotFoundError(missing, user_message=missing)
        ttl = min(self.security.token_ttl_s, self.security.max_token_lifetime_s)
        return issue_token(customer_id, self._secret, ttl)

    def _customer_from_export(self, customer_id: str) -> CustomerProfile | None:
        """The few fields the demo check needs, from the shopper's export (when no cheaper lookup was given)."""
        try:
            rows = self.shoppers.export(customer_id)["tables"].get("customers") or []
        except NotFoundError:
            return None
        if not rows:
            return None
        row = rows[0]
        return CustomerProfile(id=customer_id, name=str(row.get("name") or ""), tier=str(row.get("tier") or ""),
                               points=int(row.get("points") or 0), consent=ConsentState(),
                               email=row.get("email"), origin=row.get("origin"))
