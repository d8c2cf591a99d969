"""Grouping texts into themes by meaning: average-linkage agglomerative clustering over cosine similarity.

Why this and not k-means: the number of themes is not known in advance, and a threshold on the average
similarity inside a theme ("these read alike") is a setting a person can reason about; average linkage does not
chain unrelated texts through one middling text as single linkage would. It is deterministic (ties go to the
lowest index), needs only numpy, and costs O(n^2) memory and O(n^3) time at worst: callers collapse identical
texts first (``weights``) and cap n (``MAX_TEXTS``); a thousand distinct texts take about a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: the most distinct texts clustered in one run (the newest are kept by the caller)
MAX_TEXTS = 1500


@dataclass(frozen=True)
class Cluster:
    """Indexes into the clustered texts, the total weight, and the index of the one nearest the centroid."""

    members: tuple[int, ...]
    weight: int
    representative: int


def _unit(vectors: Sequence[Sequence[float]]) -> np.ndarray:
    x = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def cluster_texts(vectors: Sequence[Sequence[float]], threshold: float,
                  weights: Sequence[int] | None = None) -> list[Cluster]:
    """Clusters of ``vectors`` (one per distinct text): the two clusters whose average pairwise cosine similarity
    is highest are merged while it is at least ``threshold``. ``weights``: how many times each text occurred (the
    averages count every occurrence). Largest clusters first, then by their first member."""
    n = len(vectors)
    if n == 0:
        return []
    if len(vectors) > MAX_TEXTS:
        raise ValueError(f"{n} texts: cluster at most {MAX_TEXTS} at once")
    x = _unit(vectors)
    counts = np.asarray(weights if weights is not None else [1] * n, dtype=np.float64)
    size = counts.copy()
    similarity = x @ x.T
    np.fill_diagonal(similarity, -np.inf)
    members: list[list[int]] = [[i] for i in range(n)]
    while n > 1:
        i, j = divmod(int(np.argmax(similarity)), n)
        if similarity[i, j] < threshold:
            break
        i, j = min(i, j), max(i, j)
        merged = (size[i] * similarity[i] + size[j] * similarity[j]) / (size[i] + size[j])  # Lance-Williams
        similarity[i, :] = merged
        similarity[:, i] = merged
        similarity[i, i] = -np.inf
        similarity[j, :] = -np.inf
        similarity[:, j] = -np.inf
        size[i] += size[j]
        members[i].extend(members[j])
        members[j] = []
    out = []
    for group in (sorted(g) for g in members if g):
        w = counts[group]
        centroid = (x[group] * w[:, None]).sum(axis=0)
        nearest = group[int(np.argmax(x[group] @ centroid))]
        out.append(Cluster(tuple(group), int(round(float(w.sum()))), nearest))
    return sorted(out, key=lambda c: (-c.weight, c.members[0]))
