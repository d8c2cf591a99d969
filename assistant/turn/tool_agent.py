"""``agent.mode: tool_calling``: LangChain's tool-calling agent in place of the graph's tools and compose.

For a capable model behind an OpenAI-compatible endpoint. The model chooses among the same tools
(``assistant.turn.shop_tools.langchain_tools``) plus order-action tools. The offer it gets is the one the graph
would choose (a guest, without a customer token: public offers only); it goes to the offers panel and is the only
offer code a reply may name. An action tool never changes anything: it runs the same policy code as the graph
and, when allowed, creates the pending action the shopper must confirm with a yes in the next turn (handled by
code, as in graph mode). A reply that proposes an action is the template that lists what will happen, not the
model's words; any other reply goes through the same verifier, against what the tools returned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.domain import OffersEvent, OfferView, TextDelta
from assistant.orders.order_actions import ActionOutcome, parse_address
from assistant.turn.compose import fallback_reply
from assistant.turn.facts import Facts
from assistant.turn.guest_turns import is_guest
from assistant.turn.prompts import SYSTEM
from assistant.turn.session_nodes import carry
from assistant.turn.shop_tools import langchain_tools

if TYPE_CHECKING:
    from langchain_core.messages import AnyMessage
    from langchain_core.tools import BaseTool

    from assistant.turn.state import Emit, TurnDeps, TurnState

AGENT_SYSTEM = SYSTEM + (
    " Use the tools to look things up; never guess order details. To cancel, return, exchange or change the "
    "address of an order, call the matching request tool: it checks the shop's policy and asks the shopper to "
    "confirm; nothing changes before they do."
)


def action_tools(state: TurnState, deps: TurnDeps, outcomes: list[ActionOutcome]) -> list[BaseTool]:
    """Tools that propose order actions for the shopper of this turn (bound in, never an argument)."""
    from langchain_core.tools import StructuredTool

    tier = state.profile.tier if state.profile else None

    def record(outcome: ActionOutcome) -> str:
        outcomes.append(outcome)
        return outcome.reply

    def request_cancellation(order_id: str) -> str:
        """Ask to cancel one of the shopper's orders (only pending orders can be cancelled)."""
        return record(deps.actions.propose("cancel", state.customer_id, tier, order_id, "", deps.now()))

    def request_return(order_id: str, items: str = "") -> str:
        """Ask to return items of a delivered order; ``items`` names them (empty: the whole order)."""
        return record(deps.actions.propose("return", state.customer_id, tier, order_id, items.lower(), deps.now()))

    def request_exchange(order_id: str, item: str = "", size: str | None = None, colour: str | None = None) -> str:
        """Ask to exchange an item of a delivered order for another size or colour of the same product."""
        wanted = {k: v for k, v in (("size", size), ("colour", colour)) if v}
        return record(deps.actions.propose("exchange", state.customer_id, tier, order_id, item.lower(), deps.now(),
                                           wanted=wanted or None))

    def request_address_change(order_id: str, address: str) -> str:
        """Ask to change the shipping address of a pending order; ``address``: street, city, STATE ZIP."""
        return record(deps.actions.propose("address_change", state.customer_id, tier, order_id, "", deps.now(),
                                           address=parse_address(address)))

    return [StructuredTool.from_function(f) for f in
            (request_cancellation, request_return, request_exchange, request_address_change)]


def agent_node(state: TurnState, deps: TurnDeps, emit: Emit) -> dict[str, Any]:
    from langchain.agents import create_agent
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

    assert state.guard is not None and state.understanding is not None
    u, question = state.understanding, state.guard.text
    tools = deps.shop_tools.for_shopper(state.customer_id, guest=is_guest(state))  # a guest: public offers only
    facts = Facts(question=question, intent=u.intent, profile=state.profile, personalized=state.personalized,
                  language=state.language,
                  categories=u.categories)
    outcomes: list[ActionOutcome] = []
    agent = create_agent(deps.llm, [*langchain_tools(tools, facts), *action_tools(state, deps, outcomes)],
                         system_prompt=AGENT_SYSTEM.format(shop=deps.shop.called))
    history: list[AnyMessage] = []
    for turn in deps.stores.turns.turns_for_session(state.customer_id, state.session_id)[-2:]:
        history += [HumanMessage(turn.message), AIMessage(turn.reply)]  # the model sees the last exchange
    context = [f"- {line}" for line in facts.lines()]  # who is asking, so the model can greet and personalize
    result = agent.invoke({"messages": [*history, HumanMessage("\n".join([*context, question]))]},
                          {"recursion_limit": deps.settings.agent.max_agent_steps * 2 + 1})
    messages = result["messages"]
    calls = [{"name": m.name, "result": str(m.content)[:500]} for m in messages if isinstance(m, ToolMessage)]
    raw = next((m.text for m in reversed(messages) if isinstance(m, AIMessage) and not m.tool_calls), "")
    offers = [dict(o) for o in facts.offers]
    update: dict[str, Any] = {"facts": facts, "raw": raw, "products": list(facts.products), "offers": offers,
                              "tool_calls": state.tool_calls + [c.to_trace() for c in tools.calls] + calls}
    if offers:  # as the graph's tools step: the offers panel, and the offers counted as shown
        emit(OffersEvent(tuple(OfferView(o["id"], o["code"], o["title"], o.get("description", ""),
                                         (o.get("bandit") or {}).get("propensity")) for o in offers)))
    if outcomes:  # an action was asked for: the policy's words, and the pending action for the next turn
        outcome = outcomes[-1]
        emit(TextDelta(outcome.reply))
        return {**update, "reply": outcome.reply, "verdict": outcome.verdict, "action": outcome.trace(),
                "carry": carry(outcome, state.session_state or {}, deps.actions.summary)}
    if facts.refused_order_ids or (facts.empty and not raw.strip()):
        # another shopper's (or a made-up) order, or nothing found: a fixed reply, never the model's words
        reply = fallback_reply(facts, deps.shop.called)
        emit(TextDelta(reply))
        return {**update, "reply": reply, "verdict": "refused" if facts.refused_order_ids else "no_facts"}
    verdict = deps.verifier.check(raw, facts.corpus(), question, facts.named_products(),
                                  offer_codes=[str(o["code"]) for o in offers])  # no other offer code
    if verdict.ok and raw.strip():
        emit(TextDelta(raw.strip()))
        return {**update, "reply": raw.strip(), "verdict": "pass"}
    return {**update, "reply": raw, "verdict": "fail", "problems": list(verdict.problems)}


def route_after_agent(state: TurnState) -> str:
    return "remember" if state.action is not None or state.handover else "verify"
