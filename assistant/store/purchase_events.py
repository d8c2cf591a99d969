"""``PurchaseEventStore``: purchases the shop reported as events (``concierge import events``, ``POST /api/v1/events``).

Orders arrive with the customer import; a shop that reports purchases only as events would otherwise leave no
record of them, and a campaign's measured uplift and the recommender's purchase signals would miss them. Each
purchase event is kept once by its id (a re-import of the file or a replayed request adds nothing, and the first
report of an id wins), with its shopper, time, product, quantity, unit price, currency and, when the shop names it,
the order it belongs to. The rows belong to their shopper and are erased with them (``ON DELETE CASCADE``). Other
event kinds are not kept: views and searches are the bulk of a shop's events and only shape the profile, and
search and review text may hold personal data.

One purchase counts once (:func:`unmatched`, :func:`purchases`):

- an event whose ``order_id`` is an order in the store is a line of that order, and the order counts instead (its
  total, and its status: a cancelled order is no purchase), whenever the order was imported, before or after;
- events naming the same order that is not in the store are one purchase: the sum of their lines, at the
  earliest event's time;
- an event that names no order is a purchase of its own.

A line's amount is ``price × quantity`` (quantity 1 when absent); an event without a price is a purchase of
unknown amount: it converts its shopper and adds nothing to revenue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, ForeignKey, Index, Integer, String, Table, exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from assistant.store.clock import Clock, SystemClock
from assistant.store.columns import UTCDateTime
from assistant.store.db import read, write
from assistant.store.models import Base, Money, OrderRow

CHUNK = 500  # ids per statement: well under every backend's limit on bound parameters


class PurchaseEventRow(Base):
    """One purchase event as the shop reported it; ``id`` is the shop's event id."""

    __tablename__ = "purchase_events"
    __table_args__ = (Index("ix_purchase_events_customer_at", "customer_id", "at"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(128), ForeignKey("customers.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    product_id: Mapped[str] = mapped_column(String(128))
    quantity: Mapped[int | None] = mapped_column(Integer)
    price: Mapped[float | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    order_id: Mapped[str | None] = mapped_column(String(128), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class PurchaseEvent:
    """A purchase reported as an event: one product line, of an order when ``order_id`` names one."""

    id: str
    customer_id: str
    at: datetime
    product_id: str
    quantity: int | None = None
    price: float | None = None  # unit price in ``currency`` (None: the shop's currency)
    currency: str | None = None
    order_id: str | None = None

    @property
    def amount(self) -> float | None:
        """What the line cost (``price × quantity``), None when the event gave no price."""
        return None if self.price is None else self.price * (self.quantity or 1)


def unmatched() -> ColumnElement[bool]:
    """The purchase events that are not a line of an order in the store (the order counts for those)."""
    return or_(PurchaseEventRow.order_id.is_(None),
               ~exists(select(OrderRow.id).where(OrderRow.id == PurchaseEventRow.order_id)))


def purchases(events: Iterable[PurchaseEvent]) -> list[tuple[str, datetime, float]]:
    """``(customer_id, time, revenue)`` per purchase: the events of one order (per shopper) summed at the earliest
    event's time, an event without an order on its own; a line without a price adds 0."""
    grouped: dict[tuple[str, str], list[PurchaseEvent]] = {}
    for event in events:
        grouped.setdefault((event.customer_id, event.order_id or f"event:{event.id}"), []).append(event)
    return [(customer_id, min(e.at for e in lines), sum(e.amount or 0.0 for e in lines))
            for (customer_id, _), lines in grouped.items()]


def _event(row: PurchaseEventRow) -> PurchaseEvent:
    return PurchaseEvent(row.id, row.customer_id, row.at, row.product_id, row.quantity,
                         None if row.price is None else float(row.price), row.currency, row.order_id)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    return (values[i:i + CHUNK] for i in range(0, len(values), CHUNK))


class PurchaseEventStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()

    def add(self, events: Sequence[PurchaseEvent]) -> int:
        """Keep every purchase whose id is not kept yet, in one transaction; returns how many were new. An id kept
        before (or twice in ``events``) is left as first reported, also when two writers race for it."""
        first: dict[str, PurchaseEvent] = {}
        for event in events:
            first.setdefault(event.id, event)
        fresh = list(first.values())
        if not fresh:
            return 0
        table = cast(Table, PurchaseEventRow.__table__)
        now = self._clock.now()
        added = 0
        with write(self._sessions, f"recording {len(fresh)} purchase event(s)") as session:
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            for chunk in _chunks(fresh):
                kept = set(session.scalars(select(PurchaseEventRow.id)
                                           .where(PurchaseEventRow.id.in_([e.id for e in chunk]))))
                rows = [{"id": e.id, "customer_id": e.customer_id, "at": e.at, "product_id": e.product_id,
                         "quantity": e.quantity, "price": e.price, "currency": e.currency, "order_id": e.order_id,
                         "received_at": now} for e in chunk if e.id not in kept]
                if rows:
                    statement = insert(table).values(rows).on_conflict_do_nothing(index_elements=["id"])
                    added += len(session.scalars(statement.returning(table.c.id)).all())  # not a racer's ids
        return added

    def for_customers(self, customer_ids: Iterable[str], *, all_events: bool = False) -> list[PurchaseEvent]:
        """The kept purchase events of these shoppers, oldest first: those that are not lines of an order in the
        store (:func:`unmatched`), or every one with ``all_events``."""
        ids = sorted(set(customer_ids))
        found: list[PurchaseEvent] = []
        with read(self._sessions, "reading purchase events") as session:
            for chunk in _chunks(ids):
                query = select(PurchaseEventRow).where(PurchaseEventRow.customer_id.in_(chunk))
                if not all_events:
                    query = query.where(unmatched())
                found += [_event(r) for r in session.scalars(query)]
        return sorted(found, key=lambda e: (e.at, e.id))
