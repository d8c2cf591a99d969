"""The copilot for support agents: the hand-over queue, a conversation's context, a suggested reply, sending it.

An agent opens a hand-over (or any live conversation) and sees the shopper's profile (stated and inferred
preferences with confidence, tier, points, orders, consent), the whole conversation and the hand-over. The
turn pipeline drafts a reply for the shopper's last message (``suggest``: sources, recommendations with
reasons, eligible offers; nothing recorded, no offer counted as shown). The agent edits and sends it
(``send``): the turn is recorded with ``author="agent:<username>"``, and its trace keeps the draft, what was
sent and the diff between them. The shopper's chat receives it through the session's turns.

Who has a conversation: an agent who took it over (``take_over``, kept in the session's state by
``SessionStore.hold``; an open hand-over is claimed with it). While they have it the assistant does not answer
(the turn graph's held path); ``give_back`` returns it to the assistant and resolves the hand-over. Only the
agent who has a conversation may send in it: anyone else gets ``HeldByAnotherAgent`` (a ``ConflictError``,
409 in the API) and nothing changes.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime
from typing import Any

from assistant.domain import ShopperIdentity
from assistant.errors import ConflictError, NotFoundError, ValidationError
from assistant.personalization.copywriter import review_copy
from assistant.privacy.redaction import redact
from assistant.records import ChatSession, ConsentState, EventRecord, Order, TurnRecord
from assistant.staff.roles import StaffPrincipal
from assistant.store.copy_queue import CopyDraft
from assistant.store.handovers import Handover
from assistant.turn.graph import taken_over_by
from assistant.turn.turn_service import AssistantService, DraftReply

MAX_REPLY_CHARS = 4000
GIVEN_BACK = "given back to the assistant"


class HeldByAnotherAgent(ConflictError):
    """The conversation is another agent's: nothing was sent or changed."""

    def __init__(self, session_id: str, agent: str | None) -> None:
        who = agent or "another agent"
        super().__init__(f"session {session_id} is held by {who}",
                         user_message=f"{who} has this conversation; nothing was sent. Your text is kept: "
                                      "ask them to give it back, or pick another conversation.")
        self.agent = agent


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


class Copilot:
    """Typed functions behind the agents' views and ``/api/v1/copilot``. Every method is for staff with the
    ``agent`` role; callers check the role."""

    def __init__(self, service: AssistantService, stores: Any = None, verifier: Any = None) -> None:
        self.service = service
        self.stores = stores if stores is not None else service.stores
        self._verifier = verifier

    # the queue ---------------------------------------------------------------------------------
    def queue(self, limit: int = 100) -> list[QueueItem]:
        """Unresolved hand-overs, oldest first, with reason, summary and the agent who has each."""
        return [QueueItem(h, self.holder(h.session_id, h)) for h in self.stores.handovers.list_open(limit)]

    def live(self, limit: int = 50, scan: int = 500) -> list[LiveConversation]:
        """Conversations with recent turns, most recent first (to take one over)."""
        found: dict[str, dict[str, Any]] = {}
        for t in self.stores.turns.recent(scan):  # newest first
            entry = found.setdefault(t.session_id, {"customer_id": t.customer_id, "last_at": t.created_at,
                                                    "last_message": "", "turns": 0})
            entry["turns"] += 1
            if not entry["last_message"] and t.message.strip():
                entry["last_message"] = t.message[:300]
        out = []
        for session_id, entry in list(found.items())[:limit]:
            handover = self.stores.handovers.open_for_session(session_id)
            out.append(LiveConversation(session_id, entry["customer_id"], entry["last_at"], entry["last_message"],
                                        entry["turns"], self.holder(session_id, handover),
                                        handover.id if handover else None))
        return out

    # one conversation --------------------------------------------------------------------------
    def context(self, session_id: str) -> ConversationContext:
        """The shopper's profile, the whole conversation and its open hand-over."""
        chat = self._session(session_id)
        return self._context(chat, self.stores.handovers.open_for_session(session_id))

    def handover_context(self, handover_id: str) -> ConversationContext:
        """``context`` of a hand-over's conversation, with that hand-over (even once resolved)."""
        handover = self.stores.handovers.get(handover_id)
        if handover is None:
            raise NotFoundError(f"hand-over {handover_id!r} not found", user_message="No such hand-over.")
        return self._context(self._session(handover.session_id), handover)

    def holder(self, session_id: str, handover: Handover | None = None) -> str | None:
        """The agent who has the conversation: who took it over, else who claimed its open hand-over."""
        chat = self.stores.sessions.find(session_id)
        holder = taken_over_by(chat.state if chat else None)
        if holder:
            return str(holder["agent"])
        if handover is None:
            handover = self.stores.handovers.open_for_session(session_id)
        return handover.agent if handover is not None and handover.status == "claimed" else None

    def suggest(self, session_id: str, message: str | None = None) -> DraftReply:
        """A reply to the shopper's last message (or to ``message``) drafted by the turn pipeline, with its
        sources, recommendations with reasons and eligible offers. Records nothing."""
        chat = self._session(session_id)
        if message is None:
            asked = [t.message for t in self.stores.turns.turns_for_session(chat.customer_id, session_id)
                     if t.message.strip() and not t.author.startswith("agent:")]
            if not asked:
                raise ValidationError(f"session {session_id} has no message to answer",
                                      user_message="The shopper has not written anything yet: nothing to draft.")
            message = asked[-1]
        identity = ShopperIdentity(chat.customer_id) if chat.customer_id else None
        return self.service.draft(identity, session_id, message)

    def _open_handover(self, session_id: str, agent: StaffPrincipal) -> Handover | None:
        """The session's unresolved hand-over; ``HeldByAnotherAgent`` if another agent claimed it."""
        self._session(session_id)
        handover = self.stores.handovers.open_for_session(session_id)
        if handover is not None and handover.status == "claimed" and handover.agent != agent.username:
            raise HeldByAnotherAgent(session_id, handover.agent)
        return handover

    # acting on it ------------------------------------------------------------------------------
    def take_over(self, session_id: str, agent: StaffPrincipal) -> ChatSession:
        """The agent takes the conversation (and claims its open hand-over): the assistant stops answering.
        Again by the same agent: nothing changes. Another agent's: ``HeldByAnotherAgent``."""
        handover = self._open_handover(session_id, agent)
        try:
            held: ChatSession = self.stores.sessions.hold(session_id, agent.username)
        except ConflictError as e:
            raise HeldByAnotherAgent(session_id, self.holder(session_id)) from e
        if handover is not None and handover.status == "open":
            try:
                self.stores.handovers.claim(handover.id, agent.username)
            except ConflictError as e:  # claimed by someone else in the meantime: undo ours
                self.stores.sessions.release(session_id, agent.username)
                raise HeldByAnotherAgent(session_id, self.holder(session_id)) from e
        return held

    def give_back(self, session_id: str, agent: StaffPrincipal, note: str | None = None) -> ChatSession:
        """The assistant answers again: the take-over ends and the open hand-over is resolved. Nobody had it:
        nothing changes. Another agent's: ``HeldByAnotherAgent``."""
        handover = self._open_handover(session_id, agent)
        try:
            released: ChatSession = self.stores.sessions.release(session_id, agent.username)
        except ConflictError as e:
            raise HeldByAnotherAgent(session_id, self.holder(session_id)) from e
        if handover is not None:
            self.stores.handovers.resolve(handover.id, agent.username, note or GIVEN_BACK)
        return released

    def send(self, session_id: str, agent: StaffPrincipal, text: str, draft: str | None = None) -> SentReply:
        """Send the agent's reply to the shopper: a turn with ``author="agent:<username>"``, no shopper message,
        and in its trace the draft, what was sent, whether and how it was edited. Sending takes the
        conversation over if nobody has it; another agent's conversation raises ``HeldByAnotherAgent`` and
        records nothing."""
        clean = (text or "").strip()
        if not clean:
            raise ValidationError("empty agent reply", user_message="Write the reply before sending it.")
        if len(clean) > MAX_REPLY_CHARS:
            raise ValidationError(f"agent reply of {len(clean)} characters",
                                  user_message=f"A reply has at most {MAX_REPLY_CHARS:,} characters.")
        chat = self._session(session_id)
        self.take_over(session_id, agent)
        sent = redact(clean).text
        drafted = redact(draft.strip()).text if draft is not None else None
        edited = drafted is None or drafted != sent
        diff = draft_diff(drafted, sent) if drafted is not None and edited else ""
        trace = {"agent": agent.username, "draft": drafted, "sent": sent, "edited": edited, "diff": diff,
                 "from_draft": drafted is not None}
        record = TurnRecord(session_id=session_id, customer_id=chat.customer_id, message="", reply=sent,
                            status="ok", intent=None, verdict="agent", handover=False, trace=trace,
                            author=agent.author)
        event = EventRecord(kind="agent_reply", payload={"agent": agent.username, "edited": edited,
                                                         "from_draft": drafted is not None})
        turn = self.stores.turns.record_turn(record, [event])
        return SentReply(turn, edited, diff, redacted=sent != clean)

    # marketing copy review (delegates to the copy queue) ----------------------------------------
    def pending_copy(self, limit: int = 200) -> list[CopyDraft]:
        return list(self.stores.copy.list("pending", limit))

    def approve_copy(self, draft_id: str, agent: StaffPrincipal, reason: str | None = None) -> CopyDraft:
        return review_copy(self.stores.copy, self.verifier, draft_id, "approve", agent.username, None, reason)

    def edit_copy(self, draft_id: str, agent: StaffPrincipal, text: str, reason: str | None = None) -> CopyDraft:
        """Approve with the agent's text; problems against the draft's facts land in ``verdict.review.warnings``."""
        return review_copy(self.stores.copy, self.verifier, draft_id, "edit", agent.username, text, reason)

    def reject_copy(self, draft_id: str, agent: StaffPrincipal, reason: str | None = None) -> CopyDraft:
        return review_copy(self.stores.copy, self.verifier, draft_id, "reject", agent.username, None, reason)

    @property
    def verifier(self) -> Any:
        """The chat's checks for edited copy: the catalogue and every offer code, active or not."""
        if self._verifier is None:
            from assistant.turn.verifier import Verifier

            codes = {str(o["code"]) for o in self.stores.offers.all(include_inactive=True)}
            self._verifier = Verifier(self.service.deps.catalog, codes)
        return self._verifier

    # ------------------------------------------------------------------------------------------
    def _session(self, session_id: str) -> ChatSession:
        chat: ChatSession | None = self.stores.sessions.find(session_id)
        if chat is None:
            raise NotFoundError(f"chat session {session_id!r} not found", user_message="No such conversation.")
        return chat

    def _context(self, chat: ChatSession, handover: Handover | None) -> ConversationContext:
        customer = self._customer(chat.customer_id) if chat.customer_id else None
        turns = tuple(self.stores.turns.turns_for_session(chat.customer_id, chat.id))
        holder = taken_over_by(chat.state)
        held_by = str(holder["agent"]) if holder else (
            handover.agent if handover is not None and handover.status == "claimed" else None)
        return ConversationContext(chat.id, customer, turns, handover, held_by, chat.channel)

    def _customer(self, customer_id: str) -> CustomerContext | None:
        profile = self.stores.customers.get(customer_id)
        if profile is None:
            return None
        return CustomerContext(
            id=profile.id, name=profile.name, tier=profile.tier, points=profile.points, consent=profile.consent,
            joined_at=profile.joined_at, preferences=tuple(self.service.learner.view(customer_id)),
            orders=tuple(self.stores.orders.list_for(customer_id)))
