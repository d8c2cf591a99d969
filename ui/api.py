"""The REST API (``/api/v1``): a thin layer over the assistant service.

Shoppers are identified by ``Authorization: Bearer <shopper token>`` (HMAC-signed by the shop's
backend; the demo issues them for demo customers). Input errors are 4xx with a message; a failing
dependency is a 503; the server never answers 5xx for anything a client sends.
"""


import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from assistant.auth import AuthError, issue_token, verify_token
from assistant.components import Components
from assistant.domain import DoneEvent, Event, ShopperIdentity
from assistant.errors import ConciergeError, NotFoundError


class ChatRequest(BaseModel):
    message: str = Field(..., max_length=100_000, description="What the shopper wrote.")
    session_id: str | None = Field(None, max_length=64, description="Continue this conversation; empty: new.")
    stream: bool = Field(False, description="Answer as server-sent events instead of one JSON object.")


class FeedbackRequest(BaseModel):
    turn_id: str = Field(..., max_length=64)
    rating: str = Field(..., pattern="^(up|down)$")
    note: str = Field("", max_length=2000)


class TokenRequest(BaseModel):
    customer_id: str = Field(..., max_length=128)


def collect(events: Iterator[Event]) -> dict[str, Any]:
    """Fold an event stream into one JSON answer."""
    out: dict[str, Any] = {"reply": "", "sources": [], "products": [], "offers": [], "handover": None}
    for event in events:
        data = event.to_dict()
        if event.type == "text":
            out["reply"] += data["text"]
        elif event.type == "replace":
            out["reply"] = data["text"]
        elif event.type == "sources":
            out["sources"] = data["sources"]
        elif event.type == "products":
            out["products"] = data["products"]
        elif event.type == "offers":
            out["offers"] = data["offers"]
        elif event.type == "handover":
            out["handover"] = {"reason": data["reason"], "summary": data["summary"]}
        elif isinstance(event, DoneEvent):
            out.update(turn_id=event.turn_id, session_id=event.session_id, reply=event.reply,
                       intent=event.intent, verdict=event.verdict)
    return out


def sse(events: Iterator[Event]) -> Iterator[str]:
    for event in events:
        yield f"event: {event.type}\ndata: {json.dumps(event.to_dict(), ensure_ascii=False)}\n\n"


def build_api(components: Components) -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    security = components.settings.security

    def shopper(authorization: Annotated[str | None, Header()] = None) -> ShopperIdentity:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise HTTPException(401, "missing shopper token: send 'Authorization: Bearer <token>'")
        try:
            return verify_token(authorization[7:], security.token_secret.get_secret_value())
        except AuthError as e:
            raise HTTPException(401, f"{e}: sign in again to get a new token") from e

    Shopper = Annotated[ShopperIdentity, Depends(shopper)]

    @router.post("/chat", tags=["chat"])
    def chat(body: ChatRequest, identity: Shopper, request: Request) -> Any:
        """One turn. JSON by default; server-sent events with ``stream: true`` or ``Accept: text/event-stream``
        (events: text, replace, sources, products, offers, handover, done)."""
        try:
            events = components.assistant.respond(identity, body.session_id, body.message, channel="api")
        except NotFoundError as e:
            raise HTTPException(404, e.user_message) from e
        if body.stream or "text/event-stream" in request.headers.get("accept", ""):
            return StreamingResponse(sse(events), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        return collect(events)

    @router.get("/sessions/{session_id}", tags=["chat"])
    def session(session_id: str, identity: Shopper) -> dict[str, Any]:
        """A conversation of the signed-in shopper, turn by turn."""
        try:
            turns = components.assistant.history(identity, session_id)
        except NotFoundError as e:
            raise HTTPException(404, e.user_message) from e
        return {"session_id": session_id, "turns": [
            {"id": t.id, "created_at": t.created_at.isoformat() if t.created_at else None, "message": t.message,
             "reply": t.reply, "intent": t.intent, "verdict": t.verdict, "handover": t.handover}
            for t in turns]}

    @router.post("/feedback", tags=["chat"])
    def feedback(body: FeedbackRequest, identity: Shopper) -> dict[str, str]:
        """Thumbs up or down for one answer."""
        try:
            components.assistant.feedback(identity, body.turn_id, body.rating, body.note)
        except NotFoundError as e:
            raise HTTPException(404, e.user_message) from e
        return {"status": "recorded"}

    @router.get("/demo/customers", tags=["demo"])
    def demo_customers() -> list[dict[str, str]]:
        """Customers the demo sign-in can act as (only with security.demo_sign_in)."""
        if not security.demo_sign_in:
            raise HTTPException(404, "demo sign-in is off")
        store = components.stores.customers
        out = []
        for customer_id in store.list_ids()[:200]:
            profile = store.get(customer_id)
            if profile:
                out.append({"id": profile.id, "name": profile.name, "tier": profile.tier})
        return out

    @router.post("/demo/token", tags=["demo"])
    def demo_token(body: TokenRequest) -> dict[str, Any]:
        """A shopper token for a demo customer (only with security.demo_sign_in)."""
        if not security.demo_sign_in:
            raise HTTPException(404, "demo sign-in is off")
        if components.stores.customers.get(body.customer_id) is None:
            raise HTTPException(404, f"no customer {body.customer_id!r}")
        token = issue_token(body.customer_id, security.token_secret.get_secret_value(), security.token_ttl_s)
        return {"token": token, "expires_in": security.token_ttl_s}

    from ui.marketing_api import build_marketing_api

    router.include_router(build_marketing_api(components, shopper))
    from ui.preferences_api import build_preferences_api

    router.include_router(build_preferences_api(components, shopper))
    from ui.privacy_api import build_privacy_api

    router.include_router(build_privacy_api(components, shopper))
    return router


def error_payload(e: ConciergeError) -> dict[str, str]:
    return {"detail": e.user_message, "error": type(e).__name__}
