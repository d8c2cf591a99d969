"""The shop's tools, scoped to one verified shopper.

``ShopTools`` holds the stores; :meth:`ShopTools.for_shopper` binds a customer id into closures, so the
shopper id is never a model-visible argument. The graph calls these functions directly; the
tool-calling agent gets them as LangChain tools from :func:`langchain_tools`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.personalization.contextual_bandit import context_features
from assistant.personalization.offer_bandit import OfferSelector, segment_of
from assistant.personalization.offer_rules import (
    REDEMPTION_KINDS,
    OfferContext,
    describe,
    eligible_offers,
    redemption_counts,
)
from assistant.personalization.recommender import Recommendation, Recommender
from assistant.records import CustomerProfile, Order
from assistant.shop.catalog_index import CatalogIndex
from assistant.turn.facts import Facts
from assistant.turn.guest_turns import public_offer
from assistant.turn.input_guard import quarantine
from assistant.turn.order_refs import resolve_order_id
from assistant.turn.understanding import Understanding
from knowledge.knowledge_store import Hit, KnowledgeStore

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

    from assistant.store.events import EventStore
    from assistant.store.order_store import OrderStore


def _quarantined(hits: list[Hit]) -> tuple[list[Hit], dict[str, list[str]]]:
    """Retrieved text is data: sentences in it that read as instructions never reach the prompt, the
    verifier's facts or a reply built from facts (they are kept in the trace instead)."""
    out, dropped = [], {}
    for hit in hits:
        text, removed = quarantine(hit.text)
        if removed:
            dropped[hit.id] = removed
            hit = replace(hit, text=text)
        out.append(hit)
    return out, dropped


@dataclass
class ToolCall:
    name: str
    args: dict[str, Any]
    result: object  # a JSON-safe summary of what the tool returned
    ms: float

    def to_trace(self) -> dict[str, Any]:
        return {"name": self.name, "args": self.args, "result": self.result, "ms": round(self.ms, 1)}


@dataclass
class ShopTools:
    knowledge: KnowledgeStore
    catalog: CatalogIndex
    orders: OrderStore
    offers: Callable[[], Sequence[Mapping[str, Any]]]
    now: Callable[[], datetime]
    min_relevance: float = 0.3
    events: EventStore | None = None  # offer redemptions count against per-shopper caps
    chooser: OfferSelector | None = None  # the offer bandit; None: the first eligible offer

    def for_shopper(self, customer_id: str | None, guest: bool = False,
                    tastes: CustomerProfile | None = None) -> ShopperTools:
        """``guest``: a visitor without a customer token (``customer_id`` None): public offers only, and ``tastes``
        (what they said in this conversation, ``assistant.turn.guest_turns``) for recommendations."""
        return ShopperTools(self, customer_id, guest and customer_id is None, tastes)


class ShopperTools:
    """Every call is recorded (name, arguments, result summary, time) for the turn's trace."""

    def __init__(self, shop: ShopTools, customer_id: str | None, guest: bool = False,
                 tastes: CustomerProfile | None = None) -> None:
        self.shop = shop
        self.customer_id = customer_id
        self.guest = guest
        self.tastes = tastes if guest else None
        self.calls: list[ToolCall] = []

    def _record(self, name: str, args: dict[str, Any], started: float, result: object) -> None:
        self.calls.append(ToolCall(name, args, result, (time.perf_counter() - started) * 1000))

    def search_policies(self, query: str, k: int = 3) -> list[Hit]:
        started = time.perf_counter()
        hits, dropped = _quarantined(
            [h for h in self.shop.knowledge.search(query, "policies", k) if h.score >= self.shop.min_relevance])
        self._record("search_policies", {"query": query, "k": k}, started,
                     [{"id": h.id, "score": h.score, "heading": h.metadata.get("heading"),
                       **({"quarantined": dropped[h.id]} if h.id in dropped else {})} for h in hits])
        return hits

    def search_products(self, query: str, filters: Mapping[str, Any] | None = None, k: int = 4) -> list[Hit]:
        started = time.perf_counter()
        hits, dropped = _quarantined([h for h in self.shop.knowledge.search(query, "products", k, filters)
                                      if h.score >= self.shop.min_relevance])
        self._record("search_products", {"query": query, "filters": dict(filters or {}), "k": k}, started,
                     [{"id": h.id, "score": h.score, **({"quarantined": dropped[h.id]} if h.id in dropped else {})}
                      for h in hits])
        return hits

    def own_order_ids(self) -> list[str]:
        """The shopper's order ids as the store keeps them, newest first (none for an anonymous shopper)."""
        return [] if self.customer_id is None else [o.id for o in self.shop.orders.list_for(self.customer_id)]

    def my_orders(self, order_ids: Sequence[str] = (), limit: int = 3) -> tuple[list[Order], list[str]]:
        """The shopper's orders (the named ones, or the latest ``limit``); named ids that are not theirs are
        refused. A named id is matched against the shopper's own ids however it is spelt ('#', case, spaces)."""
        started = time.perf_counter()
        if self.customer_id is None:
            self._record("my_orders", {"order_ids": list(order_ids)}, started, "no shopper")
            return [], list(order_ids)
        found: list[Order] = []
        refused: list[str] = []
        if order_ids:
            own: list[str] | None = None
            for order_id in order_ids:
                order = self.shop.orders.get(self.customer_id, order_id)
                if order is None:
                    own = self.own_order_ids() if own is None else own
                    stored = resolve_order_id(order_id, own)
                    order = self.shop.orders.get(self.customer_id, stored) if stored else None
                if order is None:
                    refused.append(order_id)
                elif order.id not in {o.id for o in found}:
                    found.append(order)
        else:
            found = self.shop.orders.list_for(self.customer_id)[:limit]
        self._record("my_orders", {"order_ids": list(order_ids), "limit": limit}, started,
                     {"found": [o.id for o in found], "refused": refused})
        return found, refused

    def recommend(self, recommender: Recommender, question: str, understanding: Understanding,
                  profile: CustomerProfile | None, personalized: bool, k: int = 3) -> list[Recommendation]:
        started = time.perf_counter()
        if profile is None and self.tastes is not None:  # a guest: what they said in this conversation
            profile, personalized = self.tastes, True
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
        if profile is None and self.guest:  # public offers only: nothing for a tier, a first order or consent
            ctx = OfferContext(tier="", now=self.shop.now(), categories=tuple(categories))
            offers = [o for o in eligible_offers(self.shop.offers(), ctx) if public_offer(o)]
            self._record("eligible_offers", {"categories": list(categories), "guest": True}, started,
                         [o["code"] for o in offers])
            return offers
        if profile is None:
            self._record("eligible_offers", {}, started, [])
            return []
        past = sum(1 for o in profile.orders if o.status not in ("cancelled",))
        used = redemption_counts(self.shop.events.list_for(profile.id, REDEMPTION_KINDS)) \
            if self.shop.events is not None else {}
        ctx = OfferContext(tier=profile.tier, now=self.shop.now(), past_orders=past, personalization=personalized,
                           marketing=profile.consent.marketing, redemptions=used, categories=tuple(categories))
        offers = eligible_offers(self.shop.offers(), ctx)
        self._record("eligible_offers", {"categories": list(categories)}, started, [o["code"] for o in offers])
        return offers

    def choose_offer(self, profile: CustomerProfile | None, personalized: bool,
                     categories: Sequence[str] = ()) -> list[Mapping[str, Any]]:
        """At most one eligible offer, chosen by the bandit for the shopper's segment (with its propensity)."""
        offers = self.eligible_offers(profile, personalized, categories)
        if not offers:
            return []
        started = time.perf_counter()
        if self.shop.chooser is None:
            return [dict(offers[0])]
        chosen = self.shop.chooser.choose(segment_of(profile, personalized), offers,
                                          context_features(profile, personalized, self.shop.now()))
        self._record("choose_offer", {"segment": segment_of(profile, personalized)}, started,
                     [{"code": o["code"], **o["bandit"]} for o in chosen])
        return chosen


def langchain_tools(tools: ShopperTools, facts: Facts | None = None) -> list[BaseTool]:
    """The shopper's tools as LangChain tools; the shopper id is bound in, never a model argument.

    With ``facts``, what the tools found is gathered there too, so that the reply can be verified against it.
    """
    from langchain_core.tools import StructuredTool

    from assistant.turn.facts import order_details as details_of
    from assistant.turn.facts import order_line

    def search_policies(query: str) -> str:
        """Search the shop's policies (shipping, returns, warranty, payment, membership, privacy)."""
        hits = tools.search_policies(query)
        if facts is not None:
            facts.policies.extend(h for h in hits if h.id not in {p.id for p in facts.policies})
        return "\n\n".join(h.text for h in hits) or "nothing relevant found"

    def search_products(query: str, max_price: float | None = None, category: str | None = None) -> str:
        """Search in-stock products by description, optionally under a price or in a category."""
        filters: dict[str, Any] = {k: v for k, v in {"in_stock": True, "max_price": max_price,
                                                      "category": category}.items() if v is not None}
        hits = tools.search_products(query, filters)
        if facts is not None:
            for hit in hits:
                card = tools.shop.catalog.card(hit.id)
                if card is not None and card.id not in {c.id for c in facts.products}:
                    facts.products.append(card)
                    facts.records[card.id] = tools.shop.catalog.products[card.id]
        return "\n".join(h.text.split("\n")[0] + f" (id {h.id}, ${h.metadata.get('price')})" for h in hits) \
            or "nothing found"

    def _orders(order_id: str | None) -> tuple[list[Order], list[str]]:
        found, refused = tools.my_orders([order_id] if order_id else [])
        if facts is not None:
            facts.orders.extend(o for o in found if o.id not in {x.id for x in facts.orders})
            facts.refused_order_ids.extend(r for r in refused if r not in facts.refused_order_ids)
        return found, refused

    def my_orders(order_id: str | None = None) -> str:
        """The current shopper's own orders: one by id, or the latest three (status, items, tracking, payments)."""
        found, refused = _orders(order_id)
        lines = [order_line(o) for o in found] + [f"{r}: not one of your orders" for r in refused]
        return "\n".join(lines) or "no orders"

    def order_details(order_id: str) -> str:
        """Everything about one of the current shopper's orders: items and options, tracking, payments and
        refunds, shipping address and history."""
        found, refused = _orders(order_id)
        return "\n".join([details_of(o) for o in found] + [f"{r}: not one of your orders" for r in refused])

    def my_offers(category: str | None = None) -> str:
        """The offer (coupon code) the current shopper may use now, optionally for one product category."""
        # the graph's choice (ShopperTools.choose_offer): a guest gets public offers only
        profile, personalized = (facts.profile, facts.personalized) if facts is not None else (None, False)
        wanted = [category.lower()] if category else list(facts.categories if facts is not None else ())
        chosen = tools.choose_offer(profile, personalized, wanted)
        if facts is not None:
            facts.offers.extend(o for o in chosen if o["id"] not in {x["id"] for x in facts.offers})
        return "\n".join(describe(o) for o in chosen) or "no offers"

    return [StructuredTool.from_function(f)
            for f in (search_policies, search_products, my_orders, order_details, my_offers)]
