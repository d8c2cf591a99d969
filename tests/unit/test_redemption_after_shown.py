"""A redemption rewards the offer bandit only for an order placed after the offer was shown to that shopper
(the showing the feedback attaches to); an order placed before it changes nothing. Temp SQLite store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import NotFoundError, ValidationError
from assistant.personalization.offer_bandit import ArmStats, latest_showing_time, record_offer_feedback
from assistant.store import EventRecord, FixedClock, Stores, open_stores

SEGMENT = "gold/running-shoes"
SHOWN_AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(SHOWN_AT)


@pytest.fixture
def stores(tmp_path: Path, clock: FixedClock, customer_record: Callable[..., dict[str, Any]]) -> Iterator[Stores]:
    opened = open_stores(f"sqlite:///{tmp_path / 'redeem.db'}", clock=clock)
    record = customer_record("c1")
    # c1-o1 (2024-11-02) and c1-o2 (2024-06-10) come before the showing; these two after it and at its instant
    record["orders"] += [
        {"id": "c1-after", "status": "processing", "placed_at": "2025-03-02T09:00:00Z", "total": 80.0,
         "items": [{"product_id": "p-1", "name": "Trail Runner", "quantity": 1, "unit_price": 80.0}]},
        {"id": "c1-same", "status": "processing", "placed_at": "2025-03-01T12:00:00Z", "total": 80.0,
         "items": [{"product_id": "p-1", "name": "Trail Runner", "quantity": 1, "unit_price": 80.0}]},
    ]
    opened.customers.upsert_from_record(record, "test")
    yield opened
    opened.close()


def show(stores: Stores, offer_id: str = "runner15") -> EventRecord:
    stores.bandit.record_shown(SEGMENT, offer_id)
    return stores.events.add(EventRecord(kind="offer_shown", customer_id="c1", payload={
        "offer_id": offer_id, "code": offer_id.upper(), "segment": SEGMENT, "propensity": 0.5}))


def state(stores: Stores) -> tuple[Any, ...]:
    return stores.bandit.all(), stores.events.list_for("c1")


def test_an_order_placed_before_the_offer_was_shown_does_not_reward_the_bandit(stores: Stores) -> None:
    show(stores)
    before = state(stores)

    for order_id in ("c1-o1", "c1-o2", "c1-same"):  # months before, and the very instant it was shown
        with pytest.raises(ValidationError) as refused:
            record_offer_feedback(stores, "c1", "runner15", "redeemed", order_id=order_id)
        assert "placed before the offer" in refused.value.user_message

    assert state(stores) == before
    assert stores.bandit.stats(SEGMENT, ["runner15"])["runner15"] == ArmStats(shown=1)


def test_an_order_placed_after_the_offer_was_shown_redeems_it(stores: Stores) -> None:
    show(stores)

    outcome = record_offer_feedback(stores, "c1", "runner15", "redeemed", order_id="c1-after")

    assert outcome.recorded and outcome.converted
    assert stores.bandit.stats(SEGMENT, ["runner15"])["runner15"] == ArmStats(shown=1, redeemed=1, conversions=1)
    [redeemed] = stores.events.list_for("c1", ["offer_redeemed"])
    assert redeemed.payload["order_id"] == "c1-after"


def test_the_order_is_compared_with_the_showing_the_feedback_attaches_to(stores: Stores, clock: FixedClock) -> None:
    show(stores)
    clock.advance(days=5)  # shown again on 2025-03-06: feedback attaches to this showing, after c1-after
    show(stores)
    before = state(stores)

    assert latest_showing_time(stores, "c1", "runner15") == datetime(2025, 3, 6, 12, 0, tzinfo=UTC)
    with pytest.raises(ValidationError):
        record_offer_feedback(stores, "c1", "runner15", "redeemed", order_id="c1-after")
    assert state(stores) == before


def test_a_redemption_needs_an_order_of_the_shoppers_and_a_showing(stores: Stores) -> None:
    with pytest.raises(NotFoundError):  # never shown: refused whatever the order
        record_offer_feedback(stores, "c1", "runner15", "redeemed", order_id="c1-after")
    show(stores)
    with pytest.raises(ValidationError):  # no order: nothing to compare with the showing
        record_offer_feedback(stores, "c1", "runner15", "redeemed")
    with pytest.raises(NotFoundError):
        record_offer_feedback(stores, "c1", "runner15", "redeemed", order_id="someone-elses")
    assert stores.events.list_for("c1", ["offer_redeemed"]) == []
    assert stores.bandit.stats(SEGMENT, ["runner15"])["runner15"] == ArmStats(shown=1)


def test_accepting_in_the_chat_needs_no_order(stores: Stores) -> None:
    show(stores)

    assert record_offer_feedback(stores, "c1", "runner15", "accepted").converted
