"""Store contract, part 4: shoppers' order actions (locked, idempotent) and the hand-over queue.

Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from assistant.errors import ConflictError, NotFoundError, ValidationError
from assistant.store import AppliedChange, FixedClock, OrderChange, Stores

pytestmark = pytest.mark.integration

Record = Callable[..., dict[str, Any]]


def cancel(action_id: str = "a1", allowed: tuple[str, ...] = ("shipped",)) -> OrderChange:
    return OrderChange(action_id=action_id, action="cancel", allowed_statuses=allowed, status="cancelled",
                       payment={"kind": "refund", "method": "card", "amount": 129.5}, note="asked in chat",
                       details={"turn_id": "t1"})


@pytest.fixture
def shopper(stores: Stores, customer_record: Record) -> str:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    stores.customers.upsert_from_record(customer_record("c2"), "demo")
    return "c1"


# -- order actions ---------------------------------------------------------------------------------


def test_a_change_sets_status_history_and_payment_in_one_go(stores: Stores, shopper: str,
                                                             fixed_clock: FixedClock) -> None:
    result = stores.orders.apply_change(shopper, "c1-o1", cancel())

    order = stores.orders.get(shopper, "c1-o1")
    assert result.applied and order is not None and order.status == "cancelled"
    assert order.history[-1] == {"at": fixed_clock.now().isoformat(), "status": "cancelled", "action": "cancel",
                                 "note": "asked in chat", "action_id": "a1", "turn_id": "t1"}
    assert order.payments[-1] == {"at": fixed_clock.now().isoformat(), "kind": "refund", "method": "card",
                                  "amount": 129.5}


def test_applying_the_same_action_again_changes_nothing(stores: Stores, shopper: str) -> None:
    stores.orders.apply_change(shopper, "c1-o1", cancel())
    before = stores.orders.get(shopper, "c1-o1")

    again = stores.orders.apply_change(shopper, "c1-o1", cancel())

    assert not again.applied and stores.orders.get(shopper, "c1-o1") == before


def test_a_change_the_status_no_longer_allows_is_refused_and_writes_nothing(stores: Stores, shopper: str) -> None:
    stores.orders.update_status(shopper, "c1-o1", "delivered")
    before = stores.orders.get(shopper, "c1-o1")

    with pytest.raises(ConflictError, match="delivered"):
        stores.orders.apply_change(shopper, "c1-o1", cancel())

    assert stores.orders.get(shopper, "c1-o1") == before


def test_item_statuses_change_only_from_an_allowed_status(stores: Stores, shopper: str) -> None:
    change = OrderChange(action_id="r1", action="return_requested", allowed_statuses=("shipped",),
                         item_statuses={2: "return_requested"})
    stores.orders.apply_change(shopper, "c1-o1", change)

    with pytest.raises(ConflictError):
        stores.orders.apply_change(shopper, "c1-o1", OrderChange(**{**change.__dict__, "action_id": "r2"}))

    order = stores.orders.get(shopper, "c1-o1")
    assert order is not None and [i.status for i in order.items] == ["ordered", "return_requested"]


def test_a_new_shipping_address_replaces_the_old_one(stores: Stores, shopper: str) -> None:
    address = {"line1": "9 Pine St", "city": "Seattle", "state": "WA", "postcode": "98101", "country": "US"}

    stores.orders.apply_change(shopper, "c1-o1", OrderChange(
        action_id="ad1", action="address_changed", allowed_statuses=("shipped",), shipping_address=address))

    order = stores.orders.get(shopper, "c1-o1")
    assert order is not None and order.shipping_address == address and order.status == "shipped"


def test_another_shoppers_order_cannot_be_changed(stores: Stores, shopper: str) -> None:
    with pytest.raises(NotFoundError):
        stores.orders.apply_change("c2", "c1-o1", cancel())

    order = stores.orders.get(shopper, "c1-o1")
    assert order is not None and order.status == "shipped"


def test_two_confirmations_at_once_apply_the_action_once(stores: Stores, shopper: str) -> None:
    results: list[AppliedChange | BaseException] = []

    def confirm() -> None:
        try:
            results.append(stores.orders.apply_change(shopper, "c1-o1", cancel()))
        except BaseException as e:  # collected and asserted below
            results.append(e)

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.applied for r in results if isinstance(r, AppliedChange)) == [False, False, False, True]
    order = stores.orders.get(shopper, "c1-o1")
    assert order is not None and [h.get("action_id") for h in order.history].count("a1") == 1
    assert len(order.payments) == 2


# -- hand-overs ------------------------------------------------------------------------------------


def test_handovers_are_queued_oldest_first(stores: Stores, shopper: str, fixed_clock: FixedClock) -> None:
    first = stores.handovers.create(stores.sessions.open_session("c1"), "c1", "customer_request", "wants a human")
    fixed_clock.advance(minutes=1)
    second = stores.handovers.create(stores.sessions.open_session("c2"), "c2", "angry_customer", "upset")

    queue = stores.handovers.list_open()

    assert [(h.id, h.reason, h.status) for h in queue] == [(first.id, "customer_request", "open"),
                                                           (second.id, "angry_customer", "open")]


def test_a_session_has_one_open_handover(stores: Stores, shopper: str) -> None:
    session_id = stores.sessions.open_session("c1")
    first = stores.handovers.create(session_id, "c1", "customer_request", "one")

    again = stores.handovers.create(session_id, "c1", "missing_knowledge", "two")

    assert again == first and len(stores.handovers.list_open()) == 1


def test_a_claimed_handover_cannot_be_claimed_by_another_agent(stores: Stores, shopper: str) -> None:
    handover = stores.handovers.create(stores.sessions.open_session("c1"), "c1", "customer_request", "s")

    claimed = stores.handovers.claim(handover.id, "ana")

    assert (claimed.status, claimed.agent) == ("claimed", "ana")
    with pytest.raises(ConflictError):
        stores.handovers.claim(handover.id, "ben")


def test_resolving_frees_the_session_for_a_new_handover(stores: Stores, shopper: str) -> None:
    session_id = stores.sessions.open_session("c1")
    first = stores.handovers.create(session_id, "c1", "customer_request", "s")

    stores.handovers.resolve(first.id, "ana", "refunded by hand")

    assert stores.handovers.open_for_session(session_id) is None and stores.handovers.list_open() == []
    assert stores.handovers.create(session_id, "c1", "tool_failure", "t").id != first.id


def test_an_unknown_reason_is_refused(stores: Stores, shopper: str) -> None:
    with pytest.raises(ValidationError, match="reason"):
        stores.handovers.create(stores.sessions.open_session("c1"), "c1", "bored", "s")


def test_a_handover_cannot_name_another_shoppers_session(stores: Stores, shopper: str) -> None:
    with pytest.raises(NotFoundError):
        stores.handovers.create(stores.sessions.open_session("c1"), "c2", "customer_request", "s")


def test_deleting_a_customer_erases_their_handovers(stores: Stores, shopper: str) -> None:
    handover = stores.handovers.create(stores.sessions.open_session("c1"), "c1", "customer_request", "s")

    stores.customers.delete("c1")

    assert stores.handovers.get(handover.id) is None
