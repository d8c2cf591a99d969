"""What the copilot shows an agent: the shopper's context, a conversation, the queue, live conversations and a
sent reply, each with ``to_dict`` for the API; and the diff between a suggested and a sent reply."""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime
from typing import Any

from assistant.domain import Citation, OfferView, ProductCard
from assistant.records import ConsentState, Order, TurnRecord
from assistant.store.handovers import Handover

__all__ = ["ConversationContext", "CustomerContext", "Handover", "LiveConversation", "QueueItem", "SentReply",
           "SuggestedReply", "draft_diff", "jsonable", "sentences", "turn_view"]


def jsonable(value: Any) -> Any:
    """Dataclasses, mappings and sequences as JSON values; times in ISO 8601."""
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class CustomerContext:
    """What the agent reads about the shopper. Contact details stay in the store (not needed to reply)."""

    id: str
    name: str
    tier: str
    points: int
    consent: ConsentState
    joined_at: datetime | None = None
    #: stated and inferred, as "what we think you like" shows them: kind, value, origin, confidence, in_use, note
    preferences: tuple[dict[str, Any], ...] = ()
    orders: tuple[Order, ...] = ()  # newest first, with items, payments and history


@dataclass(frozen=True)
class ConversationContext:
    session_id: str
    customer: CustomerContext | None  # None: an anonymous shopper
    turns: tuple[TurnRecord, ...]  # oldest first, as stored (redacted); ``author`` says who replied
    handover: Handover | None
    held_by: str | None  # the agent who has the conversation, if any
    channel: str = "web"

    def to_dict(self) -> dict[str, Any]:
        out = jsonable({k: v for k, v in self.__dict__.items() if k != "turns"})
        out["turns"] = [turn_view(t) for t in self.turns]
        return dict(out)


@dataclass(frozen=True)
class QueueItem:
    handover: Handover
    held_by: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(jsonable({**asdict(self.handover), "held_by": self.held_by}))


@dataclass(frozen=True)
class LiveConversation:
    session_id: str
    customer_id: str | None
    last_at: datetime | None
    last_message: str
    turns: int  # among the recent turns looked at
    held_by: str | None = None
    handover_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(jsonable(self))


@dataclass(frozen=True)
class SentReply:
    turn: TurnRecord
    edited: bool
    diff: str
    redacted: bool  # personal data in the text was redacted before it was stored and shown

    def to_dict(self) -> dict[str, Any]:
        return {**turn_view(self.turn), "edited": self.edited, "diff": self.diff, "redacted": self.redacted}


@dataclass(frozen=True)
class SuggestedReply:
    """A reply suggested to the agent for one conversation (``session_id``: send it there only), written from
    facts to the shopper; nothing of it was recorded."""

    session_id: str
    message: str  # the shopper's words it answers (as stored: redacted)
    reply: str
    intent: str
    verdict: str  # pass | fallback | refused | no_facts | template | blocked:...
    sources: tuple[Citation, ...] = ()
    products: tuple[ProductCard, ...] = ()  # recommendations carry their reason
    offers: tuple[OfferView, ...] = ()  # eligible offers the bandit picked (not counted as shown)
    problems: tuple[str, ...] = ()  # why the verifier replaced the model's text, if it did

    def to_dict(self) -> dict[str, Any]:
        return dict(jsonable(self))


def turn_view(t: TurnRecord) -> dict[str, Any]:
    """A turn for the agent's screen: who wrote the reply, and for an agent's reply whether the draft was edited."""
    view = {"id": t.id, "created_at": t.created_at.isoformat() if t.created_at else None, "author": t.author,
            "message": t.message, "reply": t.reply, "intent": t.intent, "verdict": t.verdict, "status": t.status,
            "handover": t.handover}
    if t.author.startswith("agent:"):
        view["edited"] = t.trace.get("edited")
    if t.trace.get("held_for"):
        view["held_for"] = t.trace["held_for"]
    return view


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text.strip()) if s]


def draft_diff(draft: str, sent: str) -> str:
    """A unified diff, one sentence a line, from the draft to what was sent."""
    return "\n".join(difflib.unified_diff(sentences(draft), sentences(sent), "draft", "sent", lineterm=""))
