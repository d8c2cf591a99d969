"""Handing a conversation over to a person: when (rules, no model), and what the person is told.

Reasons: the shopper asked (``customer_request``), is upset (``angry_customer``), disputes a policy refusal
(``policy_restriction``), the assistant failed to answer several times in a row (``missing_knowledge``),
or a lookup failed (``tool_failure``). The summary quotes the session's recent turns as stored, that is
redacted.

When nobody is there (outside ``support.business_hours``, or no agent signed in: :func:`nobody_there`), the reply
says when someone will answer and asks for an e-mail address; the address the shopper then sends is kept on the
hand-over with what they were told it is for (:func:`waiting_reply`), never in the turn's (redacted) text. A new
hand-over is announced to agents by the webhook (``assistant/staff/handover_notice.py``), in the background.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from assistant.errors import ConflictError, ValidationError
from assistant.locales import template, text
from assistant.orders.order_actions import detect_kind
from assistant.privacy.redaction import redact
from assistant.records import TurnRecord
from assistant.staff.support_hours import Away, SupportHours, contact_purpose
from assistant.store.handovers import EMAIL
from assistant.turn import chinese_rules as zh
from assistant.turn.understanding import Understanding

if TYPE_CHECKING:
    from assistant.config.support_settings import SupportSettings
    from assistant.staff.handover_notice import HandoverNotifier
    from assistant.store.stores import Stores

log = logging.getLogger(__name__)

ANGRY = re.compile(
    r"\b(ridiculous|unacceptable|outrageous|terrible|awful|horrible|worst|useless|pathetic|furious|angry|pissed|"
    r"fed up|sick of|scam|rip[- ]?off|incompetent|disgusting|(?:this is|what) a joke|wtf|damn|shit\w*|crap|"
    r"fuck\w*|bullshit|hate (?:you|this))\b", re.I)
DISPUTE = re.compile(
    r"\b(why (?:not|can'?t|cannot|won'?t)|not fair|unfair|insist|make an exception|exception|that'?s wrong|"
    r"that is wrong|i still want|i really need|i need (?:it|this|that)|come on|makes? no sense|"
    r"doesn'?t make sense|not acceptable|just do it)\b", re.I)

#: the replies to the shopper, in English (every language's: ``handover.<reason>`` in assistant/locales)
REASONS = ("customer_request", "angry_customer", "policy_restriction", "missing_knowledge", "tool_failure")
REPLIES = {reason: template(f"handover.{reason}") for reason in REASONS}
WAITING = template("handover.waiting")
_WHY = {
    "customer_request": "The shopper asked for a person.",
    "angry_customer": "The shopper is upset.",
    "policy_restriction": "The shopper disputes a policy refusal",
    "missing_knowledge": "The assistant could not answer.",
    "tool_failure": "A lookup failed while answering.",
}


def is_angry(text: str) -> bool:
    """Simple signs of an upset shopper: strong words, or shouting in capitals."""
    if ANGRY.search(text) or zh.ANGRY.search(text):
        return True
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7


def triage(text: str, understanding: Understanding, session_state: Mapping[str, Any]) -> str | None:
    """The hand-over reason this message calls for, or None."""
    if is_angry(text):
        return "angry_customer"
    if understanding.intent == "handover":
        return "customer_request"
    refusal = session_state.get("last_refusal")
    if refusal and understanding.intent not in ("confirm", "deny", "greeting"):
        kind = detect_kind(text) or zh.action_kind_zh(text)
        repeated = understanding.intent == "order_action" and kind == refusal.get("kind") and (
            not understanding.order_ids or refusal.get("order_id") in understanding.order_ids)
        if repeated or DISPUTE.search(text) or zh.DISPUTE.search(text):
            return "policy_restriction"
    return None


def summarize(reason: str, turns: Sequence[TurnRecord], message: str, detail: str | None = None,
              limit: int = 6) -> str:
    """What the person taking over reads first: why, then the latest turns (redacted), oldest first."""
    why = _WHY.get(reason, reason)
    lines = [f"{why.rstrip('.')}: {detail}" if detail else why]
    for turn in list(turns)[-limit:]:
        lines.append(f"Shopper: {turn.message[:240]}")
        lines.append(f"Assistant: {turn.reply[:240]}")
    lines.append(f"Shopper (latest): {redact(message).text[:400]}")
    return "\n".join(lines)


def open_handover(stores: Stores, session_id: str, customer_id: str | None, turn_id: str, reason: str,
                  message: str, detail: str | None = None, limit: int = 6, ask_contact: bool = False,
                  notifier: HandoverNotifier | None = None) -> dict[str, str]:
    """Queue the conversation for a person (``ask_contact``: nobody is there, the shopper is asked for an e-mail
    address) and, for a new hand-over, notify the agents; returns what the turn records and streams."""
    turns = stores.turns.turns_for_session(customer_id, session_id)
    summary = summarize(reason, turns, message, detail, limit)
    handover = stores.handovers.create(session_id, customer_id, reason, summary, turn_id, ask_contact)
    if notifier is not None and handover.turn_id == turn_id:  # new (an open one is returned as it was)
        notifier.notify(handover.id, handover.reason, handover.created_at)
    return {"id": handover.id, "reason": handover.reason, "summary": handover.summary}


def nobody_there(settings: SupportSettings, stores: Stores, now: datetime) -> Away | None:
    """Why nobody can answer a hand-over now (closed, or no agent signed in and active), or None."""
    hours = SupportHours(settings)
    agent = None
    if settings.check_signed_in_agents and hours.is_open(now):
        since = now - timedelta(seconds=settings.agent_active_within_s)
        agent = stores.staff.agents_active_since(since) > 0
    return hours.away(now, agent)


def waiting_reply(stores: Stores, settings: SupportSettings, session_id: str, message: str, language: str,
                  now: datetime) -> str | None:
    """The reply to a message while the hand-over waits, when nobody is there or the shopper was asked for an
    address: an address in the message is kept as the hand-over's contact (with the purpose they were told);
    otherwise, while nobody is there, the message waits and the address is asked for (again). None: the usual
    waiting reply."""
    handover = stores.handovers.open_for_session(session_id)
    if handover is None:
        return None
    found = EMAIL.search(message)
    if found and handover.contact_asked_at is not None:
        try:
            stores.handovers.set_contact(handover.id, found.group(0), contact_purpose(language))
            return text("handover.contact_saved", language)
        except (ValidationError, ConflictError):  # too long, or resolved meanwhile: the usual reply
            log.info("a contact address was not kept for hand-over %s", handover.id)
            return None
    if handover.status == "claimed" or nobody_there(settings, stores, now) is None:  # an agent has it, or is there
        return None
    if handover.contact_email:
        return text("handover.waiting_away", language)
    if handover.contact_asked_at is None:
        stores.handovers.ask_contact(handover.id)
    return text("handover.waiting_ask", language, waiting=text("handover.waiting_away", language),
                ask=text("handover.ask_contact", language), purpose=contact_purpose(language))
