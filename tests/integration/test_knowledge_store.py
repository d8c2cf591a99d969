"""The knowledge store contract on real Chroma (on disk and a server) with the bundled embedding model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.catalog_import import import_catalog
from knowledge.knowledge_store import KnowledgeStore, build_chroma_client
from knowledge.policy_import import import_policies

pytestmark = pytest.mark.integration

POLICY = """# Returns and refunds

## Return window

You can return unworn items within 30 days of delivery for a full refund.

## Refund method

Refunds go back to the original payment method within 5-7 business days.

# Ignored second title
"""

PRODUCTS = [
    {"id": "shoe-1", "name": "Stridewell Tempo road running shoe", "brand": "Stridewell", "category": "running-shoes",
     "description": "Light cushioned road running shoe for daily training.", "price": 89.0, "currency": "USD",
     "variants": [{"id": "shoe-1-9", "options": {"size": "9"}, "stock": 2}], "tags": ["road"]},
    {"id": "shoe-2", "name": "Stridewell Summit trail running shoe", "brand": "Stridewell",
     "category": "running-shoes", "description": "Trail running shoe with deep lugs for mud.", "price": 129.0,
     "currency": "USD", "variants": [{"id": "shoe-2-9", "options": {"size": "9"}, "stock": 0}], "tags": ["trail"]},
    {"id": "kettle-1", "name": "Copperline gooseneck kettle", "brand": "Copperline", "category": "kitchen",
     "description": "Electric pour-over kettle with temperature control.", "price": 59.0, "currency": "USD",
     "stock": 10, "tags": ["coffee"]},
]


@pytest.fixture
def loaded(real_knowledge_store: KnowledgeStore, tmp_path: Path) -> KnowledgeStore:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "returns.md").write_text(POLICY, encoding="utf-8")
    (tmp_path / "products.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PRODUCTS), encoding="utf-8")
    assert import_policies(real_knowledge_store, tmp_path / "policies").ok
    assert import_catalog(real_knowledge_store, tmp_path / "products.jsonl").ok
    return real_knowledge_store


def test_policy_question_finds_the_section_by_meaning(loaded: KnowledgeStore) -> None:
    hit = loaded.search("how long do I have to send something back?", "policies", 1)[0]

    assert "30 days" in hit.text
    assert hit.citation == {"kind": "policy", "id": hit.id, "source": "returns.md", "title": "Returns and refunds",
                            "heading": "Returns and refunds > Return window", "position": 0}


def test_product_search_ranks_by_meaning(loaded: KnowledgeStore) -> None:
    hits = loaded.search("shoes for muddy trails", "products", 3)

    assert hits[0].id == "shoe-2"
    assert hits[0].score > hits[-1].score


def test_product_filters_apply(loaded: KnowledgeStore) -> None:
    in_stock = loaded.search("running shoe", "products", 3, {"category": "running-shoes", "in_stock": True})
    cheap = loaded.search("anything", "products", 3, {"max_price": 60})

    assert [h.id for h in in_stock] == ["shoe-1"]
    assert [h.id for h in cheap] == ["kettle-1"]


def test_data_survives_a_new_client(tmp_path: Path, bundled_embedder: object) -> None:
    from knowledge.embeddings import Embedder

    assert isinstance(bundled_embedder, Embedder)
    first = KnowledgeStore(build_chroma_client("persistent", tmp_path / "c"), bundled_embedder)
    (tmp_path / "p.jsonl").write_text(json.dumps(PRODUCTS[2]) + "\n", encoding="utf-8")
    import_catalog(first, tmp_path / "p.jsonl")

    second = KnowledgeStore(build_chroma_client("persistent", tmp_path / "c"), bundled_embedder)

    assert second.search("kettle for coffee", "products", 1)[0].id == "kettle-1"


def test_collections_use_our_embedding_function_not_chromas_default(loaded: KnowledgeStore) -> None:
    collection = loaded.client.get_collection(loaded.collection_name("products"))

    config = collection.configuration_json
    assert config["embedding_function"]["name"] == "concierge"
    assert config["hnsw"]["space"] == "cosine"
