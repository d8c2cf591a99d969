"""Customers import: each customer whole or not at all, file:line errors, pruning by import set."""

import json
from pathlib import Path
from typing import Any

import pytest

from assistant.shop.shop_import import import_customers, import_offers
from assistant.store.stores import Stores, open_stores


@pytest.fixture
def stores(tmp_path: Path) -> Stores:
    s = open_stores(f"sqlite:///{tmp_path / 'c.db'}")
    yield s  # type: ignore[misc]
    s.close()


def customer(cid: str, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": cid, "name": f"Shopper {cid}", "tier": "silver",
                            "orders": [{"id": f"O-{cid}", "status": "pending", "placed_at": "2026-11-01T10:00:00Z",
                                        "items": [{"product_id": "P1", "name": "Kettle", "quantity": 1,
                                                   "unit_price": 30.0}]}]}
    base.update(over)
    return base


def write(path: Path, records: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def test_bad_records_are_reported_by_line_and_the_rest_imports(tmp_path: Path, stores: Stores) -> None:
    bad_order = customer("c3")
    bad_order["orders"][0]["status"] = "teleported"
    f = write(tmp_path / "customers.jsonl", [customer("c1"), {"name": "no id"}, bad_order, customer("c1"),
                                             customer("c5")])

    report = import_customers(stores.customers, f)

    assert (report.imported, report.failed) == (2, 3)
    lines = {e.line: e.message for e in report.errors}
    assert "missing required field 'id'" in lines[2] and "teleported" in lines[3] and "duplicate" in lines[4]
    assert sorted(stores.customers.list_ids()) == ["c1", "c5"]


def test_reimport_is_idempotent_and_prunes_customers_gone_from_the_set(tmp_path: Path, stores: Stores) -> None:
    f = write(tmp_path / "customers.jsonl", [customer("c1"), customer("c2")])
    import_customers(stores.customers, f)
    write(f, [customer("c1"), customer("c2", tier="gold")])

    again = import_customers(stores.customers, f)
    write(f, [customer("c1")])
    pruned = import_customers(stores.customers, f)

    assert (again.skipped, again.updated) == (1, 1)
    assert pruned.deleted == 1 and stores.customers.list_ids() == ["c1"]


def test_an_offer_with_contradictory_rules_is_refused(tmp_path: Path, stores: Stores) -> None:
    good = {"id": "a", "code": "AAA10", "title": "A", "kind": "percent", "value": 10, "eligibility": {}}
    bad = {"id": "b", "code": "BBB10", "title": "B", "kind": "percent", "value": 10,
           "eligibility": {"starts_at": "2027-01-01T00:00:00Z", "expires_at": "2026-01-01T00:00:00Z"}}
    f = tmp_path / "offers.json"
    f.write_text(json.dumps([good, bad], indent=1), encoding="utf-8")

    report = import_offers(stores.offers, f)

    assert (report.imported, report.failed) == (1, 1) and "starts_at" in report.errors[0].message
    assert [o["code"] for o in stores.offers.all()] == ["AAA10"]
