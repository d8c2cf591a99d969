"""A shopper's rights: export everything stored about them, and erase it.

Both walk every table of the store (``store_metadata()``) rather than a hand-kept list, so a table added
later with a ``customer_id`` column is exported and checked for erasure without anyone remembering to.
Not personal, so not erased: the bandit's per-segment counts (``bandit_arms``: aggregates over many
shoppers, no customer id) and copy drafts written for a whole segment. The knowledge base (Chroma)
holds no customer data.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Table, select

from assistant.errors import NotFoundError, StoreError
from assistant.store.db import store_metadata

if TYPE_CHECKING:
    from assistant.store.customers import CustomerStore


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _rows(engine: Engine, table: Table, column: str, values: list[Any]) -> list[dict[str, Any]]:
    if not values:
        return []
    with engine.connect() as connection:
        result = connection.execute(select(table).where(table.c[column].in_(values)))
        return [{k: _plain(v) for k, v in row._mapping.items()} for row in result]


def customer_rows(engine: Engine, customer_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table that belongs to ``customer_id`` (tables with no rows are left out)."""
    found: dict[str, list[dict[str, Any]]] = {}
    tables = store_metadata().sorted_tables
    for table in tables:
        if table.name == "customers":
            rows = _rows(engine, table, "id", [customer_id])
        elif "customer_id" in table.c:
            rows = _rows(engine, table, "customer_id", [customer_id])
        else:
            continue
        if rows:
            found[table.name] = rows
    # rows that hang off the customer's rows without a customer_id of their own (order items)
    for table in tables:
        if table.name == "order_items" and "orders" in found:
            rows = _rows(engine, table, "order_id", [o["id"] for o in found["orders"]])
            if rows:
                found[table.name] = rows
    return found


def export_customer(engine: Engine, customer_id: str) -> dict[str, Any]:
    """All stored data of one shopper, as JSON-ready data (messages and replies are stored redacted)."""
    rows = customer_rows(engine, customer_id)
    if "customers" not in rows:
        raise NotFoundError(f"no customer {customer_id!r}", user_message=f"There is no customer {customer_id}.")
    return {"customer_id": customer_id, "tables": rows}


def erase_customer(engine: Engine, customers: CustomerStore, customer_id: str) -> dict[str, int]:
    """Delete one shopper and everything of theirs; returns rows removed per table. Checks that nothing
    of them remains anywhere and raises StoreError if something does."""
    before = customer_rows(engine, customer_id)
    if "customers" not in before:
        raise NotFoundError(f"no customer {customer_id!r}", user_message=f"There is no customer {customer_id}.")
    customers.delete(customer_id)
    left = customer_rows(engine, customer_id)
    if left:
        raise StoreError(f"erasing {customer_id} left rows in {sorted(left)}",
                         user_message="Some of the shopper's data could not be erased; see the log.")
    return {table: len(rows) for table, rows in before.items()}


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)
