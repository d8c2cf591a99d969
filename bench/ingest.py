"""Ingest throughput and retrieval latency, each next to its reference measured in the same run.

    python bench/ingest.py                 # 2,000-product ingest, retrieval at 10k chunks
    python bench/ingest.py --n 500 --sizes 10000 100000

Prints:
- ingest: chunks/s of the real catalogue importer (read, validate, hash, embed, write to Chroma on disk)
  against the raw sentence-transformers encode rate on the same texts (the reference); target >= 0.9x;
- retrieval: p50/p95 of KnowledgeStore.search (query embedding excluded: warm cache) at each size,
  against a brute-force numpy cosine over the same vectors. Larger sizes reuse real embeddings with
  small random perturbations so that 100k chunks do not take minutes to embed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from knowledge.catalog import import_catalog, normalize, product_text  # noqa: E402
from knowledge.embeddings import SentenceTransformerEmbedder  # noqa: E402
from knowledge.store import KnowledgeStore, build_chroma_client  # noqa: E402

CATEGORIES = {
    "running-shoes": ["road running shoe", "trail running shoe", "racing flat", "stability trainer"],
    "hiking-boots": ["waterproof hiking boot", "light hiker", "mountaineering boot"],
    "outerwear": ["rain shell", "down jacket", "fleece jacket", "insulated parka"],
    "camping": ["two-person tent", "sleeping bag", "camp stove", "headlamp"],
    "kitchen": ["gooseneck kettle", "french press", "cast iron skillet", "chef knife"],
    "audio": ["wireless earbuds", "noise cancelling headphones", "bluetooth speaker"],
    "skincare": ["mineral sunscreen", "hydrating moisturizer", "lip balm"],
    "backpacks": ["daypack", "travel backpack", "hydration pack"],
}
WORDS = ("light durable recycled breathable warm compact quiet grippy cushioned packable rugged soft "
         "water-resistant insulated stretchy padded adjustable vented reflective").split()


def synthetic_products(n: int, seed: int = 1) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        category = rng.choice(list(CATEGORIES))
        kind = rng.choice(CATEGORIES[category])
        adjectives = rng.sample(WORDS, 4)
        out.append({
            "id": f"B-{i:06d}", "name": f"{adjectives[0].capitalize()} {kind} {i}", "brand": f"Brand{i % 40}",
            "category": category, "price": round(rng.uniform(9, 300), 2), "currency": "USD",
            "description": f"A {adjectives[1]}, {adjectives[2]} {kind} for everyday use. "
                           f"Made to be {adjectives[3]} and easy to care for.",
            "variants": [{"id": f"B-{i:06d}-{v}", "options": {"size": str(7 + v)}, "stock": rng.randint(0, 9)}
                         for v in range(rng.randint(1, 3))],
            "tags": rng.sample(["gift", "new", "bestseller", "vegan", "recycled"], 2),
        })
    return out


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def bench_ingest(embedder: SentenceTransformerEmbedder, n: int, workdir: Path) -> dict[str, float]:
    products = synthetic_products(n)
    path = workdir / "products.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in products), encoding="utf-8")
    texts = [product_text(normalize(p)) for p in products]

    def raw_encode() -> float:
        start = time.perf_counter()
        embedder.embed_documents(texts)
        return n / (time.perf_counter() - start)

    embedder.embed_batch(texts[:64])  # warm up both paths equally
    raw_before = raw_encode()
    store = KnowledgeStore(build_chroma_client("persistent", workdir / "chroma"), embedder, batch_size=256)
    start = time.perf_counter()
    report = import_catalog(store, path)
    ingest = n / (time.perf_counter() - start)
    assert report.ok and report.imported == n, report.summary()
    # the reference is measured before and after, so load from other processes hits both alike
    return {"raw": (raw_before + raw_encode()) / 2, "ingest": ingest}


def bench_retrieval(embedder: SentenceTransformerEmbedder, size: int, base: np.ndarray, workdir: Path,
                    queries: int) -> dict[str, float]:
    rng = np.random.default_rng(size)
    reps = -(-size // len(base))
    vectors = np.concatenate([base + rng.normal(0, 0.02, base.shape) for _ in range(reps)])[:size]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors.astype(np.float32)
    client = build_chroma_client("persistent", workdir / f"chroma-{size}")
    store = KnowledgeStore(client, embedder, prefix=f"r{size}_")
    collection = store._collection("products")
    step = 5000
    for start in range(0, size, step):
        ids = [f"v{i}" for i in range(start, min(size, start + step))]
        collection.add(ids=ids, embeddings=vectors[start:start + step],
                       metadatas=[{"price": float(i % 300), "in_stock": i % 5 != 0, "origin": "bench"}
                                  for i in range(start, start + len(ids))],
                       documents=[f"doc {i}" for i in range(start, start + len(ids))])
    question_texts = [f"{random.Random(q).choice(WORDS)} {random.Random(q + 1).choice(sum(CATEGORIES.values(), []))}"
                      for q in range(queries)]
    for text in question_texts:
        embedder.embed_query(text)  # warm the query cache: we time retrieval, not embedding
    store.search(question_texts[0], "products", 5)
    chroma_ms, numpy_ms = [], []
    for text in question_texts:
        start = time.perf_counter()
        store.search(text, "products", 5)
        chroma_ms.append((time.perf_counter() - start) * 1000)
        q = np.asarray(embedder.embed_query(text), dtype=np.float32)
        start = time.perf_counter()
        scores = vectors @ q
        np.argpartition(-scores, 5)[:5]
        numpy_ms.append((time.perf_counter() - start) * 1000)
    return {"p50": percentile(chroma_ms, 50), "p95": percentile(chroma_ms, 95),
            "np50": percentile(numpy_ms, 50), "np95": percentile(numpy_ms, 95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="products ingested (one chunk each)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000], help="collection sizes for retrieval")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    embedder = SentenceTransformerEmbedder(batch_size=64)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        ingest = bench_ingest(embedder, args.n, workdir)
        print(f"ingest   {args.n} chunks: {ingest['ingest']:.0f} chunks/s   raw encode: {ingest['raw']:.0f} texts/s"
              f"   ratio {ingest['ingest'] / ingest['raw']:.2f}x (target >= 0.90x)")
        base_texts = [product_text(normalize(p)) for p in synthetic_products(2000, seed=7)]
        base = np.asarray(embedder.embed_documents(base_texts), dtype=np.float32)
        for size in args.sizes:
            r = bench_retrieval(embedder, size, base, workdir, args.queries)
            print(f"retrieve {size:>7} chunks: p50 {r['p50']:.2f} ms  p95 {r['p95']:.2f} ms   "
                  f"numpy brute force: p50 {r['np50']:.2f} ms  p95 {r['np95']:.2f} ms   "
                  f"ratio p50 {r['p50'] / max(r['np50'], 1e-6):.1f}x")
    print(f"summary: ingest {ingest['ingest'] / ingest['raw']:.2f}x raw encode; "
          f"retrieval measured at {', '.join(str(s) for s in args.sizes)} chunks")


if __name__ == "__main__":
    main()
