"""The turn as a LangGraph state graph. Routing is code; the model only composes.

guard -> load_profile -> session -> understand
  -> (tools -> compose -> verify | action | handover | waiting | direct) -> remember -> record

``build_draft_graph`` runs the same steps up to verify for an agent's suggested reply, and records nothing.

Nodes are plain functions of (state, deps) returning partial updates; events for the caller are written
with LangGraph's stream writer and arrive through ``graph.stream(..., stream_mode="custom")``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from assistant.domain import (
    OffersEvent,
    OfferView,
    ProductCard,
    ProductsEvent,
    SourcesEvent,
    TextDelta,
)
from assistant.errors import ModelUnavailable
from assistant.turn.compose import compose_reply, fallback_reply
from assistant.turn.facts import Facts
from assistant.turn.input_guard import BLOCKED_REPLIES, guard_input
from assistant.turn.prompts import GREETING
from assistant.turn.session_nodes import (
    action_node,
    guarded,
    handover_node,
    remember_node,
    session_node,
    waiting_node,
    wants_action,
)
from assistant.turn.shop_tools import ShopperTools
from assistant.turn.state import HELD, Emit, TurnDeps, TurnState, stream_writer
from assistant.turn.understanding import understand


def timed(name: str, node: Callable[[TurnState, TurnDeps, Emit], dict[str, Any]], deps: TurnDeps
          ) -> Callable[[TurnState], dict[str, Any]]:
    def run(state: TurnState) -> dict[str, Any]:
        started = time.perf_counter()
        update = node(state, deps, stream_writer())
        timings = dict(state.timings)
        timings[name] = round((time.perf_counter() - started) * 1000, 1)
        return {**update, "timings": timings}
    run.__name__ = name
    return run


# nodes -------------------------------------------------------------------------------------------
def guard_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    return {"guard": guard_input(state.message, deps.settings.security.max_message_chars)}


def load_profile_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    if state.customer_id is None:
        return {"profile": None, "personalized": False}
    profile = deps.customers.get(state.customer_id)
    return {"profile": profile, "personalized": bool(profile and profile.consent.personalization)}


def understand_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    from assistant.turn.handover_rules import triage

    assert state.guard is not None
    understanding = understand(state.guard.text, deps.catalog.categories, deps.catalog.brands)
    return {"understanding": understanding,
            "handover_reason": triage(state.guard.text, understanding, state.session_state or {})}


def direct_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    """Replies that need no facts: blocked input and greetings."""
    assert state.guard is not None
    if state.guard.blocked:
        reply = BLOCKED_REPLIES[state.guard.blocked].format(
            length=f"{len(state.message):,}", limit=f"{deps.settings.security.max_message_chars:,}")
        verdict = f"blocked:{state.guard.blocked}"
    else:
        name = f", {state.profile.name.split()[0]}" if state.profile and state.personalized else ""
        reply, verdict = GREETING.format(name=name), "template"
    emit(TextDelta(reply))
    return {"reply": reply, "verdict": verdict}


def tools_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    """Gather facts for the intent. Which tools run is decided here, by code."""
    assert state.guard is not None and state.understanding is not None
    u, question, s = state.understanding, state.guard.text, deps.settings.agent
    tools: ShopperTools = deps.shop_tools.for_shopper(state.customer_id)
    facts = Facts(question=question, intent=u.intent, profile=state.profile, personalized=state.personalized,
                  categories=u.categories)
    cards: list[ProductCard] = []
    if u.intent in ("order_status", "order_action"):
        facts.orders, facts.refused_order_ids = tools.my_orders(u.order_ids)
        if u.intent == "order_action" or "return" in question.lower() or "refund" in question.lower():
            facts.policies = tools.search_policies(question, s.policy_k)[:2]
    elif u.intent == "policy":
        facts.policies = tools.search_policies(question, s.policy_k)
    elif u.intent == "recommendation":
        for rec in tools.recommend(deps.recommender, question, u, state.profile, state.personalized):
            card = deps.catalog.card(rec.product_id, rec.reason)
            if card:
                cards.append(card)
    elif u.intent == "product":
        # what was asked decides relevance; the shopper's tastes only reorder what was found
        hits = tools.search_products(question, u.product_filters, max(8, s.product_k))
        for rec in deps.recommender.rank(hits, u, state.profile, state.personalized, k=3):
            card = deps.catalog.card(rec.product_id, rec.reason if state.personalized else None)
            if card:
                cards.append(card)
    elif u.intent == "offers":
        facts.offers = tools.choose_offer(state.profile, state.personalized, u.categories)
        facts.policies = tools.search_policies("how coupon codes and offers work", 1)
    else:  # other: look everywhere, keep only what is relevant
        facts.policies = tools.search_policies(question, 2)
        for hit in tools.search_products(question, {"in_stock": True}, 2):
            card = deps.catalog.card(hit.id)
            if card:
                cards.append(card)
    if u.intent == "recommendation" and cards:  # an offer on what is recommended, if one is eligible
        shown = tuple(dict.fromkeys([*u.categories, *(c.category for c in cards)]))
        facts.offers = tools.choose_offer(state.profile, state.personalized, shown)
    facts.products = cards
    facts.records = {c.id: deps.catalog.products[c.id] for c in cards}
    if cards:
        emit(ProductsEvent(tuple(cards)))
    offers = [dict(o) for o in facts.offers]
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
        reply = fallback_reply(facts, deps.settings.app.shop_name)
        emit(TextDelta(reply))
        return {"reply": reply, "raw": "", "verdict": "refused" if facts.refused_order_ids else "no_facts"}
    result = compose_reply(deps.llm, facts, deps.verifier, deps.settings.app.shop_name, emit)
    return {"reply": result.text, "raw": result.raw, "verdict": "pass" if result.ok else "fail",
            "problems": list(result.problems), "llm_usage": result.usage}


def verify_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    """Check the whole reply; on failure replace it by one built from the facts."""
    assert state.facts is not None
    if state.verdict in ("no_facts", "refused", "handover"):  # handover: the model failed (see build_graph)
        return {}
    facts = state.facts
    verdict = deps.verifier.check(state.reply, facts.corpus(), facts.question, [c.id for c in facts.products],
                                  None, facts.evidence, [str(o["code"]) for o in facts.offers])
    required = deps.verifier.requirements(state.reply, facts.intent, *facts.requirement_args())
    problems = list(dict.fromkeys([*state.problems, *verdict.problems, *required]))
    if state.verdict == "pass" and verdict.ok and not required and state.reply.strip():
        if state.facts.policies or state.facts.products or state.facts.orders:
            emit(SourcesEvent(tuple(state.facts.citations())))
        return {"verdict": "pass"}
    from assistant.domain import ReplaceText

    reply = fallback_reply(state.facts, deps.settings.app.shop_name)
    emit(ReplaceText(reply, "; ".join(problems) or "empty reply"))
    if state.facts.policies or state.facts.products or state.facts.orders:
        emit(SourcesEvent(tuple(state.facts.citations())))
    return {"reply": reply, "verdict": "fallback", "status": "fallback", "problems": problems}


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
    reply = "" if (state.session_state or {}).get("held_notified") == since else HELD
    if reply:
        emit(TextDelta(reply))
    return {"reply": reply, "verdict": "held", "held_for": str(holder["agent"]), "carry": {"held_notified": since}}


def route_after_guard(state: TurnState) -> str:
    return "direct" if state.guard is not None and state.guard.blocked else "load_profile"


def route_after_understand(state: TurnState, mode: str = "graph") -> str:
    intent = state.understanding.intent if state.understanding else "other"
    if state.handed_over or taken_over_by(state.session_state):
        return "waiting"
    if state.handover_reason or intent == "handover":
        return "handover"
    if wants_action(state) and not (mode == "tool_calling" and intent == "order_action"):
        return "action"
    if intent == "greeting":
        return "direct"
    return "tools"


def route_after_tools(state: TurnState) -> str:
    return "remember" if state.handover else "compose"


def build_graph(deps: TurnDeps, record: Callable[[TurnState], dict[str, Any]]) -> Any:
    """Compile the turn graph. ``record`` stores the finished turn (one transaction)."""
    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(TurnState)
    nodes: Sequence[tuple[str, Callable[[TurnState, TurnDeps, Emit], dict[str, Any]]]] = (
        ("guard", guard_node), ("load_profile", load_profile_node), ("understand", understand_node),
        ("direct", direct_node), ("handover", handover_node), ("tools", guarded(tools_node)),
        ("compose", guarded(compose_node, ModelUnavailable, replace=True)), ("verify", verify_node),
        ("session", session_node), ("action", action_node), ("waiting", held_node), ("remember", remember_node),
    )
    for name, node in nodes:
        graph.add_node(name, cast(Any, timed(name, node, deps)))
    graph.add_node("record", cast(Any, record))
    graph.add_edge(START, "guard")
    graph.add_conditional_edges("guard", route_after_guard, {"direct": "direct", "load_profile": "load_profile"})
    graph.add_edge("load_profile", "session")
    graph.add_edge("session", "understand")
    mode = deps.settings.agent.mode
    graph.add_conditional_edges("understand", lambda s: route_after_understand(s, mode),
                                {"handover": "handover", "direct": "direct", "action": "action", "waiting": "waiting",
                                 "tools": "agent" if mode == "tool_calling" else "tools"})
    graph.add_conditional_edges("tools", route_after_tools, {"compose": "compose", "remember": "remember"})
    if mode == "tool_calling":
        from assistant.turn.tool_agent import agent_node, route_after_agent

        graph.add_node("agent", cast(Any, timed("agent", guarded(agent_node), deps)))
        graph.add_conditional_edges("agent", lambda s: route_after_agent(s),
                                    {"verify": "verify", "remember": "remember"})
    graph.add_edge("compose", "verify")
    for name in ("verify", "direct", "handover", "action", "waiting"):
        graph.add_edge(name, "remember")
    graph.add_edge("remember", "record")
    graph.add_edge("record", END)
    return graph.compile()


def route_draft(state: TurnState) -> str:
    intent = state.understanding.intent if state.understanding else "other"
    return "direct" if intent == "greeting" else "tools"


def build_draft_graph(deps: TurnDeps) -> Any:
    """The turn's steps for a reply an agent will review: guard, profile, session, understand, tools, compose,
    verify. Whoever has the conversation, whatever the intent (order actions and hand-over requests get the
    facts, never an action or a new hand-over), nothing is written: no session state, no turn, no counts;
    a failing lookup raises instead of handing over."""
    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(TurnState)
    nodes: Sequence[tuple[str, Callable[[TurnState, TurnDeps, Emit], dict[str, Any]]]] = (
        ("guard", guard_node), ("load_profile", load_profile_node), ("session", session_node),
        ("understand", understand_node), ("direct", direct_node), ("tools", tools_node),
        ("compose", compose_node), ("verify", verify_node),
    )
    for name, node in nodes:
        graph.add_node(name, cast(Any, timed(name, node, deps)))
    graph.add_edge(START, "guard")
    graph.add_conditional_edges("guard", route_after_guard, {"direct": "direct", "load_profile": "load_profile"})
    graph.add_edge("load_profile", "session")
    graph.add_edge("session", "understand")
    graph.add_conditional_edges("understand", route_draft, {"direct": "direct", "tools": "tools"})
    graph.add_edge("tools", "compose")
    graph.add_edge("compose", "verify")
    graph.add_edge("verify", END)
    graph.add_edge("direct", END)
    return graph.compile()


def state_summary(state: Mapping[str, Any] | TurnState) -> dict[str, Any]:
    """The parts of a final state that go into the stored trace."""
    s = state if isinstance(state, TurnState) else TurnState(**state)
    facts = s.facts
    return {
        "guard": s.guard.flags if s.guard else None,
        "understanding": s.understanding.to_dict() if s.understanding else None,
        "personalized": s.personalized,
        "retrieved": [{"id": h.id, "score": h.score, "heading": h.metadata.get("heading")}
                      for h in (facts.policies if facts else [])],
        "products": [c.id for c in s.products],
        "offers": [{"id": o["id"], "code": o["code"], **(o.get("bandit") or {})} for o in s.offers],
        "orders": [o.id for o in facts.orders] if facts else [],
        "refused_order_ids": facts.refused_order_ids if facts else [],
        "tool_calls": s.tool_calls,
        "facts": facts.lines() if facts else [],
        "raw_model_text": s.raw,
        "verdict": s.verdict,
        "problems": s.problems,
        "timings_ms": s.timings,
        "llm": s.llm_usage,
        "handover": s.handover,
        "action": s.action,
        **({"held_for": s.held_for} if s.held_for else {}),
    }
