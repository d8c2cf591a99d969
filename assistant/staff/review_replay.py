"""A stored turn's trace as the steps of its replay, in the order the turn graph ran them.

The trace (``assistant.turn.graph.state_summary``, completed by ``AssistantService._store``) holds what each
node found or decided but not as a sequence; ``replay_steps`` lays it out again, one ``ReplayStep`` per
node that ran, with the node's time where the trace has it (``timings_ms``; tool calls carry their own).
A step appears when its node ran (it has a timing) or the trace holds something it produced, so old or
partial traces (a failed turn) still replay as far as they got.

Steps, in graph order: guard, profile, session, understand, then the branch the turn took (direct reply,
hand-over, order action, waiting for a person, or retrieval -> one step per tool call -> compose ->
verify), offers chosen (with the bandit's segment and propensity), remember, record (status, verdict,
latency, events), and the error if the turn failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

STEP_TITLES = {
    "guard": "Input guard",
    "profile": "Shopper profile",
    "session": "Conversation state",
    "understand": "Understanding",
    "direct": "Direct reply",
    "waiting": "Waiting for a person",
    "handover": "Hand-over to a person",
    "action": "Order action",
    "agent": "Tool-calling agent",
    "retrieval": "Retrieval",
    "tool_call": "Tool call",
    "compose": "Model reply",
    "verify": "Verifier",
    "offers": "Offer choice",
    "remember": "Remember",
    "record": "Record",
    "error": "Error",
}


@dataclass(frozen=True)
class ReplayStep:
    """One step of a turn's replay. ``ms`` is the step's own time, ``None`` where the trace has none."""

    name: str
    title: str
    ms: float | None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "ms": self.ms, "detail": self.detail}


def _ms(timings: Mapping[str, Any], name: str) -> float | None:
    value = timings.get(name)
    return float(value) if isinstance(value, int | float) else None


def _step(name: str, ms: float | None, detail: dict[str, Any], title: str | None = None) -> ReplayStep:
    return ReplayStep(name, title or STEP_TITLES[name], ms, detail)


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def replay_steps(trace: Mapping[str, Any], turn: Mapping[str, Any] | None = None,
                 events: Sequence[Mapping[str, Any]] = ()) -> list[ReplayStep]:
    """The steps of one turn, in the order they ran.

    ``trace`` is the stored trace; ``turn`` the turn's columns (``message``, ``reply``, ``status``,
    ``verdict``, ``latency_ms``, ``model``, ``author``, ``customer_id``...) and ``events`` its events as
    dicts (``kind``, ``payload``), both optional: they fill the guard and record steps.
    """
    turn = turn or {}
    timings: Mapping[str, Any] = trace.get("timings_ms") or {}
    ran = set(timings)
    steps: list[ReplayStep] = []

    guard = trace.get("guard")
    if guard is not None or "guard" in ran:
        steps.append(_step("guard", _ms(timings, "guard"), {
            "message": turn.get("message"), **(guard or {})}))
    if "load_profile" in ran or trace.get("personalized"):
        steps.append(_step("profile", _ms(timings, "load_profile"), {
            "customer_id": turn.get("customer_id"), "personalized": bool(trace.get("personalized"))}))
    if "session" in ran:
        steps.append(_step("session", _ms(timings, "session"), {}))
    understanding = trace.get("understanding")
    if understanding is not None or "understand" in ran:
        steps.append(_step("understand", _ms(timings, "understand"), dict(understanding or {})))

    for branch in ("direct", "waiting", "handover", "action"):
        if branch in ran or (branch == "handover" and trace.get("handover")) or (
                branch == "action" and trace.get("action")):
            detail: dict[str, Any] = {}
            if branch == "handover":
                detail = dict(trace.get("handover") or {})
            elif branch == "action":
                detail = dict(trace.get("action") or {})
            steps.append(_step(branch, _ms(timings, branch), detail))

    tool_calls = [c for c in _list(trace.get("tool_calls")) if isinstance(c, Mapping)]
    retrieved = _list(trace.get("retrieved"))
    facts = _list(trace.get("facts"))
    if "tools" in ran or "agent" in ran or retrieved or tool_calls or facts:
        name = "agent" if "agent" in ran else "retrieval"
        steps.append(_step(name, _ms(timings, "agent" if name == "agent" else "tools"), {
            "chunks": [{"id": c.get("id"), "score": c.get("score"), "heading": c.get("heading")}
                       for c in retrieved if isinstance(c, Mapping)],
            "products": _list(trace.get("products")),
            "orders": _list(trace.get("orders")),
            "refused_order_ids": _list(trace.get("refused_order_ids")),
            "facts": facts,
        }))
        for call in tool_calls:
            steps.append(_step("tool_call", _ms(call, "ms"), {
                "tool": call.get("name"), "args": call.get("args"), "result": call.get("result")},
                title=f"Tool call: {call.get('name')}"))

    raw = trace.get("raw_model_text") or ""
    if "compose" in ran or raw:
        steps.append(_step("compose", _ms(timings, "compose"), {
            "raw_model_text": raw, "llm": dict(trace.get("llm") or {})}))
    if "verify" in ran:
        steps.append(_step("verify", _ms(timings, "verify"), {
            "verdict": trace.get("verdict") or turn.get("verdict"), "reasons": _list(trace.get("problems")),
            "status": turn.get("status")}))

    offers = [o for o in _list(trace.get("offers")) if isinstance(o, Mapping)]
    if offers:
        steps.append(_step("offers", None, {"offers": [
            {"offer_id": o.get("id"), "code": o.get("code"), "segment": o.get("segment"),
             "propensity": o.get("propensity"), "policy": o.get("policy")} for o in offers]}))
    if "remember" in ran:
        steps.append(_step("remember", _ms(timings, "remember"), {
            "preferences_inferred": _list(trace.get("preferences_inferred"))}))

    steps.append(_step("record", None, {
        "reply": turn.get("reply"), "status": turn.get("status"),
        "verdict": turn.get("verdict") or trace.get("verdict") or None,
        "reasons": _list(trace.get("problems")), "author": turn.get("author"), "model": turn.get("model"),
        "latency_ms": turn.get("latency_ms"), "events": [e.get("kind") for e in events],
    }))
    error = trace.get("error")
    if isinstance(error, Mapping):
        steps.append(_step("error", None, dict(error)))
    return steps
