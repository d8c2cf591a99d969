"""Convert the tau2-bench retail shop (db.json, policy.md) into a Concierge shop folder.

Usage: python examples/tau2_retail_to_concierge.py SRC_DIR OUT_DIR   (stdlib only)

Writes ``OUT_DIR/products.jsonl``, ``OUT_DIR/customers.jsonl``, ``OUT_DIR/policies/policy.md`` and
``OUT_DIR/shop.json`` in the formats of docs/formats.md, ready for ``concierge ingest OUT_DIR``.

Mapping
- product: ``product_id`` -> id; name; category is the name as a slug (the source has no categories);
  the source has no description, brand, rating or product price, so the description is written from
  the variants' options, and the price is the lowest variant price (each variant keeps its own price).
  variant: ``item_id`` -> id, options, price; ``available`` -> stock, see ``variant_stock``.
- customer: ``user_id`` -> id; first + last name, email; address1/2, city, state, zip, country
  (``"USA"`` -> ``"US"``). Payment methods become labels only (``"mastercard ending 9212"``,
  ``"paypal"``, ``"gift card"``) in an extra ``payment_methods`` field; their ids and gift-card balances
  are left out. No phone, tier, points or consent in the source: the format's defaults apply.
- order: ``order_id`` -> id (``"#W2611340"``); items -> product_id, variant_id (``item_id``), name, options,
  unit_price; the source lists one line per unit, so equal item ids are merged into one line with a
  quantity. total = sum of the lines. address -> shipping_address; the first tracking id -> tracking
  number (no carrier in the source). payment_history -> payments: ``payment`` -> charge, ``refund`` ->
  refund, with the method's label. Status: see ``STATUS_MAP``. The source has no dates: placed_at is
  derived from the order id and status (pending orders recent, delivered ones older), fixed and
  reproducible; delivered orders get delivered_at a few days later.
- policies: policy.md is copied unchanged to policies/policy.md.
- shop.json: the source names no shop; the converter names it ``SHOP_NAME`` (a neutral name of its own), USD,
  en_US.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

CURRENCY = "USD"
#: tau2 retail names no shop: a neutral name of the converter's own (shop.json)
SHOP_NAME = "Tau2 Retail Sample Store"
NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)  # the fixed "today" that placed_at dates lead up to
COUNTRIES = {"USA": "US", "United States": "US"}
# tau2's OrderStatus onto the documented enum. The two "requested" statuses are requests about a
# delivered order that nobody has acted on yet: the goods are still with the shopper, so "delivered".
# "pending (item modified)" is still pending; that its items were already modified once (which the
# policy says forbids a second modification) has no place in the format and is lost.
STATUS_MAP = {
    "pending": "pending",
    "pending (item modified)": "pending",
    "processed": "processed",
    "delivered": "delivered",
    "cancelled": "cancelled",
    "return requested": "delivered",
    "exchange requested": "delivered",
}
# Days before NOW an order of each status was placed: (earliest, span).
AGE_DAYS = {"pending": (0, 3), "processed": (3, 7), "delivered": (12, 300), "cancelled": (5, 300)}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "other"


def records(value: Any) -> list[dict[str, Any]]:
    """tau2 keys its tables by id (a dict); accept a plain list as well."""
    items = value.values() if isinstance(value, dict) else value or []
    return [item for item in items if isinstance(item, dict)]


def variant_stock(variant: dict[str, Any]) -> int:
    # `available` is a boolean in the source: there is no quantity. An available variant gets stock 1,
    # which makes it "in stock" for searches; the number itself means nothing beyond that.
    return 1 if variant.get("available") else 0


def plain_options(options: Any) -> dict[str, str | int | float]:
    """Option values must be text or numbers in the format."""
    items = options.items() if isinstance(options, dict) else ()
    return {str(k): v if isinstance(v, str | int | float) else str(v) for k, v in items}


def convert_product(p: dict[str, Any]) -> dict[str, Any]:
    variants: list[dict[str, Any]] = [
        {"id": str(v["item_id"]), "price": float(v["price"]), "stock": variant_stock(v),
         "options": plain_options(v.get("options"))}
        for v in records(p.get("variants")) if v.get("item_id") and isinstance(v.get("price"), int | float)
    ]
    if not variants:
        raise ValueError("no variant with an id and a price")
    name = str(p["name"])
    options: dict[str, set[str]] = {}
    for v in variants:
        for key, value in v["options"].items():
            options.setdefault(key, set()).add(str(value))
    described = "; ".join(f"{key}: {', '.join(sorted(values))}" for key, values in options.items())
    available = sum(1 for v in variants if v["stock"])
    description = (f"{name}, offered in {len(variants)} variants ({available} available now). "
                   f"Options: {described}." if described else f"{name}, offered in {len(variants)} variants.")
    return {"id": str(p["product_id"]), "name": name, "category": slug(name), "description": description,
            "price": min(v["price"] for v in variants), "currency": CURRENCY, "variants": variants}


def method_label(method: dict[str, Any] | None) -> str:
    """A payment method without anything that could pay: brand and last four digits at most."""
    if not method:
        return "unknown"
    source = str(method.get("source") or "other")
    last_four = str(method.get("last_four") or "")
    if source == "credit_card" and re.fullmatch(r"\d{4}", last_four):
        return f"{method.get('brand') or 'card'} ending {last_four}"
    return source.replace("_", " ")


def placed_at(order_id: str, status: str) -> datetime:
    number = int(re.sub(r"\D", "", order_id) or 0)
    earliest, span = AGE_DAYS.get(status, (0, 300))
    return NOW - timedelta(days=earliest, minutes=number % (span * 24 * 60))


def address(a: dict[str, Any] | None) -> dict[str, Any] | None:
    if not a or not a.get("address1"):
        return None
    country = str(a.get("country") or "")
    return {"line1": str(a["address1"]), "line2": a.get("address2") or None, "city": str(a.get("city") or ""),
            "state": a.get("state") or None, "postcode": str(a.get("zip") or ""),
            "country": COUNTRIES.get(country, country)}


def convert_order(o: dict[str, Any], methods: dict[str, Any], skipped: Counter[str]) -> dict[str, Any]:
    status = STATUS_MAP.get(str(o.get("status")))
    if status is None:
        raise ValueError(f"unknown status {o.get('status')!r}")
    lines: dict[str, dict[str, Any]] = {}
    for item in records(o.get("items")):
        key = str(item.get("item_id") or item.get("product_id"))
        if key in lines:
            lines[key]["quantity"] += 1
            continue
        lines[key] = {"product_id": str(item["product_id"]), "variant_id": item.get("item_id"),
                      "name": str(item.get("name") or item["product_id"]), "options": item.get("options") or None,
                      "quantity": 1, "unit_price": float(item["price"])}
    if not lines:
        raise ValueError("no items")
    placed = placed_at(str(o["order_id"]), status)
    order: dict[str, Any] = {
        "id": str(o["order_id"]), "status": status, "placed_at": iso(placed), "currency": CURRENCY,
        "total": round(sum(i["unit_price"] * i["quantity"] for i in lines.values()), 2),
        "items": list(lines.values()), "shipping_address": address(o.get("address")),
    }
    if status == "delivered":
        order["delivered_at"] = iso(placed + timedelta(days=3 + len(lines)))
    tracking = [t for f in records(o.get("fulfillments")) for t in f.get("tracking_id") or []]
    if tracking:
        order["tracking"] = {"number": str(tracking[0]), "url": None}
        if len(tracking) > 1:
            skipped["extra tracking number (the format holds one per order)"] += len(tracking) - 1
    order["payments"] = [
        {"kind": "refund" if p.get("transaction_type") == "refund" else "charge",
         "method": method_label(methods.get(str(p.get("payment_method_id")))), "amount": float(p["amount"]),
         "at": iso(placed) if p.get("transaction_type") != "refund" else None}
        for p in records(o.get("payment_history")) if isinstance(p.get("amount"), int | float)
    ]
    return order


def convert_user(u: dict[str, Any], orders: list[dict[str, Any]], skipped: Counter[str]) -> dict[str, Any]:
    n = u.get("name") or {}
    name = f"{n.get('first_name') or ''} {n.get('last_name') or ''}".strip() if isinstance(n, dict) else str(n)
    if not name or not u.get("user_id"):
        raise ValueError("no user_id or name")
    methods = {str(k): m for k, m in (u.get("payment_methods") or {}).items() if isinstance(m, dict)}
    customer: dict[str, Any] = {"id": str(u["user_id"]), "name": name, "email": u.get("email") or None,
                                "address": address(u.get("address")),
                                "payment_methods": sorted({method_label(m) for m in methods.values()})}
    converted = []
    for o in sorted(orders, key=lambda o: str(o.get("order_id"))):
        try:
            converted.append(convert_order(o, methods, skipped))
        except (ValueError, TypeError, KeyError) as e:
            skipped[f"order: {e}"] += 1
    customer["orders"] = converted
    return customer


def convert(src: Path, out: Path) -> str:
    db = json.loads((src / "db.json").read_text("utf-8"))
    skipped: Counter[str] = Counter()
    products = []
    for p in records(db.get("products")):
        try:
            products.append(convert_product(p))
        except (ValueError, TypeError, KeyError) as e:
            skipped[f"product: {e}"] += 1
    users = records(db.get("users"))
    user_ids = {u.get("user_id") for u in users}
    orders_by_user: dict[str, list[dict[str, Any]]] = {}
    for o in records(db.get("orders")):
        if o.get("user_id") not in user_ids or not o.get("order_id"):
            skipped["order without a known user or an id"] += 1
            continue
        orders_by_user.setdefault(str(o["user_id"]), []).append(o)
    customers = []
    for u in users:
        try:
            customers.append(convert_user(u, orders_by_user.get(str(u.get("user_id")), []), skipped))
        except (ValueError, TypeError, KeyError) as e:
            skipped[f"user: {e}"] += 1
    out.mkdir(parents=True, exist_ok=True)
    (out / "policies").mkdir(exist_ok=True)
    for name, rows in (("products.jsonl", products), ("customers.jsonl", customers)):
        with (out / name).open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
    shop = {"name": SHOP_NAME, "currency": CURRENCY, "locale": "en_US"}
    (out / "shop.json").write_text(json.dumps(shop, sort_keys=True) + "\n", "utf-8")
    policies = 0
    if (src / "policy.md").is_file():
        shutil.copyfile(src / "policy.md", out / "policies" / "policy.md")
        policies = 1
    else:
        skipped["policy.md: not in the source"] += 1
    variants = sum(len(p["variants"]) for p in products)
    orders = sum(len(c["orders"]) for c in customers)
    reasons = ", ".join(f"{n} {why}" for why, n in sorted(skipped.items())) or "none"
    return (f"tau2-retail: {len(products)} products ({variants} variants), {len(customers)} customers, "
            f"{orders} orders, {policies} policy document written to {out}; skipped: {reasons}")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python examples/tau2_retail_to_concierge.py SRC_DIR OUT_DIR", file=sys.stderr)
        return 2
    src, out = Path(argv[0]), Path(argv[1])
    if not (src / "db.json").is_file():
        print(f"error: {src}: no db.json (expected tau2-bench's data/tau2/domains/retail/)", file=sys.stderr)
        return 1
    try:
        print(convert(src, out))
    except (OSError, json.JSONDecodeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
