"""The embedder's LRU cache of short recurring texts (queries, fact sentences), keyed by the exact text."""

from collections.abc import Sequence

import pytest

from assistant.turn.verifier import SupportIndex
from knowledge.embeddings import Embedder, HashEmbedder


class CountingEmbedder(Embedder):
    """Hash vectors, recording every batch the model would have encoded."""

    name = "counting"
    dimensions = 64

    def __init__(self, query_cache_size: int = 4) -> None:
        super().__init__(batch_size=8, query_cache_size=query_cache_size)
        self.inner = HashEmbedder(dimensions=self.dimensions, query_cache_size=0)
        self.batches: list[list[str]] = []

    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        self.batches.append(list(texts))
        return self.inner.embed_batch(texts)


def test_a_repeated_query_is_embedded_once() -> None:
    embedder = CountingEmbedder()

    first = embedder.embed_query("waterproof boots")
    second = embedder.embed_query("waterproof boots")

    assert second == first
    assert embedder.batches == [["waterproof boots"]]


def test_cached_vectors_equal_uncached_ones_exactly() -> None:
    embedder = CountingEmbedder()
    embedder.embed_query("return policy")

    assert embedder.embed_query("return policy") == embedder.inner.embed_batch(["return policy"])[0]


def test_a_caller_changing_a_returned_vector_does_not_change_the_cache() -> None:
    embedder = CountingEmbedder()
    vector = embedder.embed_query("rain jacket")
    vector[0] = 99.0

    assert embedder.embed_query("rain jacket")[0] != 99.0


def test_the_least_recently_used_text_is_evicted_past_the_size() -> None:
    embedder = CountingEmbedder(query_cache_size=2)
    embedder.embed_query("a tent")
    embedder.embed_query("a stove")
    embedder.embed_query("a tent")  # now the stove is the least recently used
    embedder.embed_query("a lamp")
    embedder.batches.clear()

    embedder.embed_query("a tent")
    embedder.embed_query("a stove")

    assert embedder.batches == [["a stove"]]


def test_embed_cached_encodes_only_the_misses_in_one_batch_and_keeps_the_order() -> None:
    embedder = CountingEmbedder(query_cache_size=8)
    embedder.embed_cached(["returns within 30 days", "free shipping over $50"])
    embedder.batches.clear()

    vectors = embedder.embed_cached(["express costs $14.99", "returns within 30 days", "gift cards never expire"])

    assert embedder.batches == [["express costs $14.99", "gift cards never expire"]]
    assert vectors == embedder.inner.embed_batch(
        ["express costs $14.99", "returns within 30 days", "gift cards never expire"])


def test_embed_cached_with_a_duplicate_miss_encodes_it_once() -> None:
    embedder = CountingEmbedder(query_cache_size=8)

    vectors = embedder.embed_cached(["same line", "same line"])

    assert embedder.batches == [["same line"]]
    assert vectors[0] == vectors[1]


def test_a_zero_size_cache_embeds_every_time() -> None:
    embedder = CountingEmbedder(query_cache_size=0)
    embedder.embed_query("socks")
    embedder.embed_cached(["socks"])

    assert embedder.batches == [["socks"], ["socks"]]


@pytest.mark.parametrize("texts", [[], [""]])
def test_embed_cached_handles_empty_input(texts: list[str]) -> None:
    embedder = CountingEmbedder()

    assert len(embedder.embed_cached(texts)) == len(texts)


def test_the_support_index_of_facts_seen_before_needs_no_encoding() -> None:
    embedder = CountingEmbedder(query_cache_size=64)
    corpus = "Returns are free within 30 days. Refunds reach the card within 5 business days."
    first = SupportIndex(embedder, corpus)
    embedder.batches.clear()

    second = SupportIndex(embedder, corpus)

    assert embedder.batches == []
    sentence = "You can return it within 30 days."
    assert second.support(sentence) == pytest.approx(first.support(sentence))
