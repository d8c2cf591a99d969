"""The copilot's suggested reply: what the shopper needs, found in the conversation, answered from facts, written
to the shopper as an agent writes.

An agent usually opens a conversation because the shopper asked for a person, and that last message ("I want a
human") has nothing to answer. So the draft answers the newest thing the shopper *needs*: their messages are read
newest first, the parts that only ask for a person, greet, or say yes/no are left out, and each remaining need is
drafted by the turn pipeline (guard, understand, tools, compose, verify: facts only, nothing recorded) until one is
answered from facts. An answer about an order also gets the policy text that best fits the shopper's words. The
reader is the person the shopper asked for: the draft never offers to connect them with one, and after a
hand-over it greets the shopper by first name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from assistant.records import TurnRecord
from assistant.staff.conversation_views import SuggestedReply, sentences
from assistant.turn.facts import Facts
from assistant.turn.understanding import understand

if TYPE_CHECKING:
    from assistant.turn.turn_service import DraftReply
    from knowledge.knowledge_store import Hit

#: what a sentence that only asks for a person, greets, or answers yes/no is understood as: not a need
NOT_A_NEED = frozenset({"handover", "greeting", "confirm", "deny"})
#: drafts with these verdicts were answered from facts (refused: the order asked about is not the shopper's)
ANSWERED = frozenset({"pass", "fallback", "refused", "from_facts"})
ORDER_INTENTS = frozenset({"order_status", "order_action"})
#: the shopper's most recent messages looked at for a need
LOOKBACK = 6
#: offers to bring in a person, whoever wrote them (the prompts' fixed replies or the model)
PERSON_OFFER = re.compile(
    r"\b(connect(?:ing)? you (?:with|to)|put you in touch|transfer(?:ring)? you|hand(?:ing)? (?:you|this "
    r"conversation|it) (?:over|to)|(?:a|one) (?:person|colleague|member) (?:from|of) our team|"
    r"a (?:human|real person|person) (?:will|can|to)|asked a person)\b", re.I)
LOOKING_INTO_IT = "I'm looking into this for you now."
HOW_CAN_I_HELP = "I'm here to help: what can I do for you?"


def shopper_needs(turns: Sequence[TurnRecord], limit: int = LOOKBACK) -> list[str]:
    """The shopper's recent messages, newest first, without the sentences that are no need (asking for a person,
    a greeting, yes or no); messages with nothing else are left out."""
    asked = [t.message for t in turns if t.message.strip() and not t.author.startswith("agent:")]
    needs: list[str] = []
    for message in reversed(asked[-limit:]):
        kept = [s for s in sentences(message) if understand(s).intent not in NOT_A_NEED]
        need = " ".join(kept).strip()
        if need and need not in needs:
            needs.append(need)
    return needs


def without_person_offers(text: str) -> str:
    """``text`` without the sentences that offer to bring in a person (the reader is that person)."""
    return " ".join(s for s in sentences(text) if not PERSON_OFFER.search(s))


def greeting(first_name: str | None) -> str:
    return f"Hi {first_name}, thanks for waiting." if first_name else "Hi, thanks for waiting."


def suggest_reply(session_id: str, needs: Sequence[str], last_message: str, draft: Callable[[str], DraftReply],
                  policies: Callable[[str], list[Hit]], *, greet: bool = False,
                  first_name: str | None = None) -> SuggestedReply:
    """Draft each need in turn (newest first) until one is answered from facts, and write it to the shopper.

    ``draft(text)``: the turn pipeline's draft; ``policies(text)``: the policy chunks relevant to ``text`` (for an
    answer about an order). ``greet``: begin with a greeting (by ``first_name`` if known). Without an answer from
    facts the draft says the agent is on it: never "I don't know", never an offer of a person."""
    first: DraftReply | None = None
    for need in needs:
        done = draft(need)
        first = first or done
        if done.verdict in ANSWERED:
            return _written(session_id, need, done, policies, greeting(first_name) if greet else "")
    text = LOOKING_INTO_IT if needs else HOW_CAN_I_HELP
    if greet:
        text = f"{greeting(first_name)} {text}"
    return SuggestedReply(session_id, first.message if first else last_message, text,
                          first.intent if first else "", "no_facts")


def _written(session_id: str, need: str, done: DraftReply, policies: Callable[[str], list[Hit]],
             hello: str) -> SuggestedReply:
    parts = [hello] if hello else []
    parts.append(without_person_offers(done.reply) or LOOKING_INTO_IT)
    sources = done.sources
    if done.intent in ORDER_INTENTS and not any(s.kind == "policy" for s in sources):
        facts = Facts(question=need, intent="policy", policies=policies(need)[:1])
        quoted = facts.policy_answer() if facts.policies else []
        if quoted:
            parts.append(" ".join(quoted))
            sources = (*sources, *facts.citations())
    return SuggestedReply(session_id, done.message, " ".join(parts), done.intent, done.verdict, sources,
                          done.products, done.offers, done.problems)
