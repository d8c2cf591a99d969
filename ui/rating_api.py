"""``/api/v1/sessions/{session_id}/rating``: the shopper rates their own conversation (CSAT), 1-5 and a comment.

``GET`` says whether the conversation is ready to be rated (its hand-over resolved, or quiet for
``csat.quiet_minutes``) and the rating given, so a widget knows when to ask; ``POST`` stores the rating (again:
replaces it). A guest rates their own conversation with its guest token. Another shopper's session is a 404, a
conversation not over yet a 409, a score outside 1-5 or a comment over 1,000 characters a 422.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field, field_validator

from assistant.components import Components
from assistant.domain import ShopperIdentity
from assistant.errors import AuthError, NotFoundError
from assistant.identity import GuestPass
from assistant.turn.session_rating import (
    MAX_COMMENT_CHARS,
    MAX_SCORE,
    MIN_SCORE,
    ConversationRating,
    RatingPrompt,
    SessionRating,
)
from ui.error_table import responses
from ui.openapi_contract import RequestBody


class RatingRequest(RequestBody):
    score: int = Field(..., ge=MIN_SCORE, le=MAX_SCORE, description="1 (very unhappy) to 5 (very happy).")
    comment: str = Field("", max_length=MAX_COMMENT_CHARS, description="Optional: what went well or not.")

    @field_validator("score", mode="before")
    @classmethod
    def whole_number(cls, value: object) -> object:
        """``4.0`` is the integer 4 in JSON (and in the schema); the strict body would refuse it as a float."""
        return int(value) if isinstance(value, float) and value.is_integer() else value


class RatingView(BaseModel):
    score: int
    comment: str | None
    reason: str = Field(..., description="Why the shopper was asked: handover_resolved or quiet.")
    created_at: str
    updated_at: str


class RatingState(BaseModel):
    """Whether to ask the shopper to rate the conversation now, and the rating they gave."""

    session_id: str
    ask: bool = Field(..., description="The conversation is over for now and not rated yet: show the question.")
    ready: bool = Field(..., description="The conversation can be rated (rating again replaces the rating).")
    reason: str | None = Field(None, description="handover_resolved or quiet; null while not ready.")
    rating: RatingView | None = None


def rating_view(rating: SessionRating | None) -> dict[str, Any] | None:
    if rating is None:
        return None
    return {"score": rating.score, "comment": rating.comment, "reason": rating.reason,
            "created_at": rating.created_at.isoformat(), "updated_at": rating.updated_at.isoformat()}


def state_view(prompt: RatingPrompt) -> dict[str, Any]:
    return {"session_id": prompt.session_id, "ask": prompt.ask, "ready": prompt.ready, "reason": prompt.reason,
            "rating": rating_view(prompt.rating)}


def conversation_rating(components: Components) -> ConversationRating:
    """The rating service on the app's stores and the ``csat.quiet_minutes`` setting."""
    return ConversationRating(components.stores, timedelta(minutes=components.settings.csat.quiet_minutes))


SessionId = Annotated[str, Path(max_length=64)]
NOT_THEIRS = "No such conversation of this shopper (a guest token opens its own conversation only)."
Caller = ShopperIdentity | GuestPass | None


def owner_of(who: Caller, session_id: str) -> str | None:
    """The customer whose session this must be, or ``None`` for a guest's own conversation; 401 without a token,
    404 for a conversation a guest token does not name."""
    if who is None:
        raise AuthError("no shopper token", user_message="Sign in first, or send this conversation's guest token as "
                                                         "'Authorization: Bearer <guest token>'.")
    if isinstance(who, GuestPass):
        if who.session_id != session_id:
            raise NotFoundError(f"guest {who.guest_id} asked for session {session_id}",
                                user_message="That conversation does not exist or is not yours.")
        return None
    return who.customer_id


def build_rating_api(components: Components, caller: Callable[..., Caller]) -> APIRouter:
    """``caller``: the dependency that reads a shopper's or a guest's token (``ShopperAccess.caller_dependency``)."""
    router = APIRouter(prefix="/sessions", tags=["chat"])
    ratings = conversation_rating(components)
    Shopper = Annotated[Caller, Depends(caller)]

    @router.get("/{session_id}/rating", response_model=RatingState,
                responses=responses(401, 404, s404=NOT_THEIRS))
    def rating_state(session_id: SessionId, identity: Shopper) -> dict[str, Any]:
        """Whether to ask the shopper to rate this conversation now (hand-over resolved, or quiet), and their
        rating if they gave one."""
        return state_view(ratings.prompt(owner_of(identity, session_id), session_id))

    @router.post("/{session_id}/rating", response_model=RatingState,
                 responses=responses(401, 404, 409, 422, s404=NOT_THEIRS,
                                     s409="The conversation is not over yet (a person is on it, or it is not quiet)."))
    def rate(session_id: SessionId, body: RatingRequest, identity: Shopper) -> dict[str, Any]:
        """Rate the signed-in shopper's (or the guest's own) conversation, 1-5 with an optional comment (again:
        replaces the rating)."""
        owner = owner_of(identity, session_id)
        ratings.rate(owner, session_id, body.score, body.comment)
        return state_view(ratings.prompt(owner, session_id))

    return router
