"""The staff API (``/api/v1/handovers``): the queue of conversations handed over to a person.

For staff with the ``agent`` role (``require("agent")``: a signed-in agent or admin, or the ``X-API-Key`` service
key): 401 when not signed in, 403 without the role.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field

from assistant.errors import ConflictError
from assistant.settings import SecuritySettings
from assistant.staff.roles import RoleDependency
from assistant.store.handovers import Handover
from ui.staff_access import role_check


class AgentRequest(BaseModel):
    agent: str = Field(..., min_length=1, max_length=128, description="Who takes or closes the conversation.")
    note: str | None = Field(None, max_length=4000, description="How it was resolved (resolve only).")


def handover_json(h: Handover) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {"id": h.id, "session_id": h.session_id, "customer_id": h.customer_id, "reason": h.reason,
            "summary": h.summary, "status": h.status, "agent": h.agent, "note": h.note, "turn_id": h.turn_id,
            "created_at": when(h.created_at), "claimed_at": when(h.claimed_at), "resolved_at": when(h.resolved_at)}


def build_staff_api(security: SecuritySettings, stores: Any, require: RoleDependency | None = None) -> APIRouter:
    """``require``: the role check (default: ``ui.staff_auth`` on ``stores.staff``)."""
    router = APIRouter(prefix="/api/v1/handovers", tags=["staff"])

    Staff = Depends(role_check(security, stores, require)("agent"))

    def found(handover_id: str) -> Handover:
        handover: Handover | None = stores.handovers.get(handover_id)
        if handover is None:
            raise HTTPException(404, f"no hand-over {handover_id!r}")
        return handover

    @router.get("", dependencies=[Staff])
    def queue(status: Annotated[str, Query(pattern="^(open|claimed|resolved|unresolved)$")] = "unresolved",
              limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
        """Hand-overs, oldest first, with reason and summary (default: open and claimed ones)."""
        statuses = ("open", "claimed") if status == "unresolved" else (status,)
        return [handover_json(h) for h in stores.handovers.list_open(limit, statuses)]

    @router.get("/{handover_id}", dependencies=[Staff])
    def one(handover_id: str) -> dict[str, Any]:
        """One hand-over with the conversation so far (redacted, as stored)."""
        handover = found(handover_id)
        turns = stores.turns.turns_for_session(handover.customer_id, handover.session_id)
        return {**handover_json(handover), "turns": [
            {"id": t.id, "created_at": t.created_at.isoformat() if t.created_at else None, "message": t.message,
             "reply": t.reply, "intent": t.intent, "verdict": t.verdict} for t in turns]}

    @router.post("/{handover_id}/claim", dependencies=[Staff])
    def claim(handover_id: str, body: AgentRequest) -> dict[str, Any]:
        """An agent takes the conversation (409 if another agent has it)."""
        found(handover_id)
        try:
            return handover_json(stores.handovers.claim(handover_id, body.agent))
        except ConflictError as e:
            raise HTTPException(409, e.user_message) from e

    @router.post("/{handover_id}/resolve", dependencies=[Staff])
    def resolve(handover_id: str, body: AgentRequest) -> dict[str, Any]:
        """Close the hand-over; the assistant answers in that conversation again."""
        found(handover_id)
        try:
            return handover_json(stores.handovers.resolve(handover_id, body.agent, body.note))
        except ConflictError as e:
            raise HTTPException(409, e.user_message) from e

    return router
