"""The guest routes of ``/api/v1``: open a guest conversation, join it to the shopper who signs in, and the
customer's answer to what it learned (``assistant.turn.guest_sessions``).

A widget does not need ``POST /guest`` to chat (``POST /chat`` without a token opens one and returns its token);
it is there for a client that wants the conversation before the first message (to poll it, say).
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from assistant.components import Components
from assistant.domain import ShopperIdentity
from assistant.errors import NotFoundError
from ui.error_table import responses
from ui.openapi_contract import RequestBody
from ui.rate_limits import too_many
from ui.shopper_access import GUESTS_OFF, ShopperAccess


class LearnedPreference(BaseModel):
    kind: str = Field(..., description="category, brand, size, colour, budget, occasion or dislike")
    value: str


class GuestSession(BaseModel):
    guest_token: str = Field(..., description="Send as 'Authorization: Bearer <guest token>' to chat in this "
                                              "conversation and read it (POST /chat, GET /sessions/{id}).")
    session_id: str
    expires_in: int = Field(..., description="Seconds the guest token is valid (every reply renews it).")


class JoinRequest(RequestBody):
    guest_token: str = Field(..., max_length=2048, description="The guest token of the conversation to join.")


class Joined(BaseModel):
    session_id: str
    preferences: list[LearnedPreference] = Field(..., description=(
        "What the guest said about their tastes in it; saved to the profile only with POST /guest/preferences."))


class PreferencesDecision(RequestBody):
    session_id: str = Field(..., max_length=64)
    save: bool = Field(..., description="true: save them to the profile (the shopper agreed); false: drop them.")


class PreferencesDecided(BaseModel):
    session_id: str
    saved: list[LearnedPreference] = Field(..., description="What was written to the profile (none without "
                                                            "personalization consent, or for save: false).")


def build_guest_api(components: Components, access: ShopperAccess,
                    shopper: Callable[..., ShopperIdentity]) -> APIRouter:
    router = APIRouter(prefix="/guest", tags=["guests"])
    guests = components.assistant.guests
    Shopper = Annotated[ShopperIdentity, Depends(shopper)]

    @router.post("", response_model=GuestSession,
                 responses=responses(404, 429, s404="Guest chat is off (security.guest_sessions)."))
    def open_guest(request: Request) -> dict[str, Any]:
        """A new guest conversation and its guest token, without a message. Counted per address
        (``security.guest_rate_per_ip``): 429 with Retry-After."""
        if not access.guests_on:
            raise NotFoundError("guest chat is off", user_message=GUESTS_OFF)
        wait = access.new_guest_wait(request)
        if wait is not None:
            detail, headers = too_many(wait, "new conversations")
            raise HTTPException(429, detail, headers=headers)
        token, guest = access.issue_guest(guests.open("api"))
        return {"guest_token": token, "session_id": guest.session_id, "expires_in": access.guest_ttl_s}

    @router.post("/join", response_model=Joined, responses=responses(
        404, s404="The guest conversation is gone or already another shopper's."))
    def join(body: JoinRequest, identity: Shopper) -> dict[str, Any]:
        """The signed-in shopper takes over the conversation they had as a guest (its turns become theirs; the guest
        token no longer opens it). What the guest said about their tastes is returned, not saved."""
        guest = access.guest_pass(body.guest_token)
        offered = guests.join(identity.customer_id, guest.session_id)
        return {"session_id": guest.session_id, "preferences": offered}

    @router.post("/preferences", response_model=PreferencesDecided,
                 responses=responses(404, s404="No such conversation of this shopper."))
    def decide(body: PreferencesDecision, identity: Shopper) -> dict[str, Any]:
        """The shopper's answer to what their guest conversation learned: ``save: true`` writes it to their profile
        (only while they allow personalization), ``false`` drops it. Nothing is written without this call."""
        saved = guests.decide(identity.customer_id, body.session_id, body.save)
        return {"session_id": body.session_id, "saved": saved}

    return router
