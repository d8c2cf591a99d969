"""The REST API (``/api/v1``): a thin layer over the assistant service.

Shoppers are identified by ``Authorization: Bearer <shopper token>`` (HMAC-signed by the shop's
backend; the demo issues them for demo customers; ``ui.shopper_access`` checks them). Without one, the chat answers
as a guest (``security.guest_sessions``): the reply carries a ``guest_token`` that the client sends back as
``Authorization: Bearer <guest token>`` for the rest of that conversation (``ui.guest_api`` for joining it to the
customer who signs in). Errors are the app's
error table (``ui.error_table``): input errors are 4xx with a message, a failing dependency is a 503.
"""


import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from assistant.components import Components
from assistant.domain import Citation, Event, OfferView, ProductCard, ReplyFold, ShopperIdentity, fold
from assistant.errors import AuthError, NotFoundError
from assistant.identity import GuestPass
from assistant.records import TurnRecord
from assistant.staff.roles import RoleDependency
from ui.error_table import responses
from ui.guest_api import LearnedPreference, build_guest_api
from ui.marketing_api import build_marketing_api
from ui.openapi_contract import RequestBody
from ui.preferences_api import build_preferences_api
from ui.privacy_api import build_privacy_api
from ui.rate_limits import RateLimiter, too_many
from ui.rating_api import build_rating_api
from ui.shopper_access import MISSING, ShopperAccess
from ui.staff_access import role_check


class ChatRequest(RequestBody):
    message: str = Field(..., max_length=5000, description=(
        "What the shopper wrote; one longer than security.max_message_chars (default 4000) is answered with a "
        "request to shorten it."))
    session_id: str | None = Field(None, max_length=64, description="Continue this conversation; empty: new.")
    stream: bool = Field(False, description="Answer as server-sent events instead of one JSON object.")
    guest_token: str | None = Field(None, max_length=2048, description=(
        "With a customer's token: the guest token of the conversation they had before signing in; that conversation "
        "(session_id, or the one the guest token names) joins the customer and this turn continues it. What the "
        "guest said about their tastes comes back in guest_preferences, saved only with POST "
        "/api/v1/guest/preferences. Without any token: the same as sending it as the bearer token."))


class FeedbackRequest(RequestBody):
    turn_id: str = Field(..., max_length=64)
    rating: str = Field(..., pattern="^(up|down)$")
    note: str = Field("", max_length=2000)


class TokenRequest(RequestBody):
    customer_id: str = Field(..., max_length=128)


class HandoverNote(BaseModel):
    reason: str
    summary: str


class ChatReply(BaseModel):
    """One turn's answer; a turn that was stored has its ``turn_id`` and ``session_id``."""

    reply: str
    sources: list[Citation]
    products: list[ProductCard]
    offers: list[OfferView]
    handover: HandoverNote | None = Field(None, description="Set when the conversation was handed to a person.")
    turn_id: str | None = None
    session_id: str | None = None
    intent: str | None = None
    verdict: str | None = None
    guest_token: str | None = Field(None, description=(
        "A guest's turn (no customer token): the guest token of this conversation, renewed with every reply. Send it "
        "back as 'Authorization: Bearer <guest token>' with the next message (and for GET /sessions/{id})."))
    guest_expires_in: int | None = Field(None, description="Seconds the guest token is valid.")
    guest_preferences: list[LearnedPreference] | None = Field(None, description=(
        "A guest conversation just joined the signed-in customer: what the guest said about their tastes, offered to "
        "their profile; nothing is saved without POST /api/v1/guest/preferences {session_id, save: true}."))


class ShopperTurn(BaseModel):
    id: str | None
    created_at: str | None
    author: str = Field(..., description='"assistant", or "agent:<display name>" for a person of the shop\'s team '
                                         '("agent:" when they have none).')
    message: str
    reply: str
    intent: str | None = None
    verdict: str | None = None
    handover: bool | None = None
    sources: list[Citation] = Field(default_factory=list, description=(
        "What the assistant's reply was shown with (its 'sources' event); empty for a reply a person wrote and for "
        "turns stored before sources were kept."))
    products: list[ProductCard] = Field(default_factory=list, description=(
        "The product cards the reply was shown with, as they were then (its 'products' event)."))
    offers: list[OfferView] = Field(default_factory=list, description=(
        "The offers the reply was shown with (its 'offers' event)."))


class Conversation(BaseModel):
    session_id: str
    turns: list[ShopperTurn]
    last_turn_id: str | None = Field(None, description="(updates) The id to poll with next.")


class Recorded(BaseModel):
    status: str


class DemoCustomer(BaseModel):
    id: str
    name: str
    tier: str


class DemoToken(BaseModel):
    token: str
    expires_in: int = Field(..., description="Seconds the token is valid.")


#: one server-sent event of ``POST /chat`` with ``stream: true``: ``data`` is the event as JSON
CHAT_EVENT = {"type": "object", "required": ["event", "data"], "properties": {
    "event": {"type": "string", "enum": ["text", "replace", "sources", "products", "offers", "handover", "done",
                                         "error"]},
    "data": {"type": "string", "contentMediaType": "application/json"}}}
CHAT_RESPONSES = {200: {"description": "The answer as one JSON object, or (``stream: true`` or ``Accept: "
                                       "text/event-stream``) as server-sent events.",
                        "content": {"text/event-stream": {"schema": CHAT_EVENT}}},
                  **responses(401, 404, 422, 429, 503, s404="The token names no customer of this shop, or the "
                              "conversation is not the caller's (a guest token opens its own conversation only).",
                              s503="The turn could not be stored (error TurnNotStored), or a dependency is down.")}


def reply_json(folded: ReplyFold) -> dict[str, Any]:
    """A folded event stream as one JSON answer."""
    out: dict[str, Any] = {
        "reply": folded.reply, "sources": [asdict(c) for c in folded.sources],
        "products": [asdict(p) for p in folded.products], "offers": [asdict(o) for o in folded.offers],
        "handover": {"reason": folded.handover.reason, "summary": folded.handover.summary} if folded.handover
        else None}
    if folded.done is not None:
        done = folded.done
        out.update(turn_id=done.turn_id, session_id=done.session_id, intent=done.intent, verdict=done.verdict)
    return out


#: a turn that could not be stored gets no ``done`` event (no turn id): it was not acknowledged
NOT_STORED = ("Your message could not be saved, so it was not answered: the conversation store is unavailable or "
              "full. Please try again in a moment.")


def shopper_turn(t: TurnRecord) -> dict[str, Any]:
    """A turn as the shopper's conversation shows it; ``author`` is "assistant" or "agent:<display name>" (the
    agent's username is not shown to shoppers)."""
    return {"id": t.id, "created_at": t.created_at.isoformat() if t.created_at else None,
            "author": t.shopper_author,
            "message": t.message, "reply": t.reply, "intent": t.intent, "verdict": t.verdict, "handover": t.handover,
            **{key: list((t.trace or {}).get(stored) or []) if t.author == "assistant" else []
               for key, stored in (("sources", "sources"), ("products", "product_cards"), ("offers", "offer_views"))}}


def sse(events: Iterator[Event], extra: dict[str, Any] | None = None) -> Iterator[str]:
    """``extra`` (a guest's token, a joined conversation's preferences) goes into the ``done`` event's data."""
    done = False
    for event in events:
        done = done or event.type == "done"
        data = {**event.to_dict(), **(extra or {})} if event.type == "done" else event.to_dict()
        yield f"event: {event.type}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
    if not done:  # the stream has begun (200): the failure is its last event
        yield f"event: error\ndata: {json.dumps({'detail': NOT_STORED, 'error': 'TurnNotStored'})}\n\n"


def build_api(components: Components, require: RoleDependency | None = None,
              limiter: RateLimiter | None = None) -> APIRouter:
    """``require``: the staff role check (default: ``ui.staff_auth`` on the staff accounts); ``limiter``: the rate
    limiter (default: one from ``security.*`` settings)."""
    router = APIRouter(prefix="/api/v1")
    security = components.settings.security
    access = ShopperAccess(security, components.privacy, limiter, customer=components.stores.customers.get)
    require = role_check(security, components.staff_accounts, require)
    shopper = access.dependency()
    Caller = Annotated[ShopperIdentity | GuestPass | None, Depends(access.caller_dependency())]
    guests = components.assistant.guests

    def refuse_if_waiting(wait: int | None) -> None:
        if wait is not None:
            detail, headers = too_many(wait, "messages")
            raise HTTPException(429, detail, headers=headers)

    def guest_turn(who: GuestPass | None, body: ChatRequest, request: Request) -> tuple[str, dict[str, Any]]:
        """The conversation a guest's message goes to (a new one without a guest token) and the renewed token."""
        if who is None and body.guest_token:
            who = access.guest_pass(body.guest_token)
        if who is None:
            if not access.guests_on:
                raise AuthError("no shopper token", user_message=MISSING)
            if body.session_id:
                raise AuthError("a guest conversation without its guest token", user_message=(
                    "Send this conversation's guest token as 'Authorization: Bearer <guest token>', or leave "
                    "session_id out to start a new conversation."))
            refuse_if_waiting(access.new_guest_wait(request))
            token, who = access.issue_guest(guests.open("api"))
        else:
            if (body.session_id and body.session_id != who.session_id) or not guests.is_open(who.session_id):
                raise NotFoundError(f"guest {who.guest_id} asked for session {body.session_id or who.session_id}",
                                    user_message="That conversation does not exist or is not yours (a guest "
                                                 "conversation ends when it joins a signed-in shopper).")
            refuse_if_waiting(access.chat_wait(who.guest_id, request))
            token, who = access.issue_guest(who.session_id, who.guest_id)
        return who.session_id, {"guest_token": token, "guest_expires_in": access.guest_ttl_s}

    def customer_turn(identity: ShopperIdentity, body: ChatRequest, request: Request
                      ) -> tuple[str | None, dict[str, Any]]:
        """The conversation a customer's message goes to: a guest conversation they bring joins them first."""
        refuse_if_waiting(access.chat_wait(identity.customer_id, request))
        if not body.guest_token:
            return body.session_id, {}
        joining = access.guest_pass(body.guest_token)
        if body.session_id and body.session_id != joining.session_id:
            raise NotFoundError("the guest token names another conversation", user_message=(
                "That conversation does not exist or is not yours."))
        offered = guests.join(identity.customer_id, joining.session_id)
        return joining.session_id, {"guest_preferences": offered}

    @router.post("/chat", tags=["chat"], response_model=ChatReply, responses=CHAT_RESPONSES,
                 openapi_extra={"security": [{}]})  # merged with ShopperToken: the token is optional
    def chat(body: ChatRequest, who: Caller, request: Request) -> Any:
        """One turn. JSON by default; server-sent events with ``stream: true`` or ``Accept: text/event-stream``
        (events: text, replace, sources, products, offers, handover, done). Rate limited per shopper and per
        address (``security.chat_rate_*``): 429 with Retry-After. Without a token (``security.guest_sessions``) the
        turn is a guest's: a new guest conversation, whose ``guest_token`` is in the reply (the ``done`` event's
        data when streamed); send it back as the bearer token to continue. A bad or expired token is a 401."""
        identity = who if isinstance(who, ShopperIdentity) else None
        session_id: str | None
        if identity is None:
            session_id, extra = guest_turn(who if isinstance(who, GuestPass) else None, body, request)
        else:
            session_id, extra = customer_turn(identity, body, request)
        events = components.assistant.respond(identity, session_id, body.message, channel="api")
        if body.stream or "text/event-stream" in request.headers.get("accept", ""):
            return StreamingResponse(sse(events, extra), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        out = reply_json(fold(events))
        if not out.get("turn_id"):  # the turn was not stored (the store failed): not acknowledged, a clear 503
            return JSONResponse({"detail": NOT_STORED, "error": "TurnNotStored"}, status_code=503,
                                headers={"Retry-After": "5"})
        return {**out, **extra}

    def owner(who: ShopperIdentity | GuestPass | None, session_id: str) -> ShopperIdentity | None:
        """The customer a conversation is read for, or ``None`` for a guest reading their own (404 otherwise)."""
        if who is None:
            raise AuthError("no shopper token", user_message=MISSING)
        if isinstance(who, GuestPass):
            if session_id != who.session_id:
                raise NotFoundError(f"guest {who.guest_id} asked for session {session_id}",
                                    user_message="That conversation does not exist or is not yours.")
            return None
        return who

    @router.get("/sessions/{session_id}", tags=["chat"], response_model=Conversation)
    def session(session_id: str, who: Caller) -> dict[str, Any]:
        """A conversation of the signed-in shopper (or, with a guest token, the guest's own), turn by turn."""
        turns = components.assistant.history(owner(who, session_id), session_id)
        return {"session_id": session_id, "turns": [shopper_turn(t) for t in turns]}

    @router.get("/sessions/{session_id}/updates", tags=["chat"], response_model=Conversation)
    def session_updates(session_id: str, who: Caller,
                        after: Annotated[str | None, Query(max_length=64, description=(
                            "A turn id of this conversation, or an ISO 8601 time: only later turns."))] = None,
                        ) -> dict[str, Any]:
        """New turns of a conversation of the signed-in shopper (or a guest's own), for polling chat widgets: a
        support agent's reply is a turn with ``author: "agent:<name>"`` and an empty ``message``. Poll with the
        last turn's id."""
        turns = components.assistant.updates(owner(who, session_id), session_id, after)
        return {"session_id": session_id, "turns": [shopper_turn(t) for t in turns],
                "last_turn_id": turns[-1].id if turns else after}

    @router.post("/feedback", tags=["chat"], response_model=Recorded,
                 responses=responses(404, s404="No such turn of this shopper."))
    def feedback(body: FeedbackRequest, who: Caller) -> dict[str, str]:
        """Thumbs up or down for one answer (a guest: one of their conversation's)."""
        if isinstance(who, GuestPass):  # a turn of the guest's own conversation
            guests.check_turn(who.session_id, body.turn_id)
        identity = owner(who, "") if not isinstance(who, GuestPass) else None
        components.assistant.feedback(identity, body.turn_id, body.rating, body.note)
        return {"status": "recorded"}

    @router.get("/demo/customers", tags=["demo"], response_model=list[DemoCustomer],
                responses=responses(404, s404="The demo sign-in is off."))
    def demo_customers() -> list[dict[str, str]]:
        """The bundled demo shop's customers the demo sign-in can act as (only with security.demo_sign_in; 404
        otherwise). Imported customers are never listed."""
        return [{"id": p.id, "name": p.name, "tier": p.tier} for p in access.demo_customers(200)]

    @router.post("/demo/token", tags=["demo"], response_model=DemoToken,
                 responses=responses(404, s404="The demo sign-in is off, or no such demo customer."))
    def demo_token(body: TokenRequest) -> dict[str, Any]:
        """A shopper token for one of the bundled demo shop's customers (only with security.demo_sign_in; 404 for
        anyone else, imported customers included)."""
        token = access.demo_token(body.customer_id)
        return {"token": token, "expires_in": min(security.token_ttl_s, security.max_token_lifetime_s)}

    router.include_router(build_guest_api(components, access, shopper))
    router.include_router(build_marketing_api(components, shopper, require))
    router.include_router(build_preferences_api(components, shopper))
    router.include_router(build_rating_api(components, access.caller_dependency()))
    router.include_router(build_privacy_api(components, shopper, require))
    return router

