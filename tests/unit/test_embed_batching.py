"""How the ONNX embedder cuts a list of texts into runs: long texts a few at a time, short ones many at a time,
every text once, the vectors back in the caller's order."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from knowledge.embeddings import OnnxEmbedder


class RecordingEncoder:
    """A stand-in encoder: one fixed vector per text (from its hash), and each run it was given."""

    dimensions = 4
    max_seq_length = 256

    def __init__(self) -> None:
        self.runs: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        self.runs.append(list(texts))
        return [vector(t) for t in texts]


def vector(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [b / 255 for b in digest[:4]]


def embedder(batch_size: int = 64, max_batch_chars: int = 2048) -> tuple[OnnxEmbedder, RecordingEncoder]:
    encoder = RecordingEncoder()
    e = OnnxEmbedder(encoder, "recording", batch_size=batch_size)
    e.max_batch_chars = max_batch_chars
    return e, encoder


def test_long_texts_go_a_few_at_a_time_and_short_ones_up_to_the_batch_size() -> None:
    e, encoder = embedder()
    longs = [f"{i} " + "word " * 120 for i in range(10)]  # ~600 characters each: 3 to a run within 2,048
    shorts = [f"question {i}" for i in range(100)]
    e.embed_documents(longs + shorts)
    sizes = [len(run) for run in encoder.runs]
    assert max(len(run) for run in encoder.runs if len(run[0]) > 500) == 3
    assert 64 in sizes  # the short texts fill whole batches
    for run in encoder.runs:
        assert len(run) == 1 or len(run) * max(map(len, run)) <= 2048
        assert len(run) <= 64


def test_every_text_is_embedded_once_and_the_vectors_come_back_in_the_callers_order() -> None:
    e, encoder = embedder(batch_size=5, max_batch_chars=300)
    texts = [("x" * (i * 37 % 200)) + str(i) for i in range(41)]
    got = e.embed_documents(texts)
    assert got == [vector(t) for t in texts]
    assert sorted(t for run in encoder.runs for t in run) == sorted(texts)


def test_a_text_longer_than_the_budget_still_goes_alone() -> None:
    e, encoder = embedder(max_batch_chars=100)
    e.embed_documents(["a" * 500, "b" * 400, "c"])
    assert [len(run) for run in encoder.runs] == [1, 1, 1]
    assert e.embed_documents([]) == []
