"""The turn as a LangGraph state graph. Routing is code; the model only composes.

guard -> load_profile -> session -> understand
  -> (tools -> compose -> verify | action | handover | waiting | direct) -> remember -> record

compose sends the reply built from the facts when they answer by themselves (no model call), else the model
writes and each sentence is shown once it passes the checks the verify step would run on the reply so far.

``build_draft_graph`` runs the same steps up to verify for an agent's suggested reply, and records nothing.

Nodes are plain functions of (state, deps) returning partial updates (:mod:`assistant.turn.answer_nodes`,
:mod:`assistant.turn.session_nodes`, :mod:`assistant.turn.tool_agent`); events for the caller are written
with LangGraph's stream writer and arrive through ``graph.stream(..., stream_mode="custom")``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Protocol, cast

from assistant.errors import ModelUnavailable
from assistant.turn.answer_nodes import (
    direct_node,
    guard_node,
    load_profile_node,
    tools_node,
    understand_node,
    verify_node,
)
from assistant.turn.built_answers import compose_or_build_node
from assistant.turn.cited_sources import cited_sources
from assistant.turn.guest_turns import asks_for_orders
from assistant.turn.session_nodes import (
    action_node,
    guarded,
    handover_node,
    held_node,
    remember_node,
    session_node,
    taken_over_by,
    wants_action,
)
from assistant.turn.state import Emit, Node, TurnDeps, TurnState, stream_writer

if TYPE_CHECKING:
    from typing import TypeAlias

    from langgraph.graph.state import CompiledStateGraph

    #: the compiled turn graph: a TurnState in, its final values and the nodes' custom events out
    TurnGraph: TypeAlias = CompiledStateGraph[TurnState, None, TurnState, TurnState]


class Step(Protocol):
    """A node as LangGraph calls it: the state in, an update of the state out."""

    def __call__(self, state: TurnState) -> dict[str, Any]: ...


def timed(name: str, node: Node, deps: TurnDeps) -> Step:
    def run(state: TurnState) -> dict[str, Any]:
        started = time.perf_counter()
        update = node(state, deps, stream_writer())
        timings = dict(state.timings)
        timings[name] = round((time.perf_counter() - started) * 1000, 1)
        return {**update, "timings": timings}
    run.__name__ = name
    return run


def verify_unless_built(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    """The verify step, except for a reply the compose step built from the facts (nothing to check or replace:
    see :mod:`assistant.turn.built_answers`)."""
    if state.verdict == "fallback":
        return {}
    return verify_node(state, deps, emit)


def route_after_guard(state: TurnState) -> str:
    return "direct" if state.guard is not None and state.guard.blocked else "load_profile"


def route_after_understand(state: TurnState, mode: str = "graph") -> str:
    intent = state.understanding.intent if state.understanding else "other"
    if state.handed_over or taken_over_by(state.session_state):
        return "waiting"
    if state.handover_reason or intent == "handover":
        return "handover"
    if asks_for_orders(state):  # a guest: "sign in to see your orders", nothing looked up
        return "direct"
    if wants_action(state) and not (mode == "tool_calling" and intent == "order_action"):
        return "action"
    if intent == "greeting":
        return "direct"
    return "tools"


def route_after_tools(state: TurnState) -> str:
    return "remember" if state.handover else "compose"


def build_graph(deps: TurnDeps, record: Step) -> TurnGraph:
    """Compile the turn graph. ``record`` stores the finished turn (one transaction)."""
    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(TurnState)
    nodes: Sequence[tuple[str, Node]] = (
        ("guard", guard_node), ("load_profile", load_profile_node), ("understand", understand_node),
        ("direct", direct_node), ("handover", handover_node), ("tools", guarded(tools_node)),
        ("compose", guarded(compose_or_build_node, ModelUnavailable, replace=True)), ("verify", verify_unless_built),
        ("session", session_node), ("action", action_node), ("waiting", held_node), ("remember", remember_node),
    )
    for name, node in nodes:
        graph.add_node(name, timed(name, node, deps))
    graph.add_node("record", record)
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

        graph.add_node("agent", timed("agent", guarded(agent_node), deps))
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


def build_draft_graph(deps: TurnDeps) -> TurnGraph:
    """The turn's steps for a reply an agent will review: guard, profile, session, understand, tools, compose,
    verify. Whoever has the conversation, whatever the intent (order actions and hand-over requests get the
    facts, never an action or a new hand-over), nothing is written: no session state, no turn, no counts;
    a failing lookup raises instead of handing over."""
    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(TurnState)
    nodes: Sequence[tuple[str, Node]] = (
        ("guard", guard_node), ("load_profile", load_profile_node), ("session", session_node),
        ("understand", understand_node), ("direct", direct_node), ("tools", tools_node),
        ("compose", compose_or_build_node), ("verify", verify_unless_built),
    )
    for name, node in nodes:
        graph.add_node(name, timed(name, node, deps))
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


def stream_steps(graph: TurnGraph, state: TurnState) -> Iterator[tuple[str, Any]]:
    """Run ``graph`` on ``state``: ``("custom", event)`` for each event a node writes, ``("values", the state as
    a dict)`` after each step."""
    return cast(Iterator[tuple[str, Any]], graph.stream(state, stream_mode=["custom", "values"]))


def state_summary(state: Mapping[str, Any] | TurnState) -> dict[str, Any]:
    """The parts of a final state that go into the stored trace."""
    s = state if isinstance(state, TurnState) else TurnState(**state)
    facts = s.facts
    return {
        "guard": s.guard.flags if s.guard else None,
        "language": s.language,  # of the reply: the message's (message_language), else the conversation's
        "message_language": s.message_language,
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
        # what the reply was shown with (its last "sources" event), so a conversation read again shows them too
        "sources": [asdict(c) for c in cited_sources(facts, s.reply)] if facts and s.reply else [],
        "product_cards": [asdict(c) for c in s.products],  # as shown (name, price then), for the same reason
        "offer_views": [{k: o.get(k, "") for k in ("id", "code", "title", "description")} for o in s.offers],
        "raw_model_text": s.raw,
        "verdict": s.verdict,
        "problems": s.problems,
        "timings_ms": s.timings,
        "llm": s.llm_usage,
        "handover": s.handover,
        "action": s.action,
        **({"guest": True} if s.customer_id is None else {}),
        **({"held_for": s.held_for} if s.held_for else {}),
    }
