"""Store contract, offers loop: the bandit's counts (atomic under concurrency, shared by store instances),
offer feedback, and the copy review queue. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from assistant.errors import NotFoundError, StoreError, ValidationError
from assistant.personalization.offer_bandit import ArmStats
from assistant.store import EventRecord, Stores, build_stores

pytestmark = pytest.mark.integration

Record = Callable[..., dict[str, Any]]
SEGMENT = "gold/running-shoes"


@pytest.fixture
def shopper(stores: Stores, customer_record: Record) -> str:
    stores.customers.upsert_from_record(customer_record("c1"), "test")
    return "c1"


def _show(stores: Stores, customer_id: str, offer_id: str = "runner15") -> EventRecord:
    stores.bandit.record_shown(SEGMENT, offer_id)
    return stores.events.add(EventRecord(kind="offer_shown", customer_id=customer_id, payload={
        "offer_id": offer_id, "code": offer_id.upper(), "segment": SEGMENT, "propensity": 0.4, "policy": "thompson"}))


def test_concurrent_increments_from_many_replicas_all_count(stores: Stores, store_engine: Engine) -> None:
    replicas = [build_stores(store_engine) for _ in range(4)]
    errors: list[BaseException] = []

    def show(replica: Stores) -> None:
        try:
            for _ in range(25):
                replica.bandit.record_shown(SEGMENT, "runner15")
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=show, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert stores.bandit.stats(SEGMENT, ["runner15"]) == {"runner15": ArmStats(shown=100)}


def test_a_second_store_instance_sees_the_same_counts(stores: Stores, store_engine: Engine, shopper: str) -> None:
    _show(stores, shopper)
    stores.bandit.record_feedback(shopper, "runner15", "clicked")

    other = build_stores(store_engine)

    assert other.bandit.stats(SEGMENT, ["runner15", "trail20"]) == {"runner15": ArmStats(shown=1, clicked=1)}


def test_feedback_for_an_offer_never_shown_changes_nothing(stores: Stores, shopper: str) -> None:
    _show(stores, shopper, "runner15")
    before = (stores.bandit.all(), stores.events.list_for(shopper))

    with pytest.raises(NotFoundError):
        stores.bandit.record_feedback(shopper, "trail20", "redeemed")

    assert (stores.bandit.all(), stores.events.list_for(shopper)) == before


def test_feedback_counts_once_per_kind_and_converts_once_per_showing(stores: Stores, shopper: str) -> None:
    shown = _show(stores, shopper)

    outcomes = [stores.bandit.record_feedback(shopper, "runner15", kind)
                for kind in ("clicked", "clicked", "accepted", "redeemed", "accepted")]

    assert [o.recorded for o in outcomes] == [True, False, True, True, False]
    assert [o.converted for o in outcomes] == [False, False, True, False, False]
    assert stores.bandit.stats(SEGMENT, ["runner15"])["runner15"] == \
        ArmStats(shown=1, clicked=1, accepted=1, redeemed=1, conversions=1)
    feedback = stores.events.list_for(shopper, ["offer_clicked", "offer_accepted", "offer_redeemed"])
    assert {e.payload["shown_event_id"] for e in feedback} == {shown.id}


def test_another_shoppers_showing_does_not_count(stores: Stores, customer_record: Record, shopper: str) -> None:
    stores.customers.upsert_from_record(customer_record("c2"), "test")
    _show(stores, shopper)

    with pytest.raises(NotFoundError):
        stores.bandit.record_feedback("c2", "runner15", "accepted")


def test_copy_moves_from_pending_only_by_review(stores: Stores, shopper: str) -> None:
    draft = stores.copy.add(kind="email", text="Hi!", facts={"lines": []}, verdict={"ok": True}, customer_id=shopper)

    edited = stores.copy.review(draft.id, "edited", "ana", text="Hello!")

    assert (draft.status, edited.status, edited.text, edited.original_text) == ("pending", "edited", "Hello!", "Hi!")
    assert stores.copy.list("pending") == [] and [d.id for d in stores.copy.list("edited")] == [draft.id]
    with pytest.raises(ValidationError):
        stores.copy.review(draft.id, "approved", "ben")
    with pytest.raises(ValidationError):
        stores.copy.add(kind="sms", text="x", facts={}, verdict={}, segment="gold/any")


def test_copy_for_a_customer_is_erased_with_the_customer(stores: Stores, shopper: str) -> None:
    draft = stores.copy.add(kind="push", text="Hi", facts={}, verdict={}, customer_id=shopper)
    segment = stores.copy.add(kind="banner", text="Gold week", facts={}, verdict={}, segment="gold/any")

    stores.customers.delete(shopper)

    assert stores.copy.get(draft.id) is None and stores.copy.get(segment.id) is not None


def test_copy_for_an_unknown_customer_is_refused(stores: Stores) -> None:
    with pytest.raises(StoreError):
        stores.copy.add(kind="push", text="Hi", facts={}, verdict={}, customer_id="ghost")
