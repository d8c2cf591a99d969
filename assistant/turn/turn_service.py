"""The assistant service: one turn in, a stream of typed events out, and the turn recorded.

``AssistantService.respond`` is the single entry point that the chat UI and the REST API call. Every
turn that reaches it is stored, including failed ones, in one transaction with its trace and events.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.domain import (
    Citation,
    DoneEvent,
    Event,
    OfferView,
    ProductCard,
    ReplaceText,
    ShopperIdentity,
    TextDelta,
    fold,
)
from assistant.errors import ConciergeError, NotFoundError, ValidationError
from assistant.locales import text
from assistant.personalization.preference_learning import PreferenceLearner
from assistant.privacy.redaction import redact
from assistant.records import EventRecord, TurnRecord
from assistant.store.stores import Stores
from assistant.turn.graph import build_draft_graph, build_graph, state_summary, stream_steps
from assistant.turn.guest_sessions import GuestSessions
from assistant.turn.session_nodes import remember_error
from assistant.turn.state import TurnDeps, TurnState

if TYPE_CHECKING:
    from assistant.turn.graph import TurnGraph

log = logging.getLogger(__name__)


def _redact(text: str) -> str:
    return redact(text).text


@dataclass(frozen=True)
class DraftReply:
    """A reply the turn pipeline suggests for a support agent to review; nothing of it was recorded."""

    message: str  # what it answers (as stored: redacted)
    reply: str
    intent: str
    verdict: str  # pass | fallback | no_facts | refused | template | blocked:...
    sources: tuple[Citation, ...] = ()
    products: tuple[ProductCard, ...] = ()  # recommendations carry their reason
    offers: tuple[OfferView, ...] = ()  # eligible offers the bandit picked (not counted as shown)
    problems: tuple[str, ...] = ()  # why the verifier replaced the model's text, if it did

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class AssistantService:
    def __init__(self, deps: TurnDeps, stores: Stores,
                 new_id: Callable[[], str] = lambda: uuid.uuid4().hex) -> None:
        self.deps = deps
        self.stores = stores
        self.sessions = stores.sessions
        self.turns = stores.turns
        self.new_id = new_id
        self.graph = build_graph(deps, self._record_node)
        self._draft_graph: TurnGraph | None = None
        self.learner = PreferenceLearner(deps.customers, deps.now, deps.settings.profile)
        self.guests = GuestSessions(stores, self.learner)  # guest conversations, and joining them on sign-in
        self._started: dict[str, float] = {}

    # sessions ----------------------------------------------------------------------------------
    def open_session(self, identity: ShopperIdentity | None, channel: str = "web") -> str:
        return str(self.sessions.open_session(identity.customer_id if identity else None, channel))

    def history(self, identity: ShopperIdentity | None, session_id: str) -> list[TurnRecord]:
        customer_id = identity.customer_id if identity else None
        if self.sessions.get_session(customer_id, session_id) is None:
            raise NotFoundError(f"unknown session {session_id!r}",
                                user_message="That conversation does not exist or is not yours.")
        return list(self.turns.turns_for_session(customer_id, session_id))

    def updates(self, identity: ShopperIdentity | None, session_id: str, after: str | None = None
                ) -> list[TurnRecord]:
        """The session's turns after ``after`` (a turn id of this session, or an ISO time), oldest first: what a
        polling chat widget has not shown yet, agents' replies included (``author``). Raises NotFoundError for
        a session that is not the shopper's, ValidationError for an ``after`` that is neither."""
        turns = self.history(identity, session_id)
        if not after:
            return turns
        ids = [t.id for t in turns]
        if after in ids:
            return turns[ids.index(after) + 1:]
        try:
            since = datetime.fromisoformat(after.replace("Z", "+00:00"))
        except ValueError as e:
            raise ValidationError(f"bad 'after' {after!r}", user_message="'after' must be the id of a turn of "
                                  "this conversation or an ISO 8601 time such as 2026-11-29T12:00:00Z.") from e
        if since.tzinfo is None:
            raise ValidationError(f"naive 'after' {after!r}",
                                  user_message="'after' needs a time zone, e.g. 2026-11-29T12:00:00Z.")
        return [t for t in turns if t.created_at is not None and t.created_at > since]

    # the turn ----------------------------------------------------------------------------------
    def respond(self, identity: ShopperIdentity | None, session_id: str | None, message: str,
                channel: str = "web") -> Iterator[Event]:
        """Validate the session now (raises NotFoundError), then return the turn's event stream."""
        customer_id = identity.customer_id if identity else None
        if session_id is None:
            session_id = self.sessions.open_session(customer_id, channel)
        elif self.sessions.get_session(customer_id, session_id) is None:
            raise NotFoundError(f"unknown session {session_id!r}",
                                user_message="That conversation does not exist or is not yours.")
        state = TurnState(turn_id=self.new_id(), session_id=str(session_id), customer_id=customer_id,
                          message=message if isinstance(message, str) else "")
        return self._run(state)

    def _run(self, state: TurnState) -> Iterator[Event]:
        """Run the turn in its own thread and relay its events.

        A caller that stops listening (a browser tab closed, an SSE client gone) closes this generator;
        the turn still runs to its end and is recorded, so no turn is lost to a disconnect.
        """
        events: queue.Queue[Event | None] = queue.Queue()

        def work() -> None:
            try:
                for event in self._execute(state):
                    events.put(event)
            except Exception:  # _execute records failures itself; this only keeps the relay from hanging
                log.exception("turn %s could not be completed", state.turn_id)
            finally:
                events.put(None)

        threading.Thread(target=work, name=f"turn-{state.turn_id[:8]}", daemon=True).start()
        while (event := events.get()) is not None:
            yield event

    def _execute(self, state: TurnState) -> Iterator[Event]:
        self._started[state.turn_id] = time.perf_counter()
        final: dict[str, Any] | None = None
        emitted_text = False
        try:
            for mode, payload in stream_steps(self.graph, state):
                if mode == "custom":
                    if isinstance(payload, TextDelta):
                        emitted_text = True
                    yield payload
                else:
                    final = payload
        except Exception as e:  # a failed step: the shopper gets a clear line and the turn is still logged
            log.exception("turn %s failed", state.turn_id)
            partial = TurnState(**final) if final else state
            reply = text("unavailable", partial.language)
            yield ReplaceText(reply, "error") if emitted_text else TextDelta(reply)
            failed = replace(partial, reply=reply, status="error", verdict="error",
                             problems=[*partial.problems, f"{type(e).__name__}: {e}"])
            self._store(failed, error=e)
            remember_error(self.stores, state.customer_id, state.session_id)
            yield DoneEvent(state.turn_id, state.session_id, reply, failed.understanding.intent
                            if failed.understanding else "", "error")
            return
        done = TurnState(**final) if final else state
        yield DoneEvent(state.turn_id, state.session_id, done.reply,
                        done.understanding.intent if done.understanding else "", done.verdict)

    def draft(self, identity: ShopperIdentity | None, session_id: str, message: str) -> DraftReply:
        """The reply the turn pipeline would give to ``message`` in this session (guard, profile, understand,
        tools, compose, verify), for an agent to review. Records nothing: no turn, no events, no session state,
        no offer counted as shown. A failure raises ``ConciergeError`` (the agent writes the reply instead)."""
        customer_id = identity.customer_id if identity else None
        if self.sessions.get_session(customer_id, session_id) is None:
            raise NotFoundError(f"unknown session {session_id!r}", user_message="That conversation does not exist.")
        if self._draft_graph is None:
            self._draft_graph = build_draft_graph(self.deps)
        state = TurnState(turn_id=f"draft-{self.new_id()}", session_id=session_id, customer_id=customer_id,
                          message=message)
        events: list[Event] = []
        final: dict[str, Any] | None = None
        try:
            for mode, payload in stream_steps(self._draft_graph, state):
                if mode == "custom":
                    events.append(payload)
                else:
                    final = payload
        except ConciergeError:
            raise
        except Exception as e:
            log.exception("drafting a reply in session %s failed", session_id)
            raise ConciergeError(f"drafting a reply failed: {type(e).__name__}: {e}",
                                 user_message="The assistant could not draft a reply right now; write one "
                                              "yourself.") from e
        done = TurnState(**final) if final else state
        folded = fold(events)
        stored = done.guard.stored_text if done.guard else _redact(message)
        return DraftReply(message=stored, reply=done.reply or folded.reply,
                          intent=done.understanding.intent if done.understanding else "",
                          verdict=done.verdict, sources=folded.sources, products=folded.products, offers=folded.offers,
                          problems=tuple(done.problems))

    def _record_node(self, state: TurnState) -> dict[str, Any]:
        self._store(state)
        return {}

    def _store(self, state: TurnState, error: Exception | None = None) -> None:
        started = self._started.pop(state.turn_id, None)
        latency = int((time.perf_counter() - started) * 1000) if started else None
        trace = state_summary(state)
        trace["facts"] = [_redact(line) for line in trace["facts"]]
        trace["raw_model_text"] = _redact(trace["raw_model_text"])
        if error is not None:
            trace["error"] = {"type": type(error).__name__, "message": _redact(str(error))[:500],
                              "user_message": getattr(error, "user_message", None)}
        stored_message = state.guard.stored_text if state.guard else _redact(state.message[:10_000])
        events: list[EventRecord] = []
        kind = "recommendation_shown" if state.understanding and state.understanding.intent == "recommendation" \
            else "product_shown"
        for card in state.products:
            events.append(EventRecord(kind=kind, payload={"product_id": card.id, "reason": card.reason}))
        for offer in state.offers:
            events.append(EventRecord(kind="offer_shown", payload={"offer_id": offer["id"], "code": offer["code"],
                                                                   **(offer.get("bandit") or {})}))
        if state.handover:
            events.append(EventRecord(kind="handover", payload=dict(state.handover)))
        events.extend(EventRecord(kind=e["kind"], payload=dict(e["payload"])) for e in state.events)
        record = TurnRecord(
            id=state.turn_id, session_id=state.session_id, customer_id=state.customer_id,
            message=stored_message, reply=_redact(state.reply),
            status="error" if error is not None else ("fallback" if state.status == "fallback" else "ok"),
            intent=state.understanding.intent if state.understanding else None, verdict=state.verdict or None,
            handover=state.handover is not None, trace=trace, latency_ms=latency,
            model=getattr(self.deps.llm, "model_name", None) or type(self.deps.llm).__name__,
        )
        inferred = self.learner.extract_turn(state.customer_id, state.personalized, state.guard,
                                             self.deps.catalog.categories, self.deps.catalog.brands,
                                             self.deps.catalog.vocabulary)
        if inferred:
            trace["preferences_inferred"] = [e.to_dict() for e in inferred]
        try:
            self.turns.record_turn(record, events)
        except ConciergeError:
            log.exception("could not record turn %s", state.turn_id)
            raise
        self._count_offers_shown(state)
        # right after the turn's transaction (the store has no shared one): a failure is logged, never raised
        self.learner.learn_safely(state.customer_id, state.turn_id, inferred)

    def _count_offers_shown(self, state: TurnState) -> None:
        """The bandit's ``shown`` counts, after the turn and its offer_shown events are stored."""
        for offer in state.offers:
            bandit = offer.get("bandit") or {}
            if bandit.get("segment"):
                try:
                    self.stores.bandit.record_shown(str(bandit["segment"]), str(offer["id"]),
                                                    [str(f) for f in bandit.get("features") or ()])
                except ConciergeError:  # the turn is stored; a lost count only slows learning a little
                    log.exception("could not count offer %s as shown", offer["id"])

    # "what we think you like" -----------------------------------------------------------------
    def preferences(self, identity: ShopperIdentity) -> list[dict[str, Any]]:
        """The shopper's preferences (stated and inferred) with confidence now and whether each is used."""
        return self.learner.view(identity.customer_id)

    def remove_preference(self, identity: ShopperIdentity, preference_id: int) -> dict[str, Any]:
        """Remove one of the shopper's own preferences for good (NotFoundError if not theirs)."""
        return self.learner.remove(identity.customer_id, preference_id)

    def feedback(self, identity: ShopperIdentity | None, turn_id: str, rating: str, note: str = "") -> None:
        """Thumbs up/down for one of the shopper's own turns, stored as an event."""
        if rating not in ("up", "down"):
            raise ValueError("rating must be 'up' or 'down'")
        turn = self.turns.get_turn(turn_id)
        customer_id = identity.customer_id if identity else None
        if turn is None or turn.customer_id != customer_id:
            raise NotFoundError(f"unknown turn {turn_id!r}", user_message="That answer does not exist.")
        self.stores.events.add(EventRecord(
            kind="feedback", customer_id=customer_id, session_id=turn.session_id, turn_id=turn_id,
            payload={"rating": rating, "note": _redact(note)[:1000]}))
