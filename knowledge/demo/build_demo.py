"""Regenerate the Northwind Outfitters demo shop: products.jsonl and customers.jsonl.

    python3 knowledge/demo/build_demo.py

writes both files, checks the invariants the README and the tests rely on, prints a summary and, when
jsonschema is importable (e.g. with .venv/bin/python), validates every record against knowledge/schemas.

Stdlib only and deterministic (random.Random(42)): running it twice gives byte-identical files.
The data tables live in _demo_catalog.py (products) and _demo_customers.py (customers and orders).
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _demo_catalog as cat  # noqa: E402
import _demo_customers as cus  # noqa: E402

OUT_OF_STOCK_COUNT = 7
# Products the narrative customers rely on: never picked as out of stock.
KEEP_IN_STOCK = {pid for orders in cus.NARRATIVE_ORDERS.values() for o in orders for pid, _, _ in o["items"]}


# ------------------------------------------------------------------------------------ helpers
def money(x: float) -> float:
    return round(x + 1e-9, 2)


def yes_no(flag: bool, yes: str, no: str) -> str:
    return yes if flag else no


def pick_upper(category: str, tags: list[str], rng: random.Random) -> str:
    if "vegan" in tags:
        return "recycled polyester mesh with synthetic overlays"
    options = cat.UPPERS[category]
    if "leather" in tags:
        options = [o for o in options if "leather" in o and "synthetic" not in o]
    return rng.choice(options)


def boot_weight(attrs: dict, tags: list[str], rng: random.Random) -> int:
    if "lightweight" in tags:
        low, high = 420, 520
    elif attrs.get("insulation") or attrs.get("ankle") == "high":
        low, high = 650, 820
    else:
        low, high = 520, 640
    return rng.randrange(low, high, 5)


def pack_weight(volume: int, attrs: dict, tags: list[str]) -> int:
    per_litre = 12 if ("ultralight" in tags or "packable" in tags) else 26
    if "frame" in attrs and "aluminum" in str(attrs["frame"]):
        per_litre = 30
    return int(round((volume * per_litre + 150) / 10.0)) * 10


# -------------------------------------------------------------------------- attributes + facts
def fill_attributes(category: str, attrs: dict, tags: list[str], rng: random.Random) -> list[str]:
    """Complete ``attrs`` in place; return 1-2 fact sentences that agree with them."""
    if category == "running-shoes":
        if attrs.get("carbon_plate"):
            attrs["weight_g"] = rng.randrange(185, 215, 5)
        elif attrs["surface"] == "trail":
            attrs["weight_g"] = rng.randrange(265, 330, 5)
        else:
            attrs["weight_g"] = rng.randrange(215, 290, 5)
        attrs["upper"] = pick_upper(category, tags, rng)
        attrs["midsole"] = rng.choice(cat.MIDSOLES)
        attrs["outsole"] = rng.choice(cat.OUTSOLES[attrs["surface"]])
        return [
            f"The upper is {attrs['upper']}, the midsole is {attrs['midsole']} and the outsole is {attrs['outsole']}.",
            f"It weighs {attrs['weight_g']} g (US men's 9), has a heel-to-toe drop of {attrs['drop_mm']} mm and is "
            + yes_no(attrs["waterproof"], "waterproof.", "not waterproof."),
        ]
    if category == "hiking-boots":
        attrs["weight_g"] = boot_weight(attrs, tags, rng)
        attrs["upper"] = pick_upper(category, tags, rng)
        attrs["outsole"] = rng.choice(cat.OUTSOLES["boot"])
        facts = [f"This {attrs['ankle']}-cut boot has an upper of {attrs['upper']} "
                 f"and an outsole of {attrs['outsole']}."]
        extra = f", with {attrs['insulation']} insulation" if attrs.get("insulation") else ""
        facts.append(f"Each boot weighs about {attrs['weight_g']} g (US men's 9) and is "
                     + yes_no(attrs["waterproof"], "waterproof", "not waterproof") + extra + ".")
        return facts
    if category in ("tops", "bottoms"):
        fact = f"It is made of {attrs['material']} and has a {attrs['fit']} fit."
        if attrs.get("upf"):
            fact = fact[:-1] + f", with UPF {attrs['upf']} sun protection."
        if attrs.get("waterproof_rating_mm"):
            return [fact, f"The fabric has a {attrs['waterproof_rating_mm']:,} mm waterproof rating."]
        return [fact]
    if category == "outerwear":
        mm = attrs["waterproof_rating_mm"]
        water = (f"It has a {mm:,} mm waterproof rating" if mm >= 10000 else
                 f"It is water-resistant ({mm:,} mm rating) but not fully waterproof" if mm else
                 "It is not waterproof")
        ins = ("it has no insulation, so layer underneath for warmth" if attrs["insulation"] == "none"
               else f"it has a {attrs['insulation']} for warmth" if "lining" in attrs["insulation"]
               else f"it is insulated ({attrs['insulation']})")
        return [f"The outer fabric is {attrs['material']}.", f"{water}, and {ins}."]
    if category == "backpacks":
        volume = attrs["volume_l"]
        if isinstance(volume, list):
            attrs["weight_g"] = [pack_weight(v, attrs, tags) for v in volume]
            sizes = " and ".join(f"{v} L ({w} g)" for v, w in zip(volume, attrs["weight_g"], strict=True))
            fact = f"It comes in two sizes: {sizes}."
        else:
            attrs["weight_g"] = pack_weight(volume, attrs, tags)
            fact = f"It holds {volume} liters and weighs {attrs['weight_g']} g."
        attrs["material"] = rng.choice(["recycled 210D nylon", "ripstop nylon", "420D recycled polyester"])
        more = f"The body is {attrs['material']}"
        if "hydration_compatible" in attrs:
            more += yes_no(attrs["hydration_compatible"], " and it has a sleeve for a hydration reservoir.",
                           " and it has no hydration sleeve.")
        else:
            more += "."
        return [fact, more]
    if category == "camping":
        bits = []
        if "capacity_persons" in attrs:
            bits.append(f"sleeps {attrs['capacity_persons']} in a {attrs['season']}, "
                        + yes_no(attrs["freestanding"], "freestanding", "non-freestanding") + " design")
        if "temp_rating_f" in attrs:
            bits.append(f"is rated to {attrs['temp_rating_f']} F with {attrs['insulation']} insulation")
        if "r_value" in attrs:
            bits.append(f"has an R-value of {attrs['r_value']} and is {attrs['thickness_cm']} cm thick")
        if "lumens" in attrs:
            bits.append(f"gives up to {attrs['lumens']} lumens and runs up to {attrs['battery_hours']} hours "
                        "on low from a USB-C rechargeable battery")
        if "max_load_kg" in attrs:
            bits.append(f"holds up to {attrs['max_load_kg']} kg")
        if "length_cm" in attrs:
            bits.append(f"adjusts from {attrs['length_cm'].replace('-', ' to ')} cm")
        if "fuel" in attrs:
            bits.append(f"runs on an {attrs['fuel']} (sold separately)")
        weight = f"It weighs {attrs['weight_g']} g."
        if not bits:
            return [weight]
        return ["It " + ", ".join(bits[:-1]) + (" and " if len(bits) > 1 else "") + bits[-1] + ".", weight]
    if category == "kitchen":
        parts = [f"It is made of {attrs['material']}"]
        if "induction_compatible" in attrs:
            parts.append(yes_no(attrs["induction_compatible"], "works on induction cooktops",
                                "does not work on induction cooktops"))
        if "oven_safe_f" in attrs:
            parts.append(f"is oven safe to {attrs['oven_safe_f']} F")
        facts = [(", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]) + "."]
        facts.append(yes_no(attrs["dishwasher_safe"], "It is dishwasher safe.",
                            "Hand wash only; it is not dishwasher safe."))
        return facts
    if category == "audio":
        if attrs["battery_hours"]:
            power = f"It plays up to {attrs['battery_hours']} hours per charge"
            if attrs.get("case_battery_hours"):
                power += f" (plus {attrs['case_battery_hours']} hours from the case)"
        else:
            attrs["power"] = "wired 3.5 mm cable" if attrs.get("wireless") is False else "wall plug (AC power)"
            power = f"It has no battery and runs on a {attrs['power']}"
        nc = yes_no(attrs["noise_cancelling"], "has active noise cancelling", "has no active noise cancelling")
        water = ("is not water resistant" if attrs["water_resistance"] == "none"
                 else f"is {attrs['water_resistance']} water resistant")
        return [f"{power}.", f"This {attrs['type']} model {nc} and {water}."]
    if category == "skincare":
        skin = "all skin types" if attrs["skin_type"] == "all" else f"{attrs['skin_type']} skin"
        parts = [f"suits {skin}"]
        if attrs.get("spf"):
            parts.append(f"offers broad-spectrum SPF {attrs['spf']} protection")
        if "fragrance_free" in attrs:
            parts.append(yes_no(attrs["fragrance_free"], "is fragrance-free", "has a light natural scent"))
        fact = "It " + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0])
        ml = attrs["volume_ml"]
        sizes = (f"Size: {ml} ml." if isinstance(ml, int)
                 else "Sizes: " + " and ".join(f"{v} ml" for v in ml) + ".")
        return [fact + ".", sizes]
    raise ValueError(category)


# ------------------------------------------------------------------------------------ variants
def make_variants(category: str, pid: str, extra: dict, rng: random.Random) -> list[dict]:
    """Option dicts (stock and ids are added by the caller), with an optional own price."""
    combos: list[tuple[dict, float | None]] = []
    palette = cat.COLOURS.get(category, [])
    if extra.get("single"):
        combos = [({}, None)]
    elif category in ("running-shoes", "hiking-boots"):
        sizes = cat.SHOE_HALF_SIZES if extra.get("half_sizes") else cat.SHOE_SIZES
        colours = rng.sample(palette, rng.choice([1, 2]) if extra.get("half_sizes") else rng.choice([1, 2, 3]))
        combos = [({"size": size, "colour": c}, None) for c in colours for size in sizes]
    elif category in ("tops", "bottoms", "outerwear"):
        colours = rng.sample(palette, rng.choice([1, 2, 2, 3]))
        combos = [({"size": size, "colour": c}, None) for c in colours for size in cat.APPAREL_SIZES]
    elif category == "backpacks" and extra.get("volumes"):
        colours = rng.sample(palette, 2)
        combos = [({"volume": f"{v} L", "colour": c}, p) for v, p in extra["volumes"] for c in colours]
    elif category == "skincare":
        combos = [({"volume": f"{v} ml"}, p) for v, p in extra["volumes"]]
    elif extra.get("capacities"):
        combos = [({"capacity": c}, p) for c, p in extra["capacities"]]
    else:  # backpacks, camping, kitchen, audio: colours (fixed by the row, or 1-3 from the palette)
        colours = extra.get("colours") or rng.sample(palette, rng.choice([1, 2, 3]))
        combos = [({"colour": c}, None) for c in colours]
    variants = []
    for n, (options, price) in enumerate(combos, 1):
        stock = 0 if rng.random() < 0.2 else rng.randint(1, 25)
        variant = {"id": f"{pid}-{n}", "options": options, "stock": stock}
        if price is not None:
            variant["price"] = price
        variants.append(variant)
    return variants


# ---------------------------------------------------------------------------------- description
def describe(name: str, brand: str, use: str, feature: str, facts: list[str], category: str,
             rng: random.Random) -> str:
    model = name[len(brand) + 1:]
    verb = "are" if model.split()[-1] in cat.PLURAL_LAST_WORDS else "is"
    intro = rng.choice(cat.INTROS).format(name=name, model=model, brand=brand, use=use, **{"is": verb})
    feature_sentence = rng.choice(cat.FEATURE_SENTENCES).format(feature=feature)
    sentences = [intro] + facts + [feature_sentence]
    if len(sentences) < 4:
        sentences.append(rng.choice(cat.CLOSINGS[category]))
    return " ".join(sentences)


def derived_tags(category: str, attrs: dict, price: float) -> list[str]:
    """Tags that follow from the facts, in order of importance."""
    text = " ".join(str(attrs.get(k, "")) for k in ("material", "upper", "insulation")).lower()
    out = []
    if attrs.get("waterproof") is True or attrs.get("waterproof_rating_mm", 0) >= 10000:
        out.append("waterproof")
    if category == "running-shoes":
        out.append(attrs["surface"])
    if category == "audio" and attrs.get("wireless") is not False and attrs["type"] != "radio":
        out.append("wireless")
    if attrs.get("noise_cancelling"):
        out.append("noise-cancelling")
    if attrs.get("spf"):
        out.append("spf")
    if attrs.get("skin_type") == "sensitive":
        out.append("sensitive-skin")
    if attrs.get("fragrance_free"):
        out.append("fragrance-free")
    if price < cat.BUDGET_BELOW[category]:
        out.append("budget")
    weight = attrs.get("weight_g")
    light = {"running-shoes": 240, "hiking-boots": 520, "backpacks": 500, "camping": 600}.get(category, 0)
    if isinstance(weight, int) and weight <= light:
        out.append("lightweight")
    for word, tag in (("down", "down"), ("merino", "merino"), ("organic", "organic"), ("recycled", "recycled"),
                      ("leather", "leather"), ("stainless", "stainless"), ("cast iron", "cast-iron"),
                      ("cotton", "cotton"), ("wool", "wool")):
        if word in text and not (tag == "leather" and "synthetic" in text):
            out.append(tag)
    if attrs.get("insulation") not in (None, "none") and "lining" not in str(attrs.get("insulation")):
        out.append("insulated")
    if attrs.get("dishwasher_safe"):
        out.append("dishwasher-safe")
    if attrs.get("rechargeable"):
        out.append("rechargeable")
    return out


def finish_tags(tags: list[str], category: str, attrs: dict, price: float) -> list[str]:
    out = list(dict.fromkeys(tags))
    for tag in derived_tags(category, attrs, price):
        if tag not in out and len(out) < 6:
            out.append(tag)
    if len(out) < 3 and price >= 15 and "gift" not in out:
        out.append("gift")
    assert 3 <= len(out) <= 6 and all(t in cat.TAG_VOCABULARY for t in out), (category, tags, attrs)
    return out


def rating_and_reviews(tags: list[str], rng: random.Random) -> tuple[float, int]:
    if "bestseller" in tags:
        return round(rng.uniform(4.4, 4.9), 1), rng.randint(300, 900)
    if "new" in tags:
        return round(rng.uniform(3.8, 4.8), 1), rng.randint(3, 60)
    return round(rng.uniform(3.2, 4.7), 1), rng.randint(15, 420)


# ------------------------------------------------------------------------------------ products
def build_products(rng: random.Random) -> list[dict]:
    products = []
    for category, rows in cat.PRODUCTS.items():
        code, warranty = cat.CATEGORIES[category]
        for i, row in enumerate(rows, 1):
            brand, model, price, attrs, tags, use, feature = row[:7]
            extra = row[7] if len(row) > 7 else {}
            pid = f"NW-{code}-{i:03d}"
            name = f"{brand} {model}"
            attrs = dict(attrs)
            if category == "skincare":
                volumes = [v for v, _ in extra["volumes"]]
                attrs["volume_ml"] = volumes[0] if len(volumes) == 1 else volumes
            facts = fill_attributes(category, attrs, list(tags), rng)
            attrs["warranty_months"] = warranty
            variants = make_variants(category, pid, extra, rng)
            final_tags = finish_tags(list(tags), category, attrs, price)
            rating, reviews = rating_and_reviews(final_tags, rng)
            products.append({
                "id": pid,
                "name": name,
                "brand": brand,
                "category": category,
                "description": describe(name, brand, use, feature, facts, category, rng),
                "price": price,
                "currency": cat.CURRENCY,
                "attributes": attrs,
                "variants": variants,
                "tags": final_tags,
                "rating": rating,
                "review_count": reviews,
            })
    # Exactly OUT_OF_STOCK_COUNT products sold out, from 7 different categories.
    categories = rng.sample(sorted(cat.PRODUCTS), OUT_OF_STOCK_COUNT)
    sold_out = set()
    for category in categories:
        candidates = [p["id"] for p in products if p["category"] == category and p["id"] not in KEEP_IN_STOCK]
        sold_out.add(rng.choice(candidates))
    for p in products:
        if p["id"] in sold_out:
            for v in p["variants"]:
                v["stock"] = 0
        elif all(v["stock"] == 0 for v in p["variants"]):
            p["variants"][0]["stock"] = rng.randint(3, 25)
    return products


def out_of_stock(products: list[dict]) -> list[str]:
    return [p["id"] for p in products if all(v["stock"] == 0 for v in p["variants"])]


def write_jsonl(path: Path, records: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


# ------------------------------------------------------------------------------- order helpers
def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def random_moment(rng: random.Random, first_day: str, last_day: str, hour_lo: int = 7, hour_hi: int = 21) -> datetime:
    start, end = parse_ts(first_day + "T00:00:00Z"), parse_ts(last_day + "T00:00:00Z")
    day = start + timedelta(days=rng.randint(0, (end - start).days))
    return day + timedelta(hours=rng.randint(hour_lo, hour_hi), minutes=rng.randint(0, 59))


def tracking_number(carrier: str, rng: random.Random) -> str:
    if carrier == "UPS":
        shipper = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXY0123456789") for _ in range(6))
        return "1Z" + shipper + "03" + "".join(rng.choice("0123456789") for _ in range(8))
    return "94001" + "".join(rng.choice("0123456789") for _ in range(17))


def find_variant(product: dict, options: dict, prefer_in_stock: bool = True) -> dict:
    matches = [v for v in product["variants"]
               if all(str(v["options"].get(k)) == str(val) for k, val in options.items())]
    if not matches:
        raise ValueError(f"{product['id']}: no variant with {options}")
    in_stock = [v for v in matches if v["stock"] > 0]
    return (in_stock if prefer_in_stock and in_stock else matches)[0]


def line_item(product: dict, variant: dict, quantity: int) -> dict:
    price = variant["price"] if variant.get("price") is not None else product["price"]
    return {"product_id": product["id"], "variant_id": variant["id"], "name": product["name"],
            "options": dict(variant["options"]), "quantity": quantity, "unit_price": price}


def make_order(status: str, dates: dict, items: list[dict], method: str, carrier: str | None,
               address: dict, rng: random.Random) -> dict:
    """``dates`` holds datetimes: placed_at and, by status, processed_at/shipped_at/delivered_at/refund_at."""
    subtotal = money(sum(i["unit_price"] * i["quantity"] for i in items))
    shipping = 0.0 if subtotal >= cat.FREE_SHIPPING_THRESHOLD else cat.STANDARD_SHIPPING
    total = money(subtotal + shipping)
    placed = dates["placed_at"]
    updated = {"pending": placed, "processed": dates.get("processed_at"), "shipped": dates.get("shipped_at"),
               "delivered": dates.get("delivered_at"), "cancelled": dates.get("refund_at"),
               "returned": dates.get("refund_at")}[status]
    tracking = None
    if status in ("shipped", "delivered", "returned"):
        carrier = carrier or rng.choice(["UPS", "USPS"])
        tracking = {"carrier": carrier, "number": tracking_number(carrier, rng), "url": None}
    # the payment policy: a hold at checkout, the charge when the order is processed
    payments = [{"kind": "authorization" if status == "pending" else "charge", "method": method, "amount": total,
                 "at": ts(placed)}]
    if status == "cancelled":
        payments.append({"kind": "refund", "method": method, "amount": total, "at": ts(dates["refund_at"])})
    if status == "returned":
        payments.append({"kind": "refund", "method": method, "amount": subtotal, "at": ts(dates["refund_at"])})
    delivered = dates.get("delivered_at") if status in ("delivered", "returned") else None
    return {
        "id": None,  # numbered later, in order of placed_at across the shop
        "status": status,
        "placed_at": ts(placed),
        "updated_at": ts(updated),
        "delivered_at": ts(delivered) if delivered else None,
        "currency": cat.CURRENCY,
        "items": items,
        "shipping": shipping,
        "total": total,
        "shipping_address": dict(address),
        "tracking": tracking,
        "payments": payments,
    }


def order_dates(kind: str, rng: random.Random) -> dict:
    """Dates for a generated order of ``kind`` (a status, or delivered_recent / delivered_old)."""
    if kind == "pending":
        return {"placed_at": random_moment(rng, "2026-11-27", "2026-11-28", 0, 20)}
    if kind == "processed":
        placed = random_moment(rng, "2026-11-25", "2026-11-27", 6, 16)
        return {"placed_at": placed, "processed_at": placed + timedelta(hours=rng.randint(3, 7))}
    if kind == "shipped":
        placed = random_moment(rng, "2026-11-18", "2026-11-24", 6, 20)
        return {"placed_at": placed, "shipped_at": placed + timedelta(hours=rng.randint(16, 30))}
    if kind == "cancelled":
        placed = random_moment(rng, "2026-06-01", "2026-11-24")
        return {"placed_at": placed, "refund_at": placed + timedelta(hours=rng.randint(2, 16))}
    # Recent deliveries start 2026-11-01, clear of the window's edge (2026-10-30), so no order sits on the boundary.
    first, last = {"delivered_recent": ("2026-11-01", "2026-11-26"),
                   "delivered_old": ("2026-06-06", "2026-10-25"),
                   "returned": ("2026-06-08", "2026-11-12")}[kind]
    delivered = random_moment(rng, first, last, 9, 19)
    placed = delivered - timedelta(days=rng.randint(3, 6), hours=rng.randint(0, 8))
    shipped = placed + timedelta(hours=rng.randint(16, 30))
    dates = {"placed_at": placed, "shipped_at": shipped, "delivered_at": delivered}
    if kind == "returned":
        dates["refund_at"] = delivered + timedelta(days=rng.randint(5, 14), hours=rng.randint(1, 6))
    return dates


# ---------------------------------------------------------------------------- customer shopping
SIZED = {"running-shoes": "shoe", "hiking-boots": "shoe",
         "tops": "apparel", "bottoms": "apparel", "outerwear": "apparel"}


def profile(prefs: list[tuple[str, str]], rng: random.Random) -> dict:
    """What a customer's orders must respect, from the explicit preferences (random where unstated)."""
    prof: dict[str, Any] = {"shoe": rng.choice(["8", "9", "10", "11"]), "apparel": rng.choice(["S", "M", "L", "XL"]),
            "colour": None, "budget": None, "brand": None, "dislike": None, "focus": {}}
    for kind, value in prefs:
        if kind == "size":
            prof["apparel" if value in cat.APPAREL_SIZES else "shoe"] = value
        elif kind == "budget":
            prof["budget"] = float(value.split()[-1])
        elif kind in ("colour", "brand", "dislike"):
            prof[kind] = value
    return prof


def disliked(product: dict, dislike: str | None) -> bool:
    if not dislike:
        return False
    field, words = cus.DISLIKES[dislike]
    attrs = product["attributes"]
    if field == "scent":
        return attrs.get("fragrance_free") is False
    if field == "heavy":
        return product["category"] == "hiking-boots" and attrs["weight_g"] > 600
    if field == "colour":
        return False  # handled when the variant is picked
    return any(w in str(attrs.get(field, "")).lower() for w in words)


def eligible(product: dict, prof: dict, live: bool) -> bool:
    if live and all(v["stock"] == 0 for v in product["variants"]):
        return False
    if prof["budget"] is not None and product["price"] >= prof["budget"]:
        return False
    if disliked(product, prof["dislike"]):
        return False
    brand = prof["brand"]
    if brand and product["category"] in cat.BRANDS[brand] and product["brand"] != brand:
        return False
    kind = SIZED.get(product["category"])
    return not kind or any(v["options"].get("size") == prof[kind] for v in product["variants"])


def pick_variant(product: dict, prof: dict, live: bool, rng: random.Random) -> dict:
    kind = SIZED.get(product["category"])
    variants = [v for v in product["variants"] if not kind or v["options"].get("size") == prof[kind]]
    if prof["colour"]:
        liked = [v for v in variants if prof["colour"] in str(v["options"].get("colour", ""))]
        variants = liked or variants
    if live:
        variants = [v for v in variants if v["stock"] > 0] or variants
    return rng.choice(variants)


def pick_items(shops: list[str], by_category: dict, prof: dict, live: bool, bought: set[str],
               rng: random.Random) -> list[dict]:
    """1-3 line items; the first always from the customer's main category (``shops[0]``).

    Products in ``bought`` (earlier orders of the same customer) are avoided while others fit."""
    count = rng.choices([1, 2, 3], weights=[60, 30, 10])[0]
    items: list[dict] = []
    used: set[str] = set()
    for attempt in range(count * 4):
        if len(items) == count:
            break
        category = shops[0] if attempt == 0 else rng.choices(shops, weights=[3] + [1] * (len(shops) - 1))[0]
        pool = [p for p in by_category[category] if p["id"] not in used and eligible(p, prof, live)]
        focus = prof["focus"].get(category)
        if focus:
            pool = [p for p in pool if set(focus) & set(p["tags"])]
        pool = [p for p in pool if p["id"] not in bought] or pool
        if prof["colour"]:
            pool = [p for p in pool if any(prof["colour"] in str(v["options"].get("colour", ""))
                                           for v in p["variants"])] or pool
        if not pool:
            continue
        product = rng.choice(pool)
        used.add(product["id"])
        bought.add(product["id"])
        quantity = 2 if product["price"] < 40 and rng.random() < 0.15 else 1
        items.append(line_item(product, pick_variant(product, prof, live, rng), quantity))
    if not items:
        raise ValueError(f"no product fits {shops} {prof}")
    return items


def pick_method(rng: random.Random) -> str:
    return rng.choices(cus.PAYMENT_METHODS, weights=cus.PAYMENT_WEIGHTS)[0]


# ------------------------------------------------------------------------------------ customers
def narrative_orders(cid: str, by_id: dict, address: dict, rng: random.Random) -> list[dict]:
    orders = []
    for spec in cus.NARRATIVE_ORDERS.get(cid, []):
        items = [line_item(by_id[pid], find_variant(by_id[pid], options), qty) for pid, options, qty in spec["items"]]
        dates = {k: parse_ts(v) for k, v in spec.items() if k.endswith("_at")}
        orders.append(make_order(spec["status"], dates, items, spec["method"], spec.get("carrier"), address, rng))
    return orders


def generated_status_plan(slots: int, rng: random.Random) -> list[str]:
    plan = [kind for kind, n in cus.GENERATED_STATUS_MINIMUM.items() for _ in range(n)]
    if len(plan) > slots:
        raise ValueError(f"{slots} generated orders cannot hold the status minimums")
    plan += ["delivered_old"] * (slots - len(plan))
    rng.shuffle(plan)
    return plan


def build_customers(products: list[dict], rng: random.Random) -> list[dict]:
    by_id = {p["id"]: p for p in products}
    by_category: dict[str, list[dict]] = {}
    for p in products:
        by_category.setdefault(p["category"], []).append(p)
    customers, counts = [], {}
    for cid, first, last, tier, joined, (line1, city, state, postcode), marketing, prefs, _shops in cus.CUSTOMERS:
        address = {"line1": line1, "line2": None, "city": city, "state": state, "postcode": postcode, "country": "US"}
        customers.append({
            "id": cid,
            "name": f"{first} {last}",
            "email": f"{first.lower()}.{last.lower()}@example.com",
            "phone": f"+1-555-01{cid[-2:]}",
            "tier": tier,
            "points": 0 if cid in cus.NO_ORDERS and tier == "standard" else rng.randint(*cus.POINTS_RANGE[tier]),
            "joined_at": joined + "T" + f"{rng.randint(8, 21):02d}:{rng.randint(0, 59):02d}:00Z",
            "address": address,
            "consent": {"personalization": cid not in cus.NO_PERSONALIZATION, "marketing": marketing},
            "preferences": [{"kind": k, "value": v} for k, v in prefs],
            "orders": narrative_orders(cid, by_id, address, rng),
        })
        if cid not in cus.NARRATIVE_ORDERS and cid not in cus.NO_ORDERS:
            counts[cid] = rng.randint(*cus.ORDERS_PER_TIER[tier])
    plan = generated_status_plan(sum(counts.values()), rng)
    # Returns go to silver+ members only: standard members pay a $6.95 return label (returns policy), and
    # the demo keeps "refund = value of the returned items" simple.
    owners = [cid for cid, *_ in cus.CUSTOMERS for _ in range(counts.get(cid, 0))]
    tiers = {cid: tier for cid, _f, _l, tier, *_ in cus.CUSTOMERS}
    for i, owner in enumerate(owners):
        if plan[i] == "returned" and tiers[owner] == "standard":
            j = next(j for j, o in enumerate(owners) if plan[j] == "delivered_old" and tiers[o] != "standard")
            plan[i], plan[j] = plan[j], plan[i]
    plan.reverse()  # consumed with pop(), first customer first
    for record, (cid, *_rest) in zip(customers, cus.CUSTOMERS, strict=True):
        if cid not in counts:
            continue
        prefs, shops = _rest[-2], _rest[-1]
        prof = profile(prefs, rng)
        prof["focus"] = cus.FOCUS.get(cid, {})
        bought: set[str] = set()
        usual_method = pick_method(rng)
        for _ in range(counts[cid]):
            kind = plan.pop()
            live = kind in ("pending", "processed", "shipped")
            items = pick_items(shops, by_category, prof, live, bought, rng)
            status = "delivered" if kind.startswith("delivered") else kind
            method = usual_method if rng.random() < 0.75 else pick_method(rng)
            record["orders"].append(make_order(status, order_dates(kind, rng), items, method, None,
                                               record["address"], rng))
    # Number all orders NW-100001... in the order they were placed, then list each customer's oldest first.
    every = sorted((o for c in customers for o in c["orders"]), key=lambda o: (o["placed_at"], o["total"]))
    for n, order in enumerate(every, 1):
        order["id"] = f"NW-{100000 + n}"
    for c in customers:
        c["orders"].sort(key=lambda o: o["placed_at"])
    return customers


# ------------------------------------------------------------------------------- checks + report
def check(products: list[dict], customers: list[dict]) -> None:
    """Invariants the demo, its README and the tests rely on (raises AssertionError)."""
    by_id = {p["id"]: p for p in products}
    per_category = Counter(p["category"] for p in products)
    assert set(per_category) == set(cat.CATEGORIES) and all(12 <= n <= 15 for n in per_category.values())
    assert 130 <= len(products) <= 140 and len(out_of_stock(products)) == OUT_OF_STOCK_COUNT
    assert len({p["description"] for p in products}) == len(products)
    for p in products:
        assert p["attributes"]["warranty_months"] == cat.CATEGORIES[p["category"]][1]
        assert "stock" not in p and 3 <= len(p["tags"]) <= 6
    ids = [o["id"] for c in customers for o in c["orders"]]
    assert len(ids) == len(set(ids)) and all(len(i) == 9 for i in ids), "order ids must be unique NW-1000NN"
    for c in customers:
        for o in c["orders"]:
            subtotal = money(sum(i["unit_price"] * i["quantity"] for i in o["items"]))
            assert o["shipping"] == (0 if subtotal >= 75 else 5.99) and o["total"] == money(subtotal + o["shipping"])
            assert cus.ORDER_DATE_START <= o["placed_at"][:10] <= cus.ORDER_DATE_END
            for item in o["items"]:
                variant = next(v for v in by_id[item["product_id"]]["variants"] if v["id"] == item["variant_id"])
                assert variant["options"] == item["options"]
                assert item["unit_price"] == (variant.get("price") or by_id[item["product_id"]]["price"])
    statuses = Counter(o["status"] for c in customers for o in c["orders"])
    assert all(statuses[s] >= 6 for s in ("pending", "processed", "shipped", "delivered", "cancelled", "returned"))
    recent, old = delivered_split(customers)
    assert len(recent) >= 8 and len(old) >= 8
    assert [c["id"] for c in customers if not c["orders"]] == sorted(cus.NO_ORDERS)
    assert all(c["tier"] != "standard" for c in customers for o in c["orders"] if o["status"] == "returned")


def delivered_split(customers: list[dict]) -> tuple[list[str], list[str]]:
    delivered = [o for c in customers for o in c["orders"] if o["status"] == "delivered"]
    recent = [o["id"] for o in delivered if o["delivered_at"][:10] >= cus.RETURN_WINDOW_START]
    return recent, [o["id"] for o in delivered if o["delivered_at"][:10] < cus.RETURN_WINDOW_START]


def validate(products: list[dict], customers: list[dict]) -> str:
    try:
        import jsonschema
    except ImportError:
        return "jsonschema not installed: schema validation skipped (run with the project's venv python)"
    schemas = HERE.parent / "schemas"
    results = []
    for name, records in (("product", products), ("customer", customers)):
        schema = json.loads((schemas / f"{name}.schema.json").read_text(encoding="utf-8"))
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        errors = [f"{r['id']}: {e.message}" for r in records for e in validator.iter_errors(r)]
        if errors:
            raise SystemExit(f"{name} schema errors:\n" + "\n".join(errors[:20]))
        results.append(f"{len(records)} {name}s")
    return "schema validation OK (Draft 2020-12): " + ", ".join(results)


def report(products: list[dict], customers: list[dict]) -> None:
    print(f"products: {len(products)}")
    for category, n in Counter(p["category"] for p in products).items():
        print(f"  {category:14} {n}")
    print(f"out of stock ({OUT_OF_STOCK_COUNT}): {', '.join(out_of_stock(products))}")
    variants = [v for p in products for v in p["variants"]]
    print(f"variants: {len(variants)}, at stock 0: {sum(v['stock'] == 0 for v in variants)}, "
          f"with own price: {sum('price' in v for v in variants)}")
    print(f"customers: {len(customers)}  by tier: {dict(Counter(c['tier'] for c in customers))}")
    statuses = Counter(o["status"] for c in customers for o in c["orders"])
    print(f"orders: {sum(statuses.values())}  by status: {dict(sorted(statuses.items()))}")
    recent, old = delivered_split(customers)
    print(f"delivered within 30 days of {cat.TODAY} (delivered_at >= {cus.RETURN_WINDOW_START}): {len(recent)}, "
          f"outside: {len(old)}")


def main() -> int:
    rng = random.Random(42)
    products = build_products(rng)
    customers = build_customers(products, rng)
    check(products, customers)
    write_jsonl(HERE / "products.jsonl", products)
    write_jsonl(HERE / "customers.jsonl", customers)
    report(products, customers)
    print(validate(products, customers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
