"""Convert the DummyJSON shop (products.json, users.json, carts.json) into a Concierge shop folder.

Usage: python examples/dummyjson_to_concierge.py SRC_DIR OUT_DIR   (stdlib only)

Writes ``OUT_DIR/products.jsonl``, ``OUT_DIR/customers.jsonl``, ``OUT_DIR/policies/shipping-and-returns.md`` and
``OUT_DIR/shop.json`` in the formats of docs/formats.md, ready for ``concierge ingest OUT_DIR``.

Mapping
- product: ``id`` -> ``"dj-<id>"``; ``title`` -> name; ``brand`` (missing on about half) -> brand or left out;
  ``category`` (already a slug) -> category; description, price, rating; currency is always USD;
  ``stock`` -> product ``stock`` (no variants in the source); tags; ``len(reviews)`` -> review_count;
  ``thumbnail`` -> image. Attributes: sku, warranty, shipping, return_policy, weight, dimensions
  (``"W x H x D"``: the source gives no units, so none are claimed), minimum_order_quantity.
  Left out: ``discountPercentage`` (offers are decided by code, not by catalogue text), the reviews
  (reviewer names and e-mails), barcode and QR code.
- customer: ``id`` -> ``"dj-u<id>"``; first + last name, email, phone; address -> line1, city, state (the
  state code), postcode, country (``"United States"`` -> ``"US"``). No tier, points or consent in the source:
  the format's defaults apply.
- order: each cart becomes one order ``"dj-cart-<id>"`` of its user, items -> product_id ``"dj-<id>"``, title,
  quantity, unit price; total is the cart's discounted total. The source has no status or dates, so the
  status cycles deterministically over ``STATUS_CYCLE`` by cart id and placed_at is a fixed date derived
  from the cart id (delivered_at four days later for delivered and returned orders).
- shop.json: the source names no shop; the converter names it ``SHOP_NAME`` (a neutral name of its own), USD,
  en_US.
- policies: the source has no policy text, only per-product warranty, shipping and return-policy strings.
  One Markdown document lists the distinct strings with how many products carry each, and says so.

Deliberately NOT copied (PII): password, SSN, EIN, bank/card numbers and IBAN, crypto wallet, IP and MAC
addresses, birth date, body data, company, university, user agent, username.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

CURRENCY = "USD"
#: DummyJSON names no shop: a neutral name of the converter's own (shop.json)
SHOP_NAME = "DummyJSON Sample Store"
STATUS_CYCLE = ("delivered", "shipped", "processed", "pending", "delivered", "cancelled", "returned")
EPOCH = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
COUNTRIES = {"United States": "US", "United Kingdom": "GB", "Canada": "CA"}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def load_list(path: Path, key: str) -> list[dict[str, Any]]:
    """A JSON array, or the array under ``key`` (the DummyJSON API wraps lists like that)."""
    data = json.loads(path.read_text("utf-8"))
    items = data.get(key, []) if isinstance(data, dict) else data
    return [item for item in items if isinstance(item, dict)]


def convert_product(p: dict[str, Any]) -> dict[str, Any]:
    for required in ("id", "title", "category", "description", "price"):
        if p.get(required) in (None, ""):
            raise ValueError(f"no {required}")
    attributes: dict[str, Any] = {}
    for source, target in (("sku", "sku"), ("warrantyInformation", "warranty"),
                           ("shippingInformation", "shipping"), ("returnPolicy", "return_policy"),
                           ("weight", "weight"), ("minimumOrderQuantity", "minimum_order_quantity")):
        if p.get(source) not in (None, ""):
            attributes[target] = p[source]
    dims = p.get("dimensions") or {}
    if all(isinstance(dims.get(k), int | float) for k in ("width", "height", "depth")):
        attributes["dimensions"] = f"{dims['width']} x {dims['height']} x {dims['depth']}"  # W x H x D
    product: dict[str, Any] = {
        "id": f"dj-{p['id']}",
        "name": str(p["title"]),
        "category": str(p["category"]).strip().lower().replace(" ", "-"),
        "description": str(p["description"]),
        "price": float(p["price"]),
        "currency": CURRENCY,
        "stock": max(0, int(p.get("stock") or 0)),
        "tags": [str(t) for t in p.get("tags") or []],
        "attributes": attributes,
    }
    if p.get("brand"):
        product["brand"] = str(p["brand"])
    if isinstance(p.get("rating"), int | float):
        product["rating"] = min(5.0, max(0.0, float(p["rating"])))
    if isinstance(p.get("reviews"), list):
        product["review_count"] = len(p["reviews"])
    if p.get("thumbnail"):
        product["image"] = str(p["thumbnail"])
    return product


def convert_order(cart: dict[str, Any], names: dict[int, str], skipped: Counter[str]) -> dict[str, Any] | None:
    items = []
    for line in cart.get("products") or []:
        if line.get("id") not in names or int(line.get("quantity") or 0) < 1:
            skipped["cart line with unknown product or no quantity"] += 1
            continue
        items.append({"product_id": f"dj-{line['id']}", "name": names[line["id"]],
                      "quantity": int(line["quantity"]), "unit_price": float(line["price"])})
    if not items:
        return None
    cart_id = int(cart["id"])
    status = STATUS_CYCLE[cart_id % len(STATUS_CYCLE)]
    placed = EPOCH + timedelta(days=(cart_id * 3) % 330, hours=cart_id % 10)
    order: dict[str, Any] = {"id": f"dj-cart-{cart_id}", "status": status, "placed_at": iso(placed),
                             "currency": CURRENCY, "items": items}
    if isinstance(cart.get("discountedTotal"), int | float):
        order["total"] = float(cart["discountedTotal"])
    if status in ("delivered", "returned"):
        order["delivered_at"] = iso(placed + timedelta(days=4))
    return order


def convert_user(u: dict[str, Any], orders: list[dict[str, Any]]) -> dict[str, Any]:
    name = " ".join(str(u.get(k) or "").strip() for k in ("firstName", "lastName")).strip()
    if not name:
        raise ValueError("no name")
    customer: dict[str, Any] = {"id": f"dj-u{u['id']}", "name": name}
    for key in ("email", "phone"):
        if u.get(key):
            customer[key] = str(u[key])
    a = u.get("address") or {}
    if a.get("address") and a.get("city"):
        country = str(a.get("country") or "")
        customer["address"] = {"line1": str(a["address"]), "city": str(a["city"]),
                               "state": a.get("stateCode") or a.get("state"),
                               "postcode": str(a.get("postalCode") or ""),
                               "country": COUNTRIES.get(country, country)}
    if orders:
        customer["orders"] = orders
    return customer


def policy_markdown(products: list[dict[str, Any]]) -> str:
    lines = ["# Shipping, warranty and returns (derived from product data)", "",
             "This shop publishes no policy document. This page was generated from the shipping, warranty "
             "and return-policy fields of its catalogue: the terms differ from product to product, and each "
             "product's own terms (in its product details) are the ones that apply.", ""]
    for field, heading, intro in (
        ("shippingInformation", "Shipping times", "How soon products ship:"),
        ("returnPolicy", "Returns", "Return windows that products come with:"),
        ("warrantyInformation", "Warranty", "Warranties that products come with:"),
    ):
        counts = Counter(str(p[field]) for p in products if p.get(field))
        lines += [f"## {heading}", "", intro, ""]
        for text, n in sorted(counts.items()):
            categories = sorted({str(p.get("category")) for p in products if str(p.get(field)) == text})
            lines.append(f"- {text}: {n} product{'s' if n != 1 else ''} (in {', '.join(categories)})")
        lines.append("")
    return "\n".join(lines)


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


def convert(src: Path, out: Path) -> str:
    raw_products = load_list(src / "products.json", "products")
    users = load_list(src / "users.json", "users")
    carts = load_list(src / "carts.json", "carts") if (src / "carts.json").exists() else []
    skipped: Counter[str] = Counter()
    products, names = [], {}
    for p in raw_products:
        try:
            products.append(convert_product(p))
            names[p["id"]] = str(p["title"])
        except (ValueError, TypeError, KeyError) as e:
            skipped[f"product: {e}"] += 1
    user_ids = {u.get("id") for u in users}
    orders_by_user: dict[Any, list[dict[str, Any]]] = {}
    for cart in sorted(carts, key=lambda c: int(c.get("id") or 0)):
        if cart.get("userId") not in user_ids:
            skipped["cart of unknown user"] += 1
            continue
        order = convert_order(cart, names, skipped)
        if order is None:
            skipped["cart without importable lines"] += 1
            continue
        orders_by_user.setdefault(cart["userId"], []).append(order)
    customers = []
    for u in users:
        try:
            customers.append(convert_user(u, orders_by_user.get(u.get("id"), [])))
        except (ValueError, TypeError, KeyError) as e:
            skipped[f"user: {e}"] += 1
    out.mkdir(parents=True, exist_ok=True)
    (out / "policies").mkdir(exist_ok=True)
    write_jsonl(out / "products.jsonl", products)
    write_jsonl(out / "customers.jsonl", customers)
    (out / "policies" / "shipping-and-returns.md").write_text(policy_markdown(raw_products), "utf-8")
    shop = {"name": SHOP_NAME, "currency": CURRENCY, "locale": "en_US"}
    (out / "shop.json").write_text(json.dumps(shop, sort_keys=True) + "\n", "utf-8")
    n_orders = sum(len(c.get("orders", [])) for c in customers)
    reasons = ", ".join(f"{n} {why}" for why, n in sorted(skipped.items())) or "none"
    return (f"dummyjson: {len(products)} products, {len(customers)} customers, {n_orders} orders, "
            f"1 policy document written to {out}; skipped: {reasons}")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python examples/dummyjson_to_concierge.py SRC_DIR OUT_DIR", file=sys.stderr)
        return 2
    src, out = Path(argv[0]), Path(argv[1])
    missing = [name for name in ("products.json", "users.json") if not (src / name).is_file()]
    if missing:
        print(f"error: {src}: missing {', '.join(missing)} (expected the DummyJSON database/ files)", file=sys.stderr)
        return 1
    try:
        print(convert(src, out))
    except (OSError, json.JSONDecodeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
