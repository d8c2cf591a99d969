"""``BanditStore``: the offer bandit's counts per (segment, offer), shared by every app replica.

Counts change only by atomic increments (``INSERT ... ON CONFLICT DO UPDATE SET n = n + 1`` on SQLite
and PostgreSQL), never by read-modify-write in the app, so concurrent turns on several replicas add up.
Feedback is recorded as an event in the same transaction as its increments, and at most once per kind
and per showing of an offer: a second ``accepted`` for the same showing changes nothing.

The contextual policy's counts (``assistant.personalization.contextual_bandit``) share the table: rows whose
segment is ``linucb|<feature>|<feature>`` count showings with both features on (``shown``) and, on the
diagonal, their conversions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Integer, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from assistant.errors import NotFoundError, ValidationError
from assistant.personalization.contextual_bandit import (
    KEY_PREFIX,
    LinearArmStats,
    feature_pairs,
    pair_key,
    parse_pair_key,
)
from assistant.personalization.off_policy import LoggedOffer, logged_offer
from assistant.personalization.offer_bandit import CONVERSION_KINDS, FEEDBACK_KINDS, ArmStats
from assistant.records import EventRecord
from assistant.store import models as m
from assistant.store.clock import Clock, SystemClock
from assistant.store.columns import UTCDateTime
from assistant.store.db import read, write
from assistant.store.events import event_row
from assistant.store.models import Base

COUNTERS = ("shown", "clicked", "accepted", "redeemed", "conversions")


class BanditArmRow(Base):
    """Feedback counts of one offer in one segment (see ``assistant.personalization.offer_bandit``)."""

    __tablename__ = "bandit_arms"

    segment: Mapped[str] = mapped_column(String(200), primary_key=True)
    offer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    shown: Mapped[int] = mapped_column(Integer, default=0)
    clicked: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    redeemed: Mapped[int] = mapped_column(Integer, default=0)
    conversions: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class FeedbackOutcome:
    """What a feedback call did: ``recorded`` False means it was a repeat and changed nothing."""

    offer_id: str
    kind: str
    recorded: bool
    converted: bool
    shown_event_id: int
    segment: str | None
    event_id: int | None = None


def _stats(row: BanditArmRow) -> ArmStats:
    return ArmStats(row.shown, row.clicked, row.accepted, row.redeemed, row.conversions)


class BanditStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()

    # reading ------------------------------------------------------------------------------------
    def stats(self, segment: str, offer_ids: Sequence[str]) -> dict[str, ArmStats]:
        """Counts of the given offers in ``segment``; offers never shown there are left out."""
        with read(self._sessions, f"reading bandit counts of {segment}") as session:
            rows = session.scalars(select(BanditArmRow).where(
                BanditArmRow.segment == segment, BanditArmRow.offer_id.in_(list(offer_ids))))
            return {r.offer_id: _stats(r) for r in rows}

    def all(self) -> dict[tuple[str, str], ArmStats]:
        """Every arm, keyed by (segment, offer id) (the contextual policy's ``linucb|...`` rows too)."""
        with read(self._sessions, "reading bandit counts") as session:
            rows = session.scalars(select(BanditArmRow).order_by(BanditArmRow.segment, BanditArmRow.offer_id))
            return {(r.segment, r.offer_id): _stats(r) for r in rows}

    # writing ------------------------------------------------------------------------------------
    def _increment(self, session: Session, segment: str, offer_id: str, **counts: int) -> None:
        """Atomically add ``counts`` to an arm, creating it at zero first; no counts: lock the row only."""
        table = cast(Table, BanditArmRow.__table__)
        now = self._clock.now()
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        values: dict[str, Any] = {c: counts.get(c, 0) for c in COUNTERS}
        stmt = insert(table).values(segment=segment, offer_id=offer_id, updated_at=now, **values)
        changes: dict[str, Any] = {c: table.c[c] + n for c, n in counts.items()}
        changes["updated_at"] = now if counts else table.c.updated_at
        session.execute(stmt.on_conflict_do_update(index_elements=["segment", "offer_id"], set_=changes))

    def linear_stats(self, offer_ids: Sequence[str]) -> dict[str, LinearArmStats]:
        """The contextual policy's counts of the given offers (rows keyed ``linucb|i|j``); offers never shown
        are left out."""
        together: dict[str, dict[tuple[str, str], int]] = {}
        converted: dict[str, dict[str, int]] = {}
        with read(self._sessions, "reading the contextual bandit's counts") as session:
            rows = session.scalars(select(BanditArmRow).where(
                BanditArmRow.segment.startswith(KEY_PREFIX, autoescape=True),
                BanditArmRow.offer_id.in_(list(offer_ids))))
            for r in rows:
                pair = parse_pair_key(r.segment)
                if pair is None:
                    continue
                together.setdefault(r.offer_id, {})[pair] = r.shown
                if pair[0] == pair[1] and r.conversions:
                    converted.setdefault(r.offer_id, {})[pair[0]] = r.conversions
        return {o: LinearArmStats(t, converted.get(o, {})) for o, t in together.items()}

    def logged_offers(self) -> list[LoggedOffer]:
        """Every showing of an offer (``offer_shown`` events, oldest first) with its logged propensity, policy,
        features and eligible offers, and whether it converted: the log off-policy evaluation reads."""
        kinds = ["offer_shown", *(f"offer_{k}" for k in CONVERSION_KINDS)]
        with read(self._sessions, "reading the logged offers") as session:
            rows = list(session.scalars(select(m.EventRow).where(m.EventRow.kind.in_(kinds)).order_by(m.EventRow.id)))
            converted = {r.payload.get("shown_event_id") for r in rows if r.kind != "offer_shown"}
            return [logged_offer(r.id, r.payload, r.id in converted, r.created_at) for r in rows
                    if r.kind == "offer_shown"]

    def record_shown(self, segment: str, offer_id: str, features: Sequence[str] = ()) -> None:
        """One showing: the segment's ``shown`` count, and with the shopper's ``features`` the contextual
        policy's counts of every pair of them (in key order, so concurrent showings lock rows alike)."""
        with write(self._sessions, f"counting offer {offer_id} as shown") as session:
            self._increment(session, segment, offer_id, shown=1)
            for key in sorted(pair_key(i, j) for i, j in feature_pairs(features)):
                self._increment(session, key, offer_id, shown=1)

    def record_feedback(self, customer_id: str, offer_id: str, kind: str,
                        order_id: str | None = None) -> FeedbackOutcome:
        """Feedback on the latest showing of ``offer_id`` to this shopper: an ``offer_<kind>`` event and
        the bandit's increments, in one transaction.

        Raises ``NotFoundError`` when the offer was never shown to this shopper (nothing changes).
        """
        if kind not in FEEDBACK_KINDS:
            raise ValidationError(f"unknown offer feedback {kind!r}",
                                  user_message=f"Feedback kind must be one of {', '.join(FEEDBACK_KINDS)}.")
        with write(self._sessions, f"recording {kind} feedback on offer {offer_id}") as session:
            shown = self._latest_showing(session, customer_id, offer_id)
            segment = shown.payload.get("segment")
            if segment:
                self._increment(session, str(segment), offer_id)  # lock the arm: feedback on it is serial
            earlier = {e.kind for e in session.scalars(select(m.EventRow).where(
                m.EventRow.customer_id == customer_id, m.EventRow.kind.in_([f"offer_{k}" for k in FEEDBACK_KINDS])))
                if e.payload.get("shown_event_id") == shown.id}
            if f"offer_{kind}" in earlier:
                return FeedbackOutcome(offer_id, kind, False, False, shown.id, segment)
            converted = kind in CONVERSION_KINDS and not earlier & {f"offer_{k}" for k in CONVERSION_KINDS}
            payload: dict[str, Any] = {"offer_id": offer_id, "code": shown.payload.get("code"),
                                       "shown_event_id": shown.id, "segment": segment}
            if order_id is not None:
                payload["order_id"] = order_id
            row = event_row(EventRecord(kind=f"offer_{kind}", payload=payload, customer_id=customer_id,
                                        session_id=shown.session_id, turn_id=shown.turn_id), self._clock)
            session.add(row)
            if segment:
                counts = {kind: 1, **({"conversions": 1} if converted else {})}
                self._increment(session, str(segment), offer_id, **counts)
            if converted:  # the contextual policy's b: a conversion for each feature the shopper had
                features = [str(f) for f in shown.payload.get("features") or []]
                for key in sorted(pair_key(f, f) for f in set(features)):
                    self._increment(session, key, offer_id, conversions=1)
            session.flush()
            return FeedbackOutcome(offer_id, kind, True, converted, shown.id, segment, row.id)

    @staticmethod
    def _latest_showing(session: Session, customer_id: str, offer_id: str) -> m.EventRow:
        rows = session.scalars(select(m.EventRow).where(m.EventRow.customer_id == customer_id,
                                                     m.EventRow.kind == "offer_shown")
                               .order_by(m.EventRow.created_at.desc(), m.EventRow.id.desc()))
        for row in rows:
            if str(row.payload.get("offer_id")) == offer_id:
                return row
        raise NotFoundError(
            f"offer {offer_id!r} was never shown to customer {customer_id!r}",
            user_message=f"The offer {offer_id!r} was never shown to you, so there is no feedback to record "
                         "on it. Feedback is taken only for offers shown in a conversation.")
