"""The shop's tools, scoped to one verified shopper.

``ShopTools`` holds the stores; :meth:`ShopTools.for_shopper` binds a customer id into closures, so the
shopper id is never a model-visible argument. The graph calls these functions directly; the
tool-calling agent gets them as LangChain tools from :func:`langchain_tools`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.catalog import CatalogIndex
from assistant.offers import OfferContext, eligible_offers
from assistant.recommend import Recommendation, Recommender
from assistant.store.types import CustomerProfile, Order
from assistant.understand import Understanding
from knowledge.store import Hit, KnowledgeStore


@dataclass
class ToolCall:
    name: str
    args: dict[str, Any]
    result: Any
    ms: float

    def to_trace(self) -> dict[str, Any]:
        return {"name": self.name, "args": self.args, "result": self.result, "ms": round(self.ms, 1)}


@dataclass
class ShopTools:
    knowledge: KnowledgeStore
    catalog: CatalogIndex
    orders: Any  # assistant.store.orders.OrderStore
    offers: Callable[[], Sequence[Mapping[str, Any]]]
    now: Callable[[], datetime]
    min_relevance: float = 0.3

    def for_shopper(self, customer_id: str | None) -> ShopperTools:
        return ShopperTools(self, customer_id)


class ShopperTools:
    """Every call is recorded (name, arguments, result summary, time) for the turn's trace."""

    def __init__(self, shop: ShopTools, customer_id: str | None) -> None:
        self.shop = shop
        self.customer_id = customer_id
        self.calls: list[ToolCall] = []

    def _record(self, name: str, args: dict[str, Any], started: float, result: Any) -> None:
        self.calls.append(ToolCall(name, args, result, (time.perf_counter() - started) * 1000))

    def search_policies(self, query: str, k: int = 3) -> list[Hit]:
        started = time.perf_counter()
        hits = [h for h in self.shop.knowledge.search(query, "policies", k) if h.score >= self.shop.min_relevance]
        self._record("search_policies", {"query": query, "k": k}, started,
                     [{"id": h.id, "score": h.score, "heading": h.metadata.get("heading")} for h in hits])
        return hits

    def search_products(self, query: str, filters: Mapping[str, Any] | None = None, k: int = 4) -> list[Hit]:
        started = time.perf_counter()
        hits = [h for h in self.shop.knowledge.search(query, "products", k, filters)
                if h.score >= self.shop.min_relevance]
        self._record("search_products", {"query": query, "filters": dict(filters or {}), "k": k}, started,
                     [{"id": h.id, "score": h.score} for h in hits])
        return hits

    def my_orders(self, order_ids: Sequence[str] = (), limit: int = 3) -> tuple[list[Order], list[str]]:
        """The shopper's orders (the named ones, or the latest); named ids that are not theirs are refused."""
        started = time.perf_counter()
        if self.customer_id is None:
            self._record("my_orders", {"order_ids": list(order_ids)}, started, "no shopper")
            return [], list(order_ids)
        found, refused = [], []
        if order_ids:
            for order_id in order_ids:
                order = self.shop.orders.get(self.customer_id, order_id)
                (found.append(order) if order is not None else refused.append(order_id))
        else:
            found = self.shop.orders.list_for(self.customer_id)[:limit]
        self._record("my_orders", {"order_ids": list(order_ids), "limit": limit}, started,
                     {"found": [o.id for o in found], "refused": refused})
        return found, refused

    def recommend(self, recommender: Recommender, question: str, understanding: Understanding,
                  profile: CustomerProfile | None, personalized: bool, k: int = 3) -> list[Recommendation]:
        started = time.perf_counter()
        owned: set[str] = set()
        if self.customer_id is not None and personalized:
            for order in self.shop.orders.list_for(self.customer_id):
                owned.update(item.product_id for item in order.items)
        recs = recommender.recommend(question, understanding, profile, personalized, owned, k)
        self._record("recommend", {"question": question, "personalized": personalized, "k": k}, started,
                     [{"id": r.product_id, "score": r.score, "reason": r.reason} for r in recs])
        return recs

    def eligible_offers(self, profile: CustomerProfile | None, personalized: bool,
                        categories: Sequence[str] = ()) -> list[Mapping[str, Any]]:
        started = time.perf_counter()
        if profile is None:
            self._record("eligible_offers", {}, started, [])
            return []
        past = sum(1 for o in profile.orders if o.status not in ("cancelled",))
        ctx = OfferContext(tier=profile.tier, now=self.shop.now(), past_orders=past, personalization=personalized,
                           marketing=profile.consent.marketing, categories=tuple(categories))
        offers = eligible_offers(self.shop.offers(), ctx)
        self._record("eligible_offers", {"categories": list(categories)}, started, [o["code"] for o in offers])
        return offers


def langchain_tools(tools: ShopperTools) -> list[Any]:
    """The shopper's tools as LangChain tools; the shopper id is bound in, never a model argument."""
    from langchain_core.tools import StructuredTool

    def search_policies(query: str) -> str:
        """Search the shop's policies (shipping, returns, warranty, payment, membership, privacy)."""
        return "\n\n".join(h.text for h in tools.search_policies(query)) or "nothing relevant found"

    def search_products(query: str, max_price: float | None = None, category: str | None = None) -> str:
        """Search in-stock products by description, optionally under a price or in a category."""
        filters: dict[str, Any] = {"in_stock": True, "max_price": max_price, "category": category}
        return "\n".join(h.text.split("\n")[0] + f" (id {h.id}, ${h.metadata.get('price')})"
                         for h in tools.search_products(query, filters)) or "nothing found"

    def my_orders(order_id: str | None = None) -> str:
        """The current shopper's own orders: one by id, or the latest three."""
        from assistant.facts import order_line

        found, refused = tools.my_orders([order_id] if order_id else [])
        lines = [order_line(o) for o in found] + [f"{r}: not one of your orders" for r in refused]
        return "\n".join(lines) or "no orders"

    return [StructuredTool.from_function(f) for f in (search_policies, search_products, my_orders)]
