"""Writing a batch profile build's affinities as inferred preferences, many shoppers per transaction.

The rules are the profile store's (``CustomerStore.add_preference``), applied in bulk: nothing for a
shopper who is not in the store or has no personalization consent; a preference the shopper removed (a
tombstone) is never written again; an explicit one of the same kind and value wins and is left alone.
An inferred one gets the higher of its confidence now (after decay) and the build's, as of now, so
running the same build twice changes nothing the second time (the build is over the whole event
history: it does not add up with itself like repeated chat evidence).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.personalization.tastes import effective_confidence
from assistant.store import models as m
from assistant.store.clock import Clock, SystemClock
from assistant.store.convert import consent_from_rows, preference_from_row
from assistant.store.db import session_factory, write


@dataclass(frozen=True)
class Affinity:
    """One row of a build: a shopper's affinity to a category or brand, and the latest event behind it."""

    customer_id: str
    kind: str
    value: str
    confidence: float
    last_event: str


@dataclass
class AffinityWriteCounts:
    written: int = 0  # added or raised
    unchanged: int = 0  # already at least as confident
    refused: int = 0  # removed by the shopper, or stated explicitly
    unknown_customers: int = 0
    no_consent: int = 0


class AffinityWriter:
    """Writes build results; ``chunk`` shoppers per transaction."""

    def __init__(self, engine: Engine, half_life_days: float, clock: Clock | None = None, chunk: int = 500) -> None:
        self._sessions: sessionmaker[Session] = session_factory(engine)
        self._clock, self._half_life, self._chunk = clock or SystemClock(), half_life_days, chunk

    def write(self, rows: Iterable[Affinity], progress: Callable[[int], None] | None = None) -> AffinityWriteCounts:
        """``rows`` must come grouped by shopper (the build orders them so)."""
        counts = AffinityWriteCounts()
        done = 0
        for chunk in _chunks(groupby(rows, key=lambda r: r.customer_id), self._chunk):
            with write(self._sessions, "writing built profiles") as session:
                self._chunk_of(session, dict(chunk), counts)
            done += len(chunk)
            if progress is not None:
                progress(done)
        return counts

    def _chunk_of(self, session: Session, chunk: dict[str, list[Affinity]], counts: AffinityWriteCounts) -> None:
        """One transaction: three reads for the whole chunk (shoppers, consent, preferences), then the inserts
        in one statement and the raised confidences row by row."""
        ids = list(chunk)
        known = set(session.scalars(select(m.CustomerRow.id).where(m.CustomerRow.id.in_(ids))))
        consents: dict[str, list[m.ConsentRow]] = {}
        for consent in session.scalars(select(m.ConsentRow).where(m.ConsentRow.customer_id.in_(ids))):
            consents.setdefault(consent.customer_id, []).append(consent)
        existing: dict[tuple[str, str, str], list[m.PreferenceRow]] = {}
        for row in session.scalars(select(m.PreferenceRow).where(m.PreferenceRow.customer_id.in_(ids))):
            existing.setdefault((row.customer_id, row.kind, row.value.casefold()), []).append(row)
        now = self._clock.now()
        new: list[dict[str, object]] = []
        for customer_id, items in chunk.items():
            if customer_id not in known:
                counts.unknown_customers += 1
                continue
            if not consent_from_rows(consents.get(customer_id, [])).personalization:
                counts.no_consent += 1
                continue
            for item in items:
                key = (customer_id, item.kind, item.value.casefold())
                if key in existing and not existing[key]:
                    counts.unchanged += 1  # added a moment ago under another spelling
                    continue
                same = existing.get(key, [])
                if any(r.removed_at is not None or r.origin == "explicit" for r in same):
                    counts.refused += 1
                    continue
                wanted = round(min(max(item.confidence, 0.0), 1.0), 4)
                source = f"event:{item.last_event}"[:128]
                if not same:
                    existing[key] = []  # "Acme" and "acme": once
                    new.append({"customer_id": customer_id, "kind": item.kind, "value": item.value,
                                "origin": "inferred", "source": source, "confidence": wanted, "evidence_count": 1,
                                "created_at": now, "updated_at": now})
                    counts.written += 1
                    continue
                row = same[0]
                if wanted <= effective_confidence(preference_from_row(row), now, self._half_life) + 1e-4:
                    counts.unchanged += 1
                    continue
                row.confidence, row.updated_at, row.source = wanted, now, source
                counts.written += 1
        if new:
            session.execute(insert(m.PreferenceRow), new)
        session.flush()


def _chunks(groups: Iterator[tuple[str, Iterator[Affinity]]],
            size: int) -> Iterator[list[tuple[str, list[Affinity]]]]:
    chunk: list[tuple[str, list[Affinity]]] = []
    for customer_id, items in groups:
        chunk.append((customer_id, list(items)))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
