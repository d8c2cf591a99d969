"""Store contract, part 2: two shoppers never see or change each other's data through any store method.

Shopper A has orders, a preference, a session with a turn and events; shopper B has their own. Every
test asks as B for A's things. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from assistant.errors import NotFoundError, ValidationError
from assistant.store import EventRecord, Stores, TurnRecord

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Shopper:
    id: str
    order_id: str
    preference_id: int
    session_id: str
    turn_id: str


def _seed(stores: Stores, record: dict[str, Any], colour: str) -> Shopper:
    stores.customers.upsert_from_record(record, "demo")
    preference = stores.customers.add_preference(
        record["id"], "colour", colour, origin="inferred", source="turn:seed", confidence=0.5
    )
    assert preference is not None
    session_id = stores.sessions.open_session(record["id"], "web")
    turn = stores.turns.record_turn(
        TurnRecord(session_id=session_id, customer_id=record["id"], message="hi", reply="hello"),
        [EventRecord(kind="recommendation_shown", payload={"product_id": f"{record['id']}-p"})],
    )
    stores.events.add(
        EventRecord(kind="product_viewed", customer_id=record["id"], payload={"product_id": "p"})
    )
    assert turn.id is not None
    return Shopper(record["id"], record["orders"][0]["id"], preference.id, session_id, turn.id)


@pytest.fixture
def two(stores: Stores, customer_record: Callable[..., dict[str, Any]]) -> tuple[Shopper, Shopper]:
    return _seed(stores, customer_record("alice"), "red"), _seed(stores, customer_record("bob"), "blue")


def test_an_order_of_another_shopper_is_not_found(stores: Stores, two: tuple[Shopper, Shopper]) -> None:
    alice, bob = two

    assert stores.orders.get(bob.id, alice.order_id) is None


def test_order_lists_hold_only_the_shoppers_own_orders(stores: Stores, two: tuple[Shopper, Shopper]) -> None:
    alice, bob = two

    orders = stores.orders.list_for(bob.id)

    assert {o.customer_id for o in orders} == {bob.id}
    assert alice.order_id not in {o.id for o in orders}


def test_a_shopper_cannot_change_another_shoppers_order(stores: Stores, two: tuple[Shopper, Shopper]) -> None:
    alice, bob = two

    with pytest.raises(NotFoundError):
        stores.orders.update_status(bob.id, alice.order_id, "cancelled", note="not mine")

    order = stores.orders.get(alice.id, alice.order_id)
    assert order is not None and order.status == "shipped"


def test_a_profile_holds_only_the_shoppers_own_data(stores: Stores, two: tuple[Shopper, Shopper]) -> None:
    alice, bob = two

    profile = stores.customers.get(bob.id)

    assert profile is not None
    assert {p.customer_id for p in profile.preferences} == {bob.id}
    assert alice.order_id not in {o.id for o in profile.orders}


def test_preference_lists_hold_only_the_shoppers_own(stores: Stores, two: tuple[Shopper, Shopper]) -> None:
    alice, bob = two

    preferences = stores.customers.list_preferences(bob.id, include_removed=True)

    assert alice.preference_id not in {p.id for p in preferences}
    assert {p.customer_id for p in preferences} == {bob.id}


def test_a_shopper_cannot_remove_another_shoppers_preference(
    stores: Stores, two: tuple[Shopper, Shopper]
) -> None:
    alice, bob = two

    with pytest.raises(NotFoundError):
        stores.customers.remove_preference(bob.id, alice.preference_id)

    assert alice.preference_id in {p.id for p in stores.customers.list_preferences(alice.id)}


def test_a_session_of_another_shopper_is_not_found(stores: Stores, two: tuple[Shopper, Shopper]) -> None:
    alice, bob = two

    assert stores.sessions.get_session(bob.id, alice.session_id) is None
    assert stores.sessions.get_session(None, alice.session_id) is None


def test_session_lists_hold_only_the_shoppers_own(stores: Stores, two: tuple[Shopper, Shopper]) -> None:
    alice, bob = two

    assert [s.id for s in stores.sessions.sessions_for(bob.id)] == [bob.session_id]


def test_a_shopper_cannot_change_another_shoppers_session_state(
    stores: Stores, two: tuple[Shopper, Shopper]
) -> None:
    alice, bob = two

    with pytest.raises(NotFoundError):
        stores.sessions.set_state(bob.id, alice.session_id, {"pending": "cancel order"})

    session = stores.sessions.get_session(alice.id, alice.session_id)
    assert session is not None and session.state == {}


def test_turns_of_another_shoppers_session_are_not_returned(
    stores: Stores, two: tuple[Shopper, Shopper]
) -> None:
    alice, bob = two

    assert stores.turns.turns_for_session(bob.id, alice.session_id) == []


def test_a_turn_cannot_be_recorded_in_another_shoppers_session(
    stores: Stores, two: tuple[Shopper, Shopper]
) -> None:
    alice, bob = two
    turn = TurnRecord(session_id=alice.session_id, customer_id=bob.id, message="x", reply="y")

    with pytest.raises(ValidationError):
        stores.turns.record_turn(turn)

    assert [t.id for t in stores.turns.turns_for_session(alice.id, alice.session_id)] == [alice.turn_id]


def test_event_lists_hold_only_the_shoppers_own(stores: Stores, two: tuple[Shopper, Shopper]) -> None:
    alice, bob = two

    events = stores.events.list_for(bob.id)

    assert len(events) == 2
    assert {e.customer_id for e in events} == {bob.id}
    assert alice.session_id not in {e.session_id for e in events}


def test_an_event_cannot_point_at_another_shoppers_session(
    stores: Stores, two: tuple[Shopper, Shopper]
) -> None:
    alice, bob = two
    event = EventRecord(
        kind="feedback", customer_id=bob.id, session_id=alice.session_id, turn_id=alice.turn_id
    )

    with pytest.raises(ValidationError):
        stores.events.add(event)

    assert [e.kind for e in stores.events.list_for(bob.id)] == ["recommendation_shown", "product_viewed"]


def test_an_event_in_a_turn_cannot_name_another_shopper(stores: Stores, two: tuple[Shopper, Shopper]) -> None:
    alice, bob = two
    turn = TurnRecord(session_id=bob.session_id, customer_id=bob.id, message="x", reply="y")

    with pytest.raises(ValidationError):
        stores.turns.record_turn(turn, [EventRecord(kind="offer_shown", customer_id=alice.id)])

    assert len(stores.events.list_for(alice.id)) == 2
