"""Insights for reviewers: what shoppers were unhappy with or left without an answer, grouped into themes, and the
questions the shop's documents do not answer (knowledge gaps).

Why: the thumbs-down turns, the hand-over reasons, the review labels and the "I don't know" replies are each
visible on their own (log review, analytics), but nobody reads them together. This service reads all four
(``assistant.store.insight_queries``), embeds the shoppers' messages with the project's embedder (the same one
the knowledge base uses) and groups them (``theme_clusters``): each theme has a representative question (the
one nearest the theme's centroid), counts per signal and per hand-over reason / label, and a count per week.

A *knowledge gap* is a declined question whose best policy or product passage scores below ``gap_score``
(cosine, as retrieval scores it): the shop's documents do not answer it, so a person can add a policy paragraph
and re-ingest (``REINGEST_HINT``). Declined questions the documents do answer are not gaps (the assistant failed
for another reason: the verifier, a failed tool); they stay in the themes.

The ``concierge insights`` command, ``GET /api/v1/analytics/insights`` and the staff page's insights view all
call :meth:`Insights.report`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from assistant.errors import StoreError, ValidationError
from assistant.staff.theme_clusters import MAX_TEXTS, cluster_texts
from assistant.store.analytics_queries import checked_period
from assistant.store.insight_queries import SIGNALS, InsightStore, SignalRow

if TYPE_CHECKING:
    from assistant.components import Components
    from knowledge.embeddings import Embedder
    from knowledge.knowledge_store import KnowledgeStore

#: the period when none is given: the 12 weeks ending today
DEFAULT_DAYS = 84
MAX_DAYS = 3660
#: the lowest average cosine similarity inside a theme. Measured with the bundled embedder
#: (tests/integration/test_insights_embedder.py): paraphrases of one complaint average 0.41-0.63 among themselves,
#: complaints about different things 0.09-0.26
DEFAULT_THRESHOLD = 0.35
#: a declined question whose nearest policy or product passage scores below this is a knowledge gap. Measured with the
#: bundled embedder: questions a passage answers score 0.46-0.68 against it, questions none answers 0.05-0.33
DEFAULT_GAP_SCORE = 0.4
#: example turns kept per theme and per gap
EXAMPLES = 5
SIGNAL_NAMES = {"thumbs_down": "thumbs down", "handover": "hand-over", "label": "review label",
                "declined": "declined"}
REINGEST_HINT = ("To close a gap, add a paragraph that answers it to a policy document in the shop folder "
                 "(policies/), then re-ingest: `concierge import policies <shop folder>/policies` "
                 "(or `concierge ingest <shop folder>`).")

#: ``progress(step, done, total)``: long work reports how far it got
Progress = Callable[[str, int, int], None]
#: the best retrieval score of a question over the shop's documents, and what scored it (a title or name)
Probe = Callable[[str], tuple[float, str | None]]


@dataclass(frozen=True)
class InsightTurn:
    """One flagged turn: the shopper's message as logged (redacted), the signals and their details."""

    turn_id: str
    session_id: str
    created_at: datetime
    message: str
    signals: tuple[str, ...]
    details: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"turn_id": self.turn_id, "session_id": self.session_id, "created_at": self.created_at.isoformat(),
                "message": self.message, "signals": list(self.signals), "details": list(self.details)}


@dataclass(frozen=True)
class Theme:
    """Turns whose messages read alike, with the one nearest their centroid."""

    representative: str
    turns: int
    counts: dict[str, int]
    details: dict[str, int]
    weekly: list[tuple[str, int]]
    examples: tuple[InsightTurn, ...]

    def to_dict(self) -> dict[str, object]:
        return {"representative": self.representative, "turns": self.turns, "counts": self.counts,
                "details": self.details, "weekly": [{"week": w, "count": c} for w, c in self.weekly],
                "examples": [e.to_dict() for e in self.examples]}


@dataclass(frozen=True)
class KnowledgeGap:
    """Declined questions alike, none of which the shop's documents answer (best score below the threshold)."""

    question: str
    turns: int
    best_score: float
    nearest: str | None
    examples: tuple[InsightTurn, ...]

    def to_dict(self) -> dict[str, object]:
        return {"question": self.question, "turns": self.turns, "best_score": round(self.best_score, 4),
                "nearest": self.nearest, "examples": [e.to_dict() for e in self.examples]}


@dataclass(frozen=True)
class InsightReport:
    start: date
    end: date
    threshold: float
    gap_score: float
    turns: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    themes: list[Theme] = field(default_factory=list)
    gaps: list[KnowledgeGap] = field(default_factory=list)
    message: str = ""

    @property
    def hint(self) -> str:
        return REINGEST_HINT if self.gaps else ""

    def to_dict(self) -> dict[str, object]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "threshold": self.threshold,
                "gap_score": self.gap_score, "turns": self.turns, "counts": self.counts,
                "themes": [t.to_dict() for t in self.themes], "gaps": [g.to_dict() for g in self.gaps],
                "message": self.message, "hint": self.hint}


def knowledge_probe(knowledge: KnowledgeStore) -> Probe:
    """The best policy or product passage for a question, as retrieval scores it (cosine of meaning)."""
    from knowledge.knowledge_store import KnowledgeUnavailable

    def probe(text: str) -> tuple[float, str | None]:
        best, nearest = -1.0, None
        for kind in ("policies", "products"):
            try:
                hits = knowledge.search(text, kind, 1)
            except KnowledgeUnavailable as e:
                raise StoreError(f"searching the knowledge base for insights failed: {e}",
                                 user_message="The knowledge base could not be searched; check that Chroma is "
                                 "reachable (knowledge.mode, knowledge.server_url) and retry.") from e
            for hit in hits:
                if hit.score > best:
                    c = hit.citation
                    best, nearest = hit.score, str(c.get("title") or c.get("name") or c.get("source") or hit.id)
        return best, nearest
    return probe


def _key(text: str) -> str:
    """Messages that differ only in case and spacing are one text (embedded once, weighted by count)."""
    return re.sub(r"\s+", " ", text.strip().lower())


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def merge_signals(rows: Sequence[SignalRow]) -> list[InsightTurn]:
    """One turn per id, with every signal that flagged it (in ``SIGNALS`` order), newest first."""
    by_turn: dict[str, list[SignalRow]] = {}
    for row in rows:
        by_turn.setdefault(row.turn_id, []).append(row)
    turns = []
    for found in by_turn.values():
        first = found[0]
        signals = tuple(s for s in SIGNALS if any(r.signal == s for r in found))
        details = tuple(sorted({r.detail for r in found if r.detail and r.signal in ("handover", "label")}))
        turns.append(InsightTurn(first.turn_id, first.session_id, first.created_at, first.message, signals, details))
    return sorted(turns, key=lambda t: (t.created_at, t.turn_id), reverse=True)


class Insights:
    """``report(start, end)``: themes and knowledge gaps over whole UTC days (default: the last 12 weeks).

    Built from factories, so the store, the embedder (a model) and the knowledge base load on first use."""

    def __init__(self, store: Callable[[], InsightStore], embedder: Callable[[], Embedder],
                 probe: Callable[[], Probe] | None = None, today: Callable[[], date] | None = None,
                 limit: int = 2000) -> None:
        self._store = store
        self._embedder = embedder
        self._probe = probe
        self._today = today or (lambda: datetime.now(UTC).date())
        self.limit = limit

    def period(self, start: date | None = None, end: date | None = None) -> tuple[date, date]:
        last = end or self._today()
        first = start or last - timedelta(days=DEFAULT_DAYS - 1)
        return checked_period(first, last, MAX_DAYS)

    def report(self, start: date | None = None, end: date | None = None, *, threshold: float = DEFAULT_THRESHOLD,
               gap_score: float = DEFAULT_GAP_SCORE, progress: Progress | None = None) -> InsightReport:
        """Themes (largest first) and knowledge gaps (most asked first) of the period's flagged turns."""
        if not -1.0 <= threshold <= 1.0 or not -1.0 <= gap_score <= 1.0:
            raise ValidationError(f"threshold {threshold}, gap score {gap_score}",
                                  user_message="The threshold and the gap score are cosine similarities "
                                  "between -1 and 1.")
        first, last = self.period(start, end)
        since = datetime.combine(first, time(), tzinfo=UTC)
        rows = self._store().signals(since, since + timedelta(days=(last - first).days + 1), self.limit)
        turns = merge_signals(rows)
        if not turns:
            return InsightReport(first, last, threshold, gap_score, counts=dict.fromkeys(SIGNALS, 0), message=(
                f"No thumbs-down turns, hand-overs, problem labels or declined questions between {first} and "
                f"{last}: there is nothing to group. Choose a longer period, or come back when shoppers have "
                "used the chat."))
        texts, groups = self._distinct(turns)
        vectors = self._embed(texts, progress)
        themes = [self._theme(texts[c.representative], [t for i in c.members for t in groups[texts[i]]],
                              first, last)
                  for c in cluster_texts(vectors, threshold, [len(groups[t]) for t in texts])]
        gaps = self._gaps(texts, vectors, groups, threshold, gap_score, progress)
        counts = Counter(s for t in turns for s in t.signals)
        return InsightReport(first, last, threshold, gap_score, len(turns), {s: counts[s] for s in SIGNALS},
                             themes, gaps, message=(
                                 f"{len(turns)} flagged turns between {first} and {last} in {len(themes)} themes; "
                                 f"{len(gaps)} knowledge gaps."))

    def _distinct(self, turns: list[InsightTurn]) -> tuple[list[str], dict[str, list[InsightTurn]]]:
        """The distinct messages (the newest ``MAX_TEXTS``), each with its turns; keyed by the first spelling."""
        by_key: dict[str, list[InsightTurn]] = {}
        for t in turns:
            if len(by_key) < MAX_TEXTS or _key(t.message) in by_key:
                by_key.setdefault(_key(t.message), []).append(t)
        groups = {found[0].message: found for found in by_key.values()}
        return list(groups), groups

    def _embed(self, texts: list[str], progress: Progress | None) -> list[list[float]]:
        embedder = self._embedder()
        vectors: list[list[float]] = []
        step = max(embedder.batch_size, 1)
        for at in range(0, len(texts), step):
            vectors.extend(embedder.embed_documents(texts[at:at + step]))
            if progress:
                progress("embedding messages", len(vectors), len(texts))
        return vectors

    def _theme(self, representative: str, members: list[InsightTurn], first: date, last: date) -> Theme:
        members = sorted(members, key=lambda t: (t.created_at, t.turn_id), reverse=True)
        counts = Counter(s for t in members for s in t.signals)
        details = Counter(d for t in members for d in t.details)
        per_week = Counter(_week(t.created_at.astimezone(UTC).date()) for t in members)
        weeks, week = [], _week(first)
        while week <= last:
            weeks.append((week.isoformat(), per_week.get(week, 0)))
            week += timedelta(days=7)
        return Theme(representative, len(members), {s: counts[s] for s in SIGNALS},
                     dict(sorted(details.items(), key=lambda kv: (-kv[1], kv[0]))), weeks, tuple(members[:EXAMPLES]))

    def _gaps(self, texts: list[str], vectors: list[list[float]], groups: dict[str, list[InsightTurn]],
              threshold: float, gap_score: float, progress: Progress | None) -> list[KnowledgeGap]:
        """Declined questions the documents do not answer, grouped like the themes."""
        if self._probe is None:
            return []
        declined = [i for i, t in enumerate(texts) if any("declined" in turn.signals for turn in groups[t])]
        probe = self._probe() if declined else None
        scored: list[tuple[int, float, str | None]] = []
        for n, i in enumerate(declined, start=1):
            assert probe is not None
            score, nearest = probe(texts[i])
            if score < gap_score:
                scored.append((i, score, nearest))
            if progress:
                progress("checking the shop's documents", n, len(declined))
        gaps = []
        for c in cluster_texts([vectors[i] for i, _, _ in scored], threshold,
                               [len(groups[texts[i]]) for i, _, _ in scored]):
            best = max((scored[m] for m in c.members), key=lambda s: s[1])
            members = sorted((t for m in c.members for t in groups[texts[scored[m][0]]] if "declined" in t.signals),
                             key=lambda t: (t.created_at, t.turn_id), reverse=True)
            gaps.append(KnowledgeGap(texts[scored[c.representative][0]], len(members), best[1], best[2],
                                     tuple(members[:EXAMPLES])))
        return sorted(gaps, key=lambda g: (-g.turns, g.question))


def build_insights(components: Components) -> Insights:
    """The service over the app's store, embedder and knowledge base (each built on first use)."""
    def store() -> InsightStore:
        from assistant.store.db import session_factory

        return InsightStore(session_factory(components.stores.engine))

    return Insights(store, lambda: components.embedder, lambda: knowledge_probe(components.knowledge))
