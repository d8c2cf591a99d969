"""A small shop for the shop-event tests: two categories, two brands, three shoppers, on fakes (hash
embeddings, in-memory Chroma, a temp SQLite), and a writer of event lines."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.components import Components, build_components
from assistant.config.loading import load_settings
from knowledge.catalog_import import import_catalog

SECRET = "events-test-secret-0123456789abcdef"
PRODUCTS = [
    {"id": "W-1", "name": "Acme Spinner", "category": "widgets", "brand": "Acme"},
    {"id": "W-2", "name": "Globex Spinner", "category": "widgets", "brand": "Globex"},
    {"id": "G-1", "name": "Acme Clicker", "category": "gadgets", "brand": "Acme"},
    {"id": "G-2", "name": "Globex Clicker", "category": "gadgets", "brand": "Globex"},
]


def make_shop(tmp_path: Path) -> Components:
    """Components on fakes with the four products and shoppers S1, S2 (personalized) and S3 (opted out)."""
    settings = load_settings(["test"], env={}, overrides={
        "app": {"data_dir": str(tmp_path / "data"), "load_demo": False},
        "knowledge": {"collection_prefix": f"ev{uuid.uuid4().hex[:8]}_"},
        "security": {"token_secret": SECRET}})
    components = build_components(settings)
    catalog = tmp_path / "products.jsonl"
    catalog.write_text("".join(json.dumps({**p, "description": f"A {p['category'][:-1]}.", "price": 20,
                                           "currency": "USD", "stock": 5}) + "\n" for p in PRODUCTS),
                       encoding="utf-8")
    report = import_catalog(components.knowledge, catalog)
    assert report.ok, report.summary()
    components.reload_shop_data()
    for customer_id, personalized in (("S1", True), ("S2", True), ("S3", False)):
        components.stores.customers.upsert_from_record({
            "id": customer_id, "name": f"Shopper {customer_id}", "consent": {"personalization": personalized},
            "preferences": [], "orders": []}, "test")
    return components


def event(event_id: str, kind: str, customer_id: str = "S1", at: str = "2026-11-29T12:00:00Z",
          **fields: Any) -> dict[str, Any]:
    return {"id": event_id, "type": kind, "customer_id": customer_id, "at": at, **fields}


def write_jsonl(path: Path, lines: Sequence[dict[str, Any] | str]) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
                    encoding="utf-8")
    return path


def inferred(components: Components, customer_id: str) -> dict[tuple[str, str], tuple[float, str]]:
    """(kind, value) -> (stored confidence, source) of the shopper's inferred preferences."""
    return {(p.kind, p.value): (p.confidence, p.source)
            for p in components.stores.customers.list_preferences(customer_id) if p.origin == "inferred"}
