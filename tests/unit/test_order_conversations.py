"""Order actions through the whole turn on fakes: propose, confirm in the next turn, and the store after it.

Every test restores the demo customers it touched (their orders change), so the shared demo shop stays as
shipped for the other tests.
"""

from collections.abc import Iterator
from typing import Any

import pytest

from assistant.components import Components, build_assistant
from assistant.domain import DoneEvent, Event, ShopperIdentity
from assistant.llm import FakeChatModel
from assistant.store.clock import FixedClock
from assistant.turn.turn_service import AssistantService
from tests.demo_reset import reset_customers
from tests.unit.conftest import DEMO_NOW

MAYA, DANIEL, SAMUEL = ShopperIdentity("C001"), ShopperIdentity("C002"), ShopperIdentity("C016")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DEMO_NOW)


@pytest.fixture
def service(demo_components: Components, demo_offers: list[dict[str, Any]], fake_llm: FakeChatModel,
            clock: FixedClock) -> Iterator[AssistantService]:
    yield build_assistant(demo_components, llm=fake_llm, offers=lambda: demo_offers, now=clock.now)
    reset_customers(demo_components.stores, "C001", "C002", "C016")


class Chat:
    """One conversation of one shopper."""

    def __init__(self, service: AssistantService, who: ShopperIdentity) -> None:
        self.service, self.who, self.session = service, who, service.open_session(who)

    def say(self, message: str) -> DoneEvent:
        events: list[Event] = list(self.service.respond(self.who, self.session, message))
        done = events[-1]
        assert isinstance(done, DoneEvent)
        return done


def order(service: AssistantService, customer: str, order_id: str) -> Any:
    return service.stores.orders.get(customer, order_id)


def events_of(service: AssistantService, customer: str, kind: str) -> list[Any]:
    return service.stores.events.list_for(customer, kinds=[kind])


def test_a_cancellation_is_only_proposed_until_the_shopper_says_yes(service: AssistantService,
                                                                     fake_llm: FakeChatModel) -> None:
    done = Chat(service, MAYA).say("Please cancel my order NW-100091")

    assert done.verdict == "action_proposed"
    assert "NW-100091" in done.reply and "$89.99" in done.reply and "paypal" in done.reply and '"yes"' in done.reply
    assert order(service, "C001", "NW-100091").status == "pending" and fake_llm.calls == []


def test_yes_cancels_the_pending_order_with_history_payment_and_event(service: AssistantService,
                                                                      fake_llm: FakeChatModel) -> None:
    chat = Chat(service, MAYA)
    chat.say("Please cancel my order NW-100091")

    done = chat.say("yes")

    cancelled = order(service, "C001", "NW-100091")
    assert done.verdict == "action_done" and "cancelled" in done.reply
    assert cancelled.status == "cancelled" and cancelled.history[-1]["action"] == "cancel"
    assert cancelled.history[-1]["turn_id"] == done.turn_id
    assert cancelled.payments[-1]["kind"] == "authorization_release" and cancelled.payments[-1]["amount"] == 89.99
    assert [e.turn_id for e in events_of(service, "C001", "order_cancelled")] == [done.turn_id]
    assert fake_llm.calls == []


def test_a_second_yes_says_it_is_done_and_changes_nothing(service: AssistantService) -> None:
    chat = Chat(service, MAYA)
    chat.say("Please cancel my order NW-100091")
    chat.say("yes")
    before = order(service, "C001", "NW-100091")

    again = chat.say("yes")

    assert again.verdict == "action_already_done" and "already done" in again.reply
    assert order(service, "C001", "NW-100091") == before and len(events_of(service, "C001", "order_cancelled")) == 1


def test_yes_with_nothing_pending_changes_nothing_and_is_logged(service: AssistantService) -> None:
    done = Chat(service, MAYA).say("yes")

    assert done.verdict == "nothing_pending" and "nothing" in done.reply.lower()
    assert order(service, "C001", "NW-100091").status == "pending"
    assert service.turns.get_turn(done.turn_id) is not None


def test_a_confirmation_after_the_expiry_changes_nothing(service: AssistantService, clock: FixedClock) -> None:
    chat = Chat(service, MAYA)
    chat.say("Please cancel my order NW-100091")
    clock.advance(minutes=16)

    done = chat.say("yes")

    assert done.verdict == "action_expired" and "expired" in done.reply
    assert order(service, "C001", "NW-100091").status == "pending"


def test_no_drops_the_pending_action(service: AssistantService) -> None:
    chat = Chat(service, MAYA)
    chat.say("Please cancel my order NW-100091")

    declined, later = chat.say("no, don't cancel it"), chat.say("yes")

    assert declined.verdict == "action_declined" and later.verdict == "nothing_pending"
    assert order(service, "C001", "NW-100091").status == "pending"


def test_a_pending_action_must_be_confirmed_in_the_next_turn(service: AssistantService) -> None:
    chat = Chat(service, MAYA)
    chat.say("Please cancel my order NW-100091")
    chat.say("How much is express shipping?")

    done = chat.say("yes")

    assert done.verdict == "nothing_pending" and order(service, "C001", "NW-100091").status == "pending"


def test_a_shipped_order_cannot_be_cancelled(service: AssistantService) -> None:
    before = order(service, "C001", "NW-100073")

    done = Chat(service, MAYA).say("I want to cancel my order NW-100073")

    assert done.verdict == "action_refused" and "shipped" in done.reply and "pending" in done.reply
    assert order(service, "C001", "NW-100073") == before


def test_a_cancellation_racing_a_status_change_is_refused_cleanly(service: AssistantService) -> None:
    chat = Chat(service, MAYA)
    chat.say("Please cancel my order NW-100091")
    service.stores.orders.update_status("C001", "NW-100091", "processed", note="warehouse")

    done = chat.say("yes")

    current = order(service, "C001", "NW-100091")
    assert done.verdict == "action_refused" and "processed" in done.reply and "Nothing was changed" in done.reply
    assert current.status == "processed" and all(h["action"] != "cancel" for h in current.history)
    assert events_of(service, "C001", "order_cancelled") == []


@pytest.mark.parametrize("order_id", ["NW-999999", "NW-100080"])  # made up; Daniel's
def test_an_order_that_is_not_the_shoppers_is_refused_without_a_word_of_it(service: AssistantService,
                                                                          order_id: str) -> None:
    done = Chat(service, MAYA).say(f"Cancel my order {order_id}")

    stored = service.turns.get_turn(done.turn_id)
    assert done.verdict == "refused" and "isn't one of them" in done.reply
    assert stored is not None and "Earbuds" not in done.reply + str(stored.trace)
    assert order(service, "C002", "NW-100080").status == "processed"


def test_a_return_in_the_window_registers_a_pending_refund(service: AssistantService) -> None:
    chat = Chat(service, MAYA)
    proposal = chat.say("I'd like to return my order NW-100065")

    done = chat.say("yes please")

    returned = order(service, "C001", "NW-100065")
    assert "$119.95" in proposal.reply and "visa ending 4242" in proposal.reply and "free" in proposal.reply
    assert done.verdict == "action_done" and returned.items[0].status == "return_requested"
    assert returned.payments[-1] == {**returned.payments[-1], "kind": "refund", "amount": 119.95,
                                     "status": "pending"}
    assert events_of(service, "C001", "return_requested")[0].payload["refund"]["amount"] == 119.95


def test_a_standard_member_pays_the_return_label_from_the_refund(service: AssistantService) -> None:
    chat = Chat(service, SAMUEL)
    proposal = chat.say("I want to return the black backpack from NW-100061")

    chat.say("yes")

    items = order(service, "C016", "NW-100061").items
    assert "$82.05" in proposal.reply and "$6.95" in proposal.reply
    assert [i.status for i in items] == ["ordered", "return_requested"]


def test_a_return_after_the_window_is_refused(service: AssistantService) -> None:
    done = Chat(service, DANIEL).say("I want to return my order NW-100019")

    assert done.verdict == "action_refused" and "30 days" in done.reply and "2026-07-15" in done.reply
    assert order(service, "C002", "NW-100019").items[0].status == "ordered"


def test_an_exchange_to_a_sold_out_variant_is_refused(service: AssistantService) -> None:
    done = Chat(service, MAYA).say("Can I exchange my running shoes from NW-100065 for size 9?")

    assert done.verdict == "action_refused" and "sold out" in done.reply
    assert order(service, "C001", "NW-100065").items[0].status == "ordered"


def test_an_exchange_to_an_in_stock_variant_is_registered(service: AssistantService) -> None:
    chat = Chat(service, MAYA)
    proposal = chat.say("Can I exchange my running shoes from NW-100065 for size 8?")

    chat.say("yes")

    exchanged = order(service, "C001", "NW-100065")
    assert proposal.verdict == "action_proposed" and "size 8" in proposal.reply
    assert exchanged.items[0].status == "exchange_requested"
    assert exchanged.history[-1]["exchange_to"]["variant_id"] == "NW-RUN-001-15"
    assert len(events_of(service, "C001", "exchange_requested")) == 1


def test_the_address_of_a_pending_order_changes_after_yes(service: AssistantService) -> None:
    chat = Chat(service, MAYA)
    proposal = chat.say("Please change the address of NW-100091 to 12 Pine Street, Seattle, WA 98101")

    chat.say("yes")

    address = order(service, "C001", "NW-100091").shipping_address
    assert "2217 Alder Creek Road" in proposal.reply and "12 Pine Street" in proposal.reply
    assert (address["line1"], address["city"], address["state"], address["postcode"]) == (
        "12 Pine Street", "Seattle", "WA", "98101")
    assert events_of(service, "C001", "address_changed")[0].payload["address"]["city"] == "Seattle"


def test_a_missing_address_is_asked_for_and_the_answer_is_understood(service: AssistantService) -> None:
    chat = Chat(service, MAYA)
    question = chat.say("I need to change the shipping address of my order NW-100091")

    proposal = chat.say("12 Pine Street, Seattle, WA 98101")

    assert question.verdict == "action_clarify" and proposal.verdict == "action_proposed"
    assert order(service, "C001", "NW-100091").shipping_address["city"] == "Portland"


def test_the_order_to_cancel_is_found_when_only_one_can_be(service: AssistantService) -> None:
    done = Chat(service, MAYA).say("Please cancel my order")

    assert done.verdict == "action_proposed" and "NW-100091" in done.reply
