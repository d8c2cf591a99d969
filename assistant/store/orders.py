"""``OrderStore``: a shopper's orders. Every lookup is by (customer, order): never by order id alone."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.errors import NotFoundError, ValidationError
from assistant.store import models as m
from assistant.store.clock import Clock, SystemClock
from assistant.store.convert import order_from_row
from assistant.store.db import read, write
from assistant.store.types import ORDER_STATUSES, Order


class OrderStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()

    def list_for(self, customer_id: str) -> list[Order]:
        """The shopper's orders with their items, newest first."""
        with read(self._sessions, f"listing orders of {customer_id}") as session:
            orders = session.scalars(
                select(m.Order)
                .where(m.Order.customer_id == customer_id)
                .order_by(m.Order.placed_at.desc(), m.Order.id.desc())
            ).all()
            items: dict[str, list[m.OrderItem]] = defaultdict(list)
            for item in session.scalars(
                select(m.OrderItem)
                .join(m.Order, m.Order.id == m.OrderItem.order_id)
                .where(m.Order.customer_id == customer_id)
            ):
                items[item.order_id].append(item)
            return [order_from_row(order, items[order.id]) for order in orders]

    def get(self, customer_id: str, order_id: str) -> Order | None:
        """The order if it is this shopper's; None if it does not exist or belongs to someone else."""
        with read(self._sessions, f"reading order {order_id}") as session:
            row = self._owned(session, customer_id, order_id)
            if row is None:
                return None
            return order_from_row(row, self._items(session, order_id))

    def update_status(self, customer_id: str, order_id: str, status: str, note: str | None = None) -> Order:
        """Set a shopper's order status and append ``{at, status, action: "status", note}`` to its history.

        Raises ``NotFoundError`` when the order is not this shopper's, ``ValidationError`` for an
        unknown status. Moving to "delivered" sets ``delivered_at`` if it was empty.
        """
        if status not in ORDER_STATUSES:
            raise ValidationError(
                f"unknown order status {status!r}",
                user_message=f"Order status must be one of {', '.join(ORDER_STATUSES)}.",
            )
        now = self._clock.now()
        with write(self._sessions, f"updating order {order_id}") as session:
            row = self._owned(session, customer_id, order_id)
            if row is None:
                raise NotFoundError(
                    f"order {order_id!r} of customer {customer_id!r} not found",
                    user_message="No such order on this account; check the order number.",
                )
            row.history = [
                *(row.history or []),
                {"at": now.isoformat(), "status": status, "action": "status", "note": note},
            ]
            row.status = status
            row.updated_at = now
            if status == "delivered" and row.delivered_at is None:
                row.delivered_at = now
            session.flush()
            return order_from_row(row, self._items(session, order_id))

    @staticmethod
    def _owned(session: Session, customer_id: str, order_id: str) -> m.Order | None:
        return session.scalars(
            select(m.Order).where(m.Order.id == order_id, m.Order.customer_id == customer_id)
        ).one_or_none()

    @staticmethod
    def _items(session: Session, order_id: str) -> list[m.OrderItem]:
        return list(session.scalars(select(m.OrderItem).where(m.OrderItem.order_id == order_id)))
