"""What the staff routes answer (hand-overs, copilot, log review, analytics), as response models for the OpenAPI
document and the typed client.

Each model names exactly the fields its service's ``to_dict`` (or the route) produces: a field the model does not
name is refused (:class:`ResponseModel`, ``extra="forbid"``), so an answer never carries a field the document does not
describe; the routes' tests and the Schemathesis run fail instead. Times are ISO 8601 strings as the services write
them (``datetime.isoformat()``), not re-serialized. Free-form data (a turn's trace, an order's payments) stays a JSON
object: its shape is the store's, not the API's.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assistant.domain import Citation, OfferView, ProductCard

ISO = "ISO 8601 date and time."


class ResponseModel(BaseModel):
    """The base of every staff response model: the fields named, no others (see the module's doc)."""

    model_config = ConfigDict(extra="forbid")


# hand-overs (``/api/v1/handovers``, ``/api/v1/copilot/queue``) ---------------------------------------------------
class HandoverView(ResponseModel):
    """A conversation handed over to a person, with reason and summary."""

    id: str
    session_id: str
    customer_id: str | None = Field(None, description="The shopper; null for an anonymous one.")
    reason: str = Field(..., description="Why it was handed over (asked, upset, unanswered, failure...).")
    summary: str
    status: str = Field(..., description="open, claimed or resolved.")
    agent: str | None = Field(None, description="Who claimed it ('service' for the staff key).")
    note: str | None = Field(None, description="How it was resolved.")
    turn_id: str | None = Field(None, description="The turn that handed it over.")
    created_at: str | None = Field(None, description=ISO)
    claimed_at: str | None = Field(None, description=ISO)
    resolved_at: str | None = Field(None, description=ISO)
    contact_asked_at: str | None = Field(None, description="When nobody was there and the shopper was asked for an "
                                         "e-mail address. " + ISO)
    contact_email: str | None = Field(None, description="The e-mail address the shopper gave to be answered at.")
    contact_consent: str | None = Field(None, description="What the shopper was told the address is used for.")
    contact_at: str | None = Field(None, description="When the shopper gave it. " + ISO)


class HandoverTurn(ResponseModel):
    """A turn of a handed-over conversation (redacted, as stored)."""

    id: str | None
    created_at: str | None = Field(None, description=ISO)
    message: str
    reply: str
    intent: str | None = None
    verdict: str | None = None


class HandoverDetail(HandoverView):
    turns: list[HandoverTurn] = Field(..., description="The conversation so far, oldest first.")


class HandoverInQueue(HandoverView):
    held_by: str | None = Field(None, description="The agent who has the conversation, if any.")
    summary_line: str = Field(..., description="One line that fits a queue (at most 96 characters, cut at word "
                              "boundaries): why it was handed over, the shopper's first and latest words.")


# copilot (``/api/v1/copilot``) -----------------------------------------------------------------------------------
class LiveConversationView(ResponseModel):
    session_id: str
    customer_id: str | None = None
    last_at: str | None = Field(None, description=ISO)
    last_message: str
    turns: int = Field(..., description="Turns among the recent ones looked at.")
    held_by: str | None = Field(None, description="The agent who has the conversation, if any.")
    handover_id: str | None = Field(None, description="Its open hand-over, if any.")


class AgentTurnView(ResponseModel):
    """A turn as the agent's screen shows it; ``author`` says who replied."""

    id: str | None
    created_at: str | None = Field(None, description=ISO)
    author: str = Field(..., description='"assistant" or "agent:<username>".')
    message: str
    reply: str
    intent: str | None = None
    verdict: str | None = None
    status: str = Field(..., description="ok, fallback or error.")
    handover: bool
    edited: bool | None = Field(None, description="(An agent's reply) whether the suggested draft was edited.")
    held_for: str | None = Field(None, description="The agent the shopper's message waited for.")


class ConsentView(ResponseModel):
    personalization: bool
    marketing: bool


class OrderItemView(ResponseModel):
    position: int
    product_id: str
    name: str
    quantity: int
    unit_price: float
    variant_id: str | None = None
    options: dict[str, Any] | None = None
    status: str


class OrderView(ResponseModel):
    """One of the shopper's orders, with items, payments and history (newest first)."""

    id: str
    customer_id: str
    status: str
    placed_at: str = Field(..., description=ISO)
    currency: str
    items: list[OrderItemView]
    total: float | None = None
    shipping: float | None = None
    updated_at: str | None = Field(None, description=ISO)
    delivered_at: str | None = Field(None, description=ISO)
    shipping_address: dict[str, Any] | None = None
    tracking: dict[str, Any] | None = None
    payments: list[dict[str, Any]] = Field(..., description="Payments and refunds, as the shop's data has them.")
    history: list[dict[str, Any]] = Field(..., description="Status changes, oldest first.")


class PreferenceView(ResponseModel):
    """A stated or inferred preference, with its confidence now and whether it is used."""

    id: int
    kind: str
    value: str
    origin: str = Field(..., description="explicit (stated) or inferred (from chats).")
    confidence: float = Field(..., description="0 to 1, now (inferred ones decay with age).")
    evidence_count: int
    source_turn: str | None = Field(None, description="The turn it was first inferred from.")
    source: str
    created_at: str = Field(..., description=ISO)
    updated_at: str = Field(..., description=ISO)
    in_use: bool = Field(..., description="Used for answers and recommendations.")
    note: str = Field(..., description="Why it is (not) used.")


class CustomerView(ResponseModel):
    """What the agent reads about the shopper (contact details stay in the store)."""

    id: str
    name: str
    tier: str
    points: int
    consent: ConsentView
    joined_at: str | None = Field(None, description=ISO)
    preferences: list[PreferenceView]
    orders: list[OrderView]


class ConversationContextView(ResponseModel):
    """A conversation for the agent: the shopper, every turn, the hand-over and who has it."""

    session_id: str
    customer: CustomerView | None = Field(None, description="null for an anonymous shopper.")
    turns: list[AgentTurnView] = Field(..., description="Oldest first, as stored (redacted).")
    handover: HandoverView | None = None
    held_by: str | None = Field(None, description="The agent who has the conversation, if any.")
    channel: str


class SuggestedReplyView(ResponseModel):
    """A reply drafted for one conversation (``session_id``: send it there only); nothing was recorded."""

    session_id: str
    message: str = Field(..., description="The shopper's words it answers (as stored: redacted).")
    reply: str
    intent: str
    verdict: str = Field(..., description="pass, fallback, refused, no_facts, template or blocked:<why>.")
    sources: list[Citation]
    products: list[ProductCard] = Field(..., description="Recommendations, each with its reason.")
    offers: list[OfferView] = Field(..., description="Eligible offers (not counted as shown).")
    problems: list[str] = Field(..., description="Why the verifier replaced the model's text, if it did.")


class SentReplyView(AgentTurnView):
    """The agent's reply as recorded."""

    edited: bool | None = Field(None, description="Whether the suggested draft was edited.")
    diff: str = Field(..., description="A unified diff, a sentence a line, from the draft to what was sent.")
    redacted: bool = Field(..., description="Personal data in the text was redacted before it was stored.")


class HolderView(ResponseModel):
    session_id: str
    held_by: str | None = Field(None, description="The agent who has the conversation now; null: the assistant.")


# log review and analytics (``/api/v1/review``, ``/api/v1/analytics``) ---------------------------------------------
class TurnSummaryView(ResponseModel):
    """A turn as listed: its columns plus its current feedback, label and offers."""

    id: str
    session_id: str
    customer_id: str | None = None
    created_at: str = Field(..., description=ISO)
    message: str
    reply: str
    intent: str | None = None
    verdict: str | None = None
    status: str
    handover: bool
    author: str
    latency_ms: int | None = None
    model: str | None = None
    feedback: str | None = Field(None, description="up, down or null.")
    label: str | None = Field(None, description="The current label, if any.")
    offers_shown: int
    offer_accepted: bool
    language: str | None = Field(None, description="The reply's language as the turn recorded it (en, zh, ...); "
                                                   "null: it recorded none.")


class TurnPageView(ResponseModel):
    total: int = Field(..., description="All matching turns.")
    next_cursor: str | None = Field(None, description="The cursor of the next page; null on the last.")
    items: list[TurnSummaryView]


class LabelView(ResponseModel):
    id: int
    turn_id: str
    label: str = Field(..., description="correct, incorrect, outdated_knowledge or policy_violation.")
    note: str | None = None
    reviewer: str
    created_at: str = Field(..., description=ISO)


class ReplayStepView(ResponseModel):
    name: str
    title: str
    ms: float | None = Field(None, description="The step's own time; null where the trace has none.")
    detail: dict[str, Any]


class TurnReplayView(ResponseModel):
    """One turn step by step: the turn, its trace as steps, its events, its labels (newest first)."""

    turn: TurnSummaryView
    steps: list[ReplayStepView]
    events: list[dict[str, Any]]
    labels: list[LabelView]
    trace: dict[str, Any] = Field(..., description="The trace as stored.")


class FigureView(ResponseModel):
    """One analytics figure over whole UTC days, a row per day (or per group), the columns the figure's."""

    name: str
    start: str = Field(..., description="First day, YYYY-MM-DD.")
    end: str = Field(..., description="Last day, YYYY-MM-DD.")
    rows: list[dict[str, str | int | float | None]]
