"""The REST API (``/api/v1``): a thin layer over the assistant service.

Shoppers are identified by ``Authorization: Bearer <shopper token>`` (HMAC-signed by the shop's
backend; the demo issues them for demo customers; ``ui.shopper_access`` checks them). Errors are the app's
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
from assistant.records import TurnRecord
from assistant.staff.roles import RoleDependency
from ui.error_table import responses
from ui.marketing_api import build_marketing_api
from ui.openapi_contract import RequestBody
from ui.preferences_api import build_preferences_api
from ui.privacy_api import build_privacy_api
from ui.rate_limits import RateLimiter, too_many
from ui.shopper_access import ShopperAccess
from ui.staff_access import role_check


class ChatRequest(RequestBody):
    message: str = Field(..., max_length=5000, description=(
        "What the shopper wrote; one longer than security.max_message_chars (default 4000) is answered with a "
        "request to shorten it."))
    session_id: str | None = Field(None, max_length=64, description="Continue this conversation; empty: new.")
    stream: bool = Field(False, description="Answer as server-sent events instead of one JSON object.")


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
                  **responses(401, 404, 422, 429, 503, s404="The token names no customer of this shop.",
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
            "message": t.message, "reply": t.reply, "intent": t.intent, "verdict": t.verdict, "handover": t.handover}


def sse(events: Iterator[Event]) -> Iterator[str]:
    done = False
    for event in events:
        done = done or event.type == "done"
        yield f"event: {event.type}\ndata: {json.dumps(event.to_dict(), ensure_ascii=False)}\n\n"
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
    Shopper = Annotated[ShopperIdentity, Depends(shopper)]

    @router.post("/chat", tags=["chat"], response_model=ChatReply, responses=CHAT_RESPONSES)
    def chat(body: ChatRequest, identity: Shopper, request: Request) -> Any:
        """One turn. JSON by default; server-sent events with ``stream: true`` or ``Accept: text/event-stream``
        (events: text, replace, sources, products, offers, handover, done). Rate limited per shopper and per
        address (``security.chat_rate_*``): 429 with Retry-After."""
        wait = access.chat_wait(identity.customer_id, request)
        if wait is not None:
            detail, headers = too_many(wait, "messages")
            raise HTTPException(429, detail, headers=headers)
        events = components.assistant.respond(identity, body.session_id, body.message, channel="api")
        if body.stream or "text/event-stream" in request.headers.get("accept", ""):
            return StreamingResponse(sse(events), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        out = reply_json(fold(events))
        if not out.get("turn_id"):  # the turn was not stored (the store failed): not acknowledged, a clear 503
            return JSONResponse({"detail": NOT_STORED, "error": "TurnNotStored"}, status_code=503,
                                headers={"Retry-After": "5"})
        return out

    @router.get("/sessions/{session_id}", tags=["chat"], response_model=Conversation)
    def session(session_id: str, identity: Shopper) -> dict[str, Any]:
        """A conversation of the signed-in shopper, turn by turn."""
        turns = components.assistant.history(identity, session_id)
        return {"session_id": session_id, "turns": [shopper_turn(t) for t in turns]}

    @router.get("/sessions/{session_id}/updates", tags=["chat"], response_model=Conversation)
    def session_updates(session_id: str, identity: Shopper,
                        after: Annotated[str | None, Query(max_length=64, description=(
                            "A turn id of this conversation, or an ISO 8601 time: only later turns."))] = None,
                        ) -> dict[str, Any]:
        """New turns of a conversation of the signed-in shopper, for polling chat widgets: a support agent's
        reply is a turn with ``author: "agent:<name>"`` and an empty ``message``. Poll with the last turn's id."""
        turns = components.assistant.updates(identity, session_id, after)
        return {"session_id": session_id, "turns": [shopper_turn(t) for t in turns],
                "last_turn_id": turns[-1].id if turns else after}

    @router.post("/feedback", tags=["chat"], response_model=Recorded,
                 responses=responses(404, s404="No such turn of this shopper."))
    def feedback(body: FeedbackRequest, identity: Shopper) -> dict[str, str]:
        """Thumbs up or down for one answer."""
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

    router.include_router(build_marketing_api(components, shopper, require))
    router.include_router(build_preferences_api(components, shopper))
    router.include_router(build_privacy_api(components, shopper, require))
    return router

