"""Recommendations with reasons: similarity to what the shopper asked and likes, a popularity prior, and
hard filters (in stock, within budget, not already owned, the shopper's size available, no dislikes).
A shopper who opted out of personalization gets popular items only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.catalog import CatalogIndex
from assistant.store.types import CustomerProfile
from assistant.understand import Understanding
from knowledge.store import Hit, KnowledgeStore


@dataclass(frozen=True)
class Recommendation:
    product_id: str
    score: float
    reason: str


@dataclass(frozen=True)
class Tastes:
    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    budget: float | None = None
    dislikes: tuple[str, ...] = ()
    other: tuple[str, ...] = ()

    @classmethod
    def of(cls, profile: CustomerProfile | None) -> Tastes:
        if profile is None:
            return cls()
        by_kind: dict[str, list[str]] = {}
        for pref in profile.preferences:
            by_kind.setdefault(pref.kind, []).append(pref.value)
        budget = None
        for value in by_kind.get("budget", []):
            m = re.search(r"(\d+(?:\.\d+)?)", value)
            if m:
                budget = float(m.group(1))
        other = [v for k in ("occasion", "style", "material") for v in by_kind.get(k, [])]
        return cls(tuple(by_kind.get("category", [])), tuple(by_kind.get("brand", [])),
                   tuple(by_kind.get("size", [])), tuple(by_kind.get("colour", [])), budget,
                   tuple(by_kind.get("dislike", [])), tuple(other))


def _numeric(value: str) -> bool:
    return re.fullmatch(r"\d+(?:\.5)?", value.strip()) is not None


class Recommender:
    def __init__(self, knowledge: KnowledgeStore, catalog: CatalogIndex) -> None:
        self.knowledge = knowledge
        self.catalog = catalog

    def recommend(
        self,
        question: str,
        understanding: Understanding,
        profile: CustomerProfile | None,
        personalized: bool,
        owned: set[str] | frozenset[str] = frozenset(),
        k: int = 3,
    ) -> list[Recommendation]:
        tastes = Tastes.of(profile) if personalized else Tastes()
        categories = understanding.categories or (tastes.categories if understanding.intent == "recommendation"
                                                  else ())
        budget = understanding.max_price if understanding.max_price is not None else tastes.budget
        filters: dict[str, object] = {"in_stock": True}
        if budget is not None:
            filters["max_price"] = budget
        if understanding.min_price is not None:
            filters["min_price"] = understanding.min_price
        if categories:
            filters["category"] = list(categories) if len(categories) > 1 else categories[0]
        if not personalized:
            return self._popular(filters, owned, k)
        query = " ".join([question, *tastes.brands, *tastes.colours, *tastes.other, *categories])
        hits = self.knowledge.search(query, "products", max(20, k * 5), filters)
        return self.rank(hits, understanding, profile, personalized, owned, k, categories)

    def rank(
        self,
        hits: list[Hit],
        understanding: Understanding,
        profile: CustomerProfile | None,
        personalized: bool,
        owned: set[str] | frozenset[str] = frozenset(),
        k: int = 3,
        categories: tuple[str, ...] = (),
    ) -> list[Recommendation]:
        """Order hits for this shopper (size, brand, colour, budget, dislikes) with a reason each."""
        tastes = Tastes.of(profile) if personalized else Tastes()
        budget = understanding.max_price if understanding.max_price is not None else tastes.budget
        size = understanding.size or self._size_for(categories or understanding.categories, tastes)
        ranked: list[Recommendation] = []
        for hit in hits:
            product = self.catalog.get(hit.id)
            if product is None or hit.id in owned:
                continue
            text = f"{product['name']} {product.get('brand') or ''} {product['description']}".lower()
            if any(d.lower() in text for d in tastes.dislikes if len(d) > 3):
                continue
            reasons: list[str] = []
            score = hit.score + 0.15 * self.catalog.popularity(hit.id)
            if size:
                if not self.catalog.has_option_in_stock(product, "size", size):
                    continue
                reasons.append(f"in stock in your size {size}")
                score += 0.05
            if product.get("brand") in tastes.brands:
                reasons.append(f"from {product['brand']}, a brand you like")
                score += 0.1
            colours = [c for c in (understanding.colours or tastes.colours)
                       if self.catalog.has_option_in_stock(product, "colou?r", c)]
            if colours:
                reasons.append(f"available in {colours[0]}")
                score += 0.05
            if budget is not None and float(product.get("min_price", product["price"])) <= budget:
                reasons.append(f"within your budget of ${budget:,.0f}")
            if not reasons:
                reasons.append("matches what you asked for")
            ranked.append(Recommendation(hit.id, round(score, 4), "; ".join(reasons)))
        ranked.sort(key=lambda r: -r.score)
        return ranked[:k]

    @staticmethod
    def _size_for(categories: tuple[str, ...], tastes: Tastes) -> str | None:
        """The shopper's size preference, when the asked-for products are sized that way (numbers for shoes)."""
        if not tastes.sizes or not categories:
            return None
        numeric = [s for s in tastes.sizes if _numeric(s)]
        letters = [s for s in tastes.sizes if not _numeric(s)]
        footwear = any(re.search(r"shoe|boot|sneaker|footwear", c) for c in categories)
        chosen = numeric if footwear else letters
        return chosen[0] if chosen else None

    def _popular(self, filters: dict[str, object], owned: set[str] | frozenset[str], k: int) -> list[Recommendation]:
        categories = filters.get("category")
        wanted = set(categories) if isinstance(categories, list) else {categories} if categories else None
        budget = filters.get("max_price")
        candidates = [
            pid for pid, p in self.catalog.products.items()
            if p.get("in_stock") and pid not in owned
            and (wanted is None or p["category"] in wanted)
            and (budget is None or float(p.get("min_price", p["price"])) <= float(str(budget)))
        ]
        candidates.sort(key=lambda pid: -self.catalog.popularity(pid))
        return [Recommendation(pid, round(self.catalog.popularity(pid), 4), "popular with our shoppers")
                for pid in candidates[:k]]
