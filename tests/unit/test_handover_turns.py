"""Hand-overs through the whole turn on fakes: why a conversation is queued, what the person reads, and that
the assistant stays quiet until the hand-over is resolved."""

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from assistant.components import Components, build_assistant
from assistant.domain import DoneEvent, Event, ShopperIdentity
from assistant.llm import FakeChatModel
from assistant.turn.turn_service import AssistantService
from tests.demo_reset import reset_customers
from tests.unit.conftest import DEMO_NOW

MAYA = ShopperIdentity("C001")


@pytest.fixture
def service(demo_components: Components, demo_offers: list[dict[str, Any]], fake_llm: FakeChatModel
            ) -> Iterator[AssistantService]:
    yield build_assistant(demo_components, llm=fake_llm, offers=lambda: demo_offers, now=lambda: DEMO_NOW)
    reset_customers(demo_components.stores, "C001")


class Chat:
    def __init__(self, service: AssistantService, who: ShopperIdentity = MAYA) -> None:
        self.service, self.who, self.session = service, who, service.open_session(who)
        self.events: list[Event] = []

    def say(self, message: str) -> DoneEvent:
        self.events = list(self.service.respond(self.who, self.session, message))
        done = self.events[-1]
        assert isinstance(done, DoneEvent)
        return done

    def handovers(self) -> list[Any]:
        return [h for h in self.service.stores.handovers.list_open() if h.session_id == self.session]


def test_asking_for_a_person_queues_the_conversation_with_a_summary(service: AssistantService) -> None:
    chat = Chat(service)
    chat.say("hello")

    done = chat.say("I want to talk to a human please")

    [handover] = chat.handovers()
    assert done.verdict == "handover" and handover.reason == "customer_request"
    assert "Shopper: hello" in handover.summary and "talk to a human" in handover.summary
    assert [e.type for e in chat.events if e.type == "handover"] == ["handover"]


def test_while_handed_over_the_assistant_does_not_answer(service: AssistantService, fake_llm: FakeChatModel) -> None:
    chat = Chat(service)
    chat.say("I want to talk to a human please")

    done = chat.say("How long do I have to return something?")

    assert done.verdict == "handed_over" and "person from our team" in done.reply and fake_llm.calls == []
    assert len(chat.handovers()) == 1


def test_after_the_handover_is_resolved_the_assistant_answers_again(service: AssistantService,
                                                                     fake_llm: FakeChatModel) -> None:
    chat = Chat(service)
    chat.say("I want to talk to a human please")
    service.stores.handovers.resolve(chat.handovers()[0].id, "ana")
    fake_llm.enqueue(["Your order NW-100073 has shipped."])

    done = chat.say("Where is my order NW-100073?")  # the model writes about the shopper's own order

    assert done.verdict == "pass" and done.reply == "Your order NW-100073 has shipped." and fake_llm.calls
    policy = chat.say("How long do I have to return something?")  # the policy's own sentences, no model
    assert policy.verdict == "fallback" and "30 days" in policy.reply and len(fake_llm.calls) == 1


def test_an_angry_shopper_is_handed_over(service: AssistantService) -> None:
    chat = Chat(service)

    done = chat.say("This is ridiculous, my order is STILL not here!!!")

    assert done.verdict == "handover" and chat.handovers()[0].reason == "angry_customer"


def test_two_unanswered_questions_in_a_row_hand_over(service: AssistantService) -> None:
    chat = Chat(service)
    first = chat.say("zxqv wplk")

    second = chat.say("qqzx vvbn")

    assert first.verdict == "no_facts"
    assert second.verdict == "handover" and [h.reason for h in chat.handovers()] == ["missing_knowledge"]
    assert "zxqv wplk" in chat.handovers()[0].summary


def test_one_unanswered_question_does_not_hand_over(service: AssistantService) -> None:
    chat = Chat(service)

    done = chat.say("zxqv wplk")

    assert done.verdict == "no_facts" and chat.handovers() == []


def test_yes_to_the_offer_of_a_person_hands_over(service: AssistantService) -> None:
    chat = Chat(service)
    chat.say("zxqv wplk")  # "I don't know ... Would you like me to connect you with a person?"

    done = chat.say("yes please")

    assert done.verdict == "handover" and chat.handovers()[0].reason == "missing_knowledge"


def test_disputing_a_policy_refusal_hands_over(service: AssistantService) -> None:
    chat = Chat(service)
    chat.say("I want to cancel my order NW-100073")  # shipped: refused

    done = chat.say("That's not fair, I really need it cancelled")

    [handover] = chat.handovers()
    assert done.verdict == "handover" and handover.reason == "policy_restriction"
    assert "shipped" in handover.summary


def test_a_failing_lookup_hands_over_as_a_tool_failure(demo_components: Components, service: AssistantService,
                                                       fake_llm: FakeChatModel) -> None:
    class DownKnowledge:
        def search(self, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("chroma is down")

    deps = replace(service.deps, shop_tools=replace(service.deps.shop_tools, knowledge=DownKnowledge()))
    broken = AssistantService(deps, demo_components.stores)
    chat = Chat(broken)

    done = chat.say("How long do I have to return something?")

    stored = broken.turns.get_turn(done.turn_id)
    assert done.verdict == "handover" and chat.handovers()[0].reason == "tool_failure"
    assert stored is not None and stored.handover and fake_llm.calls == []
