"""Handing a conversation over to a person: when (rules, no model), and what the person is told.

Reasons: the shopper asked (``customer_request``), is upset (``angry_customer``), disputes a policy refusal
(``policy_restriction``), the assistant failed to answer several times in a row (``missing_knowledge``),
or a lookup failed (``tool_failure``). The summary quotes the session's recent turns as stored, that is
redacted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from assistant.locales import template
from assistant.orders.order_actions import detect_kind
from assistant.privacy.redaction import redact
from assistant.records import TurnRecord
from assistant.turn import chinese_rules as zh
from assistant.turn.understanding import Understanding

if TYPE_CHECKING:
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
                  message: str, detail: str | None = None, limit: int = 6) -> dict[str, str]:
    """Queue the conversation for a person; returns what the turn records and streams."""
    turns = stores.turns.turns_for_session(customer_id, session_id)
    summary = summarize(reason, turns, message, detail, limit)
    handover = stores.handovers.create(session_id, customer_id, reason, summary, turn_id)
    return {"id": handover.id, "reason": handover.reason, "summary": handover.summary}
