"""Shared fixtures.

Store fixtures: ``store_url`` runs a test once on SQLite (a temp file) and once on PostgreSQL (a fresh
schema per test in the database at ``CONCIERGE_TEST_PG_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``, dropped afterwards). If PostgreSQL cannot be
reached, its runs are skipped, or fail when the ``CI`` environment variable is set. Deselect them with
``-m "not postgres"``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, make_url

from assistant.store import CounterIds, FixedClock, Stores, build_engine, build_stores, migrate

DEFAULT_TEST_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The PostgreSQL test database URL, once it answered; skips (fails on CI) when it does not."""
    url = os.environ.get("CONCIERGE_TEST_PG_URL", DEFAULT_TEST_PG_URL)
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except Exception as e:  # any failure to connect means the same: no PostgreSQL to test against
        message = (
            f"PostgreSQL is not reachable at {url} ({type(e).__name__}: {e}). Start PostgreSQL or point "
            "CONCIERGE_TEST_PG_URL at a database the tests may create schemas in."
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    finally:
        engine.dispose()
    return url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database for one test: a SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    schema = f"concierge_test_{uuid.uuid4().hex[:16]}"
    admin = build_engine(admin_url)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def store_engine(store_url: str) -> Iterator[Engine]:
    """A migrated engine on ``store_url``, disposed after the test."""
    engine = build_engine(store_url)
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def fixed_clock() -> FixedClock:
    """A clock standing at 2025-01-01 12:00 UTC; ``advance(seconds=...)`` moves it."""
    return FixedClock()


@pytest.fixture
def stores(store_engine: Engine, fixed_clock: FixedClock) -> Stores:
    """All stores on a migrated database, with the fixed clock and counter ids (``id000001``, ...)."""
    return build_stores(store_engine, clock=fixed_clock, ids=CounterIds("id"))


def _customer_record(customer_id: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": customer_id,
        "name": f"Shopper {customer_id}",
        "email": f"{customer_id}@example.com",
        "tier": "gold",
        "points": 120,
        "joined_at": "2023-03-01T09:00:00Z",
        "address": {"line1": "1 Main St", "city": "Springfield", "postcode": "12345", "country": "US"},
        "consent": {"personalization": True, "marketing": False},
        "preferences": [{"kind": "category", "value": "running shoes"}, {"kind": "colour", "value": "blue"}],
        "orders": [
            {
                "id": f"{customer_id}-o1",
                "status": "shipped",
                "placed_at": "2024-11-02T10:00:00Z",
                "currency": "USD",
                "total": 129.5,
                "tracking": {"carrier": "UPS", "number": "1Z999"},
                "payments": [{"kind": "charge", "method": "card", "amount": 129.5}],
                "items": [
                    {
                        "product_id": "p-1",
                        "name": "Trail Runner",
                        "quantity": 1,
                        "unit_price": 99.5,
                        "options": {"size": "42"},
                    },
                    {"product_id": "p-2", "name": "Running Socks", "quantity": 2, "unit_price": 15.0},
                ],
            },
            {
                "id": f"{customer_id}-o2",
                "status": "delivered",
                "placed_at": "2024-06-10T08:30:00Z",
                "delivered_at": "2024-06-14T15:00:00Z",
                "total": 45.0,
                "items": [{"product_id": "p-3", "name": "Water Bottle", "quantity": 1, "unit_price": 45.0}],
            },
        ],
    }
    record.update(fields)
    return record


@pytest.fixture
def customer_record() -> Callable[..., dict[str, Any]]:
    """``customer_record("c1", name=...)``: a valid customer-with-orders import record (two orders)."""
    return _customer_record
