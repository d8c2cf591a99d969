"""``POST /api/v1/events``: the shop's backend sends what shoppers did (views, searches, carts, purchases,
reviews), signed with the shared secret; the events change the shoppers' profiles at once, and purchases are
kept once per event id for measured uplift and the purchase signals.

A thin layer over :class:`assistant.personalization.event_intake.EventIntake`: the body is read as bytes
(the signature covers them exactly), checked and applied in the thread pool (the store is synchronous).
401 for a missing, wrong, stale (over 5 minutes) or reused signature; 422 when no record is a valid event;
otherwise 200 with each bad record's number and problem, the others applied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field

from assistant.components import Components
from assistant.personalization.event_intake import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    EventIntake,
    build_event_intake,
)
from ui.error_table import responses

SIGNATURE = APIKeyHeader(name=SIGNATURE_HEADER, scheme_name="EventSignature", auto_error=False,
                         description="sha256=<hex HMAC-SHA256 of '<timestamp>.<body>' with security.token_secret>, "
                                     f"sent with {TIMESTAMP_HEADER}: <Unix seconds> (at most 5 minutes old).")
EVENT_SCHEMA_REF = "https://concierge.example/schemas/event.schema.json"


class EventProblem(BaseModel):
    record: int = Field(description="The bad record's number in the request, from 1 (its line for JSON Lines).")
    message: str = Field(description="What is wrong with it.")


class EventsAccepted(BaseModel):
    """What a request of events did."""

    received: int = Field(description="Records in the request.")
    applied: int = Field(description="Events applied to a known shopper's profile (one without personalization "
                                     "consent included: nothing is learned for them).")
    failed: int = Field(description="Records not applied (listed in errors).")
    preferences_learned: int = Field(description="Inferred preferences added or reinforced, provenance event:<id>.")
    preferences_refused: int = Field(description="Preferences not inferred because the shopper removed them before.")
    purchases_recorded: int = Field(description="Purchase events kept for measured uplift and purchase signals that "
                                                "were not kept before (an event id is counted once).")
    errors: list[EventProblem]


BODY_DOC = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "required": ["events"], "properties": {
        "events": {"type": "array", "minItems": 1, "maxItems": 500,
                   "items": {"type": "object", "description": f"A shop event ({EVENT_SCHEMA_REF})"}}}}},
    "application/x-ndjson": {"schema": {"type": "string", "description": "One event per line."}}}}}


def build_events_api(components: Components,
                     intake_factory: Callable[[Components], EventIntake] = build_event_intake) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["events"])
    intake = intake_factory(components)

    @router.post("/events", response_model=EventsAccepted, openapi_extra=BODY_DOC,
                 responses=responses(401, 422, s401="Missing, wrong, stale (over 5 minutes) or reused signature.",
                                     s422="No record is a valid event (each problem named with its record)."))
    async def receive_events(
        request: Request,
        signature: Annotated[str | None, Depends(SIGNATURE)],
        timestamp: Annotated[str | None, Header(alias=TIMESTAMP_HEADER, description="Unix seconds.")] = None,
    ) -> dict[str, object]:
        """Shop events from the shop's backend, signed: each applied to its shopper's profile as inferred
        preferences (provenance ``event:<id>``); bad records are listed, the rest applied."""
        body = await request.body()
        result = await run_in_threadpool(intake.receive, body, timestamp, signature)
        return result.to_dict()

    return router
