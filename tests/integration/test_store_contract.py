"""Store contract, part 1: schema and migrations, the customer import, profiles and preferences.

Every test runs on SQLite and on PostgreSQL (see ``store_url`` in tests/conftest.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from assistant.errors import StoreError, ValidationError
from assistant.store import (
    FixedClock,
    Stores,
    build_engine,
    current_revision,
    head_revision,
    migrate,
    store_metadata,
)

pytestmark = pytest.mark.integration

Record = Callable[..., dict[str, Any]]
TABLES = {"customers", "consents", "preferences", "orders", "order_items", "chat_sessions", "turns", "events",
          "offers", "handovers", "shop_profile"}


# -- schema ----------------------------------------------------------------------------------------


def test_migrations_build_every_table_from_an_empty_database(store_url: str) -> None:
    engine = build_engine(store_url)
    try:
        assert current_revision(engine) is None

        migrate(engine)

        assert current_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_migrating_again_changes_nothing(store_engine: Engine) -> None:
    migrate(store_engine)

    assert current_revision(store_engine) == head_revision()


def test_migrations_match_the_models(store_engine: Engine) -> None:
    with store_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})

        differences = compare_metadata(context, store_metadata())

    assert differences == []


def test_processes_starting_together_migrate_one_after_the_other(store_url: str) -> None:
    engines = [build_engine(store_url) for _ in range(3)]
    errors: list[BaseException] = []

    def run(engine: Engine) -> None:
        try:
            migrate(engine)
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(engine,)) for engine in engines]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert errors == [] and current_revision(engines[0]) == head_revision()
    finally:
        for engine in engines:
            engine.dispose()


def test_the_shop_profile_is_one_row_replaced_by_the_next_import(stores: Stores, fixed_clock: FixedClock) -> None:
    from assistant.records import ShopProfile

    lantern = ShopProfile("Lantern Tea House", "EUR", "de_DE", "shop.json", "lantern")
    first, same = stores.shop.put(lantern), stores.shop.put(lantern)
    fixed_clock.advance(seconds=60)
    replaced = stores.shop.put(ShopProfile(currency="JPY", origin="imported-shop"))

    stored = stores.shop.get()
    assert (first, same, replaced) == ("imported", "unchanged", "updated")
    assert stored == ShopProfile("", "JPY", "en", "default", "imported-shop", fixed_clock.now())


def test_sqlite_store_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'nested' / 'store.db'}")
    try:
        with engine.connect() as connection:
            journal_mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    finally:
        engine.dispose()

    assert (journal_mode, foreign_keys) == ("wal", 1)


def test_times_come_back_timezone_aware_in_utc(
    stores: Stores, customer_record: Record, fixed_clock: FixedClock
) -> None:
    stores.customers.upsert_from_record(customer_record("c1", joined_at="2023-03-01T10:00:00+01:00"), "demo")

    profile = stores.customers.get("c1")

    assert profile is not None and profile.joined_at is not None
    assert profile.joined_at.tzinfo == UTC and profile.joined_at.hour == 9
    assert profile.created_at == fixed_clock.now()


# -- import ----------------------------------------------------------------------------------------


def test_first_import_of_a_customer_reports_imported(stores: Stores, customer_record: Record) -> None:
    outcome = stores.customers.upsert_from_record(customer_record("c1"), "demo")

    assert outcome == "imported"


def test_importing_the_same_record_again_reports_unchanged(stores: Stores, customer_record: Record) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")

    outcome = stores.customers.upsert_from_record(dict(reversed(customer_record("c1").items())), "demo")

    assert outcome == "unchanged"


def test_importing_a_changed_record_updates_the_customer(stores: Stores, customer_record: Record) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")

    outcome = stores.customers.upsert_from_record(customer_record("c1", tier="platinum"), "demo")

    profile = stores.customers.get("c1")
    assert outcome == "updated"
    assert profile is not None and profile.tier == "platinum"


def test_import_writes_profile_consent_preferences_and_orders(
    stores: Stores, customer_record: Record
) -> None:
    stores.customers.upsert_from_record(customer_record("c1", loyalty_card="LC-7"), "demo")

    profile = stores.customers.get("c1")

    assert profile is not None
    assert (profile.name, profile.tier, profile.points) == ("Shopper c1", "gold", 120)
    assert profile.attributes == {"loyalty_card": "LC-7"}
    assert (profile.consent.personalization, profile.consent.marketing) == (True, False)
    assert [(p.kind, p.value, p.origin, p.source) for p in profile.preferences] == [
        ("category", "running shoes", "explicit", "import"),
        ("colour", "blue", "explicit", "import"),
    ]
    assert [(o.id, o.item_count, o.total) for o in profile.orders] == [
        ("c1-o1", 3, 129.5),
        ("c1-o2", 1, 45.0),
    ]


def test_ids_for_origin_lists_the_customers_of_one_import_set(
    stores: Stores, customer_record: Record
) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "shop-a")
    stores.customers.upsert_from_record(customer_record("c2"), "shop-a")
    stores.customers.upsert_from_record(customer_record("c3"), "shop-b")

    assert stores.customers.ids_for_origin("shop-a") == {"c1", "c2"}


def test_a_failing_order_leaves_no_trace_of_a_new_customer(stores: Stores, customer_record: Record) -> None:
    record = customer_record("c1")
    record["orders"][1]["items"][0]["name"] = None  # NOT NULL violation in the second order

    with pytest.raises(StoreError):
        stores.customers.upsert_from_record(record, "demo")

    assert stores.customers.get("c1") is None
    assert stores.orders.list_for("c1") == []
    assert stores.customers.list_preferences("c1", include_removed=True) == []


def test_a_failing_update_keeps_the_previous_version_whole(stores: Stores, customer_record: Record) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    before = stores.customers.get("c1")
    broken = customer_record("c1", name="Renamed", preferences=[{"kind": "brand", "value": "Acme"}])
    broken["orders"][0]["status"] = "delivered"
    broken["orders"][1]["items"][0]["name"] = None

    with pytest.raises(StoreError):
        stores.customers.upsert_from_record(broken, "demo")

    assert stores.customers.get("c1") == before
    order = stores.orders.get("c1", "c1-o1")
    assert order is not None and order.status == "shipped" and len(order.items) == 2


def test_an_order_id_of_another_customer_fails_the_record(stores: Stores, customer_record: Record) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    intruder = customer_record("c2")
    intruder["orders"][0]["id"] = "c1-o1"

    with pytest.raises(ValidationError):
        stores.customers.upsert_from_record(intruder, "demo")

    assert stores.customers.get("c2") is None
    assert stores.orders.get("c1", "c1-o1") is not None


def test_reimport_replaces_import_preferences_but_keeps_chat_ones(
    stores: Stores, customer_record: Record
) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    stores.customers.add_preference(
        "c1", "brand", "Acme", origin="inferred", source="turn:t1", confidence=0.6
    )
    stores.customers.add_preference("c1", "size", "42", origin="explicit", source="ui")

    stores.customers.upsert_from_record(
        customer_record("c1", preferences=[{"kind": "colour", "value": "red"}]), "demo"
    )

    kept = {(p.kind, p.value, p.source) for p in stores.customers.list_preferences("c1")}
    assert kept == {("colour", "red", "import"), ("brand", "Acme", "turn:t1"), ("size", "42", "ui")}


def test_reimport_updates_orders_and_appends_status_changes(
    stores: Stores, customer_record: Record, fixed_clock: FixedClock
) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    changed = customer_record("c1")
    changed["orders"] = [dict(changed["orders"][0], status="delivered")]
    fixed_clock.advance(hours=1)

    stores.customers.upsert_from_record(changed, "demo")

    orders = {o.id: o for o in stores.orders.list_for("c1")}
    assert set(orders) == {"c1-o1", "c1-o2"}  # an order missing from the record is kept
    assert [h["status"] for h in orders["c1-o1"].history] == ["shipped", "delivered"]


def test_reimport_keeps_an_opt_out_the_shopper_gave_in_chat(
    stores: Stores, customer_record: Record, fixed_clock: FixedClock
) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    fixed_clock.advance(minutes=5)
    stores.customers.set_consent("c1", "personalization", False, source="chat")
    fixed_clock.advance(minutes=5)

    stores.customers.upsert_from_record(customer_record("c1", points=500), "demo")

    assert stores.customers.consent("c1").personalization is False


# -- profiles and consent --------------------------------------------------------------------------


def test_get_of_an_unknown_customer_returns_none(stores: Stores) -> None:
    assert stores.customers.get("nobody") is None


def test_the_latest_consent_change_wins(
    stores: Stores, customer_record: Record, fixed_clock: FixedClock
) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    fixed_clock.advance(minutes=1)
    stores.customers.set_consent("c1", "marketing", True, source="chat")
    fixed_clock.advance(minutes=1)

    state = stores.customers.set_consent("c1", "marketing", False, source="api")

    assert state.marketing is False and stores.customers.consent("c1").marketing is False


def test_profile_lists_explicit_preferences_then_inferred_by_confidence(
    stores: Stores, customer_record: Record
) -> None:
    stores.customers.upsert_from_record(
        customer_record("c1", preferences=[{"kind": "brand", "value": "Acme"}]), "demo"
    )
    stores.customers.add_preference(
        "c1", "colour", "green", origin="inferred", source="turn:t1", confidence=0.4
    )
    stores.customers.add_preference(
        "c1", "style", "retro", origin="inferred", source="turn:t2", confidence=0.9
    )

    profile = stores.customers.get("c1")

    assert profile is not None
    assert [p.value for p in profile.preferences] == ["Acme", "retro", "green"]


# -- preferences and tombstones --------------------------------------------------------------------


def test_a_removed_preference_stays_as_a_tombstone(stores: Stores, customer_record: Record) -> None:
    stores.customers.upsert_from_record(customer_record("c1", preferences=[]), "demo")
    added = stores.customers.add_preference(
        "c1", "colour", "red", origin="inferred", source="turn:t1", confidence=0.7
    )
    assert added is not None

    stores.customers.remove_preference("c1", added.id)

    profile = stores.customers.get("c1")
    everything = stores.customers.list_preferences("c1", include_removed=True)
    assert profile is not None and profile.preferences == ()
    assert [(p.value, p.removed_at is not None) for p in everything] == [("red", True)]


def test_a_removed_preference_is_never_inferred_again(stores: Stores, customer_record: Record) -> None:
    stores.customers.upsert_from_record(customer_record("c1", preferences=[]), "demo")
    added = stores.customers.add_preference(
        "c1", "colour", "red", origin="inferred", source="turn:t1", confidence=0.7
    )
    assert added is not None
    stores.customers.remove_preference("c1", added.id)

    again = stores.customers.add_preference(
        "c1", "colour", "Red ", origin="inferred", source="turn:t9", confidence=0.99
    )

    assert again is None
    assert stores.customers.list_preferences("c1") == []


def test_the_shopper_may_state_a_removed_preference_again(stores: Stores, customer_record: Record) -> None:
    stores.customers.upsert_from_record(customer_record("c1", preferences=[]), "demo")
    added = stores.customers.add_preference("c1", "colour", "red", origin="explicit", source="ui")
    assert added is not None
    stores.customers.remove_preference("c1", added.id)

    again = stores.customers.add_preference("c1", "colour", "red", origin="explicit", source="chat")

    assert again is not None and again.active and again.source == "chat"
    assert [p.value for p in stores.customers.list_preferences("c1")] == ["red"]


def test_inferring_a_preference_again_adds_evidence(stores: Stores, customer_record: Record) -> None:
    stores.customers.upsert_from_record(customer_record("c1", preferences=[]), "demo")
    stores.customers.add_preference(
        "c1", "style", "retro", origin="inferred", source="turn:t1", confidence=0.5
    )

    again = stores.customers.add_preference(
        "c1", "style", "retro", origin="inferred", source="turn:t2", confidence=0.8
    )

    assert again is not None and (again.evidence_count, again.confidence) == (2, 0.8)


def test_reimport_does_not_bring_back_a_preference_the_shopper_removed(
    stores: Stores, customer_record: Record
) -> None:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    colour = next(p for p in stores.customers.list_preferences("c1") if p.kind == "colour")
    stores.customers.remove_preference("c1", colour.id)

    stores.customers.upsert_from_record(customer_record("c1", points=1), "demo")

    assert [p.kind for p in stores.customers.list_preferences("c1")] == ["category"]


def test_each_test_gets_an_empty_database(store_engine: Engine) -> None:
    with store_engine.connect() as connection:
        counts = {t: connection.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in sorted(TABLES)}

    assert set(counts.values()) == {0}
