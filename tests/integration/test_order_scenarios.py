"""Multi-turn order and hand-over scenarios on the real demo shop (bundled embeddings and chat model, Chroma
on disk, SQLite) in ``graph`` mode. Each scenario starts from the customer as shipped and asserts the store
afterwards (order status, items, history, payments, events, hand-overs), not only the words.

Order actions and hand-overs are answered from templates, so most turns never reach the model; status
questions do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from assistant.components import build_assistant
from assistant.domain import DoneEvent, ShopperIdentity
from assistant.evaluation import DEMO_NOW
from assistant.store.clock import FixedClock
from assistant.turn.turn_service import AssistantService
from tests.demo_reset import reset_customers

pytestmark = [pytest.mark.integration, pytest.mark.model]

ACTION_EVENTS = ("order_cancelled", "return_requested", "exchange_requested", "address_changed")
CLOCK = FixedClock(DEMO_NOW)


@pytest.fixture(scope="module")
def service(real_demo_shop: Any) -> AssistantService:
    return build_assistant(real_demo_shop, now=CLOCK.now)


@dataclass
class Run:
    """A finished scenario: its replies and the store to look at."""

    service: AssistantService
    customer: str
    session: str
    done: list[DoneEvent] = field(default_factory=list)

    @property
    def stores(self) -> Any:
        return self.service.stores

    def order(self, order_id: str, customer: str | None = None) -> Any:
        return self.stores.orders.get(customer or self.customer, order_id)

    def events(self, *kinds: str) -> list[Any]:
        return self.stores.events.list_for(self.customer, kinds=list(kinds or ACTION_EVENTS))

    def handovers(self) -> list[Any]:
        return [h for h in self.stores.handovers.list_open() if h.session_id == self.session]

    def reply(self, index: int = -1) -> str:
        return self.done[index].reply


Step = str | Callable[[Run], None]  # a message, or something that happens between messages


@dataclass
class Scenario:
    id: str
    customer: str
    steps: list[Step]
    check: Callable[[Run], None]
    verdicts: list[str] = field(default_factory=list)  # of the messages, in order ("" skips one)


def shift_clock(minutes: float) -> Callable[[Run], None]:
    return lambda _run: CLOCK.set(DEMO_NOW + timedelta(minutes=minutes))


def warehouse_processes(order_id: str) -> Callable[[Run], None]:
    return lambda run: run.stores.orders.update_status(run.customer, order_id, "processed", note="warehouse")


def unchanged(order_id: str, status: str) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        order = run.order(order_id)
        assert order.status == status and all(i.status == "ordered" for i in order.items)
        assert all(h.get("action") in ("status", "import", None) for h in order.history), order.history
        assert run.events() == [] and run.handovers() == []
    return check


def cancelled(order_id: str, amount: float, kind: str = "authorization_release") -> Callable[[Run], None]:
    def check(run: Run) -> None:
        order = run.order(order_id)
        assert order.status == "cancelled"
        assert [h["action"] for h in order.history].count("cancel") == 1
        assert (order.payments[-1]["kind"], order.payments[-1]["amount"]) == (kind, amount)
        assert [(e.kind, e.payload["order_id"]) for e in run.events()] == [("order_cancelled", order_id)]
    return check


def returned(order_id: str, positions: list[int], refund: float, method: str) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        order = run.order(order_id)
        assert order.status == "delivered"
        assert [i.position for i in order.items if i.status == "return_requested"] == positions
        assert order.payments[-1] == {**order.payments[-1], "kind": "refund", "amount": refund, "method": method,
                                      "status": "pending"}
        [event] = run.events()
        assert event.kind == "return_requested" and event.payload["refund"]["amount"] == refund
    return check


def exchanged(order_id: str, variant_id: str) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        order = run.order(order_id)
        assert order.items[0].status == "exchange_requested" and order.history[-1]["action"] == "exchange_requested"
        assert order.history[-1]["exchange_to"]["variant_id"] == variant_id
        assert [e.kind for e in run.events()] == ["exchange_requested"]
    return check


def handed_over(reason: str, order_id: str | None = None) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        [handover] = run.handovers()
        assert handover.reason == reason and handover.status == "open" and handover.summary
        assert [e.kind for e in run.stores.events.list_for(run.customer, kinds=["handover"])] == ["handover"]
        assert run.events() == []
        if order_id:
            assert all(h.get("action") in ("status", "import", None) for h in run.order(order_id).history)
    return check


def address_is(order_id: str, city: str, changed: bool = True) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        assert run.order(order_id).shipping_address["city"] == city
        assert [e.kind for e in run.events()] == (["address_changed"] if changed else [])
    return check


def both(*checks: Callable[[Run], None]) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        for c in checks:
            c(run)
    return check


def nothing_of_daniels(run: Run) -> None:
    """Maya named Daniel's order: it is unchanged, and nothing of it is in the reply or the stored turn."""
    order = run.order("NW-100080", "C002")
    assert order.status == "processed" and all(h.get("action") != "cancel" for h in order.history)
    turn = run.service.turns.get_turn(run.done[-1].turn_id)
    assert "Earbuds" not in run.reply() and turn is not None and "Earbuds" not in str(turn.trace)


def says(*words: str) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        assert any(w.lower() in run.reply().lower() for w in words), run.reply()
    return check


SCENARIOS = [
    # questions about one's own orders (the model answers; the store must not change)
    Scenario("status-shipped", "C001", ["Where is my order NW-100073?"],
             both(says("shipped", "1Z5GAGTR0388899375"), unchanged("NW-100073", "shipped"))),
    Scenario("status-pending", "C012", ["What is the status of my order NW-100082?"],
             both(says("pending"), unchanged("NW-100082", "pending"))),
    Scenario("status-processed", "C002", ["Has my order NW-100080 shipped yet?"],
             both(says("processed"), unchanged("NW-100080", "processed"))),
    Scenario("status-refunded", "C004", ["What happened to my order NW-100049?"],
             both(says("cancelled"), unchanged("NW-100049", "cancelled"))),
    # cancellations
    Scenario("cancel-confirmed", "C001", ["Please cancel my order NW-100091", "yes"],
             cancelled("NW-100091", 89.99), ["action_proposed", "action_done"]),
    Scenario("cancel-confirmed-shipping-included", "C006", ["I want to cancel order NW-100090", "Yes please"],
             cancelled("NW-100090", 40.94), ["action_proposed", "action_done"]),
    Scenario("cancel-the-only-pending-order", "C026", ["Can you cancel my order?", "confirm"],
             cancelled("NW-100089", 75.98), ["action_proposed", "action_done"]),
    Scenario("cancel-refused-shipped", "C001", ["I want to cancel my order NW-100073"],
             both(says("shipped"), unchanged("NW-100073", "shipped")), ["action_refused"]),
    Scenario("cancel-refused-processed", "C002", ["Please cancel my order NW-100080"],
             both(says("processed"), unchanged("NW-100080", "processed")), ["action_refused"]),
    Scenario("cancel-declined", "C012", ["Cancel my order NW-100082 please", "no, keep it"],
             unchanged("NW-100082", "pending"), ["action_proposed", "action_declined"]),
    Scenario("cancel-double-yes", "C017", ["Please cancel my order NW-100084", "yes", "yes"],
             cancelled("NW-100084", 55.89), ["action_proposed", "action_done", "action_already_done"]),
    Scenario("cancel-expired", "C017", ["Please cancel my order NW-100088", shift_clock(20), "yes"],
             unchanged("NW-100088", "pending"), ["action_proposed", "action_expired"]),
    Scenario("cancel-racing-a-status-change", "C012",
             ["Please cancel my order NW-100085", warehouse_processes("NW-100085"), "yes"],
             both(says("processed"), unchanged("NW-100085", "processed")), ["action_proposed", "action_refused"]),
    Scenario("cancel-not-confirmed-in-the-next-turn", "C026",
             ["Please cancel my order NW-100089", "hello", "yes"],
             unchanged("NW-100089", "pending"), ["action_proposed", "", "nothing_pending"]),
    # bad input
    Scenario("yes-with-nothing-pending", "C006", ["yes"], unchanged("NW-100090", "pending"), ["nothing_pending"]),
    Scenario("made-up-order", "C001", ["Cancel my order NW-999999"],
             both(says("isn't one of them"), unchanged("NW-100091", "pending")), ["refused"]),
    Scenario("another-shoppers-order", "C001", ["Please cancel my order NW-100080"],
             both(says("isn't one of them"), lambda run: nothing_of_daniels(run)), ["refused"]),
    # returns
    Scenario("return-in-window", "C001", ["I'd like to return my order NW-100065", "yes"],
             returned("NW-100065", [1], 119.95, "visa ending 4242"), ["action_proposed", "action_done"]),
    Scenario("return-in-window-platinum", "C004", ["I want to return the backpack from order NW-100067", "yes"],
             returned("NW-100067", [1], 229.0, "visa ending 4242"), ["action_proposed", "action_done"]),
    Scenario("return-label-deducted", "C030", ["Please return my order NW-100060", "yes"],
             returned("NW-100060", [1], 23.04, "mastercard ending 5100"), ["action_proposed", "action_done"]),
    Scenario("return-one-item-of-two", "C016", ["I want to return the black backpack from NW-100061", "yes"],
             returned("NW-100061", [2], 82.05, "mastercard ending 5100"), ["action_proposed", "action_done"]),
    Scenario("return-outside-window", "C002", ["I want to return my order NW-100019"],
             both(says("30 days"), unchanged("NW-100019", "delivered")), ["action_refused"]),
    Scenario("return-outside-window-boots", "C004", ["Can I return my boots from order NW-100037?"],
             both(says("30 days"), unchanged("NW-100037", "delivered")), ["action_refused"]),
    Scenario("return-not-delivered-yet", "C001", ["I want to return my order NW-100073"],
             unchanged("NW-100073", "shipped"), ["action_refused"]),
    # exchanges
    Scenario("exchange-to-sold-out-size", "C001", ["Can I exchange my running shoes from NW-100065 for size 9?"],
             both(says("sold out"), unchanged("NW-100065", "delivered")), ["action_refused"]),
    Scenario("exchange-to-missing-size", "C001", ["Please exchange my shoes from NW-100065 for size 15"],
             unchanged("NW-100065", "delivered"), ["action_refused"]),
    Scenario("exchange-allowed", "C001", ["Can I exchange my running shoes from NW-100065 for size 8?", "yes"],
             exchanged("NW-100065", "NW-RUN-001-15"), ["action_proposed", "action_done"]),
    Scenario("exchange-colour", "C004", ["I'd like to exchange my backpack from NW-100067 for the black one", "yes"],
             exchanged("NW-100067", "NW-BPK-003-4"), ["action_proposed", "action_done"]),
    Scenario("exchange-outside-window", "C009", ["Can I exchange my jacket from NW-100057 for size L?"],
             unchanged("NW-100057", "delivered"), ["action_refused"]),
    # address changes
    Scenario("address-change", "C001",
             ["Please change the address of NW-100091 to 12 Pine Street, Seattle, WA 98101", "yes"],
             address_is("NW-100091", "Seattle"), ["action_proposed", "action_done"]),
    Scenario("address-change-asked-for", "C001",
             ["I need to change the shipping address of my order NW-100091", "500 Oak Avenue, Austin, TX 78701",
              "yes"], address_is("NW-100091", "Austin"), ["action_clarify", "action_proposed", "action_done"]),
    Scenario("address-change-refused-shipped", "C001",
             ["Change the address of NW-100073 to 12 Pine Street, Seattle, WA 98101"],
             unchanged("NW-100073", "shipped"), ["action_refused"]),
    Scenario("address-change-outside-the-us", "C026",
             ["Change the address of NW-100089 to 1 King Street, Toronto, ON 12345"],
             address_is("NW-100089", "Missoula", changed=False), ["action_refused"]),
    # hand-overs
    Scenario("handover-request", "C001", ["Can I talk to a real person?", "hello?"],
             handed_over("customer_request"), ["handover", "handed_over"]),
    Scenario("handover-angry", "C002", ["This is unacceptable, where is my package?!!!"],
             handed_over("angry_customer"), ["handover"]),
    Scenario("handover-dispute", "C001",
             ["I want to cancel my order NW-100073", "That's not fair, I need it cancelled"],
             handed_over("policy_restriction", "NW-100073"), ["action_refused", "handover"]),
    Scenario("handover-repeated-failures", "C006", ["zxqv wplk qrst", "vbnm xkcd zzpq"],
             handed_over("missing_knowledge"), ["no_facts", "handover"]),
    Scenario("handover-yes-to-a-person", "C006", ["zxqv wplk qrst", "yes"],
             handed_over("missing_knowledge"), ["no_facts", "handover"]),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario(service: AssistantService, scenario: Scenario) -> None:
    CLOCK.set(DEMO_NOW)
    reset_customers(service.stores, scenario.customer)
    who = ShopperIdentity(scenario.customer)
    run = Run(service, scenario.customer, service.open_session(who))

    for step in scenario.steps:
        if isinstance(step, str):
            done = list(service.respond(who, run.session, step))[-1]
            assert isinstance(done, DoneEvent)
            run.done.append(done)
        else:
            step(run)

    assert len(service.turns.turns_for_session(scenario.customer, run.session)) == len(run.done)  # all logged
    for done, verdict in zip(run.done, scenario.verdicts, strict=False):
        assert not verdict or done.verdict == verdict, [(d.verdict, d.reply) for d in run.done]
    scenario.check(run)
