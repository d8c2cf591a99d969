"""Converting store rows to domain types, and the profile's ranking rules (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from assistant.records import ConsentState, Preference
from assistant.store import models as m
from assistant.store.convert import (
    active_preferences,
    consent_from_rows,
    order_from_row,
    profile_from_rows,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _pref(pid: int, value: str, origin: str = "inferred", confidence: float = 0.5, **fields: Any) -> Preference:
    values: dict[str, Any] = {
        "id": pid,
        "customer_id": "c1",
        "kind": "colour",
        "value": value,
        "origin": origin,
        "source": "test",
        "confidence": confidence,
        "evidence_count": 1,
        "created_at": T0 + timedelta(minutes=pid),
        "updated_at": T0,
        "removed_at": None,
    }
    values.update(fields)
    return Preference(**values)


def _consent(cid: int, kind: str, granted: bool, minutes: int) -> m.ConsentRow:
    return m.ConsentRow(
        id=cid, customer_id="c1", kind=kind, granted=granted, source="test", at=T0 + timedelta(minutes=minutes)
    )


def test_explicit_preferences_come_before_inferred_ones() -> None:
    ranked = active_preferences([_pref(1, "red", confidence=0.99), _pref(2, "blue", origin="explicit")])

    assert [p.value for p in ranked] == ["blue", "red"]


def test_inferred_preferences_are_ranked_by_confidence() -> None:
    ranked = active_preferences([_pref(1, "red", confidence=0.3), _pref(2, "blue", confidence=0.8)])

    assert [p.value for p in ranked] == ["blue", "red"]


def test_removed_preferences_are_left_out() -> None:
    ranked = active_preferences([_pref(1, "red", removed_at=T0), _pref(2, "blue")])

    assert [p.value for p in ranked] == ["blue"]


def test_an_inferred_preference_repeating_an_explicit_one_is_left_out() -> None:
    ranked = active_preferences([_pref(1, "Red", origin="explicit"), _pref(2, "red", confidence=0.9)])

    assert [(p.value, p.origin) for p in ranked] == [("Red", "explicit")]


def test_the_latest_consent_row_wins() -> None:
    rows = [_consent(2, "marketing", False, minutes=10), _consent(1, "marketing", True, minutes=5)]

    assert consent_from_rows(rows).marketing is False


def test_consent_rows_at_the_same_time_are_decided_by_insertion_order() -> None:
    rows = [_consent(1, "personalization", True, minutes=0), _consent(2, "personalization", False, minutes=0)]

    assert consent_from_rows(rows).personalization is False


def test_no_consent_rows_mean_the_defaults() -> None:
    assert consent_from_rows([]) == ConsentState()


def _order(order_id: str, placed_minutes: int) -> m.OrderRow:
    return m.OrderRow(
        id=order_id,
        customer_id="c1",
        status="shipped",
        placed_at=T0 + timedelta(minutes=placed_minutes),
        currency="EUR",
        total=10,
        payments=[],
        history=[],
    )


def test_order_items_are_sorted_by_position() -> None:
    items = [
        m.OrderItemRow(order_id="o1", position=2, product_id="p2", name="B", quantity=1, unit_price=1.0),
        m.OrderItemRow(order_id="o1", position=1, product_id="p1", name="A", quantity=1, unit_price=2.0),
    ]

    order = order_from_row(_order("o1", 0), items)

    assert [i.name for i in order.items] == ["A", "B"]


def test_profile_orders_are_newest_first_with_unit_counts() -> None:
    customer = m.CustomerRow(id="c1", name="Ann", tier="gold", points=3, attributes={}, created_at=T0, updated_at=T0)

    profile = profile_from_rows(customer, [], [], [_order("old", 0), _order("new", 60)], {"new": 3})

    assert [(o.id, o.item_count) for o in profile.orders] == [("new", 3), ("old", 0)]
