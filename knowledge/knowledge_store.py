"""The knowledge store: policy chunks and products in Chroma, embedded with our own embedder.

Chroma's default embedding function downloads a model, so it must never run: every collection is
created with :class:`ChromaEmbedding` (a thin adapter over our :class:`Embedder`), and every write
and query passes vectors we computed ourselves.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from knowledge import cross_lingual
from knowledge.embeddings import Embedder
from knowledge.lexical_index import LexicalIndex, fuse, has_cjk
from knowledge.store_filters import _where, passes_filters

Kind = Literal["policies", "products"]
KINDS: tuple[Kind, ...] = ("policies", "products")


#: weight of the word ranking against the meaning ranking in a hybrid search's fusion
LEXICAL_WEIGHT = 0.5
#: ... for a query in Chinese, which the bundled (English) embedder barely places: the words decide (recall@5 on
#: the Chinese demo shop's policy questions, bench/recall_zh.py: weight 2 -> 0.789, 8 -> 0.974, 16 -> 0.974 and
#: the answer in the 3 chunks a turn keeps 0.763 -> 0.816 -> 0.947)
LEXICAL_WEIGHT_CJK = 16.0
#: ... for a Chinese query of English documents, searched and embedded in English (:mod:`knowledge.cross_lingual`;
#: the Chinese shop's 38 questions asked of the English demo shop, right document in the 3 a turn keeps: 1 -> 34,
#: 2, 4 or 8 -> 35; 0 without translation)
LEXICAL_WEIGHT_CROSS = 2.0
#: a filtered search first ranks this many nearest chunks without filters (0: always Chroma's filter)
OVERFETCH = 200


class KnowledgeUnavailable(RuntimeError):
    """Chroma cannot be reached or answered with an error."""


@dataclass(frozen=True)
class IndexItem:
    id: str
    text: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class Hit:
    """One search result with what is needed to cite it."""

    id: str
    kind: Kind
    text: str
    score: float  # cosine similarity, 1 = same direction
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def citation(self) -> dict[str, Any]:
        m = self.metadata
        if self.kind == "policies":
            return {"kind": "policy", "id": self.id, "source": m.get("source"), "title": m.get("title"),
                    "heading": m.get("heading"), "position": m.get("position")}
        return {"kind": "product", "id": self.id, "source": m.get("source"), "name": m.get("name"),
                "product_id": m.get("product_id")}

    @property
    def record(self) -> dict[str, Any] | None:
        """The full product record stored with a product hit."""
        raw = self.metadata.get("record")
        return json.loads(raw) if isinstance(raw, str) else None


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=True)


def build_chroma_client(mode: str, path: Path | None = None, server_url: str | None = None) -> Any:
    """Chroma client for the settings' ``knowledge.mode``: persistent, http or ephemeral."""
    import chromadb

    if mode == "persistent":
        if path is None:
            raise ValueError("knowledge.mode persistent needs a path")
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
    if mode == "http":
        if not server_url:
            raise ValueError("knowledge.mode http needs knowledge.server_url, e.g. http://127.0.0.1:8000")
        from urllib.parse import urlparse

        url = urlparse(server_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=_chroma_settings(),
        )
    if mode == "ephemeral":
        return chromadb.EphemeralClient(settings=_chroma_settings())
    raise ValueError(f"unknown knowledge mode {mode!r}: choose persistent, http or ephemeral")


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


class KnowledgeStore:
    """Policies and products in two Chroma collections, searched by meaning with filters."""

    def __init__(self, client: Any, embedder: Embedder, prefix: str = "", batch_size: int = 64,
                 overfetch: int = OVERFETCH, hybrid: Iterable[Kind] = ("policies",)) -> None:
        self.client = client
        self.embedder = embedder
        self.prefix = prefix
        self.batch_size = batch_size
        self.overfetch = overfetch
        #: kinds searched by meaning and by words (BM25, see :mod:`knowledge.lexical_index`), fused by rank
        self.hybrid = frozenset(hybrid)
        self._lexical: dict[str, LexicalIndex] = {}
        self._collections: dict[str, Any] = {}
        self._lock = threading.Lock()

    def collection_name(self, kind: Kind) -> str:
        return f"{self.prefix}{kind}"

    def _collection(self, kind: Kind) -> Any:
        if kind not in KINDS:
            raise ValueError(f"unknown knowledge kind {kind!r}: choose {' or '.join(KINDS)}")
        with self._lock:
            found = self._collections.get(kind)
            if found is None:
                from knowledge.chroma_embedding import ChromaEmbedding

                try:
                    found = self.client.get_or_create_collection(
                        self.collection_name(kind),
                        embedding_function=ChromaEmbedding(self.embedder),
                        metadata={"hnsw:space": "cosine", "embedder": self.embedder.name},
                    )
                except Exception as e:  # chromadb raises many types; wrap at the seam
                    raise KnowledgeUnavailable(f"cannot open Chroma collection {kind}: {e}") from e
                self._collections[kind] = found
            return found

    # writing ---------------------------------------------------------------------------------
    def upsert(self, kind: Kind, items: Sequence[IndexItem]) -> None:
        """Embed and write items in batches (each batch is written whole or raises)."""
        collection = self._collection(kind)
        for start in range(0, len(items), self.batch_size):
            batch = items[start : start + self.batch_size]
            vectors = self.embedder.embed_documents([i.text for i in batch])
            try:
                collection.upsert(
                    ids=[i.id for i in batch],
                    documents=[i.text for i in batch],
                    metadatas=[i.metadata for i in batch],
                    embeddings=vectors,
                )
            except Exception as e:
                raise KnowledgeUnavailable(f"writing to Chroma failed: {e}") from e
            if kind in self._lexical:
                self._lexical[kind].add((i.id, i.text) for i in batch)

    def delete(self, kind: Kind, ids: Sequence[str]) -> None:
        if ids:
            try:
                self._collection(kind).delete(ids=list(ids))
            except Exception as e:
                raise KnowledgeUnavailable(f"deleting from Chroma failed: {e}") from e
            if kind in self._lexical:
                self._lexical[kind].remove(ids)

    def forget_word_index(self, kind: Kind) -> None:  # another process changed kind: rebuilt on the next search
        self._lexical.pop(kind, None)
    def _lexical_index(self, kind: Kind) -> LexicalIndex:
        """The kind's word index: built from Chroma on first use, and again when the collection holds another
        number of documents than it does (another process imported or deleted some)."""
        index = self._lexical.get(kind)
        if index is not None and len(index) == self.count(kind):
            return index
        index = LexicalIndex()
        collection = self._collection(kind)
        offset, page = 0, 1000
        while True:
            try:
                found = collection.get(include=["documents"], limit=page, offset=offset)
            except Exception as e:
                raise KnowledgeUnavailable(f"reading from Chroma failed: {e}") from e
            index.add(zip(found["ids"], [d or "" for d in found["documents"] or []], strict=False))
            if len(found["ids"]) < page:
                break
            offset += page
        self._lexical[kind] = index
        return index

    # reading ---------------------------------------------------------------------------------
    def existing(self, kind: Kind, origin: str) -> dict[str, dict[str, Any]]:
        """id -> metadata of everything imported under ``origin`` (for incremental re-import)."""
        try:
            found = self._collection(kind).get(where={"origin": {"$eq": origin}}, include=["metadatas"])
        except Exception as e:
            raise KnowledgeUnavailable(f"reading from Chroma failed: {e}") from e
        return {i: dict(m or {}) for i, m in zip(found["ids"], found["metadatas"] or [], strict=False)}

    def get(self, kind: Kind, ids: Sequence[str]) -> list[Hit]:
        if not ids:
            return []
        found = self._collection(kind).get(ids=list(ids), include=["documents", "metadatas"])
        return [
            Hit(i, kind, doc or "", 1.0, dict(meta or {}))
            for i, doc, meta in zip(found["ids"], found["documents"] or [], found["metadatas"] or [], strict=False)
        ]

    def search(
        self, query: str, kind: Kind, k: int = 5, filters: Mapping[str, Any] | None = None
    ) -> list[Hit]:
        """The ``k`` hits nearest in meaning to ``query`` that pass ``filters``, best first.

        Filters: category, brand (value or list), min_price, max_price, in_stock, tags (all of),
        exclude_ids (products); source, origin (both kinds).
        """
        collection = self._collection(kind)
        if kind in self.hybrid:
            return self._hybrid(collection, kind, query, k, filters)
        return self._dense(collection, kind, self.embedder.embed_query(query), k, filters)

    def _dense(self, collection: Any, kind: Kind, vector: list[float], k: int,
               filters: Mapping[str, Any] | None) -> list[Hit]:
        where = _where(filters)
        if where is not None and self.overfetch > k:
            # the filtered top k are the first k of the unfiltered ranking that pass: rank the nearest
            # ``overfetch`` without filters and filter here; Chroma's filter builds an allow-list from the
            # metadata first, ~100 ms at 100k chunks against ~7 ms for this (bench/ingest.py)
            nearest = self._query(collection, kind, vector, self.overfetch, None)
            passing = [h for h in nearest if passes_filters(h.metadata, filters)]
            if len(passing) >= k or len(nearest) < self.overfetch:  # or the whole collection was ranked
                return passing[:k]
        return self._query(collection, kind, vector, k, where)

    def _hybrid(self, collection: Any, kind: Kind, query: str, k: int,
                filters: Mapping[str, Any] | None) -> list[Hit]:
        """The nearest by meaning and the best by words (BM25), fused by rank (reciprocal rank fusion); each
        hit keeps its closeness in meaning as its score (so relevance floors mean the same)."""
        pool = max(4 * k, 12)
        index = self._lexical_index(kind)
        english, groups = cross_lingual.translated(query, index)  # a Chinese question of English documents
        vector = self.embedder.embed_query(english or query)  # ... placed by meaning in English
        dense = self._dense(collection, kind, vector, pool, filters)
        if not groups and has_cjk(query):  # a Chinese question of Chinese documents: also by the shop's own words
            groups = cross_lingual.same_sense_groups(query, index)  # of the same meaning ("卖完" finds "售罄")
        lexical = [i for i, _ in (index.search_groups(groups, pool) if groups else index.search(query, pool))]
        by_id = {h.id: h for h in dense}
        missing = [i for i in lexical if i not in by_id]
        if missing:
            try:
                found = collection.get(ids=missing, include=["documents", "metadatas", "embeddings"])
            except Exception as e:
                raise KnowledgeUnavailable(f"reading from Chroma failed: {e}") from e
            embeddings = found.get("embeddings")
            for i, doc, meta, emb in zip(found["ids"], found["documents"] or [], found["metadatas"] or [],
                                         [] if embeddings is None else embeddings, strict=False):
                if passes_filters(dict(meta or {}), filters):
                    by_id[i] = Hit(i, kind, doc or "", round(_cosine(vector, emb), 4), dict(meta or {}))
        cjk = has_cjk(query) and not english
        weight = LEXICAL_WEIGHT_CROSS if english else LEXICAL_WEIGHT_CJK if cjk else LEXICAL_WEIGHT
        ranked = fuse([[h.id for h in dense], [i for i in lexical if i in by_id]], k, weights=(1.0, weight))
        if dense and dense[0].id not in ranked and not (cjk and lexical):  # the nearest in meaning stays (unless
            # the query is Chinese and words matched: the bundled embedder reads English only)
            ranked = [*ranked[:k - 1], dense[0].id]
        return [by_id[i] for i in ranked]

    def _query(self, collection: Any, kind: Kind, vector: list[float], k: int,
               where: dict[str, Any] | None) -> list[Hit]:
        try:
            found = collection.query(
                query_embeddings=[vector],
                n_results=k,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
        except Exception as e:
            raise KnowledgeUnavailable(f"searching Chroma failed: {e}") from e
        ids = found["ids"][0]
        docs = (found.get("documents") or [[]])[0] or []
        metas = (found.get("metadatas") or [[]])[0] or []
        dists = (found.get("distances") or [[]])[0] or []
        return [
            Hit(i, kind, d or "", round(1.0 - float(dist), 4), dict(m or {}))
            for i, d, m, dist in zip(ids, docs, metas, dists, strict=False)
        ]

    def all_metadata(self, kind: Kind, page: int = 1000) -> list[tuple[str, dict[str, Any]]]:
        """Every (id, metadata) of a collection, read page by page."""
        collection = self._collection(kind)
        out: list[tuple[str, dict[str, Any]]] = []
        offset = 0
        while True:
            try:
                found = collection.get(include=["metadatas"], limit=page, offset=offset)
            except Exception as e:
                raise KnowledgeUnavailable(f"reading from Chroma failed: {e}") from e
            out.extend((i, dict(m or {})) for i, m in zip(found["ids"], found["metadatas"] or [], strict=False))
            if len(found["ids"]) < page:
                return out
            offset += page

    def vectors(self, kind: Kind, page: int = 1000) -> dict[str, list[float]]:
        """Every stored embedding of a collection (id -> vector), read page by page."""
        collection = self._collection(kind)
        out: dict[str, list[float]] = {}
        offset = 0
        while True:
            try:
                found = collection.get(include=["embeddings"], limit=page, offset=offset)
            except Exception as e:
                raise KnowledgeUnavailable(f"reading from Chroma failed: {e}") from e
            vectors = found.get("embeddings")
            out.update((i, [float(x) for x in v]) for i, v in zip(found["ids"], [] if vectors is None else vectors,
                                                                   strict=False))
            if len(found["ids"]) < page:
                return out
            offset += page

    def count(self, kind: Kind) -> int:
        try:
            return int(self._collection(kind).count())
        except KnowledgeUnavailable:
            raise
        except Exception as e:
            raise KnowledgeUnavailable(f"counting in Chroma failed: {e}") from e

    def stats(self) -> dict[str, int]:
        return {kind: self.count(kind) for kind in KINDS}

    def heartbeat(self) -> bool:
        try:
            self.client.heartbeat()
            return True
        except Exception:
            return False
