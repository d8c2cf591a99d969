"""Store contract for purchase events, on SQLite and PostgreSQL: each event id kept once (a re-import and two writers
racing add nothing twice), amounts and times as sent, a line of a stored order left to the order, the purchases
version counted once per new write, and the events exported and erased with their shopper."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from assistant.privacy.customer_data import erase_customer, export_customer
from assistant.store import Stores, session_factory
from assistant.store.data_versions import DataVersionStore
from assistant.store.purchase_events import PurchaseEvent

pytestmark = pytest.mark.integration

AT = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)


@pytest.fixture
def shoppers(stores: Stores, customer_record: Any) -> Stores:
    for customer_id in ("c1", "c2"):
        stores.customers.upsert_from_record(customer_record(customer_id), "test")
    return stores


def bought(event_id: str, customer_id: str = "c1", order_id: str | None = None, hours: int = 0) -> PurchaseEvent:
    return PurchaseEvent(event_id, customer_id, AT + timedelta(hours=hours), "p-7", 3, 12.25, "EUR", order_id)


def test_each_event_id_is_kept_once_as_sent(shoppers: Stores) -> None:
    versions = DataVersionStore(session_factory(shoppers.engine))
    start = versions.versions().get("purchases", 0)

    first = shoppers.purchase_events.add([bought("e1"), bought("e2", hours=1), bought("e1", hours=5)])
    again = shoppers.purchase_events.add([bought("e1"), bought("e3", "c2", hours=2)])

    kept = shoppers.purchase_events.for_customers(["c1", "c2"])
    assert (first, again) == (2, 1)
    assert kept == [bought("e1"), bought("e2", hours=1), bought("e3", "c2", hours=2)]  # the first e1 wins
    assert kept[0].at.tzinfo is not None and kept[0].amount == pytest.approx(36.75)
    assert versions.versions().get("purchases", 0) == start + 2


def test_two_writers_racing_for_the_same_ids_keep_each_once(shoppers: Stores) -> None:
    batch = [bought(f"r{i}", hours=i) for i in range(40)]
    added: list[int] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            added.append(shoppers.purchase_events.add(batch))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=write) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and sum(added) == 40
    assert len(shoppers.purchase_events.for_customers(["c1"])) == 40


def test_an_event_naming_a_stored_order_is_left_to_the_order(shoppers: Stores) -> None:
    shoppers.purchase_events.add([bought("line", order_id="c1-o1"), bought("own", order_id="web-1")])

    assert [e.id for e in shoppers.purchase_events.for_customers(["c1"])] == ["own"]
    assert [e.id for e in shoppers.purchase_events.for_customers(["c1"], all_events=True)] == ["line", "own"]


def test_purchase_events_are_exported_and_erased_with_their_shopper(shoppers: Stores) -> None:
    shoppers.purchase_events.add([bought("e1"), bought("e2", order_id="web-1"), bought("e3", "c2")])

    exported = export_customer(shoppers.engine, "c1")
    removed = erase_customer(shoppers.engine, shoppers.customers, "c1")

    assert sorted(r["id"] for r in exported["tables"]["purchase_events"]) == ["e1", "e2"]
    assert removed["purchase_events"] == 2
    assert shoppers.purchase_events.for_customers(["c1"], all_events=True) == []
    assert [e.id for e in shoppers.purchase_events.for_customers(["c2"])] == ["e3"]
