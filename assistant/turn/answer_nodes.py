"""The turn's nodes that answer: read the message, gather the facts, compose and verify the reply.

- ``guard``: size limits, unreadable input, injection signals, the redacted text to store.
- ``load_profile``: the shopper's profile, and whether they allow personalization.
- ``understand``: intent and entities (rules), and a hand-over reason if the message calls for one.
- ``direct``: replies that need no facts (blocked input, greetings, a guest's order question).
- ``tools``: the facts for the intent; which tools run is decided here, by code.
- ``compose``: the model writes from the facts, sentence by sentence (see :mod:`assistant.turn.compose`).
- ``verify``: the whole reply against the facts; a failing one is replaced by one built from the facts.

The nodes for the conversation's state (session, order actions, hand-overs, memory) are in
:mod:`assistant.turn.session_nodes`; :mod:`assistant.turn.graph` wires both.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from assistant.domain import (
    OffersEvent,
    OfferView,
    ProductCard,
    ProductsEvent,
    ReplaceText,
    SourcesEvent,
    TextDelta,
)
from assistant.locales import text
from assistant.turn.cited_sources import cited_sources
from assistant.turn.compose import compose_reply, fallback_reply
from assistant.turn.fact_replies import cited_in
from assistant.turn.facts import Facts
from assistant.turn.guest_turns import asks_for_orders, is_guest, learned_in_session, session_tastes, sign_in_reply
from assistant.turn.handover_rules import triage
from assistant.turn.input_guard import guard_input
from assistant.turn.order_refs import asks_latest
from assistant.turn.product_facts import catalog_aggregate, offers_with_products, product_facts
from assistant.turn.shopper_language import detect_language, model_writes, reply_language
from assistant.turn.understanding import understand

if TYPE_CHECKING:
    from assistant.turn.state import Emit, TurnDeps, TurnState


def guard_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    guard = guard_input(state.message, deps.settings.security.max_message_chars)
    detected = detect_language(guard.text)  # the conversation's language is read with the session
    return {"guard": guard, "message_language": detected,
            "language": reply_language(detected, None, deps.settings.language.default)}


def load_profile_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    if state.customer_id is None:
        return {"profile": None, "personalized": False}
    profile = deps.customers.get(state.customer_id)
    return {"profile": profile, "personalized": bool(profile and profile.consent.personalization)}


def understand_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    assert state.guard is not None
    own_ids = deps.shop_tools.for_shopper(state.customer_id).own_order_ids()  # ids are recognised by these
    understanding = understand(state.guard.text, deps.catalog.categories, deps.catalog.brands, own_ids,
                               vocabulary=deps.catalog.vocabulary)
    return {"understanding": understanding,
            "handover_reason": triage(state.guard.text, understanding, state.session_state or {})}


def direct_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    """Replies that need no facts: blocked input, greetings, and a guest's order question (sign in first)."""
    assert state.guard is not None
    if asks_for_orders(state):
        reply, verdict = sign_in_reply(state.language, deps.settings.app.sign_in_url), "sign_in"
    elif state.guard.blocked:
        reply = text(f"blocked.{state.guard.blocked}", state.language, length=f"{len(state.message):,}",
                     limit=f"{deps.settings.security.max_message_chars:,}")
        verdict = f"blocked:{state.guard.blocked}"
    else:
        name = state.profile.name.split()[0] if state.profile and state.personalized else ""
        reply = text("greeting_named", state.language, name=name) if name else text("greeting", state.language)
        verdict = "template"
    emit(TextDelta(reply))
    return {"reply": reply, "verdict": verdict}


def tools_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    """Gather facts for the intent. Which tools run is decided here, by code."""
    assert state.guard is not None and state.understanding is not None
    u, question, s = state.understanding, state.guard.text, deps.settings.agent
    tools = deps.shop_tools.for_shopper(state.customer_id, guest=is_guest(state),
                                        tastes=session_tastes(learned_in_session(state, deps), deps.now())
                                        if is_guest(state) else None)
    facts = Facts(question=question, intent=u.intent, profile=state.profile, personalized=state.personalized,
                  language=state.language,
                  categories=u.categories, similarity=deps.verifier.similarity)
    cards: list[ProductCard] = []
    if u.intent in ("order_status", "order_action"):
        facts.orders, facts.refused_order_ids = tools.my_orders(u.order_ids, 1 if asks_latest(question) else 3)
        if u.intent == "order_action" or re.search(r"return|refund|退货|退款", question, re.I):
            facts.policies = tools.search_policies(question, s.policy_k)[:2]
    elif u.intent == "policy":
        # a question over the catalogue's own terms ("how many products have a lifetime warranty") is computed
        facts.answer = catalog_aggregate(question, u, deps.catalog)
        if facts.answer is None:
            facts.policies = tools.search_policies(question, s.policy_k)
    elif u.intent in ("recommendation", "product"):  # a computed answer, else search or recommender cards
        cards = product_facts(state, deps, tools, facts)
    elif u.intent == "offers":
        facts.offers = tools.choose_offer(state.profile, state.personalized, u.categories)
        facts.policies = tools.search_policies("how coupon codes and offers work", 1)
    else:  # other: look everywhere, keep only what is relevant
        facts.answer = catalog_aggregate(question, u, deps.catalog)
        if facts.answer is None:
            facts.policies = tools.search_policies(question, 2)
            cards = product_facts(state, deps, tools, facts)
    # an offer on what is recommended goes to the offers panel; into the reply only when asked for
    panel = offers_with_products(state, tools, facts, cards)
    facts.products = cards
    facts.records = {c.id: deps.catalog.products[c.id] for c in cards}
    if cards:
        emit(ProductsEvent(tuple(cards)))
    offers = [dict(o) for o in facts.offers] or [dict(o) for o in panel]
    if offers:
        emit(OffersEvent(tuple(OfferView(o["id"], o["code"], o["title"], o.get("description", ""),
                                         (o.get("bandit") or {}).get("propensity")) for o in offers)))
    return {"facts": facts, "products": cards, "offers": offers,
            "tool_calls": state.tool_calls + [c.to_trace() for c in tools.calls]}


def compose_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    assert state.facts is not None
    facts = state.facts
    if facts.empty:
        # nothing to build on, or only another shopper's order: a fixed reply, never the model
        reply = fallback_reply(facts, deps.shop.called)
        emit(TextDelta(reply))
        return {"reply": reply, "raw": "", "verdict": "refused" if facts.refused_order_ids else "no_facts"}
    if not model_writes(deps.settings, facts.language):
        # the chat model does not write the shopper's language: the reply is built from the facts, no model call
        reply = fallback_reply(facts, deps.shop.called)
        emit(TextDelta(reply))
        if facts.policies or facts.products or facts.orders:
            emit(SourcesEvent(cited_sources(facts, reply)))
        return {"reply": reply, "raw": "", "verdict": "from_facts"}
    result = compose_reply(deps.llm, facts, deps.verifier, deps.shop.called, emit)
    return {"reply": result.text, "raw": result.raw, "verdict": "pass" if result.ok else "fail",
            "problems": list(result.problems), "llm_usage": result.usage}


def verify_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    """Check the whole reply; on failure replace it by one built from the facts."""
    assert state.facts is not None
    if state.verdict in ("no_facts", "refused", "handover", "from_facts"):  # handover: the model failed
        return {}
    facts = state.facts
    evidence = facts.policy_evidence()  # a policy answer: each claim stated by one sentence that answers
    verdict = deps.verifier.check(state.reply, facts.corpus(), facts.question, facts.named_products(),
                                  None, evidence, [str(o["code"]) for o in facts.offers],
                                  trusted=facts.trusted_text())
    required = deps.verifier.requirements(state.reply, facts.intent, *facts.requirement_args())
    if facts.answer is not None:  # a computed answer: the reply must say it, first
        required = [*required, *facts.answer.problems(state.reply)]
    problems = list(dict.fromkeys([*state.problems, *verdict.problems, *required]))
    if state.verdict == "pass" and verdict.ok and not required and state.reply.strip():
        update: dict[str, Any] = {"verdict": "pass"}
        source = cited_in(state.reply, facts, evidence.split("\n")) if evidence else ""
        if source:  # a policy answer names the documents it comes from
            emit(TextDelta(" " + source))
            update["reply"] = f"{state.reply} {source}"
        if state.facts.policies or state.facts.products or state.facts.orders:
            emit(SourcesEvent(cited_sources(state.facts, update.get("reply", state.reply))))
        return update
    reply = fallback_reply(state.facts, deps.shop.called)
    emit(ReplaceText(reply, "; ".join(problems) or "empty reply"))
    if state.facts.policies or state.facts.products or state.facts.orders:
        emit(SourcesEvent(cited_sources(state.facts, reply)))
    return {"reply": reply, "verdict": "fallback", "status": "fallback", "problems": problems}
