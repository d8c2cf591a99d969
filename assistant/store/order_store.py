"""``OrderStore``: a shopper's orders. Every lookup is by (customer, order): never by order id alone.

Changes lock the order row first (PostgreSQL: ``SELECT ... FOR UPDATE``; SQLite: the database write lock,
taken at the start of the transaction), so a status change racing a shopper's action is applied after it,
never over it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.errors import ConflictError, NotFoundError, ValidationError
from assistant.records import ORDER_STATUSES, Order
from assistant.store import models as m
from assistant.store.clock import Clock, SystemClock
from assistant.store.columns import require_json
from assistant.store.convert import order_from_row
from assistant.store.db import read, write


@dataclass(frozen=True)
class OrderChange:
    """A shopper's action on one order, applied by :meth:`OrderStore.apply_change` in one transaction.

    ``allowed_statuses`` and ``allowed_item_statuses`` are re-checked under the row lock: when the order
    (or an item to change) moved on meanwhile, nothing is written and ``ConflictError`` is raised.
    ``action_id`` makes the change idempotent: applying the same id again changes nothing.
    """

    action_id: str
    action: str
    allowed_statuses: tuple[str, ...]
    status: str | None = None  # the order's new status; None keeps it
    item_statuses: Mapping[int, str] = field(default_factory=dict)  # item position -> new item status
    allowed_item_statuses: tuple[str, ...] = ("ordered",)
    payment: Mapping[str, Any] | None = None  # appended to the order's payments
    shipping_address: Mapping[str, Any] | None = None
    note: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)  # more fields for the history entry


@dataclass(frozen=True)
class AppliedChange:
    order: Order
    applied: bool  # False: this action_id had been applied before, nothing changed now


class OrderStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()

    def list_for(self, customer_id: str) -> list[Order]:
        """The shopper's orders with their items, newest first."""
        with read(self._sessions, f"listing orders of {customer_id}") as session:
            orders = session.scalars(
                select(m.OrderRow)
                .where(m.OrderRow.customer_id == customer_id)
                .order_by(m.OrderRow.placed_at.desc(), m.OrderRow.id.desc())
            ).all()
            items: dict[str, list[m.OrderItemRow]] = defaultdict(list)
            for item in session.scalars(
                select(m.OrderItemRow)
                .join(m.OrderRow, m.OrderRow.id == m.OrderItemRow.order_id)
                .where(m.OrderRow.customer_id == customer_id)
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
            row = self._locked(session, customer_id, order_id)
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

    def apply_change(self, customer_id: str, order_id: str, change: OrderChange) -> AppliedChange:
        """Apply a shopper's action (see :class:`OrderChange`) with a history entry
        ``{at, status, action, note, action_id, ...details}``, in one transaction under the row lock.

        Raises ``NotFoundError`` when the order is not this shopper's and ``ConflictError`` when its
        status (or an item's) no longer allows the change; either way nothing is written.
        """
        if change.status is not None and change.status not in ORDER_STATUSES:
            raise ValidationError(f"unknown order status {change.status!r}",
                                  user_message=f"Order status must be one of {', '.join(ORDER_STATUSES)}.")
        now = self._clock.now()
        with write(self._sessions, f"applying {change.action} to order {order_id}") as session:
            row = self._locked(session, customer_id, order_id)
            if any(entry.get("action_id") == change.action_id for entry in row.history or []):
                return AppliedChange(order_from_row(row, self._items(session, order_id)), applied=False)
            if row.status not in change.allowed_statuses:
                raise ConflictError(
                    f"order {order_id} is {row.status}, {change.action} needs {'/'.join(change.allowed_statuses)}",
                    user_message=f"Order {order_id} is now {row.status}, so this can no longer be done.",
                )
            items = {item.position: item for item in self._items(session, order_id)}
            for position, status in change.item_statuses.items():
                item = items.get(position)
                if item is None or item.status not in change.allowed_item_statuses:
                    raise ConflictError(
                        f"item {position} of order {order_id} is {item.status if item else 'missing'}",
                        user_message=f"That item of order {order_id} was already changed.",
                    )
                item.status = status
            entry = {"at": now.isoformat(), "status": change.status or row.status, "action": change.action,
                     "note": change.note, "action_id": change.action_id, **dict(change.details)}
            require_json(entry, "an order's history entry")
            row.history = [*(row.history or []), entry]
            if change.payment is not None:
                payment = {"at": now.isoformat(), **dict(change.payment)}
                require_json(payment, "an order's payment entry")
                row.payments = [*(row.payments or []), payment]
            if change.shipping_address is not None:
                require_json(dict(change.shipping_address), "a shipping address")
                row.shipping_address = dict(change.shipping_address)
            if change.status is not None:
                row.status = change.status
            row.updated_at = now
            session.flush()
            return AppliedChange(order_from_row(row, list(items.values())), applied=True)

    def _locked(self, session: Session, customer_id: str, order_id: str) -> m.OrderRow:
        """The shopper's order row, locked for this transaction; ``NotFoundError`` if not theirs."""
        connection = session.connection()
        if connection.dialect.name == "sqlite" and connection.engine.url.database not in (None, "", ":memory:"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock now, not at the first UPDATE
        row = session.scalars(
            select(m.OrderRow).where(m.OrderRow.id == order_id, m.OrderRow.customer_id == customer_id).with_for_update()
        ).one_or_none()
        if row is None:
            raise NotFoundError(
                f"order {order_id!r} of customer {customer_id!r} not found",
                user_message="No such order on this account; check the order number.",
            )
        return row

    @staticmethod
    def _owned(session: Session, customer_id: str, order_id: str) -> m.OrderRow | None:
        return session.scalars(
            select(m.OrderRow).where(m.OrderRow.id == order_id, m.OrderRow.customer_id == customer_id)
        ).one_or_none()

    @staticmethod
    def _items(session: Session, order_id: str) -> list[m.OrderItemRow]:
        return list(session.scalars(select(m.OrderItemRow).where(m.OrderItemRow.order_id == order_id)))
