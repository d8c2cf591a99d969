"""The foreign-shop converters in examples/ on tiny hand-made sources (the real data sets: integration tests)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from knowledge.importing import schema_errors

Capture = pytest.CaptureFixture[str]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(folder: Path, files: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_text(data if isinstance(data, str) else json.dumps(data), "utf-8")
    return folder


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def assert_valid(out: Path) -> None:
    for file, schema in (("products.jsonl", "product"), ("customers.jsonl", "customer")):
        for record in jsonl(out / file):
            assert schema_errors(record, schema) == [], record


DJ_PRODUCT = {"id": 1, "title": "Mascara", "description": "Long lashes.", "category": "beauty", "price": 9.99,
              "discountPercentage": 10, "rating": 4.5, "stock": 3, "tags": ["beauty"], "brand": "Essence",
              "weight": 4, "dimensions": {"width": 1, "height": 2, "depth": 3}, "warrantyInformation": "No warranty",
              "shippingInformation": "Ships overnight", "returnPolicy": "30 days return policy",
              "reviews": [{"rating": 5, "reviewerName": "Ann Reviewer", "reviewerEmail": "ann@reviews.test"}]}
DJ_USER = {"id": 7, "firstName": "Emily", "lastName": "Johnson", "email": "emily@x.test", "phone": "+1 555",
           "password": "hunter2pass", "ssn": "900-590-289", "ein": "977-175",
           "address": {"address": "1 Main St", "city": "Phoenix", "stateCode": "AZ", "postalCode": "85001",
                       "country": "United States"},
           "bank": {"cardNumber": "3693233511855044", "iban": "GB74MH2UZLR9TRPHYNU8F8", "cardType": "Visa"}}


def test_dummyjson_maps_products_users_and_carts_without_pii(tmp_path: Path, capsys: Capture) -> None:
    dj = load("dummyjson_to_concierge")
    no_brand, no_description = {**DJ_PRODUCT, "id": 2, "brand": None}, {**DJ_PRODUCT, "id": 3, "description": ""}
    src = write(tmp_path / "src", {
        "products.json": [DJ_PRODUCT, no_brand, no_description],
        "users.json": {"users": [DJ_USER]},
        "carts.json": [{"id": 4, "userId": 7, "discountedTotal": 18.0,
                        "products": [{"id": 1, "price": 9.99, "quantity": 2}, {"id": 99, "price": 1, "quantity": 1}]}],
    })
    assert dj.main([str(src), str(tmp_path / "out")]) == 0
    summary = capsys.readouterr().out.strip()
    assert summary.startswith("dummyjson: 2 products, 1 customers, 1 orders")
    assert "1 product: no description" in summary and "1 cart line with unknown product" in summary
    out = tmp_path / "out"
    assert_valid(out)
    products = jsonl(out / "products.jsonl")
    assert products[0]["id"] == "dj-1" and products[0]["brand"] == "Essence" and "brand" not in products[1]
    assert products[0]["attributes"]["dimensions"] == "1 x 2 x 3" and products[0]["review_count"] == 1
    [customer] = jsonl(out / "customers.jsonl")
    assert customer["address"] == {"line1": "1 Main St", "city": "Phoenix", "state": "AZ", "postcode": "85001",
                                   "country": "US"}
    [order] = customer["orders"]
    assert order["status"] == dj.STATUS_CYCLE[4 % len(dj.STATUS_CYCLE)] and order["total"] == 18.0
    assert order["items"] == [{"product_id": "dj-1", "name": "Mascara", "quantity": 2, "unit_price": 9.99}]
    written = b"".join(f.read_bytes() for f in out.rglob("*") if f.is_file())
    for secret in ("900-590-289", "977-175", "3693233511855044", "GB74MH2UZLR9TRPHYNU8F8", "hunter2pass",
                   "ann@reviews.test"):
        assert secret.encode() not in written
    assert (out / "policies" / "shipping-and-returns.md").read_text("utf-8").startswith(
        "# Shipping, warranty and returns (derived from product data)")
    first = written
    assert dj.main([str(src), str(out)]) == 0
    assert b"".join(f.read_bytes() for f in out.rglob("*") if f.is_file()) == first  # deterministic


def tau2_db() -> dict[str, Any]:
    card = {"source": "credit_card", "id": "credit_card_1234567", "brand": "visa", "last_four": "4242"}
    gift = {"source": "gift_card", "id": "gift_card_7654321", "balance": 55}
    charge = {"transaction_type": "payment", "amount": 10.0, "payment_method_id": "gift_card_7654321"}
    variant = {"item_id": "111", "options": {"size": "M"}, "available": True, "price": 10.0}
    order = {"order_id": "#W1000001", "user_id": "ann_1", "items": [], "fulfillments": [], "payment_history": [],
             "address": {"address1": "1 Elm", "address2": "", "city": "Austin", "state": "TX", "zip": "73301",
                         "country": "USA"}}
    item = {"name": "Shirt", "product_id": "p1", "item_id": "111", "price": 10.0, "options": {"size": "M"}}
    return {
        "products": {"p1": {"product_id": "p1", "name": "T-Shirt", "variants": {
            "111": variant, "222": {**variant, "item_id": "222", "available": False, "price": 8.0}}},
            "p2": {"product_id": "p2", "name": "Empty", "variants": {}}},
        "users": {"ann_1": {"user_id": "ann_1", "name": {"first_name": "Ann", "last_name": "Lee"},
                            "email": "ann@example.com", "address": order["address"], "orders": [],
                            "payment_methods": {"credit_card_1234567": card, "gift_card_7654321": gift}}},
        "orders": {
            "#W1000001": {**order, "status": "pending (item modified)", "items": [item, item],
                          "payment_history": [{"transaction_type": "payment", "amount": 20.0,
                                               "payment_method_id": "credit_card_1234567"}]},
            "#W1000002": {**order, "order_id": "#W1000002", "status": "exchange requested", "items": [item],
                          "fulfillments": [{"tracking_id": ["987"], "item_ids": ["111"]}],
                          "payment_history": [charge, {**charge, "transaction_type": "refund"}]},
            "#W1000003": {**order, "order_id": "#W1000003", "status": "lost in space", "items": [item]},
        },
    }


def test_tau2_maps_variants_statuses_and_payments(tmp_path: Path, capsys: Capture) -> None:
    tau2 = load("tau2_retail_to_concierge")
    src = write(tmp_path / "src", {"db.json": tau2_db(), "policy.md": "# Policy\n\nBe nice.\n"})
    assert tau2.main([str(src), str(tmp_path / "out")]) == 0
    summary = capsys.readouterr().out.strip()
    assert summary.startswith("tau2-retail: 1 products (2 variants), 1 customers, 2 orders, 1 policy document")
    assert "1 order: unknown status 'lost in space'" in summary and "1 product: no variant" in summary
    out = tmp_path / "out"
    assert_valid(out)
    [product] = jsonl(out / "products.jsonl")
    assert product["category"] == "t-shirt" and product["price"] == 8.0
    assert [(v["id"], v["stock"]) for v in product["variants"]] == [("111", 1), ("222", 0)]
    [customer] = jsonl(out / "customers.jsonl")
    assert customer["payment_methods"] == ["gift card", "visa ending 4242"]
    modified, exchange = customer["orders"]
    assert modified["status"] == "pending" and exchange["status"] == "delivered"
    assert modified["items"] == [{"product_id": "p1", "variant_id": "111", "name": "Shirt", "options": {"size": "M"},
                                  "quantity": 2, "unit_price": 10.0}]
    assert modified["total"] == 20.0 and modified["payments"][0]["method"] == "visa ending 4242"
    assert exchange["tracking"] == {"number": "987", "url": None}
    assert [(p["kind"], p["method"]) for p in exchange["payments"]] == [("charge", "gift card"),
                                                                         ("refund", "gift card")]
    text = (out / "customers.jsonl").read_text("utf-8")
    assert "credit_card_1234567" not in text and "balance" not in text
    assert (out / "policies" / "policy.md").read_text("utf-8") == "# Policy\n\nBe nice.\n"


@pytest.mark.parametrize("name", ["dummyjson_to_concierge", "tau2_retail_to_concierge"])
def test_missing_source_fails(name: str, tmp_path: Path, capsys: Capture) -> None:
    assert load(name).main([str(tmp_path / "nowhere"), str(tmp_path / "out")]) == 1
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
