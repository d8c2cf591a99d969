"""Regenerate the 山栖家居户外 demo shop (Chinese): products.jsonl, customers.jsonl, offers.json and shop.json.

    python3 knowledge/demo_zh/build_demo_zh.py

writes the four files, checks the invariants the README and the tests rely on, prints a summary and, when
jsonschema is importable (e.g. with .venv/bin/python), validates every record against knowledge/schemas.
The policy documents (policies/*.md) are written by hand.

Stdlib only and deterministic (random.Random(2026)): running it twice gives byte-identical files.
The data tables live in _zh_catalog.py (products), _zh_customers.py (customers and orders) and _zh_offers.py.
"""

from __future__ import annotations

import itertools
import json
import random
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _zh_catalog as cat  # noqa: E402
import _zh_customers as cus  # noqa: E402
import _zh_offers as off  # noqa: E402

ZONE = "+08:00"

#: brand -> the categories it makes (a preferred brand rules out the other brands of those categories)
BRAND_CATEGORIES = {b: {c for c, rows in cat.PRODUCTS.items() for row in rows if row[0] == b} for b in cat.BRANDS}



def money(x: float) -> float:
    return round(x + 1e-9, 2)


# ------------------------------------------------------------------------------------ products
def fact(key: str, value: object) -> str:
    template = cat.FACTS[key]
    if isinstance(template, tuple):
        return template[0] if value else template[1]
    return template.format(v=value)


def describe(name: str, use: str, feature: str, attrs: dict, warranty: int, rng: random.Random) -> str:
    facts = [fact(k, v) for k, v in attrs.items()]
    sentences = [rng.choice(cat.INTROS).format(name=name, use=use)]
    for start in range(0, len(facts), 3):
        sentences.append(("它" if start == 0 else "另外，它") + "，".join(facts[start:start + 3]) + "。")
    sentences.append(rng.choice(cat.FEATURES).format(feature=feature))
    sentences.append(f"本品享受{warranty}个月质量保修。" if warranty else "")
    return "".join(sentences)


def make_variants(pid: str, options: dict, rng: random.Random, sold_out: bool) -> list[dict]:
    names = list(options)
    lists = [[v if isinstance(v, tuple) else (v, None) for v in options[n]] for n in names]
    variants = []
    for n, combo in enumerate(itertools.product(*lists) if names else [()], 1):
        stock = 0 if sold_out or rng.random() < 0.2 else rng.randint(1, 30)
        options_of = {name: text for name, (text, _) in zip(names, combo, strict=True)}
        variant: dict = {"id": f"{pid}-{n}", "options": options_of, "stock": stock}
        price = next((p for _, p in combo if p is not None), None)
        if price is not None:
            variant["price"] = price
        variants.append(variant)
    if not sold_out and all(v["stock"] == 0 for v in variants):
        variants[0]["stock"] = rng.randint(3, 20)
    return variants


def rating_and_reviews(tags: list[str], rng: random.Random) -> tuple[float, int]:
    if "热销" in tags:
        return round(rng.uniform(4.5, 4.9), 1), rng.randint(800, 5000)
    if "新品" in tags:
        return round(rng.uniform(4.0, 4.8), 1), rng.randint(5, 80)
    return round(rng.uniform(3.8, 4.8), 1), rng.randint(30, 1200)


def build_products(rng: random.Random) -> list[dict]:
    products = []
    for category, rows in cat.PRODUCTS.items():
        code, warranty = cat.CATEGORIES[category]
        for i, (brand, model, price, attrs, tags, use, feature, options) in enumerate(rows, 1):
            pid = f"SQ-{code}-{i:03d}"
            name = f"{brand}{model}"
            rating, reviews = rating_and_reviews(tags, rng)
            products.append({
                "id": pid, "name": name, "brand": brand, "category": category,
                "description": describe(name, use, feature, attrs, warranty, rng),
                "price": price, "currency": cat.CURRENCY, "attributes": {**attrs, "保修（月）": warranty},
                "variants": make_variants(pid, options, rng, pid in cat.OUT_OF_STOCK),
                "tags": list(tags), "rating": rating, "review_count": reviews,
            })
    return products


# ------------------------------------------------------------------------------------- orders
def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=None)  # Beijing time, naive


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:00") + ZONE


def moment(rng: random.Random, first: str, last: str, hour_lo: int = 9, hour_hi: int = 20) -> datetime:
    start, end = datetime.fromisoformat(first), datetime.fromisoformat(last)
    day = start + timedelta(days=rng.randint(0, (end - start).days))
    return day + timedelta(hours=rng.randint(hour_lo, hour_hi), minutes=rng.randint(0, 59))


def daytime(when: datetime) -> datetime:
    """The same moment moved into 09:00-20:59 (the next morning if later), so dates agree in UTC."""
    if when.hour >= 21:
        return (when + timedelta(days=1)).replace(hour=9 + when.hour - 21)
    return when.replace(hour=9) if when.hour < 9 else when


def tracking_number(carrier: str, rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(13))
    return {"顺丰速运": "SF" + digits, "中通快递": "78" + digits[:10], "京东物流": "JDX" + digits[:12]}[carrier]


def line_item(product: dict, variant: dict, quantity: int) -> dict:
    price = variant["price"] if variant.get("price") is not None else product["price"]
    return {"product_id": product["id"], "variant_id": variant["id"], "name": product["name"],
            "options": dict(variant["options"]), "quantity": quantity, "unit_price": price}


def make_order(status: str, dates: dict, items: list[dict], method: str, carrier: str | None, address: dict,
               rng: random.Random) -> dict:
    """``dates``: placed_at and, by status, processed_at / shipped_at / delivered_at / refund_at (datetimes)."""
    subtotal = money(sum(i["unit_price"] * i["quantity"] for i in items))
    shipping = 0.0 if subtotal >= cat.FREE_SHIPPING_THRESHOLD else cat.STANDARD_SHIPPING
    total = money(subtotal + shipping)
    placed = dates["placed_at"]
    updated = {"pending": placed, "processed": dates.get("processed_at"), "shipped": dates.get("shipped_at"),
               "delivered": dates.get("delivered_at"), "cancelled": dates.get("refund_at"),
               "returned": dates.get("refund_at")}[status]
    tracking = None
    if status in ("shipped", "delivered", "returned"):
        carrier = carrier or rng.choice(cus.CARRIERS)
        tracking = {"carrier": carrier, "number": tracking_number(carrier, rng), "url": None}
    # the shipping policy: a hold (预授权) when the order is placed, the charge when it is processed
    payments = [{"kind": "authorization" if status == "pending" else "charge", "method": method, "amount": total,
                 "at": ts(placed)}]
    if status == "cancelled":
        payments.append({"kind": "refund", "method": method, "amount": total, "at": ts(dates["refund_at"])})
    if status == "returned":
        payments.append({"kind": "refund", "method": method, "amount": subtotal, "at": ts(dates["refund_at"])})
    delivered = dates.get("delivered_at") if status in ("delivered", "returned") else None
    return {"id": None, "status": status, "placed_at": ts(placed), "updated_at": ts(updated),
            "delivered_at": ts(delivered) if delivered else None, "currency": cat.CURRENCY, "items": items,
            "shipping": shipping, "total": total, "shipping_address": dict(address), "tracking": tracking,
            "payments": payments}


def order_dates(kind: str, rng: random.Random) -> dict:
    if kind == "pending":
        return {"placed_at": moment(rng, "2026-11-27", "2026-11-28")}
    if kind == "processed":
        placed = moment(rng, "2026-11-25", "2026-11-27", 9, 15)
        return {"placed_at": placed, "processed_at": placed + timedelta(hours=rng.randint(2, 5))}
    if kind == "shipped":
        placed = moment(rng, "2026-11-20", "2026-11-25", 9, 15)
        return {"placed_at": placed, "shipped_at": placed + timedelta(hours=rng.randint(3, 5))}
    if kind == "cancelled":
        placed = moment(rng, "2026-06-01", "2026-11-24", 9, 14)
        return {"placed_at": placed, "refund_at": placed + timedelta(hours=rng.randint(1, 6))}
    first, last = {"delivered_recent": ("2026-11-01", "2026-11-26"), "delivered_old": ("2026-06-06", "2026-10-25"),
                   "returned": ("2026-06-08", "2026-11-12")}[kind]
    delivered = moment(rng, first, last, 10, 19)
    placed = daytime(delivered - timedelta(days=rng.randint(2, 4), hours=rng.randint(0, 6)))
    dates = {"placed_at": placed, "shipped_at": daytime(placed + timedelta(hours=rng.randint(4, 8))),
             "delivered_at": delivered}
    if kind == "returned":
        dates["refund_at"] = daytime(delivered + timedelta(days=rng.randint(5, 12), hours=rng.randint(1, 6)))
    return dates


# ---------------------------------------------------------------------------------- customers
def fits(product: dict, prefs: dict[str, str], live: bool) -> bool:
    if live and all(v["stock"] == 0 for v in product["variants"]):
        return False
    budget = prefs.get("budget")
    if budget and product["price"] >= float(budget.rstrip("元以内")):
        return False
    if prefs.get("dislike") == "塑料制品" and "塑料" in str(product["attributes"].get("材质", "")):
        return False
    brand = prefs.get("brand")
    return not brand or product["brand"] == brand or product["category"] not in BRAND_CATEGORIES[brand]


def pick_variant(product: dict, sizes: tuple[str, str], colour: str | None, live: bool, rng: random.Random) -> dict:
    size = sizes[1] if product["category"] == "徒步鞋" else sizes[0]
    variants = [v for v in product["variants"] if v["options"].get("尺码") in (None, size)]
    variants = [v for v in variants if v["options"].get("颜色") == colour] or variants
    if live:
        variants = [v for v in variants if v["stock"] > 0] or variants
    return rng.choice(variants)


def pick_items(shops: list[str], by_category: dict, prefs: dict[str, str], sizes: tuple[str, str], live: bool,
               bought: set[str], rng: random.Random) -> list[dict]:
    count = rng.choices([1, 2, 3], weights=[55, 35, 10])[0]
    items: list[dict] = []
    for attempt in range(count * 4):
        if len(items) == count:
            break
        category = shops[0] if attempt == 0 else rng.choice(shops)
        pool = [p for p in by_category[category] if p["id"] not in bought and fits(p, prefs, live)]
        if not pool:
            continue
        product = rng.choice(pool)
        bought.add(product["id"])
        quantity = 2 if product["price"] < 100 and rng.random() < 0.3 else 1
        items.append(line_item(product, pick_variant(product, sizes, prefs.get("colour"), live, rng), quantity))
    if not items:
        raise ValueError(f"no product fits {shops} {prefs}")
    return items


def build_customers(products: list[dict], rng: random.Random) -> list[dict]:
    by_id = {p["id"]: p for p in products}
    by_category: dict[str, list[dict]] = {}
    for p in products:
        by_category.setdefault(p["category"], []).append(p)
    customers, counts = [], {}
    for cid, name, mail, domain, tier, joined, (line1, city, province, postcode), marketing, prefs, *_ in cus.CUSTOMERS:
        address = {"line1": line1, "line2": None, "city": city, "state": province, "postcode": postcode,
                   "country": "CN"}
        orders = []
        for spec in cus.NARRATIVE_ORDERS.get(cid, []):
            items = [line_item(by_id[pid], next(v for v in by_id[pid]["variants"] if v["options"] == options), qty)
                     for pid, options, qty in spec["items"]]
            dates = {k: parse_ts(v) for k, v in spec.items() if k.endswith("_at")}
            orders.append(make_order(spec["status"], dates, items, spec["method"], spec.get("carrier"), address, rng))
        customers.append({
            "id": cid, "name": name, "email": f"{mail}@{domain}", "phone": f"+86 139-0000-01{cid[-2:]}",
            "tier": tier, "points": rng.randint(*cus.POINTS_RANGE[tier]),
            "joined_at": f"{joined}T{rng.randint(9, 20):02d}:{rng.randint(0, 59):02d}:00{ZONE}",
            "address": address,
            "consent": {"personalization": cid not in cus.NO_PERSONALIZATION, "marketing": marketing},
            "preferences": [{"kind": k, "value": v} for k, v in prefs],
            "orders": orders,
        })
        if cid not in cus.NARRATIVE_ORDERS:
            counts[cid] = rng.randint(*cus.ORDERS_PER_TIER[tier])
    plan = [kind for kind, n in cus.GENERATED_STATUS_MINIMUM.items() for _ in range(n)]
    plan += ["delivered_old"] * (sum(counts.values()) - len(plan))
    rng.shuffle(plan)
    owners = [cid for cid, *_ in cus.CUSTOMERS for _ in range(counts.get(cid, 0))]
    tiers = {row[0]: row[4] for row in cus.CUSTOMERS}
    for i, owner in enumerate(owners):  # returns only by silver+ members (free return label, simple refunds)
        if plan[i] == "returned" and tiers[owner] == "standard":
            j = next(j for j, o in enumerate(owners) if plan[j] == "delivered_old" and tiers[o] != "standard")
            plan[i], plan[j] = plan[j], plan[i]
    plan.reverse()
    for record, (cid, *rest) in zip(customers, cus.CUSTOMERS, strict=True):
        if cid not in counts:
            continue
        prefs, shops, sizes = dict(rest[-4]), rest[-3], (rest[-2], rest[-1])
        bought: set[str] = set()
        usual = rng.choices(cus.PAYMENT_METHODS, weights=cus.PAYMENT_WEIGHTS)[0]
        for _ in range(counts[cid]):
            kind = plan.pop()
            live = kind in ("pending", "processed", "shipped")
            items = pick_items(shops, by_category, prefs, sizes, live, bought, rng)
            status = "delivered" if kind.startswith("delivered") else kind
            method = usual if rng.random() < 0.75 else rng.choices(cus.PAYMENT_METHODS, weights=cus.PAYMENT_WEIGHTS)[0]
            record["orders"].append(make_order(status, order_dates(kind, rng), items, method, None,
                                               record["address"], rng))
    every = sorted((o for c in customers for o in c["orders"]), key=lambda o: (o["placed_at"], o["total"]))
    for n, order in enumerate(every, 1):
        order["id"] = f"SQ-{200000 + n}"
    for c in customers:
        c["orders"].sort(key=lambda o: o["placed_at"])
    return customers


# ------------------------------------------------------------------------------- checks + output
def out_of_stock(products: list[dict]) -> list[str]:
    return [p["id"] for p in products if all(v["stock"] == 0 for v in p["variants"])]


def check(products: list[dict], customers: list[dict]) -> None:
    """Invariants the README and the tests rely on (raises AssertionError)."""
    by_id = {p["id"]: p for p in products}
    assert len(products) >= 40 and sorted(out_of_stock(products)) == sorted(cat.OUT_OF_STOCK)
    assert len({p["description"] for p in products}) == len(products)
    assert all(set(p["tags"]) <= cat.TAG_VOCABULARY and p["brand"] in cat.BRANDS for p in products)
    assert len(customers) == 15 and all(c["orders"] for c in customers)
    ids = [o["id"] for c in customers for o in c["orders"]]
    assert len(ids) == len(set(ids))
    for c in customers:
        for o in c["orders"]:
            subtotal = money(sum(i["unit_price"] * i["quantity"] for i in o["items"]))
            assert o["shipping"] == (0 if subtotal >= cat.FREE_SHIPPING_THRESHOLD else cat.STANDARD_SHIPPING)
            assert o["total"] == money(subtotal + o["shipping"])
            assert cus.ORDER_DATE_START <= o["placed_at"][:10] <= cus.ORDER_DATE_END
            for stamp in (o["placed_at"], o["updated_at"], o["delivered_at"]):
                assert stamp is None or 9 <= int(stamp[11:13]) <= 21, stamp
            for item in o["items"]:
                variant = next(v for v in by_id[item["product_id"]]["variants"] if v["id"] == item["variant_id"])
                assert item["unit_price"] == (variant.get("price") or by_id[item["product_id"]]["price"])
            if o["status"] == "returned":
                assert c["tier"] != "standard"
    statuses = Counter(o["status"] for c in customers for o in c["orders"])
    assert set(statuses) == {"pending", "processed", "shipped", "delivered", "cancelled", "returned"}, statuses


def validate(products: list[dict], customers: list[dict], offers: list[dict]) -> str:
    try:
        import jsonschema
    except ImportError:
        return "jsonschema not installed: schema validation skipped (run with the project's venv python)"
    results = []
    for name, records in (("product", products), ("customer", customers), ("offer", offers), ("shop", [off.SHOP])):
        schema = json.loads((HERE.parent / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8"))
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        errors = [f"{r.get('id')}: {e.message}" for r in records for e in validator.iter_errors(r)]
        if errors:
            raise SystemExit(f"{name} schema errors:\n" + "\n".join(errors[:20]))
        results.append(f"{len(records)} {name}s")
    return "schema validation OK (Draft 2020-12): " + ", ".join(results)


def jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def pretty(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def report(products: list[dict], customers: list[dict]) -> None:
    print(f"products: {len(products)}  by category: {dict(Counter(p['category'] for p in products))}")
    variants = [v for p in products for v in p["variants"]]
    print(f"variants: {len(variants)}, at stock 0: {sum(v['stock'] == 0 for v in variants)}, "
          f"with own price: {sum('price' in v for v in variants)}; out of stock: {', '.join(out_of_stock(products))}")
    print(f"customers: {len(customers)}  by tier: {dict(Counter(c['tier'] for c in customers))}")
    statuses = Counter(o["status"] for c in customers for o in c["orders"])
    print(f"orders: {sum(statuses.values())}  by status: {dict(sorted(statuses.items()))}")
    delivered = [o for c in customers for o in c["orders"] if o["status"] == "delivered"]
    recent = sum(o["delivered_at"][:10] >= cus.RETURN_WINDOW_START for o in delivered)
    print(f"delivered inside the 30-day window of {cat.TODAY}: {recent}, outside: {len(delivered) - recent}")


def build() -> tuple[list[dict], list[dict]]:
    """The products and the customers (with their orders), checked."""
    rng = random.Random(2026)
    products = build_products(rng)
    customers = build_customers(products, rng)
    check(products, customers)
    return products, customers


def render(products: list[dict], customers: list[dict]) -> dict[str, str]:
    """File name -> the text the generator writes there."""
    return {"products.jsonl": jsonl(products), "customers.jsonl": jsonl(customers),
            "offers.json": pretty(off.OFFERS), "shop.json": pretty(off.SHOP)}


def main() -> int:
    products, customers = build()
    for name, text in render(products, customers).items():
        (HERE / name).write_text(text, encoding="utf-8", newline="\n")
    report(products, customers)
    print(validate(products, customers, off.OFFERS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
