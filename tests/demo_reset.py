"""Restoring demo customers between tests that change their orders (cancel, return, exchange, address)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from assistant.shop.shop_import import demo_shop_path

ORIGIN = "demo/customers"  # what ingest_shop names the demo shop's customer import


@cache
def demo_records() -> dict[str, dict[str, Any]]:
    path = demo_shop_path() / "customers.jsonl"
    records = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {str(r["id"]): r for r in records}


def reset_customers(stores: Any, *customer_ids: str) -> None:
    """Erase each customer (orders, sessions, turns, events, hand-overs) and import them again as shipped."""
    for customer_id in customer_ids:
        stores.customers.delete(customer_id)
        stores.customers.upsert_from_record(demo_records()[customer_id], ORIGIN)
