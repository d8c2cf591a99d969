"""Composing the reply: the model writes from the facts, streamed sentence by sentence once each sentence
passes the verifier; the fallback reply is built from the facts alone.

Streaming verified sentences (rather than raw tokens) means a shopper never sees an invented number
that is then taken back, at the cost of one sentence of latency before the first words.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.domain import Event, TextDelta
from assistant.facts import Facts, best_sentences, money, order_line
from assistant.offers import describe
from assistant.prompts import NOTHING_FOUND, REFUSE_OTHER_ORDER, SYSTEM, USER
from assistant.verify import Verifier

# a sentence ends at . ! ? before a capital, a digit, a quote or a list bullet ("... days. - Express ..."),
# or at a line break
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(]|[-*\u2022]\s)|\n+")
#: the model said an earlier sentence again this many times: it is looping, stop generating (repeats are
#: never shown, so only the wait changes)
MAX_REPEATS = 2


@dataclass
class Composed:
    text: str
    raw: str
    ok: bool
    problems: tuple[str, ...] = ()
    usage: dict[str, Any] = field(default_factory=dict)


def build_messages(facts: Facts, shop: str) -> list[Any]:
    from langchain_core.messages import HumanMessage, SystemMessage

    lines = "\n".join(f"- {line}" for line in facts.lines())
    return [SystemMessage(SYSTEM.format(shop=shop)), HumanMessage(USER.format(facts=lines, question=facts.question))]


def _split_sentences(buffer: str) -> tuple[list[str], str]:
    """Complete sentences in ``buffer`` and the unfinished rest."""
    parts = _BOUNDARY.split(buffer)
    if len(parts) == 1:
        return [], buffer
    return [p.strip() for p in parts[:-1] if p.strip()], parts[-1]


def compose_reply(llm: Any, facts: Facts, verifier: Verifier, shop: str, emit: Callable[[Event], None],
                  max_sentences: int = 4) -> Composed:
    corpus = facts.corpus()
    allowed = [c.id for c in facts.products]
    if facts.support is None:
        facts.support = verifier.support_index(corpus)
    if facts.evidence is None and facts.intent == "policy" and facts.policies:
        facts.evidence = " ".join(best_sentences(facts.policies, facts.question, limit=4))
    messages = build_messages(facts, shop)
    raw, buffer = "", ""
    sentences: list[str] = []
    started, first_token = time.perf_counter(), None
    problems: tuple[str, ...] = ()

    seen: set[str] = set()
    repeats = 0

    def accept(sentence: str) -> bool:
        nonlocal problems, repeats
        key = " ".join(re.findall(r"[a-z0-9]+", sentence.lower()))
        if key in seen or not key:
            repeats += bool(key)
            return True  # the small model repeats itself: say it once
        seen.add(key)
        verdict = verifier.check(sentence, corpus, facts.question, allowed, facts.support, facts.evidence,
                                 [str(o["code"]) for o in facts.offers])
        if not verdict.ok:
            problems = verdict.problems
            return False
        emit(TextDelta(sentence if not sentences else " " + sentence))
        sentences.append(sentence)
        return True

    ok = True
    stream = llm.stream(messages)
    try:
        for chunk in stream:
            piece = chunk.content if isinstance(chunk.content, str) else ""
            if first_token is None and piece.strip():
                first_token = time.perf_counter() - started
            raw += piece
            buffer += piece
            done, buffer = _split_sentences(buffer)
            for sentence in done:
                if not accept(sentence):
                    ok = False
                    break
            if not ok or len(sentences) >= max_sentences or repeats >= MAX_REPEATS:
                break
        # the rest is a sentence only if it ends like one; otherwise the token budget cut it mid-way
        if ok and re.search(r"[.!?][\"')]*$", buffer.strip()) and len(sentences) < max_sentences \
                and repeats < MAX_REPEATS:
            ok = accept(buffer.strip())
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()  # stop generating: the rest would not be shown
    if ok and not sentences:
        ok, problems = False, ("the model wrote nothing",)
    last = getattr(llm, "last_usage", None)
    usage: dict[str, Any] = dict(last.as_dict()) if last is not None and hasattr(last, "as_dict") else {}
    usage.setdefault("ttft_s", round(first_token, 3) if first_token is not None else None)
    usage["compose_s"] = round(time.perf_counter() - started, 3)
    return Composed(" ".join(sentences), raw, ok, problems, usage)


def fallback_reply(facts: Facts, shop: str) -> str:
    """A reply built from the facts alone (no model), for when the model's reply fails verification."""
    parts: list[str] = []
    for order_id in facts.refused_order_ids:
        parts.append(REFUSE_OTHER_ORDER.format(order_id=order_id))
    if facts.orders:
        if len(facts.orders) == 1:
            parts.append(order_line(facts.orders[0]).replace("Order ", "Your order ", 1))
        else:
            parts.append("Your latest orders: " + " ".join(order_line(o) for o in facts.orders))
    profile = facts.profile if facts.personalized else None
    first = profile.name.split()[0] if profile else None
    if facts.offers:
        lead = f"{first}, as a {profile.tier} member you can use" if profile and first else "An offer for you"
        parts.append(f"{lead}: " + " ".join(describe(o) for o in facts.offers))
    if facts.products:
        listed = "; ".join(f"{c.name} ({money(c.price, c.currency)}" + (f", {c.reason})" if c.reason else ")")
                           for c in facts.products)
        lead = f"Here {'is an option' if len(facts.products) == 1 else 'are some options'}"
        parts.append(f"{first + ', h' + lead[1:] if first else lead}: {listed}.")
    if facts.policies and not facts.offers:
        sentences = best_sentences(facts.policies, facts.question)
        if sentences:
            parts.append(" ".join(sentences))
    if not parts:
        return NOTHING_FOUND.format(shop=shop)
    return " ".join(parts)
