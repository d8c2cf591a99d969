"""The copilot API (``/api/v1/copilot``) for support agents: a thin layer over ``assistant.staff.copilot.Copilot``.

Every route needs the ``agent`` role (``require("agent")``: 401 not signed in, 403 another role; admins pass).
The signed-in agent is who takes over, sends and gives back; a body never names the agent.

- ``GET /queue``: unresolved hand-overs, oldest first, with reason, summary, who has each and ``summary_line``
  (the one line the copilot page's queue shows: why, the shopper's first and latest words)
- ``GET /live``: conversations with recent turns, to take one over
- ``GET /handovers/{id}``, ``GET /sessions/{id}``: the shopper's profile, the whole conversation, the hand-over
- ``POST /sessions/{id}/suggest``: a reply to what the shopper needs, drafted from facts by the turn pipeline,
  with its sources, recommendations and offers and the ``session_id`` it is for (nothing recorded)
- ``POST /sessions/{id}/send`` ``{text, draft, draft_session_id}``: the reply goes to the shopper, recorded as the
  agent's; a draft suggested for another conversation is refused (422)
- ``POST /sessions/{id}/take-over``, ``POST /sessions/{id}/give-back`` ``{note}``

A conversation another agent has is a 409 whose body carries ``held_by`` and, for ``send``, the ``text`` and
``draft`` that were not sent under ``unsent``, so nothing the agent wrote is lost (``HeldByAnotherAgent`` in the
app's error table, ``ui.error_table``, like every other error).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import Field

from assistant.staff.copilot import MAX_REPLY_CHARS, Copilot
from assistant.staff.roles import RoleDependency, StaffPrincipal
from ui.error_table import responses
from ui.openapi_contract import RequestBody
from ui.staff_models import (
    ConversationContextView,
    HandoverInQueue,
    HolderView,
    LiveConversationView,
    SentReplyView,
    SuggestedReplyView,
)

#: a conversation another agent has: ``held_by`` names them (and ``unsent`` holds what a send did not send)
HELD = responses(409, s409="Another agent has the conversation (held_by); a send returns its text under unsent.")


class SuggestRequest(RequestBody):
    message: str | None = Field(None, max_length=10_000,
                                description="Draft a reply to this text instead of the shopper's last message.")


class SendRequest(RequestBody):
    text: str = Field(..., min_length=1, max_length=MAX_REPLY_CHARS, description="The reply the shopper gets.")
    draft: str | None = Field(None, max_length=20_000,
                              description="The suggested reply it was edited from (kept with the diff); empty: "
                                          "written from scratch.")
    draft_session_id: str | None = Field(
        None, max_length=128, description="The conversation the draft was suggested for (``session_id`` of the "
                                          "suggestion): a draft for another conversation is refused with 422.")


class GiveBackRequest(RequestBody):
    note: str | None = Field(None, max_length=4000, description="How it was resolved (kept with the hand-over).")


def build_copilot_api(copilot: Copilot, require: RoleDependency) -> APIRouter:
    """``copilot``: ``components.copilot`` (it builds the turn service, and loads the chat model, on first need).
    ``require``: the staff role dependency (``ui.staff_auth`` in the app, a fake in tests)."""
    router = APIRouter(prefix="/api/v1/copilot", tags=["copilot"])
    Agent = Annotated[StaffPrincipal, Depends(require("agent"))]

    @router.get("/queue", response_model=list[HandoverInQueue])
    def queue(agent: Agent, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
        """Unresolved hand-overs, oldest first, with reason, summary, the agent who has each (``held_by``) and a
        one-line summary that fits a list (``summary_line``: why, the shopper's first and latest words)."""
        return [item.to_dict() for item in copilot.queue(limit)]

    @router.get("/live", response_model=list[LiveConversationView])
    def live(agent: Agent, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[dict[str, Any]]:
        """Conversations with recent turns, most recent first, with who has each."""
        return [c.to_dict() for c in copilot.live(limit)]

    @router.get("/handovers/{handover_id}", response_model=ConversationContextView,
                response_model_exclude_unset=True)
    def handover(handover_id: str, agent: Agent) -> dict[str, Any]:
        """A hand-over's conversation: the shopper's profile (preferences with confidence, tier, points, orders,
        consent), every turn (``author`` says who replied) and the hand-over."""
        return copilot.handover_context(handover_id).to_dict()

    @router.get("/sessions/{session_id}", response_model=ConversationContextView,
                response_model_exclude_unset=True)
    def session(session_id: str, agent: Agent) -> dict[str, Any]:
        """Any conversation's context, like a hand-over's."""
        return copilot.context(session_id).to_dict()

    @router.post("/sessions/{session_id}/suggest", response_model=SuggestedReplyView, responses={**HELD, **responses(
        422, s422="The conversation has no shopper message to answer (and no message was given).")})
    def suggest(session_id: str, agent: Agent,
                body: Annotated[SuggestRequest | None, Body()] = None) -> dict[str, Any]:
        """A reply to what the shopper needs (the newest need in the conversation, not a bare request for a
        person; or ``message``), drafted from facts, with its sources, recommended products (each with its
        reason), eligible offers and the ``session_id`` it was drafted for. Nothing is recorded or sent."""
        return copilot.suggest(session_id, body.message if body else None).to_dict()

    @router.post("/sessions/{session_id}/send", response_model=SentReplyView, response_model_exclude_unset=True,
                 responses=HELD)
    def send(session_id: str, body: SendRequest, agent: Agent) -> dict[str, Any]:
        """Send the reply to the shopper (the conversation becomes the agent's if nobody has it). The turn
        records the agent, the draft, what was sent and the diff. Another agent's conversation: 409, nothing
        sent, the text returned under ``unsent``. A draft suggested for another conversation
        (``draft_session_id``): 422, nothing sent."""
        return copilot.send(session_id, agent, body.text, body.draft, body.draft_session_id).to_dict()

    @router.post("/sessions/{session_id}/take-over", response_model=HolderView, responses=HELD)
    def take_over(session_id: str, agent: Agent) -> dict[str, Any]:
        """The agent takes the conversation (and claims its open hand-over); the assistant stops answering."""
        copilot.take_over(session_id, agent)
        return {"session_id": session_id, "held_by": agent.username}

    @router.post("/sessions/{session_id}/give-back", response_model=HolderView, responses=HELD)
    def give_back(session_id: str, agent: Agent,
                  body: Annotated[GiveBackRequest | None, Body()] = None) -> dict[str, Any]:
        """The assistant answers again; the open hand-over is resolved (with the note)."""
        copilot.give_back(session_id, agent, body.note if body else None)
        return {"session_id": session_id, "held_by": None}

    return router
