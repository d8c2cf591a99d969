"""What the copilot shows an agent: the shopper's context, a conversation, the queue, live conversations and a
sent reply, each with ``to_dict`` for the API; the diff between a suggested and a sent reply; a hand-over's
one-line summary (``summary_line``: why, the shopper's first and latest words, cut at word boundaries), the live
conversations that are not hand-overs (``live_only``) and the revision that says a conversation changed."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime
from typing import Any

from assistant.domain import Citation, OfferView, ProductCard
from assistant.records import ConsentState, Order, TurnRecord
from assistant.store.handovers import Handover

__all__ = ["ConversationContext", "CustomerContext", "Handover", "LiveConversation", "QueueItem", "SentReply",
           "SuggestedReply", "conversation_revision", "draft_diff", "handover_why", "jsonable", "live_only",
           "sentences", "shopper_messages", "shorten", "summary_line", "turn_view"]

#: the longest one-line summary of a hand-over in the queue (characters)
SUMMARY_LINE_CHARS = 96
ELLIPSIS = "…"


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
    first_message: str = ""  # the shopper's first and latest words in the conversation (as stored: redacted)
    last_message: str = ""

    def line(self, limit: int = SUMMARY_LINE_CHARS) -> str:
        """One line that fits the queue: why it was handed over, the shopper's first and latest words."""
        return summary_line(handover_why(self.handover), self.first_message, self.last_message, limit)

    def to_dict(self) -> dict[str, Any]:
        """The hand-over, who has it and its one-line summary (``line``), as the copilot's queue shows it."""
        return dict(jsonable({**asdict(self.handover), "held_by": self.held_by, "summary_line": self.line()}))


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


def shorten(text: str, limit: int) -> str:
    """``text`` on one line (whitespace collapsed) in at most ``limit`` characters: cut at the last word boundary
    that fits, with an ellipsis; a text without spaces near the cut (one long word, Chinese) is cut where it must."""
    flat = " ".join((text or "").split())
    if len(flat) <= limit:
        return flat
    if limit <= 1:
        return ELLIPSIS[:limit]
    room = flat[:limit - 1]
    space = room.rfind(" ")
    if space >= (limit - 1) // 2:
        room = room[:space]
    return room.rstrip(" ,;:.-–—") + ELLIPSIS


def handover_why(handover: Handover) -> str:
    """Why the conversation was handed over, in words: the first line of its summary (``handover_rules``), else
    the reason code as words."""
    first = (handover.summary or "").strip().splitlines()[0].strip() if (handover.summary or "").strip() else ""
    return first.rstrip(".") if first else handover.reason.replace("_", " ")


def summary_line(why: str, first: str, last: str, limit: int = SUMMARY_LINE_CHARS) -> str:
    """``why · “first” → “latest”`` in at most ``limit`` characters, each part cut at a word boundary; the
    latest words only when they differ from the first, the reason alone when the shopper wrote nothing."""
    first, last = " ".join((first or "").split()), " ".join((last or "").split())
    words = [w for w in (first, last if last != first else "") if w]
    why_room = limit if not words else min(len(why), max(limit // 3, 12))
    head = shorten(why, why_room)
    room = limit - len(head) - len(" · ") - 2 * len(words) - (len(" → ") if len(words) > 1 else 0)
    if not words or room < 2 * len(words):
        return shorten(head, limit)
    if len(words) == 1:
        quoted = [shorten(words[0], room)]
    else:  # share the room, the latest words taking what the first leave
        first_room = min(len(words[0]), max(room // 2, room - len(words[1])))
        cut_first = shorten(words[0], first_room)
        quoted = [cut_first, shorten(words[1], room - len(cut_first))]
    return head + " · " + " → ".join(f"“{q}”" for q in quoted)


def shopper_messages(turns: Iterable[TurnRecord]) -> tuple[str, str]:
    """The shopper's first and latest words in a conversation (agents' turns have no shopper message)."""
    said = [t.message for t in turns if t.message.strip() and not t.author.startswith("agent:")]
    return (said[0], said[-1]) if said else ("", "")


def live_only(live: Iterable[LiveConversation], queue: Iterable[QueueItem]) -> list[LiveConversation]:
    """Live conversations that are not in the hand-over queue (one list each, no conversation in both)."""
    queued = {item.handover.session_id for item in queue}
    return [c for c in live if c.handover_id is None and c.session_id not in queued]


def conversation_revision(turns: Sequence[TurnRecord], handover: Handover | None, held_by: str | None) -> str:
    """What changes when the agent's view of a conversation must be drawn again: a new turn, who has it, its
    hand-over's state. Equal revisions: nothing to redraw."""
    last = turns[-1] if turns else None
    return "|".join([str(len(turns)), str(last.id if last else ""), held_by or "",
                     handover.id if handover else "", handover.status if handover else ""])
