"""The turn's nodes for the conversation's state: the session, order actions, hand-overs, and memory.

- ``session``: reads the chat session's state (a pending action, the last refusal, failures in a row)
  and whether a person has taken the conversation over.
- ``action``: proposes an order action, or carries out / drops the pending one on yes / no.
- ``handover``: queues the conversation for a person with a reason and a summary.
- ``waiting``: while a person has the conversation, the assistant does not answer by itself; once an agent took it
  over (``held``), the shopper's messages wait for them with no reply.
- ``remember``: counts failures in a row (and hands over after too many), saves what the next turn needs.

What the session remembers lasts one turn: a pending action must be confirmed in the very next turn.
Every reply here is a template filled from the store and the policy; the model is not asked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from assistant.domain import HandoverEvent, ReplaceText, TextDelta
from assistant.locales import fixed_prefix, languages, text
from assistant.orders.order_actions import ActionOutcome
from assistant.staff.support_hours import away_reply
from assistant.turn.action_replies import action_kind, action_reply
from assistant.turn.guest_turns import LEARNED_KEY, is_guest, learned_in_session, learned_items
from assistant.turn.handover_rules import nobody_there, open_handover, waiting_reply
from assistant.turn.shopper_language import reply_language

if TYPE_CHECKING:
    from assistant.orders.order_policy import PendingAction
    from assistant.store.stores import Stores
    from assistant.turn.state import Emit, Node, TurnDeps, TurnState

log = logging.getLogger(__name__)
#: a reply offering a person, in every language: a "yes" to it starts a hand-over
OFFERS_A_PERSON = tuple(text("offers_a_person", lang) for lang in languages())
CLARIFY_INTENTS = ("order_status", "other", "product", "policy")


def session_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    chat = deps.stores.sessions.get_session(state.customer_id, state.session_id)
    handed_over = deps.stores.handovers.open_for_session(state.session_id) is not None
    session = dict(chat.state) if chat else {}
    language = reply_language(state.message_language, session.get("language"), deps.settings.language.default)
    return {"session_state": session, "handed_over": handed_over, "language": language}


def wants_action(state: TurnState) -> bool:
    """An order action, a yes/no to a pending one, or the answer to the assistant's question about one."""
    u, session = state.understanding, state.session_state or {}
    if u is None:
        return False
    if u.intent in ("order_action", "confirm", "deny"):
        return True
    return bool(session.get("clarify")) and u.intent in CLARIFY_INTENTS


def waiting_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    message = state.guard.text if state.guard else state.message
    reply = waiting_reply(deps.stores, deps.settings.support, state.session_id, message, state.language,
                          deps.now()) or text("handover.waiting", state.language)
    emit(TextDelta(reply))
    return {"reply": reply, "verdict": "handed_over"}


def taken_over_by(session_state: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``{"agent", "at"}`` while an agent has taken the conversation over (``SessionStore.hold``), else None."""
    holder = (session_state or {}).get("taken_over_by")
    return dict(holder) if isinstance(holder, Mapping) and holder.get("agent") else None


def held_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    """A person has the conversation. Taken over by an agent: the message is recorded for them with no reply
    (``HELD`` once per take-over); a hand-over nobody took over yet: the waiting reply. Never the model."""
    holder = taken_over_by(state.session_state)
    if holder is None:
        return waiting_node(state, deps, emit)
    since = str(holder.get("at") or "")
    reply = "" if (state.session_state or {}).get("held_notified") == since else text("handover.held", state.language)
    if reply:
        emit(TextDelta(reply))
    return {"reply": reply, "verdict": "held", "held_for": str(holder["agent"]), "carry": {"held_notified": since}}


def start_handover(state: TurnState, deps: TurnDeps, emit: Emit, reason: str, detail: str | None = None,
                   replace: bool = False) -> dict[str, Any]:
    """Queue the conversation for a person and tell the shopper; the update for the turn's state."""
    message = state.guard.stored_text if state.guard else ""
    away = None
    try:
        away = nobody_there(deps.settings.support, deps.stores, deps.now())
        handover = open_handover(deps.stores, state.session_id, state.customer_id, state.turn_id, reason, message,
                                 detail, deps.settings.handover.summary_turns, away is not None, deps.notifier)
    except Exception:  # the queue is down: still tell the shopper and keep it in the turn's events
        log.exception("could not queue a hand-over for session %s", state.session_id)
        handover, away = {"reason": reason, "summary": f"{detail or reason}: {message[:300]}"}, None
    reply = text(f"handover.{reason}", state.language) if away is None else away_reply(away, state.language, reason)
    emit(ReplaceText(reply, "handover") if replace else TextDelta(reply))
    emit(HandoverEvent(handover["reason"], handover["summary"]))
    return {"reply": reply, "verdict": "handover", "handover": handover, "carry": {}}


def handover_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    reason = state.handover_reason or "customer_request"
    refusal = (state.session_state or {}).get("last_refusal") if reason == "policy_restriction" else None
    return start_handover(state, deps, emit, reason, refusal.get("message") if refusal else None)


def action_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    assert state.understanding is not None and state.guard is not None
    u, session = state.understanding, state.session_state or {}
    tier = state.profile.tier if state.profile else None
    now = deps.now()
    if u.intent == "confirm" and not session.get("pending_action") and session.get("handover_offered"):
        return start_handover(state, deps, emit, str(session["handover_offered"]))
    if u.intent == "confirm":
        outcome = deps.actions.confirm(state.customer_id, tier, session, now, state.turn_id)
    elif u.intent == "deny":
        outcome = deps.actions.decline(session)
    else:
        clarify = session.get("clarify") or {}
        outcome = deps.actions.propose_from_message(state.customer_id, tier, state.guard.text, u, now,
                                                    default_kind=clarify.get("kind") or action_kind(state.guard.text),
                                                    order_id=clarify.get("order_id"))
    reply = action_reply(outcome, state.language, deps.settings.orders, session, state.customer_id is not None)
    emit(TextDelta(reply))
    return {"reply": reply, "verdict": outcome.verdict, "action": outcome.trace(),
            "events": list(outcome.events), "carry": carry(outcome, session, deps.actions.summary)}


def carry(outcome: ActionOutcome, session: Mapping[str, Any], summary: Callable[[PendingAction], str]
          ) -> dict[str, Any]:
    """What the next turn needs to know about this one's action."""
    if outcome.pending is not None:
        return {"pending_action": outcome.pending.to_dict()}
    if outcome.done is not None:
        return {"last_action": {"id": outcome.done.id, "kind": outcome.done.kind, "order_id": outcome.done.order_id,
                                "summary": summary(outcome.done)}}
    if outcome.verdict == "action_already_done" and session.get("last_action"):
        return {"last_action": session["last_action"]}
    if outcome.refusal is not None:
        r = outcome.refusal
        return {"last_refusal": {"kind": r.kind, "order_id": r.order_id, "reason": r.reason, "message": r.message}}
    if outcome.verdict == "action_clarify":
        return {"clarify": {"kind": outcome.kind, "order_id": outcome.order_id}}
    return {}


def failed(state: TurnState) -> bool:
    """The assistant could not answer: no facts, or only the 'I don't know' reply."""
    return state.verdict in ("no_facts", "error") or state.reply.startswith(fixed_prefix("nothing_found"))


def remember_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    """Count failures in a row (hand over after too many) and save what the next turn needs."""
    if state.session_state is None:  # the session was never read (blocked input): leave it alone
        return {}
    update: dict[str, Any] = {}
    kept = dict(state.carry)
    misses = int(state.session_state.get("failures") or 0) + 1 if failed(state) else 0
    if any(phrase in state.reply for phrase in OFFERS_A_PERSON) and not state.handover:
        kept.setdefault("handover_offered", "missing_knowledge")
    limit = deps.settings.handover.failures_in_a_row
    if limit and misses >= limit and not state.handover and not state.handed_over:
        update = start_handover(state, deps, emit, "missing_knowledge", f"{misses} answers in a row failed",
                                replace=bool(state.reply))
        kept, misses = {}, 0
    # a guest's tastes said in this conversation; after sign-in, kept until the customer decides (guest_sessions)
    learned = learned_in_session(state, deps) if is_guest(state) else learned_items(state.session_state)
    deps.stores.sessions.set_state(state.customer_id, state.session_id,
                                   {"failures": misses, **kept, "language": state.language,
                                    **({LEARNED_KEY: learned} if learned else {})})
    return update


def remember_error(stores: Stores, customer_id: str | None, session_id: str) -> None:
    """After a failed turn: one more failure in a row, and the person offered in the reply is on hold."""
    try:
        chat = stores.sessions.get_session(customer_id, session_id)
        before = chat.state if chat else {}
        misses = int(before.get("failures") or 0) + 1
        kept = {"language": before["language"]} if before.get("language") else {}
        if before.get(LEARNED_KEY):
            kept[LEARNED_KEY] = before[LEARNED_KEY]
        stores.sessions.set_state(customer_id, session_id,
                                  {"failures": misses, "handover_offered": "tool_failure", **kept})
    except Exception:  # the store is what failed: nothing more to do
        log.exception("could not remember the failed turn in session %s", session_id)


def guarded(node: Node, errors: type[BaseException] | tuple[type[BaseException], ...] = Exception,
            replace: bool = False) -> Node:
    """A node whose lookups may fail: the failure (one of ``errors``) becomes a hand-over (tool_failure), not an
    error turn. ``replace``: the node may have streamed text already, the hand-over's reply replaces it."""
    def run(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
        try:
            return node(state, deps, emit)
        except errors as e:
            log.exception("a lookup failed in turn %s", state.turn_id)
            update = start_handover(state, deps, emit, "tool_failure", f"{type(e).__name__}: {e}"[:300],
                                    replace=replace)
            return {**update, "problems": [*state.problems, f"{type(e).__name__}: {e}"]}
    run.__name__ = getattr(node, "__name__", "node")
    return run
