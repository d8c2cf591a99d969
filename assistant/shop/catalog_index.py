"""An in-memory index of the catalogue, read from the knowledge store.

The turn needs the shop's vocabulary (categories, brands, product names, option names and values, the words
its product names and tags use per category: :class:`~assistant.shop.shop_vocabulary.ShopVocabulary`) to
understand messages and to verify replies, and whole product records to build product cards. Reading them
once from Chroma (and again after an import) keeps those lookups off the hot path.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from assistant.domain import ProductCard
from assistant.shop.shop_vocabulary import ShopVocabulary
from knowledge.knowledge_store import KnowledgeStore


@dataclass
class CatalogIndex:
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    _keys: dict[str, tuple[str, ...]] | None = field(default=None, repr=False, compare=False)
    _vocabulary: ShopVocabulary | None = field(default=None, repr=False, compare=False)

    @classmethod
    def load(cls, knowledge: KnowledgeStore) -> CatalogIndex:
        products: dict[str, dict[str, Any]] = {}
        for product_id, meta in knowledge.all_metadata("products"):
            raw = meta.get("record")
            if isinstance(raw, str):
                products[product_id] = json.loads(raw)
        return cls(products)

    @property
    def categories(self) -> list[str]:
        return sorted({p["category"] for p in self.products.values()})

    @property
    def brands(self) -> list[str]:
        return sorted({p["brand"] for p in self.products.values() if p.get("brand")})

    @property
    def vocabulary(self) -> ShopVocabulary:
        """What the shop's data calls things, learned once per index (an import makes a new index)."""
        if self._vocabulary is None or len(self._vocabulary.names) != len(self.products):
            self._vocabulary = ShopVocabulary.from_products(self.products.values())
        return self._vocabulary

    def resolve(self, text: str) -> list[str]:
        """Products ``text`` names: by (nearly) all the words of the name, else by the model's first words."""
        vocabulary = self.vocabulary
        return vocabulary.named_products(text) or [pid for pid in self.names_in(text)
                                                   if vocabulary.names.get(pid) not in vocabulary.terms]

    def get(self, product_id: str) -> dict[str, Any] | None:
        return self.products.get(product_id)

    def popularity(self, product_id: str) -> float:
        """A prior from ratings: rating weighted by how many people rated it (0..~1)."""
        p = self.products.get(product_id) or {}
        rating = float(p.get("rating") or 0.0)
        reviews = int(p.get("review_count") or 0)
        return (rating / 5.0) * (math.log1p(reviews) / math.log1p(1000))

    def mention_keys(self) -> dict[str, tuple[str, ...]]:
        """Per product, the phrases that name it: the full name and its model's first two words."""
        if self._keys is None:
            keys: dict[str, tuple[str, ...]] = {}
            for product_id, p in self.products.items():
                name, brand = p["name"].lower(), (p.get("brand") or "").lower()
                model = name[len(brand):].strip() if brand and name.startswith(brand) else name
                words = re.findall(r"[a-z0-9]+", model)
                prefix = " ".join(words[:2])
                keys[product_id] = (name, prefix) if len(prefix) >= 6 else (name,)
            names = {pid: " ".join(re.findall(r"[a-z0-9]+", k[0])) for pid, k in keys.items()}

            def unique(prefix: str, owner: str) -> bool:
                # a prefix that also occurs in another product's name names none of them for sure
                pattern = re.compile(rf"\b{re.escape(prefix)}\b")
                return not any(pattern.search(name) for pid, name in names.items() if pid != owner)

            self._keys = {pid: tuple(x for x in k if x == k[0] or unique(x, pid)) for pid, k in keys.items()}
        return self._keys

    def names_in(self, text: str) -> list[str]:
        """Ids of catalogue products that ``text`` names (full name, or the model's first two words)."""
        lowered = " ".join(re.findall(r"[a-z0-9]+", text.lower()))
        found = []
        for product_id, keys in self.mention_keys().items():
            if any(re.search(rf"\b{re.escape(' '.join(re.findall(r'[a-z0-9]+', k)))}\b", lowered) for k in keys):
                found.append(product_id)
        return found

    def option_values(self, product: dict[str, Any]) -> dict[str, list[str]]:
        values: dict[str, list[str]] = {}
        for variant in product.get("variants") or []:
            if int(variant.get("stock") or 0) <= 0:
                continue
            for key, value in (variant.get("options") or {}).items():
                bucket = values.setdefault(str(key), [])
                if str(value) not in bucket:
                    bucket.append(str(value))
        return values

    def has_option_in_stock(self, product: dict[str, Any], key_pattern: str, value: str) -> bool:
        pattern = re.compile(key_pattern, re.I)
        for variant in product.get("variants") or []:
            if int(variant.get("stock") or 0) <= 0:
                continue
            for key, option in (variant.get("options") or {}).items():
                if pattern.search(str(key)) and str(option).lower() == value.lower():
                    return True
        return not product.get("variants") and bool(product.get("in_stock"))

    def card(self, product_id: str, reason: str | None = None) -> ProductCard | None:
        p = self.products.get(product_id)
        if p is None:
            return None
        return ProductCard(
            id=product_id, name=p["name"], price=float(p.get("min_price", p["price"])), currency=p["currency"],
            category=p["category"], brand=p.get("brand"), in_stock=bool(p.get("in_stock")),
            rating=p.get("rating"), reason=reason, options=self.option_values(p),
        )


class CatalogCache:
    """The current CatalogIndex, reloaded on demand (after imports) and shared by turns."""

    def __init__(self, knowledge: KnowledgeStore) -> None:
        self._knowledge = knowledge
        self._index: CatalogIndex | None = None
        self._lock = threading.Lock()

    def get(self) -> CatalogIndex:
        with self._lock:
            if self._index is None:
                self._index = CatalogIndex.load(self._knowledge)
            return self._index

    def invalidate(self) -> None:
        with self._lock:
            self._index = None
