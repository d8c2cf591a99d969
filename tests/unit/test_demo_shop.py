"""The bundled demo shop is big enough, valid against its own schemas and coherent with itself."""

import json
import re
from collections import Counter

from assistant.shop.shop_import import demo_shop_path, load_offers
from knowledge.importing import schema_errors

DEMO = demo_shop_path()
PRODUCTS = [json.loads(line) for line in (DEMO / "products.jsonl").read_text("utf-8").splitlines()]
CUSTOMERS = [json.loads(line) for line in (DEMO / "customers.jsonl").read_text("utf-8").splitlines()]
POLICIES = sorted((DEMO / "policies").glob("*.md"))


def test_catalogue_size_categories_and_validity() -> None:
    assert len(PRODUCTS) >= 120 and len({p["category"] for p in PRODUCTS}) >= 8
    assert all(schema_errors(p, "product") == [] for p in PRODUCTS)
    assert len({p["id"] for p in PRODUCTS}) == len(PRODUCTS)
    assert all(p.get("variants") and all("stock" in v and v["options"] is not None for v in p["variants"])
               for p in PRODUCTS)


def test_some_products_are_out_of_stock() -> None:
    assert sum(all(v["stock"] == 0 for v in p["variants"]) for p in PRODUCTS) >= 5


def test_policy_documents_cover_the_required_topics() -> None:
    names = {p.stem for p in POLICIES}

    assert len(POLICIES) >= 8
    for topic in ("shipping", "return", "exchange", "warranty", "payment", "cancel", "loyalty", "coupon",
                  "privacy"):
        assert any(topic in n for n in names), topic


def test_offers_are_valid_and_at_least_twelve() -> None:
    offers, errors = load_offers(DEMO / "offers.json")

    assert errors == [] and len(offers) >= 12


def test_customers_have_orders_in_every_status_and_valid_records() -> None:
    statuses = Counter(o["status"] for c in CUSTOMERS for o in c.get("orders", []))

    assert len(CUSTOMERS) >= 30 and all(schema_errors(c, "customer") == [] for c in CUSTOMERS)
    assert set(statuses) == {"pending", "processed", "shipped", "delivered", "cancelled", "returned"}
    assert all(c.get("preferences") and "consent" in c and c.get("tier") for c in CUSTOMERS)


def test_orders_reference_real_variants_at_their_prices_and_add_up() -> None:
    products = {p["id"]: p for p in PRODUCTS}
    for c in CUSTOMERS:
        for order in c.get("orders", []):
            subtotal = 0.0
            for item in order["items"]:
                product = products[item["product_id"]]
                variant = next(v for v in product["variants"] if v["id"] == item["variant_id"])
                assert item["unit_price"] == (variant.get("price") or product["price"]), order["id"]
                subtotal += item["unit_price"] * item["quantity"]
            shipping = order.get("shipping", 0)
            assert shipping == (0 if subtotal >= 75 else 5.99), order["id"]  # the shipping policy's threshold
            assert abs(order["total"] - (subtotal + shipping)) < 0.01, order["id"]


def test_order_totals_and_policy_numbers_agree() -> None:
    shipping = (DEMO / "policies" / "shipping.md").read_text("utf-8")

    assert "$75" in shipping and "$5.99" in shipping and "$14.99" in shipping
    assert re.search(r"30 days", (DEMO / "policies" / "returns-and-refunds.md").read_text("utf-8"))


def test_no_full_card_numbers_in_payments() -> None:
    for c in CUSTOMERS:
        for order in c.get("orders", []):
            for payment in order.get("payments", []):
                assert not re.search(r"\d{12,}", payment.get("method", "")), payment
