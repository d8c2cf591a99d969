"""Hybrid search: BM25 over the stored words (Chinese segmented by jieba) fused with the nearest by meaning,
kept in step with writes, deletes and other processes' imports (in-memory Chroma, hash embeddings)."""

from __future__ import annotations

import uuid

from knowledge.embeddings import HashEmbedder
from knowledge.knowledge_store import IndexItem, KnowledgeStore, build_chroma_client
from knowledge.lexical_index import LexicalIndex, fuse, words


def policy(i: str, text: str) -> IndexItem:
    return IndexItem(i, text, {"kind": "policy", "origin": "t", "title": i})


def test_words_fold_plurals_and_segment_chinese() -> None:
    assert words("Exchanges are FREE of charge") == ["exchange", "free", "charge"]
    assert {"退货", "期限", "30", "天"} <= set(words("退货期限为30天"))
    assert "nw" in words("我的订单NW-100073在哪里？") and "100073" in words("我的订单NW-100073在哪里？")


def test_bm25_ranks_by_rare_shared_words_and_follows_removals() -> None:
    index = LexicalIndex()
    index.add([("a", "Exchanges are free of charge for everyone."), ("b", "You can exchange an item."),
               ("c", "Shipping takes 3 days.")])
    assert [d for d, _ in index.search("does an exchange cost anything, is it free", 3)][0] == "a"
    index.remove(["a"])
    assert [d for d, _ in index.search("free", 3)] == []
    assert len(index) == 2


def test_fuse_prefers_ids_both_rankings_agree_on() -> None:
    assert fuse([["x", "y", "z"], ["y", "w"]], 3) == ["y", "x", "w"]
    assert fuse([["x", "y"], ["y"]], 2, weights=(1.0, 0.0))[0] == "x"


def test_a_hybrid_store_finds_by_words_what_meaning_misses_and_keeps_in_step() -> None:
    client = build_chroma_client("ephemeral")
    prefix = f"h{uuid.uuid4().hex[:8]}_"
    store = KnowledgeStore(client, HashEmbedder(dimensions=64), prefix=prefix, hybrid=("policies",))
    filler = [policy(f"f{n}", f"Paragraph {n} about opening hours and store locations number {n}.") for n in range(30)]
    store.upsert("policies", [*filler, policy("zh", "换货免费。退货期限为30天。"),
                              policy("sku", "The part NW-100073 ships separately.")])

    def found(query: str) -> list[str]:
        return [h.id for h in store.search(query, "policies", 3)]

    # hash embeddings know no meaning: the words alone bring these into the top 3 of 32
    assert "zh" in found("退货期限是多少天？")
    assert "sku" in found("where is NW-100073")
    store.delete("policies", ["sku"])
    assert "sku" not in found("where is NW-100073")

    # another process (another store object on the same collections) imports: the index is rebuilt
    other = KnowledgeStore(client, HashEmbedder(dimensions=64), prefix=prefix)
    other.upsert("policies", [policy("late", "Gift wrapping with a handwritten card costs nothing.")])
    assert "late" in found("handwritten card gift wrapping")


def test_every_hit_keeps_its_closeness_in_meaning_as_its_score() -> None:
    store = KnowledgeStore(build_chroma_client("ephemeral"), HashEmbedder(dimensions=64),
                           prefix=f"s{uuid.uuid4().hex[:8]}_")
    store.upsert("policies", [policy("a", "Returns are free within 30 days."), policy("b", "We ship with UPS.")])
    for hit in store.search("free returns", "policies", 2):
        assert -1.0 <= hit.score <= 1.0
