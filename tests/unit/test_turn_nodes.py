"""Each node of the turn graph on its own, with fakes (called directly, outside a graph run)."""

from collections.abc import Callable
from typing import Any

from assistant.domain import Event
from assistant.llm import FakeChatModel
from assistant.turn.answer_nodes import (
    compose_node,
    direct_node,
    guard_node,
    load_profile_node,
    tools_node,
    understand_node,
    verify_node,
)
from assistant.turn.graph import route_after_guard, route_after_understand
from assistant.turn.input_guard import guard_input
from assistant.turn.session_nodes import handover_node
from assistant.turn.state import TurnState
from assistant.turn.turn_service import AssistantService
from assistant.turn.understanding import understand

Make = Callable[[FakeChatModel], AssistantService]


class Sink:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)


def state(message: str, customer: str | None = "C001", **over: Any) -> TurnState:
    s = TurnState(turn_id="t", session_id="s", customer_id=customer, message=message)
    for key, value in over.items():
        setattr(s, key, value)
    return s


def prepared(service: AssistantService, message: str, customer: str = "C001") -> TurnState:
    """A state as it is when it reaches the tools node."""
    deps = service.deps
    s = state(message, customer, guard=guard_input(message, 4000))
    s = state(message, customer, guard=s.guard, **load_profile_node(s, deps, Sink()))
    cats, brands = deps.catalog.categories, deps.catalog.brands
    s.understanding = understand(message, cats, brands)
    return s


def test_guard_node_blocks_empty_input_and_routes_to_a_direct_reply(make_service: Make,
                                                                    fake_llm: FakeChatModel) -> None:
    deps = make_service(fake_llm).deps

    update = guard_node(state("   "), deps, Sink())

    assert update["guard"].blocked == "empty"
    assert route_after_guard(state("", guard=update["guard"])) == "direct"


def test_load_profile_node_reads_consent(make_service: Make, fake_llm: FakeChatModel) -> None:
    deps = make_service(fake_llm).deps

    maya = load_profile_node(state("hi", "C001"), deps, Sink())
    daniel = load_profile_node(state("hi", "C002"), deps, Sink())

    assert maya["profile"].name == "Maya Chen" and maya["personalized"] is True
    assert daniel["personalized"] is False


def test_understand_node_uses_the_shops_categories(make_service: Make, fake_llm: FakeChatModel) -> None:
    deps = make_service(fake_llm).deps
    s = state("any tents under $200?", guard=guard_input("any tents under $200?", 4000))

    u = understand_node(s, deps, Sink())["understanding"]

    assert u.intent == "product" and u.categories == ("camping",) and u.max_price == 200


def test_routing_after_understanding() -> None:
    assert route_after_understand(state("x", understanding=understand("talk to a human"))) == "handover"
    assert route_after_understand(state("x", understanding=understand("hello"))) == "direct"
    assert route_after_understand(state("x", understanding=understand("return policy?"))) == "tools"


def test_direct_node_greets_by_first_name(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)
    s = prepared(service, "hello")
    sink = Sink()

    update = direct_node(s, service.deps, sink)

    assert update["reply"].startswith("Hello, Maya!") and sink.events[0].type == "text"


def test_handover_node_emits_a_handover_with_a_reason(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)
    sink = Sink()

    update = handover_node(prepared(service, "I want a human"), service.deps, sink)

    assert update["handover"]["reason"] == "customer_request"
    assert [e.type for e in sink.events] == ["text", "handover"]


def test_tools_node_gathers_policy_facts_for_a_policy_question(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)

    update = tools_node(prepared(service, "How long do I have to return something?"), service.deps, Sink())

    assert update["facts"].policies and not update["facts"].products
    assert [c["name"] for c in update["tool_calls"]] == ["search_policies"]


def test_tools_node_fetches_own_orders_and_refuses_others(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)

    update = tools_node(prepared(service, "Where are NW-100073 and NW-100080?"), service.deps, Sink())

    assert [o.id for o in update["facts"].orders] == ["NW-100073"]
    assert update["facts"].refused_order_ids == ["NW-100080"]


def test_tools_node_emits_product_cards(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)
    sink = Sink()

    update = tools_node(prepared(service, "I need running shoes under $100"), service.deps, sink)

    assert update["products"] and sink.events[0].type == "products"


def test_compose_node_without_facts_does_not_call_the_model(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)
    s = prepared(service, "zxqv wplk")
    s.facts = tools_node(s, service.deps, Sink())["facts"]

    update = compose_node(s, service.deps, Sink())

    assert update["verdict"] == "no_facts" and fake_llm.calls == []


def test_compose_node_streams_verified_sentences_and_stops_at_a_false_one(make_service: Make,
                                                                         fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm.enqueue(["Express shipping costs $14.99. It arrives in 9 days. More."]))
    s = prepared(service, "How much is express shipping?")
    s.facts = tools_node(s, service.deps, Sink())["facts"]
    sink = Sink()

    update = compose_node(s, service.deps, sink)

    # what was shown is the reply: the false sentence and the rest are left out, never shown then replaced
    assert [e.to_dict()["text"] for e in sink.events] == ["Express shipping costs $14.99."]
    assert update["verdict"] == "pass" and update["reply"] == "Express shipping costs $14.99."
    assert any(p.startswith("left out") and "9" in p for p in update["problems"])


def test_verify_node_replaces_a_failed_reply_with_one_from_facts(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)
    s = prepared(service, "How much is express shipping?")
    s.facts = tools_node(s, service.deps, Sink())["facts"]
    s.reply, s.verdict = "Express shipping costs $99.", "pass"
    sink = Sink()

    update = verify_node(s, service.deps, sink)

    assert update["verdict"] == "fallback" and "$14.99" in update["reply"]
    assert [e.type for e in sink.events] == ["replace", "sources"]


def test_verify_node_keeps_a_good_reply_and_cites_sources(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)
    s = prepared(service, "How much is express shipping?")
    s.facts = tools_node(s, service.deps, Sink())["facts"]
    s.reply, s.verdict = "Express shipping costs $14.99.", "pass"
    sink = Sink()

    update = verify_node(s, service.deps, sink)

    # issue 13: a policy answer names the document it comes from, by title
    assert update == {"verdict": "pass", "reply": "Express shipping costs $14.99. Source: Shipping."}
    assert [e.type for e in sink.events] == ["text", "sources"]


def test_compose_node_drops_a_sentence_cut_off_by_the_token_budget(make_service: Make,
                                                                   fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm.enqueue(["Express shipping costs $14.99. It takes 1-2 business days and"]))
    s = prepared(service, "How much is express shipping?")
    s.facts = tools_node(s, service.deps, Sink())["facts"]
    sink = Sink()

    update = compose_node(s, service.deps, sink)

    assert update["reply"] == "Express shipping costs $14.99."
    assert [e.to_dict()["text"] for e in sink.events] == ["Express shipping costs $14.99."]
