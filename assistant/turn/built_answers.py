"""Answers the facts already give, sent at once without the model.

When the facts answer the question by themselves (a computed catalogue answer, the products found or
recommended, the offers chosen for the shopper, policy sentences that answer it), the reply built from them
(:func:`assistant.turn.fact_replies.fallback_reply`) is what the verifier would end with anyway: the model's
text must name the same products, codes and amounts, and a policy answer must state each claim as one sentence
of the policy does; when it does not (most such turns on the bundled model) it is thrown away after seconds of
generation and replaced. So when the facts hold a computed catalogue answer, products (found or recommended),
offers chosen for the shopper or policy sentences that answer the question, the built reply (for a policy: its
own sentences, then the documents they come from) is streamed sentence by sentence straight away, for guests
and signed-in shoppers alike, and nothing shown is replaced. The compose step handles the rest: the shopper's
own orders (the model writes; its reply is checked against what the question asks of the order), a turn naming
another shopper's order (refused), and policy questions none of the found sentences answers.

The turn records it as ``verdict="fallback"`` (a reply built from the facts, as before) with the reason in
``problems``; the verify step has nothing to check (:func:`assistant.turn.graph.verify_unless_built`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.domain import SourcesEvent, TextDelta
from assistant.locales import text
from assistant.turn.answer_nodes import compose_node
from assistant.turn.cited_sources import cited_sources
from assistant.turn.compose import _BOUNDARY
from assistant.turn.fact_replies import fallback_reply
from assistant.turn.facts import Facts
from assistant.turn.shopper_language import model_writes

if TYPE_CHECKING:
    from assistant.turn.state import Emit, TurnDeps, TurnState

#: what the turn records as why the model was not asked
BUILT = "built from the facts, which answer the question by themselves: the model was not asked"


def built_answer(facts: Facts, shop: str) -> str | None:
    """The reply built from ``facts`` when they answer the question by themselves (a computed answer, products,
    offers, or policy sentences that answer it), else None (the model writes). The shopper's orders are left to
    the model: its reply is checked against what the question asks of the order (status, tracking number, total,
    items)."""
    if facts.empty or facts.orders or facts.refused_order_ids:
        return None
    reply = fallback_reply(facts, shop)
    return None if reply == text("nothing_found", facts.language, shop=shop) else reply


def sentence_pieces(reply: str) -> list[str]:
    """``reply`` cut before each sentence (the space between goes with the next): the pieces join back to it."""
    cuts = [m.start() for m in _BOUNDARY.finditer(reply) if 0 < m.start() < len(reply)]
    bounds = [0, *cuts, len(reply)]
    return [reply[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if reply[a:b]]


def compose_or_build_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    """The compose step: the built answer when the facts give one (no model call), else the model writes
    (:func:`assistant.turn.answer_nodes.compose_node`)."""
    facts = state.facts
    if facts is None or not model_writes(deps.settings, facts.language):
        return compose_node(state, deps, emit)  # it builds the reply itself when the model cannot write it
    reply = built_answer(facts, deps.shop.called)
    if reply is None:
        return compose_node(state, deps, emit)
    for piece in sentence_pieces(reply):
        emit(TextDelta(piece))
    if facts.policies or facts.products or facts.orders:
        emit(SourcesEvent(cited_sources(facts, reply)))
    return {"reply": reply, "raw": "", "verdict": "fallback", "status": "fallback", "problems": [BUILT]}
