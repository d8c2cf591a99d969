"""The lexical half of hybrid search: BM25 over the words of each stored document, kept in step with the
store (documents added, changed and deleted as they are written; rebuilt from Chroma when another process
changed the collection).

Words: Latin letters and digits as lower-case words (a plural "s" folded: "exchanges" = "exchange"), and runs of
Chinese characters cut into words by jieba (a kept segmenter, loaded only when Chinese text is seen), so
"退货期限为30天" is found by "退货". Names and SKUs (a product name, an id) are found by their exact words,
where meaning alone is vague.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN = re.compile(r"[a-z0-9]+")
_STOP = frozenset("""a an the of to in on at for with by from and or is are was were be been it its this that these
those i you we they he she my your our their me us them do does did can could will would should may might must
have has had what which who how when where why if then than so not no yes any some all each""".split())
_CJK_STOP = frozenset("的 了 是 在 我 你 他 她 吗 呢 吧 啊 和 与 或 也 都 就 而 及 之 为 把 被 给 让 请 要 会 能 可以 "
                       "怎么 什么 如何 哪里".split())
K1, B = 1.5, 0.75


def _fold(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def stem(word: str) -> str:
    """A light suffix stripper, the same on both sides of a comparison ("deliveries", "delivered" -> "deliver")."""
    if word[:1].isdigit():
        return _number(word)
    for _ in range(3):
        for suffix, repl in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""),
                             ("ly", ""), ("y", "")):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: len(word) - len(suffix)] + repl
                break
        else:
            return word
    return word


def _number(token: str) -> str:
    try:
        value = float(token.replace(",", ""))
    except ValueError:
        return token
    return f"{value:g}"


_jieba_lock = threading.Lock()
_jieba: object | None = None


def _segment(run: str, search: bool = True) -> list[str]:
    global _jieba
    with _jieba_lock:
        if _jieba is None:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            _jieba = jieba
    cut = _jieba.cut_for_search if search else _jieba.cut  # type: ignore[union-attr]
    return [w for w in cut(run) if w.strip()]


def cjk_words(text: str, search: bool = True) -> list[str]:
    """The Chinese words of ``text`` (segmented runs of Chinese characters), stop words left out; ``search``: a
    long word also by the shorter words inside it (as the index counts them), else each once, in order."""
    return [w for run in _CJK.findall(text) for w in _segment(run, search) if w not in _CJK_STOP]


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def words(text: str) -> list[str]:
    """The words BM25 counts: folded Latin words and segmented Chinese words, stop words left out."""
    out: list[str] = []
    lowered = text.lower()
    for w in _LATIN.findall(_CJK.sub(" ", lowered)):
        if w not in _STOP:
            out.append(_fold(w))
    out.extend(cjk_words(lowered))
    return out


class LexicalIndex:
    """BM25 over a set of documents, updated one document at a time."""

    def __init__(self) -> None:
        self._docs: dict[str, Counter[str]] = {}
        self._lengths: dict[str, int] = {}
        self._df: Counter[str] = Counter()
        self._total = 0
        self._cjk: set[str] = set()  # the documents holding Chinese words
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    @property
    def cjk_share(self) -> float:
        """The share of the documents that hold Chinese words (0 when there are none)."""
        return len(self._cjk) / len(self._docs) if self._docs else 0.0

    def knows(self, word: str) -> bool:
        """Whether a document holds ``word`` (as :func:`words` counts it)."""
        return self._df.get(word, 0) > 0

    def vocabulary(self) -> list[str]:
        """Every word a document holds (as :func:`words` counts them)."""
        with self._lock:
            return list(self._df)

    def add(self, items: Iterable[tuple[str, str]]) -> None:
        """Add or replace documents (id, text)."""
        with self._lock:
            for doc_id, text in items:
                self._remove(doc_id)
                counts = Counter(words(text))
                self._docs[doc_id] = counts
                self._lengths[doc_id] = sum(counts.values())
                self._total += self._lengths[doc_id]
                self._df.update(counts.keys())
                if any(has_cjk(w) for w in counts):
                    self._cjk.add(doc_id)

    def remove(self, ids: Iterable[str]) -> None:
        with self._lock:
            for doc_id in ids:
                self._remove(doc_id)

    def _remove(self, doc_id: str) -> None:
        counts = self._docs.pop(doc_id, None)
        if counts is None:
            return
        self._total -= self._lengths.pop(doc_id, 0)
        self._cjk.discard(doc_id)
        self._df.subtract(counts.keys())
        for w in counts:
            if self._df[w] <= 0:
                del self._df[w]

    def search(self, query: str, k: int, allowed: Mapping[str, object] | None = None) -> list[tuple[str, float]]:
        """The ``k`` documents with the highest BM25 score for ``query`` (only ids in ``allowed`` when given),
        best first; documents sharing no word are left out."""
        return self.search_groups([{w: 1.0} for w in dict.fromkeys(words(query))], k, allowed)

    def search_groups(self, groups: Sequence[Mapping[str, float]], k: int,
                      allowed: Mapping[str, object] | None = None) -> list[tuple[str, float]]:
        """As :meth:`search`, for a query given as groups of words with weights, each group one thing asked for
        in other words (a Chinese word's English translations): a document scores a group by its best-scoring
        word, times that word's weight, so a thing said many ways counts once."""
        with self._lock:
            n = len(self._docs)
            if not n or not groups:
                return []
            average = self._total / n or 1.0
            asked = {w for group in groups for w in group if self._df.get(w)}
            idf = {w: math.log(1 + (n - self._df[w] + 0.5) / (self._df[w] + 0.5)) for w in asked}
            scores: list[tuple[str, float]] = []
            for doc_id, counts in self._docs.items():
                if allowed is not None and doc_id not in allowed:
                    continue
                norm = K1 * (1 - B + B * self._lengths[doc_id] / average)
                score = 0.0
                for group in groups:
                    best = 0.0
                    for w, weight in group.items():
                        tf = counts.get(w, 0)
                        if tf:
                            best = max(best, weight * idf[w] * tf * (K1 + 1) / (tf + norm))
                    score += best
                if score > 0:
                    scores.append((doc_id, score))
        scores.sort(key=lambda s: (-s[1], s[0]))
        return scores[:k]


def fuse(rankings: Iterable[list[str]], k: int, constant: int = 60, weights: Iterable[float] = ()) -> list[str]:
    """Reciprocal rank fusion: ids ranked by the sum of weight / (constant + rank) over the rankings (weight 1
    for rankings without one)."""
    scores: dict[str, float] = {}
    given = list(weights)
    for n, ranking in enumerate(rankings):
        weight = given[n] if n < len(given) else 1.0
        for rank, doc_id in enumerate(ranking):
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (constant + rank + 1)
    return sorted(scores, key=lambda d: (-scores[d], d))[:k]
