"""Chroma's view of our embedder, so a collection never falls back to Chroma's downloading default."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from knowledge.embeddings import Embedder, build_embedder


@register_embedding_function
class ChromaEmbedding(EmbeddingFunction[Documents]):
    """Adapter from :class:`Embedder` to Chroma's ``EmbeddingFunction`` protocol."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:
        import numpy as np

        return [np.asarray(v, dtype=np.float32) for v in self.embedder.embed_documents(list(input))]

    def embed_query(self, input: Documents) -> Embeddings:
        import numpy as np

        return [np.asarray(self.embedder.embed_query(t), dtype=np.float32) for t in input]

    @staticmethod
    def name() -> str:
        return "concierge"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"model": self.embedder.name, "dimensions": self.embedder.dimensions}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbedding:
        # Chroma calls this to compare a collection's stored config with the one passed in, and when a
        # collection is opened without an embedding function: load the model only if it is really used.
        return ChromaEmbedding(_LazyEmbedder(config))


class _LazyEmbedder(Embedder):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.name = str(config.get("model") or "bundled")
        self.dimensions = int(config.get("dimensions") or 384)
        self._inner: Embedder | None = None

    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        if self._inner is None:
            mode = "hash" if self.name == "hash" else "bundled"
            self._inner = build_embedder(mode, dimensions=self.dimensions)
        return self._inner.embed_batch(texts)
