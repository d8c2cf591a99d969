"""A small typed Python client of Concierge's REST API, for shop backends and scripts.

Written against the OpenAPI document (``/api/openapi.json``; tests/unit/test_rest_client.py checks that its models
match it): pydantic models for what it sends and gets, ``httpx`` for the calls, nothing of the server's model or
database code, so it imports on its own (``httpx`` and ``pydantic`` are all it needs)::

    from ui.rest_client import GuestClient, ShopperClient, StaffClient, sign_shopper_token

    token = sign_shopper_token("C001", secret=SHOP_TOKEN_SECRET)  # what the shop's backend does per shopper
    shopper = ShopperClient("https://concierge.example.com", token)
    reply = shopper.chat("Do you ship to Canada?")
    for event in shopper.chat_stream("Any rain jackets?", session_id=reply.session_id):
        print(event.event, event.data)
    visitor = GuestClient("https://concierge.example.com")  # no token: keeps the guest token each reply renews

    staff = StaffClient("https://concierge.example.com", api_key=STAFF_KEY)
    for handover in staff.handovers():
        staff.claim(handover.id)

Every error answer is the API's one error body ``{"detail", "error"}``: it is raised as :class:`ApiProblem` with the
status, so ``except ApiProblem as e: if e.status == 404: ...``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter

Model = TypeVar("Model", bound=BaseModel)


def sign_shopper_token(customer_id: str, secret: str, ttl_s: int = 3600, now: float | None = None) -> str:
    """A shopper token as ``security.token_secret`` signs it (format ``v1``: HMAC-SHA256 over the payload); keep the
    lifetime within ``security.max_token_lifetime_s`` (default one day) or it is refused."""
    if not secret:
        raise ValueError("a token secret is needed (security.token_secret)")

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    expires = int(time.time() if now is None else now) + ttl_s
    payload = b64(json.dumps({"sub": customer_id, "exp": expires}, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"v1.{payload}".encode(), hashlib.sha256).digest()
    return f"v1.{payload}.{b64(signature)}"


class ApiProblem(Exception):
    """An error answer of the API: ``status``, and the body's ``detail`` (what to do) and ``error`` (its kind)."""

    def __init__(self, status: int, detail: str, error: str, body: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.detail = detail
        self.error = error
        self.body = dict(body or {})


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")  # newer servers may add fields


# the shopper's side -------------------------------------------------------------------------------------------
class ReplyCitation(_Answer):
    kind: str
    id: str
    title: str
    source: str | None = None


class ReplyProduct(_Answer):
    id: str
    name: str
    price: float
    currency: str
    reason: str | None = None


class ReplyOffer(_Answer):
    id: str
    code: str
    title: str
    description: str


class ReplyHandover(_Answer):
    reason: str
    summary: str


class GuestTaste(_Answer):  # what a guest said about their tastes (``LearnedPreference`` in the document)
    kind: str
    value: str


class AssistantReply(_Answer):
    """``POST /api/v1/chat``: the turn's answer (``ChatReply`` in the document)."""

    reply: str
    sources: list[ReplyCitation] = []
    products: list[ReplyProduct] = []
    offers: list[ReplyOffer] = []
    handover: ReplyHandover | None = None
    turn_id: str | None = None
    session_id: str | None = None
    intent: str | None = None
    verdict: str | None = None
    guest_token: str | None = None  # a guest's turn: this conversation's token, renewed with every reply
    guest_expires_in: int | None = None  # seconds the guest token is valid
    guest_preferences: list[GuestTaste] | None = None  # a guest conversation just joined: offered, not saved


class GuestConversation(_Answer):
    """``POST /api/v1/guest``: a guest conversation opened without a message (``GuestSession`` in the document)."""

    guest_token: str
    session_id: str
    expires_in: int


class StreamEvent(BaseModel):
    """One server-sent event of a streamed turn: ``event`` (text, replace, sources, products, offers, handover,
    done, error) and its ``data`` as JSON."""

    event: str
    data: dict[str, Any]


class ConversationTurn(_Answer):
    id: str | None
    created_at: str | None
    author: str
    message: str
    reply: str


class ShopperConversation(_Answer):
    """``GET /api/v1/sessions/{id}`` and ``.../updates`` (``Conversation`` in the document)."""

    session_id: str
    turns: list[ConversationTurn]
    last_turn_id: str | None = None


class OfferFeedbackResult(_Answer):
    offer_id: str
    kind: str
    recorded: bool
    status: str


class ConsentChoice(_Answer):
    personalization: bool
    marketing: bool


class TastePreference(_Answer):
    """One entry of "what we think you like": stated or inferred, its confidence now, whether it is used."""

    id: int
    kind: str
    value: str
    origin: str
    confidence: float
    in_use: bool
    note: str


class _Client:
    def __init__(self, base_url: str, headers: Mapping[str, str], http: httpx.Client | None, timeout: float) -> None:
        self._http = http if http is not None else httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self._headers = dict(headers)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, *, json_body: Any = None, params: Mapping[str, Any] | None = None
              ) -> Any:
        response = self._http.request(method, path, json=json_body, params=params, headers=self._headers)
        return _answer(response)

    def _as(self, model: type[Model], value: Any) -> Model:
        return model.model_validate(value)


def _answer(response: httpx.Response) -> Any:
    """The JSON body of a 2xx, else :class:`ApiProblem` from the error body."""
    if response.is_success:
        return response.json()
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    raise ApiProblem(response.status_code, str(body.get("detail") or response.reason_phrase),
                     str(body.get("error") or "HTTPError"), body)


class ShopperClient(_Client):
    """The shopper routes, as the shopper of ``token`` (``ShopperToken``: ``Authorization: Bearer``)."""

    def __init__(self, base_url: str, token: str, *, http: httpx.Client | None = None, timeout: float = 60.0) -> None:
        super().__init__(base_url, {"Authorization": f"Bearer {token}"}, http, timeout)

    def chat(self, message: str, session_id: str | None = None, guest_token: str | None = None) -> AssistantReply:
        """One turn, answered as one JSON object. ``guest_token``: the conversation the shopper had as a guest before
        signing in joins them and this turn continues it (``guest_preferences`` of the reply: offered, not saved)."""
        return self._as(AssistantReply, self._call("POST", "/api/v1/chat", json_body={
            "message": message, "session_id": session_id, "stream": False, "guest_token": guest_token}))

    def chat_stream(self, message: str, session_id: str | None = None, guest_token: str | None = None
                    ) -> Iterator[StreamEvent]:
        """One turn as server-sent events, each as it comes (the last is ``done``, or ``error``)."""
        body = {"message": message, "session_id": session_id, "stream": True, "guest_token": guest_token}
        with self._http.stream("POST", "/api/v1/chat", json=body,
                               headers={**self._headers, "Accept": "text/event-stream"}) as response:
            if not response.is_success:
                response.read()
                _answer(response)
            event, data = "message", []
            for line in response.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    yield StreamEvent(event=event, data=json.loads("\n".join(data)))
                    event, data = "message", []
            if data:
                yield StreamEvent(event=event, data=json.loads("\n".join(data)))

    def session(self, session_id: str) -> ShopperConversation:
        return self._as(ShopperConversation, self._call("GET", f"/api/v1/sessions/{_id(session_id)}"))

    def updates(self, session_id: str, after: str | None = None) -> ShopperConversation:
        """Turns after ``after`` (a turn id of this conversation, or an ISO time): a support agent's replies."""
        params = {"after": after} if after else None
        return self._as(ShopperConversation,
                        self._call("GET", f"/api/v1/sessions/{_id(session_id)}/updates", params=params))

    def feedback(self, turn_id: str, rating: Literal["up", "down"], note: str = "") -> str:
        return str(self._call("POST", "/api/v1/feedback",
                              json_body={"turn_id": turn_id, "rating": rating, "note": note})["status"])

    def offer_feedback(self, offer_id: str, kind: Literal["clicked", "accepted", "redeemed"],
                       order_id: str | None = None) -> OfferFeedbackResult:
        """``redeemed`` needs the ``order_id`` it was used in (and only it takes one)."""
        return self._as(OfferFeedbackResult, self._call("POST", f"/api/v1/offers/{_id(offer_id)}/feedback",
                                                        json_body={"kind": kind, "order_id": order_id}))

    def consent(self, personalization: bool | None = None, marketing: bool | None = None) -> ConsentChoice:
        return self._as(ConsentChoice, self._call("POST", "/api/v1/me/consent", json_body={
            "personalization": personalization, "marketing": marketing}))

    def preferences(self) -> list[TastePreference]:
        found = self._call("GET", "/api/v1/me/preferences")["preferences"]
        return TypeAdapter(list[TastePreference]).validate_python(found)


class GuestClient(ShopperClient):
    """A visitor without a shopper token (``security.guest_sessions``): the first :meth:`chat` (or
    :meth:`open_guest`) opens a guest conversation, and the client sends the guest token every reply renews as the
    bearer token, so the conversation goes on; ``guest_token`` and ``session_id`` name it (hand ``guest_token`` to
    ``ShopperClient.chat(..., guest_token=...)`` when the visitor signs in: it joins them). Routes that need a
    customer answer 401; ``open_guest()`` again (or a new client) starts a new conversation."""

    def __init__(self, base_url: str, guest_token: str | None = None, *, http: httpx.Client | None = None,
                 timeout: float = 60.0) -> None:
        _Client.__init__(self, base_url, {}, http, timeout)
        self.guest_token: str | None = None
        self.session_id: str | None = None
        self._keep(guest_token, None)

    def _keep(self, guest_token: str | None, session_id: str | None) -> None:
        self.guest_token, self.session_id = guest_token, session_id if guest_token else None
        self._headers.pop("Authorization", None)
        if guest_token:
            self._headers["Authorization"] = f"Bearer {guest_token}"

    def open_guest(self) -> GuestConversation:
        """``POST /api/v1/guest``: a new guest conversation before any message (the old one is left)."""
        self._keep(None, None)
        opened = self._as(GuestConversation, self._call("POST", "/api/v1/guest"))
        self._keep(opened.guest_token, opened.session_id)
        return opened

    def chat(self, message: str, session_id: str | None = None, guest_token: str | None = None) -> AssistantReply:
        reply = super().chat(message, session_id, guest_token)
        if reply.guest_token:
            self._keep(reply.guest_token, reply.session_id)
        return reply

    def chat_stream(self, message: str, session_id: str | None = None, guest_token: str | None = None
                    ) -> Iterator[StreamEvent]:
        for event in super().chat_stream(message, session_id, guest_token):
            if event.event == "done" and event.data.get("guest_token"):
                self._keep(str(event.data["guest_token"]), event.data.get("session_id"))
            yield event


# the staff's side ---------------------------------------------------------------------------------------------
class QueuedHandover(_Answer):
    """A hand-over of ``GET /api/v1/handovers`` and of claiming or resolving one."""

    id: str
    session_id: str
    customer_id: str | None = None
    reason: str
    summary: str
    status: str
    agent: str | None = None
    note: str | None = None


class ManagedOffer(_Answer):
    """An offer as the admin API shows it: the offer (``offer.schema.json``), whether its file still lists it,
    and its status now (live, scheduled, expired, retired)."""

    offer: dict[str, Any]
    active: bool
    status: str


class StaffClient(_Client):
    """The staff routes with the service key (``StaffKey``: ``X-API-Key``) or a staff session token
    (``StaffSession``: ``Authorization: Bearer``, see :meth:`login`)."""

    def __init__(self, base_url: str, *, api_key: str | None = None, session_token: str | None = None,
                 http: httpx.Client | None = None, timeout: float = 60.0) -> None:
        headers = {"X-API-Key": api_key} if api_key else {}
        if session_token:
            headers["Authorization"] = f"Bearer {session_token}"
        super().__init__(base_url, headers, http, timeout)

    def login(self, username: str, password: str) -> dict[str, Any]:
        """Sign in: later calls carry the session (its token is the ``concierge_staff`` cookie's value)."""
        response = self._http.post("/api/v1/staff/login", json={"username": username, "password": password})
        who = _answer(response)
        token = response.cookies.get("concierge_staff")
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        return dict(who)

    def me(self) -> dict[str, Any]:
        return dict(self._call("GET", "/api/v1/staff/me"))

    def handovers(self, status: Literal["open", "claimed", "resolved", "unresolved"] = "unresolved",
                  limit: int = 100) -> list[QueuedHandover]:
        found = self._call("GET", "/api/v1/handovers", params={"status": status, "limit": limit})
        return TypeAdapter(list[QueuedHandover]).validate_python(found)

    def claim(self, handover_id: str) -> QueuedHandover:
        """Take the hand-over (``ApiProblem`` 409 when another agent has it)."""
        return self._as(QueuedHandover, self._call("POST", f"/api/v1/handovers/{_id(handover_id)}/claim"))

    def resolve(self, handover_id: str, note: str | None = None) -> QueuedHandover:
        return self._as(QueuedHandover, self._call("POST", f"/api/v1/handovers/{_id(handover_id)}/resolve",
                                                   json_body={"note": note}))

    def offers(self) -> list[ManagedOffer]:
        return TypeAdapter(list[ManagedOffer]).validate_python(self._call("GET", "/api/v1/admin/offers"))

    def offer(self, offer_id: str) -> ManagedOffer:
        return self._as(ManagedOffer, self._call("GET", f"/api/v1/admin/offers/{_id(offer_id)}"))

    def create_offer(self, offer: Mapping[str, Any]) -> ManagedOffer:
        """A new offer (``offer.schema.json``); 409 for an id that exists, 422 naming what breaks a rule."""
        return self._as(ManagedOffer, self._call("POST", "/api/v1/admin/offers", json_body=dict(offer)))

    def update_offer(self, offer_id: str, changes: Mapping[str, Any]) -> ManagedOffer:
        """Change some fields (``eligibility`` merged field by field; ``None`` removes an optional one)."""
        return self._as(ManagedOffer, self._call("PUT", f"/api/v1/admin/offers/{_id(offer_id)}",
                                                 json_body=dict(changes)))

    def disable_offer(self, offer_id: str) -> ManagedOffer:
        return self._as(ManagedOffer, self._call("POST", f"/api/v1/admin/offers/{_id(offer_id)}/disable"))


def demo_token(base_url: str, customer_id: str, *, http: httpx.Client | None = None) -> str:
    """A token from the demo sign-in (only while ``security.demo_sign_in`` is on; 404 otherwise)."""
    client = http if http is not None else httpx.Client(base_url=base_url.rstrip("/"))
    return str(_answer(client.post("/api/v1/demo/token", json={"customer_id": customer_id}))["token"])


def _id(value: str) -> str:
    """A path segment, percent-encoded (an id may hold any character)."""
    from urllib.parse import quote

    return quote(value, safe="")
