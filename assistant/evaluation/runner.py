"""``concierge eval``: the golden set on the demo shop, through the real service, scored per category.

Each case names a demo customer, a message and what a correct answer must (and must not) contain. The
checks read the final reply and the typed events (product cards, offers), so they score what the
shopper would actually see.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.domain import ShopperIdentity
from assistant.personalization.tastes import size_system

if TYPE_CHECKING:
    from assistant.store.stores import Stores
    from assistant.turn.turn_service import AssistantService

GOLDEN = Path(__file__).resolve().parent / "golden.jsonl"
THRESHOLDS = Path(__file__).resolve().parent / "thresholds.json"
_CODE = re.compile(r"\b[A-Z][A-Z0-9]{2,}\d+[A-Z0-9]*\b|\b[A-Z]{4,}\d*\b")


@dataclass
class CaseResult:
    id: str
    category: str
    message: str
    reply: str
    verdict: str
    failures: list[str]
    seconds: float
    first_text_s: float | None = None
    products: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def load_cases(path: Path = GOLDEN) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class ShopFacts:
    """What the checks need to know about the shop, read from its stores."""

    tastes: dict[str, dict[str, list[str]]]  # customer -> kind -> values (explicit preferences)
    personalized: dict[str, bool]
    owned: dict[str, set[str]]
    all_codes: set[str]

    @classmethod
    def read(cls, stores: Stores) -> ShopFacts:
        """Explicit tastes, personalization consent, owned products and offer codes, from the shop's stores."""
        tastes: dict[str, dict[str, list[str]]] = {}
        personalized: dict[str, bool] = {}
        owned: dict[str, set[str]] = {}
        for customer_id in stores.customers.list_ids():
            profile = stores.customers.get(customer_id)
            if profile is None:
                continue
            personalized[customer_id] = profile.consent.personalization
            for pref in profile.preferences:
                if pref.origin == "explicit":
                    tastes.setdefault(customer_id, {}).setdefault(pref.kind, []).append(pref.value)
            owned[customer_id] = {i.product_id for o in stores.orders.list_for(customer_id) for i in o.items}
        codes = {str(o["code"]) for o in stores.offers.all(include_inactive=True)}
        return cls(tastes, personalized, owned, codes)


def check_case(case: dict[str, Any], reply: str, events: list[dict[str, Any]], shop: ShopFacts) -> list[str]:
    failures: list[str] = []
    lowered = reply.lower()
    if case.get("expect_any") and not any(s.lower() in lowered for s in case["expect_any"]):
        failures.append(f"none of {case['expect_any']} in the reply")
    for s in case.get("expect_all", []):
        if s.lower() not in lowered:
            failures.append(f"{s!r} missing from the reply")
    for s in case.get("expect_not", []):
        if s.lower() in lowered:
            failures.append(f"{s!r} must not be in the reply")
    cards = [p for e in events if e["type"] == "products" for p in e["products"]]
    offers = [o for e in events if e["type"] == "offers" for o in e["offers"]]
    checks = case.get("checks", {})
    customer = case["customer"]
    if any(k in checks for k in ("category", "on_preference", "popular_only")) and not cards:
        failures.append("no products shown")
    for card in cards:
        if checks.get("in_stock") and not card["in_stock"]:
            failures.append(f"{card['name']} is out of stock")
        if "max_price" in checks and card["price"] > checks["max_price"]:
            failures.append(f"{card['name']} costs {card['price']} > {checks['max_price']}")
        if "category" in checks and card["category"] != checks["category"]:
            failures.append(f"{card['name']} is {card['category']}, not {checks['category']}")
        if "size" in checks and checks["size"] not in card.get("options", {}).get("size", []):
            failures.append(f"{card['name']} is not in stock in size {checks['size']}")
        if checks.get("not_owned") and card["id"] in shop.owned.get(customer, set()):
            failures.append(f"{card['name']} was already bought")
        if checks.get("popular_only") and card.get("reason") != "popular with our shoppers":
            failures.append(f"{card['name']} is personalized for an opted-out shopper")
        if checks.get("on_preference"):
            tastes = shop.tastes.get(customer, {})
            categories = tastes.get("category", [])
            if categories and card["category"] not in categories:
                failures.append(f"{card['name']} ({card['category']}) is not in the preferred {categories}")
            # a card with size options in stock must have the shopper's stated size of that sizing system
            offered = [str(v) for key, values in card.get("options", {}).items() if "size" in key.lower()
                       for v in values]
            sizes = [s for s in tastes.get("size", []) if size_system(s) in {size_system(v) for v in offered}]
            if sizes and not set(sizes) & set(offered):
                failures.append(f"{card['name']} is not in stock in size {sizes[0]}")
    shown_codes = {o["code"] for o in offers}
    if checks.get("codes_from_offers"):
        named = {c for c in shop.all_codes if c in reply} | {c for c in _CODE.findall(reply) if c.endswith(
            tuple("0123456789"))}
        for code in named - shown_codes:
            failures.append(f"code {code} was not chosen for this shopper")
    if checks.get("has_offer") and not (shown_codes and any(c in reply for c in shown_codes)):
        failures.append("no offer shown and named")
    if checks.get("no_offer") and (shown_codes or any(c in reply for c in shop.all_codes)):
        failures.append("an offer was shown to a shopper without personalization consent")
    return failures


def run_cases(service: AssistantService, cases: Iterable[dict[str, Any]], shop: ShopFacts,
              progress: Callable[[CaseResult], None] | None = None) -> list[CaseResult]:
    results = []
    for case in cases:
        started = time.perf_counter()
        events: list[dict[str, Any]] = []
        reply, verdict, first = "", "", None
        for event in service.respond(ShopperIdentity(case["customer"]), None, case["message"], channel="eval"):
            data = event.to_dict()
            if first is None and event.type in ("text", "replace"):
                first = time.perf_counter() - started
            events.append(data)
            if event.type == "done":
                reply, verdict = data["reply"], data["verdict"]
        result = CaseResult(case["id"], case["category"], case["message"], reply, verdict,
                            check_case(case, reply, events, shop), time.perf_counter() - started, first,
                            [p for e in events if e["type"] == "products" for p in e["products"]])
        results.append(result)
        if progress:
            progress(result)
    return results


def summarize(results: list[CaseResult], thresholds: dict[str, float]) -> tuple[list[list[str]], bool]:
    """Rows of the per-category table and whether every category met its threshold."""
    rows, ok = [], True
    categories = sorted({r.category for r in results})
    for category in [*categories, "overall"]:
        group = results if category == "overall" else [r for r in results if r.category == category]
        passed = sum(r.passed for r in group)
        accuracy = passed / len(group) if group else 0.0
        threshold = thresholds.get(category)
        met = threshold is None or accuracy >= threshold
        ok = ok and met
        fallbacks = sum(r.verdict == "fallback" for r in group)
        rows.append([category, str(len(group)), str(passed), f"{accuracy:.0%}",
                     f"{threshold:.0%}" if threshold is not None else "-", "ok" if met else "BELOW",
                     f"{fallbacks}", f"{statistics.median(r.seconds for r in group):.2f}s" if group else "-"])
    return rows, ok


def load_thresholds(path: Path = THRESHOLDS) -> dict[str, float]:
    data: dict[str, float] = json.loads(path.read_text(encoding="utf-8"))
    return {k: float(v) for k, v in data.items() if not k.startswith("_")}
