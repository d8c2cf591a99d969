"""Store contract, part 3: sessions, turns and events, order status, and erasing a shopper.

Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text

from assistant.errors import NotFoundError, StoreError, ValidationError
from assistant.store import EventRecord, FixedClock, Stores, TurnRecord

pytestmark = pytest.mark.integration

Record = Callable[..., dict[str, Any]]
CUSTOMER_TABLES = ("consents", "preferences", "orders", "chat_sessions", "turns", "events")


def _turn(session_id: str, customer_id: str | None, **fields: Any) -> TurnRecord:
    values: dict[str, Any] = {
        "message": "where is my order?",
        "reply": "It shipped on 2 Nov.",
        "intent": "order",
    }
    values.update(fields)
    return TurnRecord(session_id=session_id, customer_id=customer_id, **values)


def fixed_time() -> datetime:
    return datetime(2025, 1, 1, 12, tzinfo=UTC)


def _count(engine: Engine, table: str, customer_id: str) -> int:
    with engine.connect() as connection:
        query = text(f"SELECT COUNT(*) FROM {table} WHERE customer_id = :c")
        return int(connection.execute(query, {"c": customer_id}).scalar_one())


# -- sessions, turns, events -----------------------------------------------------------------------


def test_an_anonymous_session_is_found_only_anonymously(stores: Stores) -> None:
    session_id = stores.sessions.open_session(None, "widget")

    found = stores.sessions.get_session(None, session_id)

    assert found is not None and found.customer_id is None and found.channel == "widget"


def test_a_session_for_an_unknown_customer_is_refused(stores: Stores) -> None:
    with pytest.raises(NotFoundError):
        stores.sessions.open_session("ghost", "web")


def test_session_state_is_saved_and_read_back(stores: Stores, customer_record: Record) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    session_id = stores.sessions.open_session("c1", "web")

    stores.sessions.set_state("c1", session_id, {"pending": {"action": "cancel", "order_id": "c1-o1"}})

    session = stores.sessions.get_session("c1", session_id)
    assert session is not None and session.state == {"pending": {"action": "cancel", "order_id": "c1-o1"}}


def test_a_turn_and_its_events_are_stored_together(stores: Stores, customer_record: Record) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    session_id = stores.sessions.open_session("c1", "web")
    trace = {"retrieved": [{"source": "shipping.md", "score": 0.8}], "tools": ["orders"]}

    turn = stores.turns.record_turn(
        _turn(session_id, "c1", trace=trace, latency_ms=420, model="smollm2"),
        [EventRecord(kind="offer_shown", payload={"offer_id": "free-shipping"})],
    )

    assert stores.turns.get_turn(str(turn.id)) == turn
    assert turn.trace == trace and turn.latency_ms == 420
    events = stores.events.list_for("c1", kinds=["offer_shown"])
    assert [(e.turn_id, e.session_id, e.payload) for e in events] == [
        (turn.id, session_id, {"offer_id": "free-shipping"})
    ]


def test_a_failing_event_rolls_back_the_whole_turn(stores: Stores, customer_record: Record) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    session_id = stores.sessions.open_session("c1", "web")
    good = EventRecord(kind="recommendation_shown", payload={"product_id": "p-1"})
    unstorable = EventRecord(kind="feedback", payload={"rating": object()})  # not JSON

    with pytest.raises(ValidationError):  # raised after the turn and the first event were written
        stores.turns.record_turn(_turn(session_id, "c1", id="t-broken"), [good, unstorable])

    assert stores.turns.get_turn("t-broken") is None
    assert stores.turns.turns_for_session("c1", session_id) == []
    assert stores.events.list_for("c1") == []


def test_a_turn_whose_id_is_taken_is_refused_with_its_events(stores: Stores, customer_record: Record) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    session_id = stores.sessions.open_session("c1", "web")
    stores.turns.record_turn(_turn(session_id, "c1", id="t-1"), [EventRecord(kind="offer_shown")])

    with pytest.raises(StoreError):
        stores.turns.record_turn(_turn(session_id, "c1", id="t-1"), [EventRecord(kind="offer_accepted")])

    assert [e.kind for e in stores.events.list_for("c1")] == ["offer_shown"]


def test_a_trace_with_values_json_cannot_hold_is_stored_as_text(stores: Stores, customer_record: Record) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    session_id = stores.sessions.open_session("c1", "web")
    trace = {"scores": [0.5, float("nan")], "started": fixed_time()}

    turn = stores.turns.record_turn(_turn(session_id, "c1", trace=trace))

    assert turn.trace == {"scores": [0.5, None], "started": "2025-01-01T12:00:00+00:00"}


def test_turns_of_a_session_come_oldest_first(
    stores: Stores, customer_record: Record, fixed_clock: FixedClock
) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    session_id = stores.sessions.open_session("c1", "web")
    for message in ("first", "second", "third"):
        stores.turns.record_turn(_turn(session_id, "c1", message=message))
        fixed_clock.advance(seconds=30)

    turns = stores.turns.turns_for_session("c1", session_id)

    assert [t.message for t in turns] == ["first", "second", "third"]


def test_recording_a_turn_marks_the_session_as_seen(
    stores: Stores, customer_record: Record, fixed_clock: FixedClock
) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    session_id = stores.sessions.open_session("c1", "web")
    later = fixed_clock.advance(minutes=3)

    stores.turns.record_turn(_turn(session_id, "c1"))

    session = stores.sessions.get_session("c1", session_id)
    assert session is not None and session.last_seen_at == later


def test_recent_turns_come_newest_first_for_review(
    stores: Stores, customer_record: Record, fixed_clock: FixedClock
) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    session_id = stores.sessions.open_session("c1", "web")
    first = stores.turns.record_turn(_turn(session_id, "c1"))
    fixed_clock.advance(seconds=1)
    second = stores.turns.record_turn(_turn(session_id, "c1"))

    assert [t.id for t in stores.turns.recent(limit=10)] == [second.id, first.id]


# -- orders ----------------------------------------------------------------------------------------


def test_a_status_update_is_appended_to_the_order_history(
    stores: Stores, customer_record: Record, fixed_clock: FixedClock
) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    now = fixed_clock.advance(days=1)

    order = stores.orders.update_status("c1", "c1-o1", "delivered", note="left at the door")

    assert (order.status, order.delivered_at, order.updated_at) == ("delivered", now, now)
    assert order.history[-1] == {
        "at": now.isoformat(),
        "status": "delivered",
        "action": "status",
        "note": "left at the door",
    }


def test_order_items_come_in_their_order_with_prices(stores: Stores, customer_record: Record) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")

    order = stores.orders.get("c1", "c1-o1")

    assert order is not None
    assert [(i.position, i.name, i.quantity, i.unit_price, i.options) for i in order.items] == [
        (1, "Trail Runner", 1, 99.5, {"size": "42"}),
        (2, "Running Socks", 2, 15.0, None),
    ]


# -- erasing a shopper -----------------------------------------------------------------------------


def _seed_everything(stores: Stores, record: dict[str, Any]) -> None:
    customer_id = record["id"]
    stores.customers.upsert_from_record(record, "demo")
    stores.customers.add_preference(
        customer_id, "style", "retro", origin="inferred", source="turn:1", confidence=0.5
    )
    stores.customers.set_consent(customer_id, "marketing", True, source="chat")
    session_id = stores.sessions.open_session(customer_id, "web")
    stores.turns.record_turn(_turn(session_id, customer_id), [EventRecord(kind="offer_shown")])
    stores.events.add(EventRecord(kind="product_viewed", customer_id=customer_id))


def test_deleting_a_customer_erases_everything_of_theirs(
    stores: Stores, store_engine: Engine, customer_record: Record
) -> None:
    _seed_everything(stores, customer_record("c1"))

    deleted = stores.customers.delete("c1")

    assert deleted is True and stores.customers.get("c1") is None
    assert {table: _count(store_engine, table, "c1") for table in CUSTOMER_TABLES} == dict.fromkeys(
        CUSTOMER_TABLES, 0
    )
    with store_engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM order_items")).scalar_one() == 0


def test_deleting_a_customer_leaves_other_customers_alone(stores: Stores, customer_record: Record) -> None:
    _seed_everything(stores, customer_record("c1"))
    _seed_everything(stores, customer_record("c2"))
    before = stores.customers.get("c2")

    stores.customers.delete("c1")

    assert stores.customers.get("c2") == before
    assert len(stores.events.list_for("c2")) == 2
    assert stores.customers.list_ids() == ["c2"]


def test_deleting_an_unknown_customer_reports_false(stores: Stores) -> None:
    assert stores.customers.delete("nobody") is False
