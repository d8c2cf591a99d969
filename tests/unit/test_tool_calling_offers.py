"""``agent.mode: tool_calling`` and offers: the model's offers tool gives what the graph gives. A guest (no customer
token) gets public offers only: none for a tier, a first order or marketing consent; a signed-in shopper gets their
own. The offer goes to the offers panel, and a reply naming any other shop code is not shown."""

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from assistant.components import Components, build_assistant
from assistant.domain import DoneEvent, Event, ShopperIdentity
from assistant.llm import FakeChatModel
from assistant.turn.turn_service import AssistantService
from tests.unit.conftest import DEMO_NOW

MAYA = ShopperIdentity("C001")  # gold


def call(name: str, **args: Any) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": f"call-{name}", "type": "tool_call"}])


def tool_calling(components: Components, llm: FakeChatModel, offers: list[dict[str, Any]]) -> AssistantService:
    service = build_assistant(components, llm=llm, offers=lambda: offers, now=lambda: DEMO_NOW)
    settings = service.deps.settings
    mode = settings.model_copy(update={"agent": settings.agent.model_copy(update={"mode": "tool_calling"})})
    return AssistantService(replace(service.deps, settings=mode), components.stores)


@pytest.fixture
def agent(demo_components: Components, demo_offers: list[dict[str, Any]], fake_llm: FakeChatModel
          ) -> Iterator[AssistantService]:
    yield tool_calling(demo_components, fake_llm, demo_offers)


@pytest.fixture
def boots_only(demo_components: Components, demo_offers: list[dict[str, Any]], fake_llm: FakeChatModel
               ) -> Iterator[AssistantService]:
    """The shop's hiking-boot offers only: TRAIL20 (gold and platinum) and FALLTRAIL (ended in October)."""
    yield tool_calling(demo_components, fake_llm,
                       [o for o in demo_offers if "hiking-boots" in o["eligibility"]["categories"]])


def public(offer: dict[str, Any]) -> bool:
    rules = offer["eligibility"]
    return not (rules["tiers"] or rules["first_order_only"] or rules["requires_marketing_consent"])


def ask(service: AssistantService, who: ShopperIdentity | None, message: str) -> tuple[list[Event], DoneEvent]:
    events = list(service.respond(who, None, message))
    done = events[-1]
    assert isinstance(done, DoneEvent)
    return events, done


def offered(events: list[Event]) -> list[str]:
    return [o["code"] for e in events if e.type == "offers" for o in e.to_dict()["offers"]]


def tool_result(fake_llm: FakeChatModel, name: str) -> str:
    return next(m.text for m in fake_llm.calls[-1] if m.type == "tool" and m.name == name)


def test_a_guest_gets_a_public_offer_from_the_offers_tool(agent: AssistantService, fake_llm: FakeChatModel,
                                                          demo_offers: list[dict[str, Any]]) -> None:
    by_code = {o["code"]: o for o in demo_offers}
    fake_llm.enqueue([call("my_offers"), "Here is an offer for you."])

    events, done = ask(agent, None, "Do you have any discount codes?")

    codes = offered(events)
    assert codes and all(public(by_code[c]) for c in codes)
    assert all(c in tool_result(fake_llm, "my_offers") for c in codes)
    members_only = [c for c, o in by_code.items() if not public(o)]
    assert not any(c in tool_result(fake_llm, "my_offers") or c in done.reply for c in members_only)
    stored = agent.turns.get_turn(done.turn_id)
    assert stored is not None and stored.customer_id is None and stored.trace.get("guest") is True


def test_a_guest_gets_no_members_offer_and_a_reply_naming_one_is_not_shown(boots_only: AssistantService,
                                                                           fake_llm: FakeChatModel) -> None:
    fake_llm.enqueue([call("my_offers", category="hiking-boots"), "Use code TRAIL20 for 20% off hiking boots."])

    events, done = ask(boots_only, None, "Any deals on hiking boots?")

    assert offered(events) == [] and tool_result(fake_llm, "my_offers") == "no offers"
    assert "TRAIL20" not in done.reply and done.verdict != "pass"
    assert "TRAIL20" not in "".join(str(e.to_dict().get("text", "")) for e in events)


def test_a_signed_in_member_gets_their_tier_offer(boots_only: AssistantService, fake_llm: FakeChatModel) -> None:
    fake_llm.enqueue([call("my_offers", category="hiking-boots"), "Use code TRAIL20 for 20% off hiking boots."])

    events, done = ask(boots_only, MAYA, "Any deals on hiking boots?")

    assert offered(events) == ["TRAIL20"] and "TRAIL20" in tool_result(fake_llm, "my_offers")
    assert done.verdict == "pass" and done.reply == "Use code TRAIL20 for 20% off hiking boots."
    stored = boots_only.turns.get_turn(done.turn_id)
    assert stored is not None and [o["code"] for o in stored.trace["offers"]] == ["TRAIL20"]
