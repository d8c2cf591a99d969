"""The reviewers' API: search, replay, label and export the interaction log, and its analytics.

Every route needs the ``reviewer`` role (an ``admin`` has it too), checked on the server by the
``require`` dependency that the app passes in (``ui.staff_auth``; tests pass a fake).

- ``GET  /api/v1/review/turns``: matching turns, newest first, a page at a time (``limit``, ``cursor``:
  the ``next_cursor`` of the page before), with ``total``.
- ``GET  /api/v1/review/turns/{turn_id}``: one turn with its trace as replay steps, its events and labels.
- ``POST /api/v1/review/turns/{turn_id}/labels``: ``{"label": "correct" | "incorrect" |
  "outdated_knowledge" | "policy_violation", "note": "..."}``, by the signed-in reviewer.
- ``GET  /api/v1/review/export?format=jsonl|csv``: the matching turns, streamed (same filters as the list).
- ``GET  /api/v1/analytics/{name}?start=YYYY-MM-DD&end=YYYY-MM-DD``: one figure (``Analytics.figures``).

Filters: ``q`` (text in the message or reply), ``customer_id``, ``session_id``, ``start`` and ``end`` (a day
``YYYY-MM-DD``, both inclusive, or an ISO time; UTC unless it names its zone), ``intent``, ``verdict``,
``status``, ``handover``, ``feedback`` (up, down, none), ``offer_shown``, ``offer_accepted``, ``label`` (a
label or none), ``author`` (assistant, agent, or agent:<username>), ``language`` (the reply's language as the
turn recorded it, e.g. en or zh, or unknown for turns that recorded none). A bad value is a 422 saying which (the
services raise ``ValidationError`` / ``NotFoundError``; the app's error table answers 422 / 404).

(No ``from __future__ import annotations`` here: FastAPI must resolve the ``Reviewer`` alias, local to
``build_review_api``, at definition time.)
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import Field

from assistant.errors import ValidationError
from assistant.staff.analytics import Analytics
from assistant.staff.log_review import LogReview, TurnFilter
from assistant.staff.roles import RoleDependency, StaffPrincipal
from ui.openapi_contract import RequestBody
from ui.staff_models import FigureView, LabelView, TurnPageView, TurnReplayView

Label = Literal["correct", "incorrect", "outdated_knowledge", "policy_violation"]
MEDIA_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
#: the export's answer: JSON Lines (one turn per line) or CSV (a header row, then one turn per row)
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "description": "The matching turns, streamed: JSON Lines (format=jsonl) or CSV (format=csv); Content-Disposition "
                   "names the file.",
    "content": {"application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}}},
    "headers": {"Content-Disposition": {"description": "attachment; filename=\"turns-<time>.<format>\"",
                                        "schema": {"type": "string"}}}}}


class LabelRequest(RequestBody):
    label: Label = Field(..., description="correct, incorrect, outdated_knowledge or policy_violation.")
    note: str | None = Field(None, max_length=4000, description="Why, for whoever reads the label later.")


def parse_when(value: str | None, name: str, *, end: bool = False) -> datetime | None:
    """A query parameter as a UTC instant: ``YYYY-MM-DD`` is the start of that day, or for ``end`` the start
    of the next (so the day is included); an ISO time without a zone is UTC. 422 for anything else."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=UTC)
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as e:
        message = f"{name}: {value[:40]!r} is not a date (YYYY-MM-DD) or an ISO time (2026-11-29T08:00:00Z)"
        raise ValidationError(f"bad {name}", user_message=message) from e
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def parse_day(value: str | None, name: str) -> date | None:
    """A query parameter as a day (``YYYY-MM-DD``; an ISO time gives its UTC day). 422 for anything else."""
    when = parse_when(value, name)
    return when.date() if when is not None else None


def turn_filter(
    q: Annotated[str | None, Query(max_length=200, description="Text in the message or the reply.")] = None,
    customer_id: Annotated[str | None, Query(max_length=128, description="The shopper's id.")] = None,
    session_id: Annotated[str | None, Query(max_length=64)] = None,
    start: Annotated[str | None, Query(max_length=40, description="From this day or time (inclusive).")] = None,
    end: Annotated[str | None, Query(max_length=40, description="To this day (inclusive) or time.")] = None,
    intent: Annotated[str | None, Query(max_length=64)] = None,
    verdict: Annotated[str | None, Query(max_length=64, description="The verifier's verdict.")] = None,
    status: Annotated[Literal["ok", "fallback", "error"] | None, Query()] = None,
    handover: Annotated[bool | None, Query(description="Handed over to a person.")] = None,
    feedback: Annotated[Literal["up", "down", "none"] | None, Query(description="The shopper's thumbs.")] = None,
    offer_shown: Annotated[bool | None, Query()] = None,
    offer_accepted: Annotated[bool | None, Query(description="An offer of the turn accepted or redeemed.")] = None,
    label: Annotated[Literal["correct", "incorrect", "outdated_knowledge", "policy_violation", "none"] | None,
                     Query(description="The current label, or none for unlabelled turns.")] = None,
    author: Annotated[str | None, Query(max_length=160, pattern=r"^(assistant|agent|agent:.+)$",
                                        description="assistant, agent, or agent:<username>.")] = None,
    language: Annotated[str | None, Query(max_length=16, pattern=r"^([a-z]{2,3}([-_][A-Za-z0-9]{2,8})?|unknown)$",
                                          description="The reply's language (en, zh, ...), or unknown.")] = None,
) -> TurnFilter:
    found = TurnFilter(text=q, customer_id=customer_id, session_id=session_id,
                       start=parse_when(start, "start"), end=parse_when(end, "end", end=True), intent=intent,
                       verdict=verdict, status=status, handover=handover, feedback=feedback,
                       offer_shown=offer_shown, offer_accepted=offer_accepted, label=label, author=author,
                       language=language)
    found.validate()
    return found


Filter = Annotated[TurnFilter, Depends(turn_filter)]


def build_review_api(review: LogReview, analytics: Analytics, require: RoleDependency) -> APIRouter:
    """The reviewers' routes over the log review and analytics services (``components.log_review``,
    ``components.analytics``); ``require("reviewer")`` guards each of them."""
    router = APIRouter(prefix="/api/v1", tags=["review"])
    Reviewer = Annotated[StaffPrincipal, Depends(require("reviewer"))]

    @router.get("/review/turns", response_model=TurnPageView)
    def turns(f: Filter, _who: Reviewer, limit: Annotated[int, Query(ge=1, le=500)] = 50,
              cursor: Annotated[str | None, Query(max_length=400)] = None) -> dict[str, Any]:
        """Matching turns, newest first, with the number of all matches and the cursor of the next page."""
        return review.search(f, limit, cursor).to_dict()

    @router.get("/review/turns/{turn_id}", response_model=TurnReplayView)
    def replay(turn_id: str, _who: Reviewer) -> dict[str, Any]:
        """One turn, step by step: guard, profile, understanding, retrieval, tool calls, the model's text,
        the verifier's verdict and reasons, offers with propensity, the record; events and labels."""
        return review.get_replay(turn_id).to_dict()

    @router.post("/review/turns/{turn_id}/labels", status_code=201, response_model=LabelView)
    def add_label(turn_id: str, body: LabelRequest, who: Reviewer) -> dict[str, Any]:
        """Label a turn as the signed-in reviewer; the newest label is the turn's current one."""
        return review.label(turn_id, body.label, who.username, body.note).to_dict()

    @router.get("/review/export", response_class=StreamingResponse, responses=EXPORT_RESPONSES)
    def export(f: Filter, _who: Reviewer, format: Annotated[Literal["jsonl", "csv"], Query()] = "jsonl",
               trace: Annotated[bool, Query(description="Include each turn's trace (JSON Lines only).")] = False,
               ) -> StreamingResponse:
        """The matching turns as JSON Lines or CSV, newest first, streamed as they are read."""
        chunks = review.export(f, format, include_trace=trace)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return StreamingResponse(chunks, media_type=MEDIA_TYPES[format], headers={
            "Content-Disposition": f'attachment; filename="turns-{stamp}.{format}"', "Cache-Control": "no-store"})

    @router.get("/analytics/{name}", response_model=FigureView)
    def figure(name: str, _who: Reviewer,
               start: Annotated[str | None, Query(max_length=40, description="First day, YYYY-MM-DD.")] = None,
               end: Annotated[str | None, Query(max_length=40, description="Last day, YYYY-MM-DD.")] = None,
               ) -> dict[str, Any]:
        """One figure over whole UTC days, start to end inclusive (default: the last 30 days)."""
        analytics.check(name)  # before the dates are read: an unknown figure is a 404 whatever they are
        period, rows = analytics.figure(name, parse_day(start, "start"), parse_day(end, "end"))
        return {"name": name, **period.to_dict(), "rows": rows}

    return router
