"""Policy retrieval recall@5, dense-only (before) against hybrid BM25 + dense (after), on Chinese and English.

    python bench/recall_zh.py            # the real bundled embedder, Chroma on disk in a temporary folder
    python bench/recall_zh.py -k 3 --show-misses

Each shop's policy documents are imported by the real importer (``knowledge.policy_import``) into Chroma on
disk, embedded with the bundled all-MiniLM-L6-v2; then every hand-written policy question of the eval is
searched twice through ``KnowledgeStore.search``: once with the policies searched by meaning only
(``hybrid=()``, what the store did before issue 15) and once with the store's default hybrid search (BM25 over
jieba-segmented words fused with the meaning ranking). Question sets:

- the Chinese demo shop's 38 policy questions (``knowledge/demo_zh/eval/policy-questions.jsonl``);
- the English demo shop's policy questions (``knowledge/demo/eval/policy-questions.jsonl``), for comparison;
- the Chinese policy questions asked of the English demo shop
  (``examples/eval/demo-zh-questions-on-english-shop.jsonl``, category ``policy``).

A question is *recalled at k* when one of the first k chunks holds its answer: one of its expected strings
(``expect`` and ``expect_one_of`` of the eval file, compared without spaces, case or thousands separators, and
amounts as values the way the eval scores replies: ``800.00`` is ``$800``)
inside a chunk of the document it names (``source`` = the document's title). *Document recall* only asks for a
chunk of that document. The figures and the after/before ratio are printed per set, and the mean search time
(the query's vector computed beforehand, so both searches are timed without the embedding).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant.evaluation.answer_scoring import contains  # noqa: E402
from knowledge.embeddings import build_embedder  # noqa: E402
from knowledge.knowledge_store import Hit, KnowledgeStore, build_chroma_client  # noqa: E402
from knowledge.policy_import import import_policies  # noqa: E402

SETS = (
    ("zh shop, zh questions", "knowledge/demo_zh/policies", "knowledge/demo_zh/eval/policy-questions.jsonl"),
    ("en shop, en questions", "knowledge/demo/policies", "knowledge/demo/eval/policy-questions.jsonl"),
    ("en shop, zh questions", "knowledge/demo/policies", "examples/eval/demo-zh-questions-on-english-shop.jsonl"),
)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    source: str
    answers: tuple[str, ...]


def squeeze(text: str) -> str:
    """Lower case, no white space, no thousands separators, straight quotes: how answers are found in chunks."""
    text = text.replace("\u2019", "'").replace("\u2013", "-").replace("\uff5e", "~")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    return re.sub(r"\s+", "", text).lower()


def load_questions(path: Path) -> list[Question]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        row = json.loads(line)
        if row.get("category", "policy") != "policy":
            continue
        answers = tuple(str(a) for a in (*row.get("expect", ()), *row.get("expect_one_of", ())))
        out.append(Question(str(row["id"]), str(row["question"]), str(row.get("source", "")), answers))
    return out


def recalled(question: Question, hits: Sequence[Hit], k: int, *, document_only: bool = False) -> bool:
    for hit in hits[:k]:
        if str(hit.metadata.get("title") or "") != question.source:
            continue
        if document_only or not question.answers:
            return True
        chunk = squeeze(hit.text)
        if any(squeeze(a) in chunk or contains(hit.text, a) for a in question.answers):
            return True
    return False


@dataclass
class Figures:
    name: str
    questions: int
    dense: float
    hybrid: float
    dense_doc: float
    hybrid_doc: float
    dense_ms: float
    hybrid_ms: float
    misses: list[str]
    turn_dense: float  # recall of what a turn keeps: the first ``turn_k`` hits at or above the relevance floor
    turn_hybrid: float


def measure(name: str, store_dense: KnowledgeStore, store_hybrid: KnowledgeStore, questions: list[Question],
            k: int, turn_k: int = 3, floor: float = 0.3) -> Figures:
    rows = {"dense": [0, 0, 0.0, 0], "hybrid": [0, 0, 0.0, 0]}
    misses = []
    for q in questions:
        store_dense.embedder.embed_query(q.text)  # both searches then use the cached vector: timings compare search
        for label, store in (("dense", store_dense), ("hybrid", store_hybrid)):
            started = time.perf_counter()
            hits = store.search(q.text, "policies", k)
            rows[label][2] += time.perf_counter() - started
            answer = recalled(q, hits, k)
            rows[label][0] += answer
            rows[label][1] += recalled(q, hits, k, document_only=True)
            kept = [h for h in hits[:turn_k] if h.score >= floor]
            rows[label][3] += recalled(q, kept, turn_k)
            if not answer:
                misses.append(f"  {label:<6} miss {q.id}: {q.text} (want {q.source}: {' | '.join(q.answers)}; got "
                              + ", ".join(f"{h.metadata.get('title')}#{h.metadata.get('position')}" for h in hits)
                              + ")")
    n = len(questions) or 1
    return Figures(name, len(questions), rows["dense"][0] / n, rows["hybrid"][0] / n, rows["dense"][1] / n,
                   rows["hybrid"][1] / n, 1000 * float(rows["dense"][2]) / n, 1000 * float(rows["hybrid"][2]) / n,
                   misses, rows["dense"][3] / n, rows["hybrid"][3] / n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", type=int, default=5, help="cut-off (default 5)")
    parser.add_argument("--show-misses", action="store_true", help="print every question not recalled")
    parser.add_argument("--turn-k", type=int, default=3, help="policy chunks a turn keeps (agent.policy_k: 3)")
    parser.add_argument("--floor", type=float, default=0.3,
                        help="relevance floor a turn applies to a hit's cosine (agent.min_relevance: 0.3)")
    args = parser.parse_args()
    started = time.perf_counter()
    embedder = build_embedder("bundled")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-recall-zh-") as tmp:
        client = build_chroma_client("persistent", Path(tmp) / "chroma")
        stores: dict[str, tuple[KnowledgeStore, KnowledgeStore]] = {}
        for name, policies, questions_file in SETS:
            if policies not in stores:
                prefix = f"s{len(stores)}_"
                hybrid = KnowledgeStore(client, embedder, prefix=prefix)  # the store's default: hybrid policies
                report = import_policies(hybrid, ROOT / policies, origin=f"{Path(policies).parent.name}/policies")
                if not report.ok:
                    print(f"import of {policies} failed: {report.summary()}", file=sys.stderr)
                    return 2
                stores[policies] = (KnowledgeStore(client, embedder, prefix=prefix, hybrid=()), hybrid)
                print(f"imported {policies}: {report.summary()}", file=sys.stderr)
            dense, hybrid = stores[policies]
            results.append(measure(name, dense, hybrid, load_questions(ROOT / questions_file), args.k, args.turn_k,
                                   args.floor))
    k = args.k
    print(f"\npolicy recall@{k}: the answer in one of the first {k} chunks (document recall@{k}: a chunk of the "
          f"right document); embedder {embedder.name}, Chroma on disk\n")
    print(f"| questions | n | recall@{k} dense (before) | recall@{k} hybrid (after) | after / before "
          f"| document recall@{k} before / after | what a turn keeps (first {args.turn_k}, cosine >= {args.floor}) "
          f"before / after | search ms before / after |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        ratio = f"{r.hybrid / r.dense:.2f}x" if r.dense else ("1.00x" if not r.hybrid else "inf")
        print(f"| {r.name} | {r.questions} | {r.dense:.3f} | {r.hybrid:.3f} | {ratio} | "
              f"{r.dense_doc:.3f} / {r.hybrid_doc:.3f} | {r.turn_dense:.3f} / {r.turn_hybrid:.3f} | "
              f"{r.dense_ms:.1f} / {r.hybrid_ms:.1f} |")
    if args.show_misses:
        for r in results:
            print(f"\n{r.name}:")
            print("\n".join(r.misses) or "  none")
    print("\nsummary: " + "; ".join(f"{r.name}: recall@{k} {r.dense:.3f} -> {r.hybrid:.3f}" for r in results)
          + f" [{time.perf_counter() - started:.0f} s]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
