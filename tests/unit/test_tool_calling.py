"""``agent.mode: tool_calling``: a scripted model's tool calls drive the real tools, policy and store; the
confirmation stays in code."""

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from assistant.components import Components, build_assistant
from assistant.domain import DoneEvent, ShopperIdentity
from assistant.llm import FakeChatModel
from assistant.turn.turn_service import AssistantService
from tests.demo_reset import reset_customers
from tests.unit.conftest import DEMO_NOW

MAYA = ShopperIdentity("C001")


def call(name: str, **args: Any) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": f"call-{name}", "type": "tool_call"}])


@pytest.fixture
def agent(demo_components: Components, demo_offers: list[dict[str, Any]], fake_llm: FakeChatModel
          ) -> Iterator[AssistantService]:
    service = build_assistant(demo_components, llm=fake_llm, offers=lambda: demo_offers, now=lambda: DEMO_NOW)
    settings = service.deps.settings
    tool_calling = settings.model_copy(update={"agent": settings.agent.model_copy(update={"mode": "tool_calling"})})
    yield AssistantService(replace(service.deps, settings=tool_calling), demo_components.stores)
    reset_customers(demo_components.stores, "C001")


def say(service: AssistantService, session: str, message: str) -> DoneEvent:
    done = list(service.respond(MAYA, session, message))[-1]
    assert isinstance(done, DoneEvent)
    return done


def test_the_model_asks_to_cancel_and_the_shopper_confirms_in_code(agent: AssistantService,
                                                                   fake_llm: FakeChatModel) -> None:
    fake_llm.enqueue([call("my_orders"), call("request_cancellation", order_id="NW-100091"),
                      "I have prepared the cancellation."])
    session = agent.open_session(MAYA)

    proposal = say(agent, session, "I don't need the Glide 5 shoes any more, please cancel them")
    calls_before_yes = len(fake_llm.calls)
    done = say(agent, session, "yes")

    order = agent.stores.orders.get("C001", "NW-100091")
    assert proposal.verdict == "action_proposed" and "$89.99" in proposal.reply
    assert done.verdict == "action_done" and len(fake_llm.calls) == calls_before_yes
    assert order.status == "cancelled" and order.history[-1]["turn_id"] == done.turn_id


def test_the_model_asks_for_a_return_and_the_store_registers_it(agent: AssistantService,
                                                                fake_llm: FakeChatModel) -> None:
    fake_llm.enqueue([call("request_return", order_id="NW-100065"), "Return prepared."])
    session = agent.open_session(MAYA)

    say(agent, session, "My Tempo 3 shoes don't fit, I want to send them back")
    say(agent, session, "yes")

    order = agent.stores.orders.get("C001", "NW-100065")
    assert order.items[0].status == "return_requested" and order.payments[-1]["amount"] == 119.95


def test_a_cancellation_the_policy_refuses_changes_nothing(agent: AssistantService, fake_llm: FakeChatModel) -> None:
    fake_llm.enqueue([call("request_cancellation", order_id="NW-100073"), "Done!"])

    done = say(agent, agent.open_session(MAYA), "cancel my top order")

    assert done.verdict == "action_refused" and "shipped" in done.reply and "Done!" not in done.reply
    assert agent.stores.orders.get("C001", "NW-100073").status == "shipped"


def test_another_shoppers_order_is_refused_to_the_model_too(agent: AssistantService, fake_llm: FakeChatModel) -> None:
    fake_llm.enqueue([call("order_details", order_id="NW-100080"), "It is processed."])

    done = say(agent, agent.open_session(MAYA), "What is in order NW-100080?")

    tool_result = next(m for m in fake_llm.calls[-1] if m.type == "tool")
    assert "not one of your orders" in tool_result.text and "Earbuds" not in tool_result.text
    assert "isn't one of them" in done.reply and "processed" not in done.reply


def test_a_grounded_answer_from_the_tools_passes_the_verifier(agent: AssistantService,
                                                              fake_llm: FakeChatModel) -> None:
    fake_llm.enqueue([call("my_orders", order_id="NW-100073"), "Your order NW-100073 has shipped."])

    done = say(agent, agent.open_session(MAYA), "Where is my order NW-100073?")

    assert done.verdict == "pass" and done.reply == "Your order NW-100073 has shipped."


def test_an_invented_fact_is_replaced_by_one_built_from_the_tools(agent: AssistantService,
                                                                 fake_llm: FakeChatModel) -> None:
    fake_llm.enqueue([call("my_orders", order_id="NW-100073"), "Your order NW-100073 arrives on December 24."])

    done = say(agent, agent.open_session(MAYA), "Where is my order NW-100073?")

    assert done.verdict == "fallback" and "December" not in done.reply and "shipped" in done.reply


def test_the_shopper_is_never_a_tool_argument(agent: AssistantService, fake_llm: FakeChatModel) -> None:
    fake_llm.enqueue(["Hello!"])

    say(agent, agent.open_session(MAYA), "What can you do for me?")

    names = {t["function"]["name"] for t in fake_llm.bound_tools}
    params = {p for t in fake_llm.bound_tools for p in t["function"]["parameters"].get("properties", {})}
    assert {"my_orders", "order_details", "request_cancellation", "request_return"} <= names
    assert not params & {"customer_id", "customer", "shopper", "user_id"}
