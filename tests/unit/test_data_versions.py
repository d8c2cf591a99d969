"""Processes on one database agree on shop data: every change counts its kind up in ``data_versions`` (in the
change's own transaction for offers, orders and the shop profile; after the import for the knowledge base), and
each process reloads only the kinds whose counter moved. Two ``Components`` on one database stand in for two
replicas here (tests/integration/test_replicas.py runs two real servers)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assistant.components import Components, build_components
from assistant.config.loading import load_settings
from assistant.errors import StoreError
from assistant.records import ShopProfile
from assistant.staff.admin import Admin
from assistant.store import Stores
from assistant.store.data_versions import DataVersionStore, DataWatch, track_changes
from assistant.store.db import session_factory
from assistant.store.offer_store import OfferRow

OFFER = {"id": "tea10", "code": "TEA10", "title": "10% off tea", "description": "10% off any tea.",
         "kind": "percent", "value": 10, "currency": "EUR", "eligibility": {"min_basket": 20}}
PRODUCTS = [
    {"id": "T-1", "name": "Iron Goddess Oolong", "category": "oolong-tea", "description": "A roasted oolong tea.",
     "price": 18.5, "currency": "EUR", "stock": 4},
    {"id": "T-2", "name": "Morning Mist Sencha", "category": "green-tea", "description": "A steamed green tea.",
     "price": 12.0, "currency": "EUR", "stock": 9},
]


def versions_of(stores: Stores) -> dict[str, int]:
    return DataVersionStore(session_factory(stores.engine)).versions()


# counting changes in the database -----------------------------------------------------------------------
def test_an_offer_write_counts_offers_up_once_per_transaction(stores: Stores) -> None:
    before = versions_of(stores)

    stores.offers.upsert(OFFER, "offers.json")

    after = versions_of(stores)
    assert after.get("offers", 0) == before.get("offers", 0) + 1
    assert {k: v for k, v in after.items() if k != "offers"} == {k: v for k, v in before.items() if k != "offers"}


def test_an_unchanged_offer_counts_nothing(stores: Stores) -> None:
    stores.offers.upsert(OFFER, "offers.json")
    before = versions_of(stores)

    assert stores.offers.upsert(OFFER, "offers.json") == "unchanged"

    assert versions_of(stores) == before


def test_a_rolled_back_write_counts_nothing_then_or_later(stores: Stores) -> None:
    before = versions_of(stores)
    sessions = session_factory(stores.engine)
    track_changes(sessions)
    now = datetime.now(UTC)

    with sessions() as session:
        session.add(OfferRow(id="x", code="XCODE", data=dict(OFFER, id="x", code="XCODE"), active=True,
                             created_at=now, updated_at=now))
        session.flush()
        session.rollback()
        session.commit()  # the same session commits again, with nothing written

    assert versions_of(stores) == before
    assert stores.offers.get("x") is None


def test_orders_imported_or_erased_count_purchases(stores: Stores,
                                                   customer_record: Callable[..., dict[str, Any]]) -> None:
    start = versions_of(stores).get("purchases", 0)

    stores.customers.upsert_from_record(customer_record("c1"), "customers.jsonl")
    imported = versions_of(stores).get("purchases", 0)
    stores.customers.delete("c1")  # the orders go by ON DELETE CASCADE, which the session never sees
    erased = versions_of(stores).get("purchases", 0)

    assert imported == start + 1
    assert erased == imported + 1


def test_a_conversation_counts_no_shop_data(stores: Stores, customer_record: Callable[..., dict[str, Any]]) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "customers.jsonl")
    before = versions_of(stores)

    session_id = stores.sessions.open_session("c1", "api")
    stores.sessions.set_state("c1", session_id, {"failures": 1})
    stores.customers.set_consent("c1", "marketing", True, source="chat")
    stores.customers.add_preference("c1", "colour", "green", origin="explicit", source="chat")

    assert versions_of(stores) == before


def test_the_shop_profile_counts_shop(stores: Stores) -> None:
    start = versions_of(stores).get("shop", 0)

    stores.shop.put(ShopProfile(name="Lantern Tea House", currency="EUR", locale="de-DE", source="shop.json"))

    assert versions_of(stores).get("shop", 0) == start + 1


def test_bumping_an_unknown_kind_is_refused(stores: Stores) -> None:
    with pytest.raises(ValueError, match="unknown shop data kinds"):
        DataVersionStore(session_factory(stores.engine)).bump(["prices"])


# the watch ------------------------------------------------------------------------------------------------
class FakeCounters:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.reads = 0
        self.down = False

    def __call__(self) -> dict[str, int]:
        self.reads += 1
        if self.down:
            raise StoreError("the database is away")
        return dict(self.values)


def test_the_watch_reads_at_most_once_per_interval_and_reports_only_what_moved() -> None:
    counters, now = FakeCounters(), [100.0]
    watch = DataWatch(counters, interval_s=1.0, clock=lambda: now[0])

    assert watch.changed() == set()  # the first read notes where the counters stand
    counters.values = {"offers": 1}
    now[0] += 0.5
    assert watch.changed() == set()  # too soon: not read
    now[0] += 0.6
    assert watch.changed() == {"offers"}
    now[0] += 1.1
    assert watch.changed() == set()
    counters.values = {"offers": 1, "catalog": 3}
    assert watch.changed(force=True) == {"catalog"}
    assert counters.reads == 4


def test_the_watch_keeps_the_caches_while_the_database_is_away() -> None:
    counters, now = FakeCounters(), [0.0]
    watch = DataWatch(counters, interval_s=1.0, clock=lambda: now[0])
    watch.changed()
    counters.down, counters.values = True, {"catalog": 1}
    now[0] += 2

    assert watch.changed() == set()
    counters.down = False
    now[0] += 2
    assert watch.changed() == {"catalog"}


# two processes on one database ------------------------------------------------------------------------------
def write_shop(root: Path, products: list[dict[str, Any]], offers: list[dict[str, Any]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "products.jsonl").write_text("\n".join(json.dumps(p) for p in products))
    (root / "offers.json").write_text(json.dumps(offers))
    return root


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[Components, Components]]:
    """Two components on one SQLite file and one (in-memory) Chroma collection set, each checking on every read."""
    prefix = f"r{uuid.uuid4().hex[:8]}_"
    settings = load_settings(["test"], env={}, overrides={
        "app": {"data_dir": str(tmp_path / "data")}, "knowledge": {"collection_prefix": prefix},
        "embeddings": {"dimensions": 256}})
    one, other = build_components(settings), build_components(settings)
    one.data_check_s = other.data_check_s = 0.0
    one.ingest_shop(write_shop(tmp_path / "shop", PRODUCTS, [OFFER]))
    try:
        yield one, other
    finally:
        one.stores.close()
        other.stores.close()


def test_a_price_imported_by_one_process_is_the_others_price(replicas: tuple[Components, Components],
                                                             tmp_path: Path) -> None:
    one, other = replicas
    assert other.catalog.get().products["T-1"]["price"] == 18.5
    service = other.assistant

    cheaper = [dict(PRODUCTS[0], price=15.0), PRODUCTS[1]]
    one.ingest_shop(write_shop(tmp_path / "shop", cheaper, [OFFER]))

    assert other.catalog.get().products["T-1"]["price"] == 15.0
    assert other.assistant is not service  # built again over the new catalogue
    assert other.assistant.deps.catalog.products["T-1"]["price"] == 15.0


def test_an_offer_disabled_by_one_process_is_refreshed_in_the_other_without_rebuilding(
        replicas: tuple[Components, Components]) -> None:
    one, other = replicas
    service = other.assistant
    catalog_before = other.catalog.get()
    Admin(one).create_offer({**OFFER, "id": "new5", "code": "NEW5", "title": "5 off", "value": 5})
    assert "NEW5" in other.assistant.deps.verifier.known_codes

    Admin(one).disable_offer("new5")

    assert other.assistant is service  # offers only: the catalogue and the model stay
    assert other.catalog.get() is catalog_before


def test_nothing_changed_reloads_nothing(replicas: tuple[Components, Components]) -> None:
    _, other = replicas
    service, catalog = other.assistant, other.catalog.get()

    assert other.sync_shop_data() == set()
    assert other.assistant is service
    assert other.catalog.get() is catalog


def test_orders_changed_by_one_process_refresh_the_others_purchase_signals(
        replicas: tuple[Components, Components], customer_record: Callable[..., dict[str, Any]]) -> None:
    one, other = replicas
    service = other.assistant
    before = other.assistant.deps.recommender.signals().shoppers
    item = {"product_id": "T-1", "name": "Iron Goddess Oolong", "quantity": 1, "unit_price": 18.5}
    record = customer_record("k9", orders=[{"id": "k9-o1", "status": "delivered", "placed_at": "2026-01-02T10:00:00Z",
                                            "total": 18.5, "items": [item]}])

    one.stores.customers.upsert_from_record(record, "customers.jsonl")

    assert other.assistant is service
    assert other.assistant.deps.recommender.signals().shoppers == before + 1


def test_a_process_does_not_reload_its_own_change_twice(replicas: tuple[Components, Components],
                                                        tmp_path: Path) -> None:
    one, _ = replicas
    one.ingest_shop(write_shop(tmp_path / "shop", [dict(PRODUCTS[0], price=11.0), PRODUCTS[1]], [OFFER]))
    service = one.assistant

    assert one.sync_shop_data() == set()
    assert one.assistant is service
