"""``PurchaseStore``: every shopper's purchase lines in one read, for shop-wide signals.

The recommender's co-purchase counts and purchase popularity are computed over all customers' orders and the
purchases the shop reported only as events (``assistant.store.purchase_events``: an event that is a line of a
stored order is that order's line, not a second purchase). This is the one read that spans shoppers; what it
returns (customer id, product id, time) never reaches a shopper: only counts derived from it do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.store import models as m
from assistant.store.db import read
from assistant.store.purchase_events import PurchaseEventRow, unmatched

#: orders whose items count as bought (a cancelled order was never the shopper's)
NOT_BOUGHT = ("cancelled",)


@dataclass(frozen=True)
class PurchaseLine:
    customer_id: str
    order_id: str
    placed_at: datetime
    position: int
    product_id: str
    quantity: int


class PurchaseStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def lines(self) -> list[PurchaseLine]:
        """Every item of every order that was not cancelled, and every purchase event that is no line of a stored
        order (its order id, or ``event:<id>`` when it names none; position 0), oldest first (time, order id,
        position)."""
        with read(self._sessions, "reading all purchases") as session:
            rows = session.execute(
                select(m.OrderRow.customer_id, m.OrderRow.id, m.OrderRow.placed_at, m.OrderItemRow.position,
                       m.OrderItemRow.product_id, m.OrderItemRow.quantity)
                .join(m.OrderItemRow, m.OrderItemRow.order_id == m.OrderRow.id)
                .where(m.OrderRow.status.not_in(NOT_BOUGHT))
                .order_by(m.OrderRow.placed_at, m.OrderRow.id, m.OrderItemRow.position)
            ).all()
            found = [PurchaseLine(str(c), str(o), at, int(pos), str(p), int(q)) for c, o, at, pos, p, q in rows]
            events = session.execute(
                select(PurchaseEventRow.customer_id, PurchaseEventRow.order_id, PurchaseEventRow.id,
                       PurchaseEventRow.at, PurchaseEventRow.product_id, PurchaseEventRow.quantity)
                .where(unmatched())
            ).all()
        if not events:
            return found
        found += [PurchaseLine(str(c), str(o) if o else f"event:{e}", at, 0, str(p), int(q or 1))
                  for c, o, e, at, p, q in events]
        return sorted(found, key=lambda line: (line.placed_at, line.order_id, line.position))
