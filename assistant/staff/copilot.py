"""The copilot for support agents: the hand-over queue, a conversation's context, a suggested reply, sending it.

An agent opens a hand-over (or any live conversation) and sees the shopper's profile (stated and inferred
preferences with confidence, tier, points, orders, consent), the whole conversation and the hand-over. The
turn pipeline drafts a reply to what the shopper needs (``suggest``, see ``agent_drafts``: the newest need in the
conversation, not a bare request for a person; sources, recommendations with reasons, eligible offers; nothing
recorded, no offer counted as shown; never an offer of a person). The agent edits and sends it
(``send``): the turn is recorded with ``author="agent:<username>"``, and its trace keeps the draft, what was
sent and the diff between them. The shopper's chat receives it through the session's turns.

Who has a conversation: an agent who took it over (``take_over``, kept in the session's state by
``SessionStore.hold``; an open hand-over is claimed with it). While they have it the assistant does not answer
(the turn graph's held path); ``give_back`` returns it to the assistant and resolves the hand-over. Only the
agent who has a conversation may send in it: anyone else gets ``HeldByAnotherAgent`` (a ``ConflictError``,
409 in the API) and nothing changes.

The agent's screen keeps up by asking for ``revision`` every few seconds (cheap: no profile) and loading
``context`` only when it changed; ``queue`` items carry the shopper's first and latest words for a one-line
summary (``QueueItem.line``), and ``live`` conversations with an open hand-over are left out of the live list by
``live_only``.

The hand-over queue has one vocabulary, the copilot's: ``handovers`` lists, ``handover`` finds (``NotFoundError``),
``claim`` and ``resolve`` act on one for a named agent (``ConflictError`` when another agent has it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from assistant.domain import ShopperIdentity
from assistant.errors import ConflictError, NotFoundError, ValidationError
from assistant.privacy.redaction import redact
from assistant.records import ChatSession, EventRecord, TurnRecord
from assistant.staff.agent_drafts import shopper_needs, suggest_reply
from assistant.staff.conversation_views import (
    ConversationContext,
    CustomerContext,
    Handover,
    LiveConversation,
    QueueItem,
    SentReply,
    SuggestedReply,
    conversation_revision,
    draft_diff,
    shopper_messages,
)
from assistant.staff.copy_review import CopyDraft, CopyReview
from assistant.staff.roles import StaffPrincipal
from assistant.turn.session_nodes import taken_over_by

if TYPE_CHECKING:
    from assistant.store.stores import Stores
    from assistant.turn.turn_service import AssistantService
    from assistant.turn.verifier import Verifier
    from knowledge.knowledge_store import Hit

__all__ = ["GIVEN_BACK", "MAX_REPLY_CHARS", "UNRESOLVED", "ConversationContext", "Copilot", "CustomerContext",
           "Handover", "HeldByAnotherAgent", "LiveConversation", "QueueItem", "SentReply", "SuggestedReply"]

MAX_REPLY_CHARS = 4000
GIVEN_BACK = "given back to the assistant"
UNRESOLVED = ("open", "claimed")


class HeldByAnotherAgent(ConflictError):
    """The conversation is another agent's: nothing was sent or changed."""

    def __init__(self, session_id: str, agent: str | None) -> None:
        who = agent or "another agent"
        super().__init__(f"session {session_id} is held by {who}",
                         user_message=f"{who} has this conversation; nothing was sent. Your text is kept: "
                                      "ask them to give it back, or pick another conversation.")
        self.agent = agent
        #: for ``send``: the text and the draft that were not sent, so nothing the agent wrote is lost
        self.unsent: dict[str, str | None] | None = None


class Copilot:
    """Typed functions behind the agents' views and ``/api/v1/copilot``. Every method is for staff with the
    ``agent`` role; callers check the role."""

    def __init__(self, service: AssistantService | None = None, stores: Stores | None = None,
                 verifier: Verifier | None = None, *, service_factory: Callable[[], AssistantService] | None = None,
                 copy_review: CopyReview | None = None) -> None:
        """``service``: the turn service, or ``service_factory`` to build it on first use (the hand-over queue
        needs no chat model); ``stores`` default to the service's."""
        if service is None and service_factory is None:
            raise ValueError("a Copilot needs the turn service or a factory for it")
        if stores is None:
            if service is None:
                raise ValueError("a Copilot built from a service factory needs the stores")
            stores = service.stores
        self._service = service
        self._service_factory = service_factory
        self.stores = stores
        self._verifier = verifier
        self.copy_review = copy_review or CopyReview(stores.copy, lambda: self.verifier)

    @property
    def service(self) -> AssistantService:
        if self._service is None:
            assert self._service_factory is not None
            self._service = self._service_factory()
        return self._service

    # hand-overs ---------------------------------------------------------------------------------
    def handovers(self, statuses: tuple[str, ...] = UNRESOLVED, limit: int = 100) -> list[Handover]:
        """Hand-overs with one of ``statuses``, oldest first (default: open and claimed ones)."""
        return list(self.stores.handovers.list_open(limit, statuses))

    def handover(self, handover_id: str) -> Handover:
        """One hand-over; ``NotFoundError`` if there is none."""
        handover = self.stores.handovers.get(handover_id)
        if handover is None:
            raise NotFoundError(f"hand-over {handover_id!r} not found", user_message=f"no hand-over {handover_id!r}")
        return handover

    def handover_turns(self, handover: Handover) -> list[TurnRecord]:
        """The hand-over's conversation so far, oldest first (redacted, as stored)."""
        return list(self.stores.turns.turns_for_session(handover.customer_id, handover.session_id))

    def claim(self, handover_id: str, agent: str) -> Handover:
        """``agent`` takes the hand-over; ``ConflictError`` if another agent has it."""
        self.handover(handover_id)
        return self.stores.handovers.claim(handover_id, agent)

    def resolve(self, handover_id: str, agent: str, note: str | None = None) -> Handover:
        """Close the hand-over; the assistant answers in that conversation again."""
        self.handover(handover_id)
        return self.stores.handovers.resolve(handover_id, agent, note)

    # the queue ---------------------------------------------------------------------------------
    def queue(self, limit: int = 100) -> list[QueueItem]:
        """Unresolved hand-overs, oldest first, with reason, summary, the agent who has each and the shopper's
        first and latest words (for ``QueueItem.line``)."""
        items = []
        for h in self.stores.handovers.list_open(limit):
            first, last = shopper_messages(self.stores.turns.turns_for_session(h.customer_id, h.session_id))
            items.append(QueueItem(h, self.holder(h.session_id, h), first, last))
        return items

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

    def revision(self, session_id: str) -> str:
        """``conversation_revision`` of the conversation now, without the shopper's profile: cheap enough to ask
        every few seconds; when it differs from the one shown, ``context`` has something new."""
        chat = self._session(session_id)
        handover = self.stores.handovers.open_for_session(session_id)
        turns = self.stores.turns.turns_for_session(chat.customer_id, session_id)
        return conversation_revision(turns, handover, self._held_by(chat, handover))

    def holder(self, session_id: str, handover: Handover | None = None) -> str | None:
        """The agent who has the conversation: who took it over, else who claimed its open hand-over."""
        chat = self.stores.sessions.find(session_id)
        holder = taken_over_by(chat.state if chat else None)
        if holder:
            return str(holder["agent"])
        if handover is None:
            handover = self.stores.handovers.open_for_session(session_id)
        return handover.agent if handover is not None and handover.status == "claimed" else None

    def suggest(self, session_id: str, message: str | None = None) -> SuggestedReply:
        """A reply to what the shopper needs (``agent_drafts``: the newest need in the conversation, not a bare
        request for a person), or to ``message``, drafted from facts by the turn pipeline with its sources,
        recommendations with reasons and eligible offers, written to the shopper. Records nothing."""
        chat = self._session(session_id)
        turns = self.stores.turns.turns_for_session(chat.customer_id, session_id)
        asked = [t.message for t in turns if t.message.strip() and not t.author.startswith("agent:")]
        if message is None and not asked:
            raise ValidationError(f"session {session_id} has no message to answer",
                                  user_message="The shopper has not written anything yet: nothing to draft.")
        needs = shopper_needs(turns) if message is None else [message]
        identity = ShopperIdentity(chat.customer_id) if chat.customer_id else None
        profile = self.stores.customers.get(chat.customer_id) if chat.customer_id else None
        greet = self.stores.handovers.open_for_session(session_id) is not None and \
            not any(t.author.startswith("agent:") for t in turns)

        def policies(text: str) -> list[Hit]:
            deps = self.service.deps
            return deps.shop_tools.for_shopper(chat.customer_id).search_policies(text, deps.settings.agent.policy_k)

        return suggest_reply(session_id, needs, message if message is not None else asked[-1],
                             lambda text: self.service.draft(identity, session_id, text), policies, greet=greet,
                             first_name=profile.name.split()[0] if profile and profile.name.strip() else None)

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

    def send(self, session_id: str, agent: StaffPrincipal, text: str, draft: str | None = None,
             draft_session_id: str | None = None) -> SentReply:
        """Send the agent's reply to the shopper: a turn with ``author="agent:<username>"``, no shopper message,
        and in its trace the draft, what was sent, whether and how it was edited, and the agent's display name
        (``shown_as``: what the shopper sees; the username is for staff). Sending takes the
        conversation over if nobody has it; another agent's conversation raises ``HeldByAnotherAgent`` and
        records nothing. ``draft_session_id``: the conversation the draft was suggested for
        (``SuggestedReply.session_id``); another conversation's draft is refused (``ValidationError``)."""
        if draft_session_id is not None and draft_session_id != session_id:
            raise ValidationError(f"a draft for session {draft_session_id} sent to session {session_id}",
                                  user_message="That draft was suggested for another conversation: nothing was "
                                               "sent. Ask for a suggestion in this conversation.")
        clean = (text or "").strip()
        if not clean:
            raise ValidationError("empty agent reply", user_message="Write the reply before sending it.")
        if len(clean) > MAX_REPLY_CHARS:
            raise ValidationError(f"agent reply of {len(clean)} characters",
                                  user_message=f"A reply has at most {MAX_REPLY_CHARS:,} characters.")
        chat = self._session(session_id)
        try:
            self.take_over(session_id, agent)
        except HeldByAnotherAgent as e:
            e.unsent = {"text": text, "draft": draft}
            raise
        sent = redact(clean).text
        drafted = redact(draft.strip()).text if draft is not None else None
        edited = drafted is None or drafted != sent
        diff = draft_diff(drafted, sent) if drafted is not None and edited else ""
        account = self.stores.staff.get_user(agent.username)  # the staff key's "service" has no account
        trace = {"agent": agent.username, "draft": drafted, "sent": sent, "edited": edited, "diff": diff,
                 "from_draft": drafted is not None, "language": (chat.state or {}).get("language"),
                 "shown_as": account.display_name if account is not None else None}
        record = TurnRecord(session_id=session_id, customer_id=chat.customer_id, message="", reply=sent,
                            status="ok", intent=None, verdict="agent", handover=False, trace=trace,
                            author=agent.author)
        event = EventRecord(kind="agent_reply", payload={"agent": agent.username, "edited": edited,
                                                         "from_draft": drafted is not None})
        turn = self.stores.turns.record_turn(record, [event])
        return SentReply(turn, edited, diff, redacted=sent != clean)

    # marketing copy review (delegates to the copy review queue) ----------------------------------
    def pending_copy(self, limit: int = 200) -> list[CopyDraft]:
        return self.copy_review.pending(limit)

    def approve_copy(self, draft_id: str, agent: StaffPrincipal, reason: str | None = None) -> CopyDraft:
        return self.copy_review.approve(draft_id, agent.username, reason)

    def edit_copy(self, draft_id: str, agent: StaffPrincipal, text: str, reason: str | None = None) -> CopyDraft:
        """Approve with the agent's text; problems against the draft's facts land in ``verdict.review.warnings``."""
        return self.copy_review.edit(draft_id, agent.username, text, reason)

    def reject_copy(self, draft_id: str, agent: StaffPrincipal, reason: str | None = None) -> CopyDraft:
        return self.copy_review.reject(draft_id, agent.username, reason)

    @property
    def verifier(self) -> Verifier:
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
        return ConversationContext(chat.id, customer, turns, handover, self._held_by(chat, handover), chat.channel)

    @staticmethod
    def _held_by(chat: ChatSession, handover: Handover | None) -> str | None:
        holder = taken_over_by(chat.state)
        return str(holder["agent"]) if holder else (
            handover.agent if handover is not None and handover.status == "claimed" else None)

    def _customer(self, customer_id: str) -> CustomerContext | None:
        profile = self.stores.customers.get(customer_id)
        if profile is None:
            return None
        return CustomerContext(
            id=profile.id, name=profile.name, tier=profile.tier, points=profile.points, consent=profile.consent,
            joined_at=profile.joined_at, preferences=tuple(self.service.learner.view(customer_id)),
            orders=tuple(self.stores.orders.list_for(customer_id)))
