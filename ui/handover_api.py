"""The staff API (``/api/v1/handovers``): the queue of conversations handed over to a person.

A hand-over made when nobody was there carries the shopper's contact (``contact_email``, given with
``contact_consent``: what they were told it is for) for the agent to answer by e-mail.

For staff with the ``agent`` role (``require("agent")``: a signed-in agent or admin, or the ``X-API-Key`` service
key): 401 when not signed in, 403 without the role. A thin layer over the copilot's hand-overs
(``components.copilot``): an unknown hand-over is a 404, one another agent has a 409 (the app's error table).

Who claims or resolves is the signed-in principal, never the body: an ``agent`` field sent by older clients is
ignored. The ``X-API-Key`` service key acts as ``service``, so the queue shows a script took the hand-over.

(No ``from __future__ import annotations``: FastAPI must resolve the local ``Agent`` alias at definition time.)
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import Field

from assistant.settings import SecuritySettings
from assistant.staff.accounts import StaffAccounts
from assistant.staff.copilot import UNRESOLVED, Copilot, Handover
from assistant.staff.roles import RoleDependency, StaffPrincipal
from ui.error_table import responses
from ui.openapi_contract import RequestBody
from ui.staff_access import role_check
from ui.staff_models import HandoverDetail, HandoverView

TAKEN = responses(409, s409="Another agent has the hand-over.")


class ResolveRequest(RequestBody):
    note: str | None = Field(None, max_length=4000, description="How it was resolved.")


def handover_json(h: Handover) -> dict[str, Any]:
    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {"id": h.id, "session_id": h.session_id, "customer_id": h.customer_id, "reason": h.reason,
            "summary": h.summary, "status": h.status, "agent": h.agent, "note": h.note, "turn_id": h.turn_id,
            "created_at": when(h.created_at), "claimed_at": when(h.claimed_at), "resolved_at": when(h.resolved_at),
            "contact_asked_at": when(h.contact_asked_at), "contact_email": h.contact_email,
            "contact_consent": h.contact_consent, "contact_at": when(h.contact_at)}


def build_staff_api(security: SecuritySettings, copilot: Copilot, accounts: StaffAccounts,
                    require: RoleDependency | None = None) -> APIRouter:
    """``require``: the role check (default: ``ui.staff_auth`` on ``accounts``)."""
    router = APIRouter(prefix="/api/v1/handovers", tags=["staff"])

    agent_check = role_check(security, accounts, require)("agent")
    Staff = Depends(agent_check)
    Agent = Annotated[StaffPrincipal, Depends(agent_check)]

    @router.get("", dependencies=[Staff], response_model=list[HandoverView])
    def queue(status: Annotated[str, Query(pattern="^(open|claimed|resolved|unresolved)$")] = "unresolved",
              limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
        """Hand-overs, oldest first, with reason and summary (default: open and claimed ones)."""
        statuses = UNRESOLVED if status == "unresolved" else (status,)
        return [handover_json(h) for h in copilot.handovers(statuses, limit)]

    @router.get("/{handover_id}", dependencies=[Staff], response_model=HandoverDetail)
    def one(handover_id: str) -> dict[str, Any]:
        """One hand-over with the conversation so far (redacted, as stored)."""
        handover = copilot.handover(handover_id)
        return {**handover_json(handover), "turns": [
            {"id": t.id, "created_at": t.created_at.isoformat() if t.created_at else None, "message": t.message,
             "reply": t.reply, "intent": t.intent, "verdict": t.verdict} for t in copilot.handover_turns(handover)]}

    @router.post("/{handover_id}/claim", response_model=HandoverView, responses=TAKEN)
    def claim(handover_id: str, who: Agent) -> dict[str, Any]:
        """The signed-in agent takes the conversation (409 if another agent has it)."""
        return handover_json(copilot.claim(handover_id, who.username))

    @router.post("/{handover_id}/resolve", response_model=HandoverView, responses=TAKEN)
    def resolve(handover_id: str, who: Agent,
                body: Annotated[ResolveRequest | None, Body()] = None) -> dict[str, Any]:
        """The signed-in agent closes the hand-over; the assistant answers in that conversation again."""
        return handover_json(copilot.resolve(handover_id, who.username, body.note if body else None))

    return router
