"""A filtered search ranks the nearest chunks without filters and keeps those that pass (fast at 100k
chunks); it falls back to Chroma's own filter when too few of them pass. Both give the same hits."""

import uuid
from typing import Any

import numpy as np
import pytest

from knowledge.embeddings import HashEmbedder
from knowledge.knowledge_store import KnowledgeStore, build_chroma_client, passes_filters

CATEGORIES = ["running-shoes", "hiking-boots", "outerwear", "camping"]


def vectors(n: int) -> list[list[float]]:
    """Seeded random unit vectors: every chunk at its own distance from the query (no ties)."""
    rng = np.random.default_rng(3)
    v = rng.normal(size=(n, 128))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).tolist()


def catalogue(overfetch: int) -> KnowledgeStore:
    store = KnowledgeStore(build_chroma_client("ephemeral"), HashEmbedder(dimensions=128),
                           prefix=f"f{uuid.uuid4().hex[:8]}_", overfetch=overfetch)
    collection = store._collection("products")
    ids = [f"p{i}" for i in range(120)]
    collection.add(
        ids=ids, documents=[f"trail jacket tent boot {i % 7} light warm" for i in range(120)],
        embeddings=vectors(120),
        metadatas=[{"product_id": f"p{i}", "price": float(10 + i), "in_stock": i % 3 != 0,
                    "category": CATEGORIES[i % 4], "brand": f"B{i % 5}", **({"tag_new": True} if i % 2 else {})}
                   for i in range(120)])
    return store


FILTERS: list[dict[str, Any]] = [
    {"in_stock": True},
    {"in_stock": True, "max_price": 60, "category": "outerwear"},
    {"category": ["camping", "hiking-boots"], "min_price": 50},
    {"brand": "B2", "tags": ["new"]},
    {"exclude_ids": ["p1", "p2", "p5"], "in_stock": False},
    {"category": "nothing-like-this"},
]


@pytest.mark.parametrize("filters", FILTERS)
def test_overfetching_and_chromas_filter_give_the_same_hits(filters: dict[str, Any]) -> None:
    fast, plain = catalogue(overfetch=200), catalogue(overfetch=0)

    got = fast.search("light trail jacket", "products", 4, filters)
    expected = plain.search("light trail jacket", "products", 4, filters)

    assert [h.id for h in got] == [h.id for h in expected]


def test_too_few_passing_among_the_nearest_falls_back_to_chromas_filter() -> None:
    store = catalogue(overfetch=5)  # 5 nearest: fewer than 4 of them are outerwear in stock under $60

    hits = store.search("light trail jacket", "products", 4, {"in_stock": True, "max_price": 60,
                                                               "category": "outerwear"})

    assert len(hits) == 4
    assert all(h.metadata["category"] == "outerwear" and h.metadata["in_stock"] and h.metadata["price"] <= 60
               for h in hits)


def test_passes_filters_follows_every_filter_kind() -> None:
    meta = {"product_id": "p1", "price": 40.0, "in_stock": True, "category": "camping", "brand": "Ember",
            "tag_new": True, "source": "demo", "origin": "catalog"}

    assert passes_filters(meta, {"category": "camping", "brand": ["Ember", "X"], "max_price": 40,
                                 "min_price": 40, "in_stock": True, "tags": ["new"], "exclude_ids": ["p2"],
                                 "source": "demo", "origin": "catalog", "ignored": None})
    assert not passes_filters(meta, {"max_price": 39.99})
    assert not passes_filters(meta, {"in_stock": False})
    assert not passes_filters(meta, {"tags": ["gift"]})
    assert not passes_filters(meta, {"exclude_ids": ["p1"]})
    assert not passes_filters({"product_id": "p9"}, {"max_price": 100})  # no price: no match, as in Chroma


def test_an_unknown_filter_is_an_error_as_before() -> None:
    with pytest.raises(ValueError, match="unknown filter"):
        passes_filters({}, {"colour": "red"})
