"""Recommendations with reasons: a hybrid ranker over the catalogue.

A product's score adds, with weights from ``recommend.*`` settings:
- similarity to what the shopper asked (embeddings of the question and of the product),
- content similarity to the profile: to the shopper's preferences (category, brand, colour, occasion,
  embedded and weighted by confidence) and to what they bought before,
- co-purchase: how often shoppers who bought what this shopper bought also bought it (all orders),
- a popularity prior (ratings, and how many shoppers bought it),
after hard filters: in stock, within the budget, the shopper's size in stock, nothing they dislike, not
already owned unless its category is a consumable one. A shopper who opted out of personalization gets
popular items only. Every recommendation carries the reason a person can read.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from assistant.personalization.tastes import Tastes, size_system
from assistant.records import CustomerProfile
from assistant.settings import ProfileSettings, RecommendSettings, Settings
from assistant.shop.catalog_index import CatalogIndex
from assistant.shop.purchase_signals import PurchaseSignals
from assistant.turn.understanding import Understanding
from knowledge.catalog_import import product_text
from knowledge.knowledge_store import Hit, KnowledgeStore

if TYPE_CHECKING:
    from assistant.store.stores import Stores

__all__ = ["POPULAR", "Recommendation", "Recommender", "Tastes", "build_recommender"]

POPULAR = "popular with our shoppers"
#: words of a request for recommendations that say nothing about what is wanted
_GENERIC = re.compile(r"\b(can|could|would|will|you|please|recommend\w*|suggest\w*|something|anything|some|any|for|"
                      r"me|my|i|what|which|should|buy|get|next|idea|ideas|gift|gifts|a|an|the|to|do|have|like|"
                      r"want|need|show|us|good|nice|great|with|of|is|are|it)\b", re.I)
_WORDS = re.compile(r"[a-z0-9]+")
_GENERIC_DISLIKE_WORDS = frozenset({"product", "products", "stuff", "thing", "things", "item", "items", "ones",
                                    "fabrics", "fabric", "materials", "material"})


@dataclass(frozen=True)
class Recommendation:
    product_id: str
    score: float
    reason: str
    signals: dict[str, float] = field(default_factory=dict, compare=False)


@dataclass
class _Ask:
    """One request: the shopper's tastes and history, and the constraints that apply."""

    tastes: Tastes
    history: list[str]
    categories: tuple[str, ...] = ()
    budget: float | None = None
    min_price: float | None = None
    size: str | None = None  # asked in the message
    colours: tuple[str, ...] = ()
    query: dict[str, float] | None = None  # product -> similarity to what was asked


def _words(text: str) -> set[str]:
    return {w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
            for w in _WORDS.findall(text.lower())}


class Recommender:
    def __init__(self, knowledge: KnowledgeStore, catalog: CatalogIndex,
                 signals: Callable[[], PurchaseSignals] | None = None, settings: RecommendSettings | None = None,
                 profile: ProfileSettings | None = None, now: Callable[[], datetime] | None = None) -> None:
        self.knowledge = knowledge
        self.catalog = catalog
        self.signals = signals or PurchaseSignals
        self.settings = settings or RecommendSettings()  # type: ignore[call-arg]
        self.profile = profile or ProfileSettings()  # type: ignore[call-arg]
        self.now = now
        self._ids: list[str] = []
        self._matrix: npt.NDArray[np.float32] | None = None  # unit product vectors, centred on their mean
        self._mean: npt.NDArray[np.float32] = np.zeros(0, dtype=np.float32)  # set with the matrix
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Recompute the purchase signals (a ``SignalsCache``) and the product vectors, e.g. after an import."""
        refresh = getattr(self.signals, "refresh", None)
        if callable(refresh):
            refresh()
        with self._lock:
            self._matrix = None

    # -- the shopper's side ----------------------------------------------------------------------
    def tastes(self, profile: CustomerProfile | None, personalized: bool = True) -> Tastes:
        """The preferences in use (explicit first, inferred ones decayed and above the minimum confidence)."""
        if not personalized:
            return Tastes()
        return Tastes.of(profile, self.now() if self.now else None, self.profile.half_life_days,
                         self.profile.min_confidence)

    def recommend(self, question: str, understanding: Understanding, profile: CustomerProfile | None,
                  personalized: bool, owned: Collection[str] = frozenset(), k: int = 3) -> list[Recommendation]:
        """The ``k`` best products for this shopper now. ``owned``: what they bought (newest first if ordered)."""
        tastes = self.tastes(profile, personalized)
        categories = understanding.categories or (tastes.categories if understanding.intent == "recommendation"
                                                  else ())
        budget = understanding.max_price if understanding.max_price is not None else tastes.budget
        if not personalized:
            return self.popular(owned, k, categories, budget, understanding.min_price)
        ask = _Ask(tastes, [p for p in owned if p in self.catalog.products], categories, budget,
                   understanding.min_price, understanding.size, understanding.colours or tastes.colours)
        ask.query = self._query_scores(question, tastes)
        candidates = [pid for pid in self.catalog.products if self._admissible(pid, ask)]
        return self._ranked(candidates, ask, k)

    def rank(self, hits: list[Hit], understanding: Understanding, profile: CustomerProfile | None,
             personalized: bool, owned: Collection[str] = frozenset(), k: int = 3,
             categories: tuple[str, ...] = ()) -> list[Recommendation]:
        """Order search hits for this shopper: what was asked decides relevance (and the budget: only an asked
        one applies), the profile reorders and filters (size, dislikes)."""
        tastes = self.tastes(profile, personalized)
        budget = understanding.max_price
        ask = _Ask(tastes, [p for p in owned if p in self.catalog.products], (), budget, None, understanding.size,
                   understanding.colours or tastes.colours, {h.id: h.score for h in hits})
        candidates = [h.id for h in hits if h.id in self.catalog.products and self._admissible(h.id, ask)]
        return self._ranked(candidates, ask, k)

    def popular(self, owned: Collection[str] = frozenset(), k: int = 3, categories: Sequence[str] = (),
                budget: float | None = None, min_price: float | None = None) -> list[Recommendation]:
        """Popular products only (opted-out shoppers, and the evaluation's baseline), same hard filters."""
        ask = _Ask(Tastes(), list(owned), tuple(categories), budget, min_price)
        signals = self.signals()
        prior = {pid: self._popularity(pid, signals) for pid in self.catalog.products if self._admissible(pid, ask)}
        ranked = sorted(prior, key=lambda pid: (-prior[pid], pid))
        return [Recommendation(pid, round(prior[pid], 4), POPULAR) for pid in ranked[:k]]

    # -- hard filters ----------------------------------------------------------------------------
    def _admissible(self, pid: str, ask: _Ask) -> bool:
        p = self.catalog.products[pid]
        if not p.get("in_stock"):
            return False
        if ask.categories and p["category"] not in ask.categories:
            return False
        price = float(p.get("min_price", p["price"]))
        if (ask.budget is not None and price > ask.budget) or (ask.min_price is not None and price < ask.min_price):
            return False
        if pid in ask.history and p["category"] not in self.settings.consumable_categories:
            return False
        if any(self._disliked(p, d) for d in ask.tastes.dislikes):
            return False
        size = self._size_needed(p, ask)
        return size is None or self.catalog.has_option_in_stock(p, "size", size)

    def _size_needed(self, p: dict[str, Any], ask: _Ask) -> str | None:
        """The asked size always applies; the shopper's own size where the product comes in that sizing."""
        if ask.size:
            return ask.size
        sizes = self.catalog.option_values(p).get("size") or [
            str(v["options"][key]) for v in p.get("variants") or [] for key in (v.get("options") or {})
            if key.lower() == "size"]
        if not sizes:
            return None
        return ask.tastes.size_for("numeric" if all(size_system(s) == "numeric" for s in sizes) else "letter")

    @staticmethod
    def _disliked(p: dict[str, Any], dislike: str) -> bool:
        value = dislike.casefold()
        if value in (str(p.get("brand") or "").casefold(), p["category"].casefold()):
            return True
        colours = {str(v).casefold() for variant in p.get("variants") or [] if int(variant.get("stock") or 0) > 0
                   for key, v in (variant.get("options") or {}).items() if re.fullmatch(r"colou?r", key, re.I)}
        if colours and value in colours:
            return colours == {value}  # only when every colour in stock is the disliked one
        wanted = _words(dislike) - _GENERIC_DISLIKE_WORDS
        text = f"{p['name']} {p.get('brand') or ''} {p['category']} {p.get('description', '')} " \
               f"{' '.join(p.get('tags') or [])}"
        return bool(wanted) and wanted <= _words(text)

    # -- scores ----------------------------------------------------------------------------------
    def _vectors(self) -> tuple[list[str], npt.NDArray[np.float32]]:
        """Unit vectors of every product (stored embeddings from the knowledge store), computed once."""
        with self._lock:
            matrix = self._matrix
            if matrix is None or len(self._ids) != len(self.catalog.products):
                try:
                    stored = self.knowledge.vectors("products")
                except Exception:  # no stored vectors (another store): embed the product texts once
                    stored = {}
                ids = list(self.catalog.products)
                missing = [pid for pid in ids if pid not in stored]
                if missing:
                    texts = [product_text(self.catalog.products[pid]) for pid in missing]
                    stored.update(zip(missing, self.knowledge.embedder.embed_documents(texts), strict=True))
                matrix = np.array([stored[pid] for pid in ids], dtype=np.float32)
                matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
                # centred on the catalogue's mean: what all product texts share (their template) says nothing
                self._mean = matrix.mean(axis=0) if len(ids) > 1 else np.zeros(matrix.shape[1], dtype=np.float32)
                matrix = matrix - self._mean
                matrix = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
                self._ids, self._matrix = ids, matrix
            return self._ids, matrix

    def _similar_to(self, vector: Sequence[float]) -> dict[str, float]:
        ids, matrix = self._vectors()
        v = np.asarray(vector, dtype=np.float32)
        v = v / (np.linalg.norm(v) or 1.0) - self._mean
        v = v / (np.linalg.norm(v) or 1.0)
        return dict(zip(ids, (matrix @ v).tolist(), strict=True))

    def _query_scores(self, question: str, tastes: Tastes) -> dict[str, float] | None:
        specific = " ".join(_GENERIC.sub(" ", question).split())
        if len(specific) < 3 or not self.settings.query_weight:
            return None
        return self._similar_to(self.knowledge.embedder.embed_query(specific))

    def _profile_scores(self, tastes: Tastes) -> dict[str, float] | None:
        terms = tastes.content_terms()
        if not terms:
            return None
        vectors = [self.knowledge.embedder.embed_query(v.replace("-", " ")) for _, v, _ in terms]  # cached
        weights = np.array([w for _, _, w in terms], dtype=np.float32)[:, None]
        return self._similar_to((np.asarray(vectors, dtype=np.float32) * weights).sum(axis=0).tolist())

    def _popularity(self, pid: str, signals: PurchaseSignals | None = None) -> float:
        """The prior: mean of the ratings prior and the purchase prior, where each is known."""
        parts = []
        p = self.catalog.products.get(pid) or {}
        if p.get("rating") is not None and p.get("review_count"):
            parts.append(self.catalog.popularity(pid))
        signals = signals or self.signals()
        if signals.shoppers:
            parts.append(signals.popularity(pid))
        return sum(parts) / len(parts) if parts else 0.0

    def _ranked(self, candidates: list[str], ask: _Ask, k: int) -> list[Recommendation]:
        if not candidates:
            return []
        s = self.settings
        signals = self.signals()
        ids, matrix = self._vectors()
        row = {pid: i for i, pid in enumerate(ids)}
        profile = self._profile_scores(ask.tastes) if s.content_weight else None
        history = [h for h in ask.history if h in row]
        bought_sim = matrix[[row[c] for c in candidates]] @ matrix[[row[h] for h in history]].T if history else None
        co = {pid: signals.copurchase(pid, history) for pid in candidates} if history and s.copurchase_weight else {}
        co_top = max((v for v, _ in co.values()), default=0.0) or 1.0
        out = []
        for i, pid in enumerate(candidates):
            parts: dict[str, float] = {}
            bought_from: str | None = None
            if ask.query is not None:
                parts["query"] = s.query_weight * max(0.0, ask.query.get(pid, 0.0))
            content = []
            if profile is not None:
                content.append(max(0.0, profile[pid]))
            if bought_sim is not None:
                sims = [(float(x), h) for x, h in zip(bought_sim[i], history, strict=True) if h != pid]
                if sims:
                    best, bought_from = max(sims)
                    content.append(max(0.0, best))
                    parts["bought"] = s.content_weight * max(0.0, best) / (2 if profile is not None else 1)
            if content:
                parts["content"] = s.content_weight * sum(content) / len(content)
            value, co_from = co.get(pid, (0.0, None))
            if value:
                parts["copurchase"] = s.copurchase_weight * value / co_top
            parts["popularity"] = s.popularity_weight * self._popularity(pid, signals)
            p = self.catalog.products[pid]
            if p.get("brand") in ask.tastes.brands:
                parts["brand"] = s.brand_weight
            score = sum(v for key, v in parts.items() if key != "bought")
            if pid in ask.history:  # an owned consumable: restocking comes after new finds
                score *= s.repurchase_weight
            reason = self._reason(p, ask, parts, bought_from, co_from)
            out.append(Recommendation(pid, round(score, 4), reason, {k2: round(v, 4) for k2, v in parts.items()}))
        out.sort(key=lambda r: (-r.score, r.product_id))
        return out[:k]

    # -- reasons ---------------------------------------------------------------------------------
    def _name(self, pid: str | None) -> str:
        return str((self.catalog.products.get(pid or "") or {}).get("name") or pid)

    @staticmethod
    def _interest(p: dict[str, Any], tastes: Tastes) -> str | None:
        """The liked thing this product is closest to: its category, an occasion it names, its brand."""
        if p["category"] in tastes.categories:
            return p["category"].replace("-", " ")
        text = _words(f"{p['name']} {p.get('description', '')}")
        occasion = next((o for o in tastes.other if _words(o) & text), None)
        return occasion or (p.get("brand") if p.get("brand") in tastes.brands else None)

    def _reason(self, p: dict[str, Any], ask: _Ask, parts: dict[str, float], bought_from: str | None,
                co_from: str | None) -> str:
        tastes = ask.tastes
        why: list[str] = []
        lead = {"copurchase": parts.get("copurchase", 0.0), "bought": parts.get("bought", 0.0),
                "profile": parts.get("content", 0.0) - parts.get("bought", 0.0), "query": parts.get("query", 0.0)}
        best = max(lead, key=lambda key: lead[key])
        interest = self._interest(p, tastes)
        if lead[best] > 0.05:
            if best == "copurchase" and co_from:
                why.append(f"popular with shoppers who bought {self._name(co_from)}")
            elif best == "bought" and bought_from:
                why.append(f"because you bought {self._name(bought_from)}")
            elif best == "profile" and interest:
                why.append(f"matches your interest in {interest}")
            elif best == "query":
                why.append("matches what you asked for")
        if p["id"] in ask.history:
            why.append("you bought it before; time to restock?")
        size = self._size_needed(p, ask)
        if size and ask.size:
            why.append(f"in stock in size {size}")
        elif size and tastes.is_inferred("size", size):
            why.append(f"in stock in size {size}, the size you mentioned")
        elif size:
            why.append(f"matches your stated size {size}")
        if p.get("brand") in tastes.brands:
            why.append(f"from {p['brand']}, a brand you like")
        colours = [c for c in ask.colours if self.catalog.has_option_in_stock(p, "colou?r", c)]
        if colours and self.catalog.option_values(p):
            why.append(f"available in {colours[0]}")
        liked = [c for c in tastes.other if _words(c) & _words(f"{p['name']} {p.get('description', '')}")]
        if liked and liked[0] != interest:
            why.append(f"suits your {liked[0]}")
        if ask.budget is not None:
            why.append(f"within your budget of ${ask.budget:,.0f}")
        if not why:
            why.append(POPULAR if parts.get("popularity", 0) >= max(parts.values()) else "matches your profile")
        return "; ".join(why)


def build_recommender(knowledge: KnowledgeStore, catalog: CatalogIndex, stores: Stores, settings: Settings,
                      now: Callable[[], datetime] | None = None) -> Recommender:
    """The recommender over the shop's stores: purchase signals from all orders, cached (``SignalsCache``)."""
    from assistant.shop.purchase_signals import SignalsCache
    from assistant.store.db import session_factory
    from assistant.store.purchases import PurchaseStore

    purchases = PurchaseStore(session_factory(stores.engine))
    signals = SignalsCache(lambda: PurchaseSignals.from_lines(purchases.lines()), settings.recommend.signals_max_age_s)
    return Recommender(knowledge, catalog, signals, settings.recommend, settings.profile, now)
