"""Questions with answers computed from any shop folder's own data, for ``concierge eval --shop FOLDER``.

Nothing here knows a particular shop: categories, option names, id formats and attribute names are read
from the folder (catalogue, customers with orders) in the documented import formats. Policy questions
cannot be computed from data; they come from a hand-written file per shop (``--policy-questions``).

Every question says what a correct reply must contain (``expect``: all of them) and what would make it
wrong (``forbid``: a false fact such as another variant's price, another order's status; ``leak``: data
of another shopper). :mod:`assistant.evaluation.answer_scoring` turns a reply into correct / wrong /
declined.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.evaluation.question_wording import EN, Wording, spaced
from knowledge.catalog_import import from_csv_row, normalize
from knowledge.importing import RECORD_SUFFIXES, SourceRecord, find_files, read_records


@dataclass(frozen=True)
class ShopQuestion:
    id: str
    category: str
    message: str
    customer: str | None = None
    expect: tuple[str, ...] = ()  # every one must be in the reply
    expect_one_of: tuple[str, ...] = ()  # at least one must be in the reply
    forbid: tuple[str, ...] = ()  # any of them in the reply states a false fact
    leak: tuple[str, ...] = ()  # any of them in the reply shows another shopper's data
    stock: str | None = None  # "in" or "out": the reply must say so (and not the opposite)
    decline: bool = False  # the only correct reply declines (and shows no products)
    note: str = ""
    language: str = "en"  # the question's language: the reply must be in it
    before: tuple[str, ...] = ()  # messages sent first in the same conversation (e.g. the action to confirm)
    expect_event: str | None = None  # an event the turn must stream (e.g. "handover")
    expect_intent: str | None = None  # the intent the turn must read (e.g. "confirm")

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}


@dataclass
class ShopData:
    products: list[dict[str, Any]]
    customers: list[dict[str, Any]]
    currency: str = "USD"
    problems: list[str] = field(default_factory=list)
    locale: str = "en"  # shop.json's locale ("zh_CN"): the language its shoppers are asked in by default

    @property
    def language(self) -> str:
        return re.split(r"[_-]", self.locale or "en")[0].lower() or "en"

    def own_strings(self) -> list[str]:
        """What a reply may quote from the shop as written: product, category, brand, option and item names."""
        found: set[str] = set()
        for p in self.products:
            found.update(str(p.get(k) or "") for k in ("name", "category", "brand"))
            for v in p.get("variants") or []:
                found.update(str(x) for x in (v.get("options") or {}).values())
        for c in self.customers:
            for o in c.get("orders") or []:
                found.update(str(i.get("name") or "") for i in o.get("items") or [])
        return sorted((x for x in found if x.strip()), key=len, reverse=True)


def _records(path: Path | None, list_key: str) -> Iterator[tuple[dict[str, Any], bool]]:
    if path is None:
        return
    for file in find_files(path, RECORD_SUFFIXES):
        for entry in read_records(file, list_key=list_key, max_bytes=200_000_000):
            if isinstance(entry, SourceRecord):
                yield entry.data, file.suffix.lower() == ".csv"


def read_shop(root: Path) -> ShopData:
    """The catalogue and the customers of a shop folder, read the way the importers read them."""
    from assistant.shop.shop_import import ShopLayout

    layout = ShopLayout(root)
    products, problems = [], []
    for data, is_csv in _records(layout.catalog, "products"):
        try:
            products.append(normalize(from_csv_row(data) if is_csv else data))
        except (KeyError, TypeError, ValueError) as e:
            problems.append(f"product {data.get('id')!r}: {e}")
    customers = [data for data, _ in _records(layout.customers, "customers")]
    currencies = [str(p.get("currency") or "") for p in products if p.get("currency")]
    currency = max(set(currencies), key=currencies.count) if currencies else "USD"
    shop_json = root / "shop.json"
    locale = "en"
    if shop_json.is_file():
        shop = json.loads(shop_json.read_text(encoding="utf-8"))
        currency = str(shop.get("currency") or currency)
        locale = str(shop.get("locale") or locale)
    return ShopData(products, customers, currency, problems, locale)


def amount(value: float) -> str:
    """How an amount is matched in a reply: two decimals, no thousands separator (replies are normalized)."""
    return f"{value:.2f}"


def _variant_price(product: Mapping[str, Any], variant: Mapping[str, Any]) -> float:
    return float(variant["price"] if variant.get("price") is not None else product["price"])


def variant_questions(data: ShopData, rng: random.Random, limit: int, w: Wording = EN) -> list[ShopQuestion]:
    """The price of a named variant (other variants' prices are false facts), and its stock, both ways."""
    out: list[ShopQuestion] = []
    with_variants = [p for p in data.products if len(p.get("variants") or []) >= 2]
    rng.shuffle(with_variants)
    for product in with_variants:
        variants = product["variants"]
        prices = {v["id"]: _variant_price(product, v) for v in variants}
        distinct = [v for v in variants if v.get("options") and list(prices.values()).count(prices[v["id"]]) == 1]
        if distinct and sum(q.category == "variant_price" for q in out) < limit:
            v = rng.choice(distinct)
            others = sorted({amount(p) for vid, p in prices.items() if vid != v["id"]} - {amount(prices[v["id"]])})
            template = w.price[len(out) % len(w.price)]
            out.append(ShopQuestion(f"price-{v['id']}", "variant_price",
                                    template.format(name=product["name"], opts=w.options(v["options"])),
                                    expect=(amount(prices[v["id"]]),), forbid=tuple(others), language=w.language))
        for want in ("in", "out"):
            pool = [v for v in variants if v.get("options") and (int(v.get("stock") or 0) > 0) == (want == "in")]
            # the options must name one variant: no other variant with the same options and another stock
            if pool and sum(q.category == f"stock_{want}" for q in out) < limit:
                v = rng.choice(pool)
                template = w.stock[len(out) % len(w.stock)]
                out.append(ShopQuestion(f"stock-{want}-{v['id']}", f"stock_{want}",
                                        template.format(name=product["name"], opts=w.options(v["options"])),
                                        stock=want, language=w.language))
    simple = [p for p in data.products if not p.get("variants")]
    rng.shuffle(simple)
    for product in simple:
        want = "in" if product.get("in_stock") else "out"
        if sum(q.category == f"stock_{want}" for q in out) < limit:
            out.append(ShopQuestion(f"stock-{want}-{product['id']}", f"stock_{want}",
                                    w.stock_simple.format(name=product["name"]), stock=want, language=w.language))
        if sum(q.category == "variant_price" for q in out) < limit:
            out.append(ShopQuestion(f"price-{product['id']}", "variant_price",
                                    w.price_simple.format(name=product["name"]),
                                    expect=(amount(float(product['price'])),), language=w.language))
    return out


def option_count_questions(data: ShopData, rng: random.Random, limit: int, w: Wording = EN) -> list[ShopQuestion]:
    """How many values of one option a product has among its variants in stock."""
    out: list[ShopQuestion] = []
    products = [p for p in data.products if p.get("variants")]
    rng.shuffle(products)
    for product in products:
        names = sorted({k for v in product["variants"] for k in (v.get("options") or {})})
        if not names:
            continue
        option = rng.choice(names)
        available = {str(v["options"][option]) for v in product["variants"]
                     if int(v.get("stock") or 0) > 0 and option in (v.get("options") or {})}
        n = len(available)
        if not 1 <= n <= 20:
            continue
        out.append(ShopQuestion(f"count-{product['id']}-{option}", "option_count",
                                w.option_count.format(option=spaced(option), name=product["name"]),
                                expect_one_of=w.number_words(n), note=f"in stock: {', '.join(sorted(available))}",
                                language=w.language))
        if len(out) >= limit:
            break
    return out


def _low(product: Mapping[str, Any]) -> float:
    return float(product.get("min_price", product["price"]))


def ranking_questions(data: ShopData, rng: random.Random, limit: int, w: Wording = EN) -> list[ShopQuestion]:
    """Cheapest and dearest within a category, and which of two is cheaper."""
    out: list[ShopQuestion] = []
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in data.products:
        by_category[str(p["category"])].append(p)
    categories = sorted(c for c, ps in by_category.items() if len(ps) >= 3)
    rng.shuffle(categories)
    for category in categories:
        ranked = sorted(by_category[category], key=_low)
        label = spaced(category)
        cheap, second, dear, runner = ranked[0], ranked[1], ranked[-1], ranked[-2]
        names = {p["name"] for p in ranked}
        if len(names) != len(ranked):
            continue  # two products with one name: "which" has no single answer
        if _low(second) - _low(cheap) >= 0.01 and sum(q.category == "cheapest" for q in out) < limit:
            out.append(ShopQuestion(f"cheapest-{category}", "cheapest", w.cheapest.format(category=label),
                                    expect=(cheap["name"], amount(_low(cheap))), language=w.language))
        if _low(dear) - _low(runner) >= 0.01 and sum(q.category == "dearest" for q in out) < limit:
            out.append(ShopQuestion(f"dearest-{category}", "dearest", w.dearest.format(category=label),
                                    expect=(dear["name"], amount(_low(dear))), language=w.language))
        a, b = rng.sample(ranked, 2)
        if abs(_low(a) - _low(b)) >= 0.01 and sum(q.category == "compare" for q in out) < limit:
            cheaper = a if _low(a) < _low(b) else b
            out.append(ShopQuestion(f"compare-{a['id']}-{b['id']}", "compare",
                                    w.compare.format(a=a["name"], b=b["name"]), expect=(cheaper["name"],),
                                    language=w.language,
                                    forbid=tuple(sorted({amount(_variant_price(p, v)) for p in (a, b)
                                                         for v in p.get("variants") or []}
                                                        - {amount(_low(a)), amount(_low(b))})), note="lowest prices"))
    return out


def _attribute_expectation(name: str, value: object) -> str | None:
    """What a reply about ``name`` must contain: a number with its unit, or a short word value."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return f"{value:g}"
    text = str(value).strip()
    words = [w for w in re.findall(r"[\w.\-]+", text) if w.lower() not in set(re.findall(r"\w+", name.lower()))]
    if re.search(r"\d", text):
        return " ".join(words) if words and len(words) <= 4 else None
    return text if 0 < len(text.split()) <= 2 else None


def attribute_questions(data: ShopData, rng: random.Random, limit: int, w: Wording = EN) -> list[ShopQuestion]:
    out: list[ShopQuestion] = []
    products = list(data.products)
    rng.shuffle(products)
    for product in products:
        attributes = {k: v for k, v in (product.get("attributes") or {}).items()
                      if _attribute_expectation(k, v) and not re.search(r"sku|id$|_id|image|url", k)}
        if product.get("rating") is not None:
            attributes["rating"] = product["rating"]
        if not attributes:
            continue
        key = rng.choice(sorted(attributes))
        expected = _attribute_expectation(key, attributes[key])
        if expected is None:
            continue
        out.append(ShopQuestion(f"attr-{product['id']}-{key}", "attribute", w.attribute(key, product["name"]),
                                expect=(expected,), language=w.language))
        if len(out) >= limit:
            break
    return out
