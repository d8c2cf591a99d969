"""Replies about the shopper's own orders built from the order records, the answer first.

The first sentence answers what was asked (the status, the tracking number, the total, the items, the
payments); one short sentence of details follows. (:func:`assistant.turn.order_refs.first_sentence_needs` tells
the verifier what a written reply's first sentence must contain for the same question.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from assistant.records import Order, OrderItem, money
from assistant.turn.facts import payment_lines
from assistant.turn.order_refs import PAYMENTS, asked_about


def _day(value: datetime | str | None) -> str:
    return value.date().isoformat() if isinstance(value, datetime) else str(value or "")[:10]


def status_of(order: Order) -> str:
    return order.status.replace("_", " ")


def items_of(order: Order) -> str:
    def one(item: OrderItem) -> str:
        options = item.options or {}
        extra = f" ({', '.join(f'{k} {v}' for k, v in options.items())})" if options else ""
        return f"{item.quantity} x {item.name}{extra}"
    return ", ".join(one(i) for i in order.items) or "no items"


def tracking_of(order: Order) -> str | None:
    tracking = order.tracking or {}
    number = tracking.get("number")
    if not number:
        return None
    carrier = str(tracking.get("carrier") or "").strip()
    return f"{carrier} {number}".strip()


def _total(order: Order) -> str:
    return money(order.total, order.currency)


def order_answer(order: Order, question: str) -> str:
    """One order: the sentence that answers the question, then the other main facts in one sentence."""
    asked = asked_about(question)
    status, tracking = status_of(order), tracking_of(order)
    placed = _day(order.placed_at)
    if asked == "tracking":
        first = (f"The tracking number of your order {order.id} is {tracking}." if tracking else
                 f"Your order {order.id} has no tracking number yet: its status is {status}.")
        rest = [f"status {status}" if tracking else "", f"placed {placed}", f"items: {items_of(order)}"]
    elif asked == "total":
        first = f"The total of your order {order.id} was {_total(order)}."
        rest = [f"status {status}", f"placed {placed}", f"items: {items_of(order)}"]
    elif asked == "items":
        first = f"Your order {order.id} has {items_of(order)}."
        rest = [f"status {status}", f"placed {placed}", f"total {_total(order)}"]
    elif asked == "payment":
        lines = payment_lines(order)
        first = " ".join(lines) if lines else f"Your order {order.id} has no payment recorded yet."
        if lines:
            first = f"Your order {order.id}: {first[0].lower()}{first[1:]}"
        rest = [f"status {status}", f"total {_total(order)}"]
    else:
        first = f"Your order {order.id} is {status}."
        rest = [f"placed {placed}", f"delivered {_day(order.delivered_at)}" if order.delivered_at else "",
                f"tracking {tracking}" if tracking else "", f"items: {items_of(order)}", f"total {_total(order)}"]
    details = "; ".join(r for r in rest if r)
    text = f"{first} Details: {details}." if details else first
    if asked != "payment" and PAYMENTS.search(question):
        text += " " + " ".join(payment_lines(order))
    return text.strip()


def orders_answer(orders: Sequence[Order], question: str) -> str:
    """The reply about the shopper's orders: one order answered in full, several one short line each."""
    if len(orders) == 1:
        return order_answer(orders[0], question)
    lines = [f"{o.id} is {status_of(o)} (placed {_day(o.placed_at)}, total {_total(o)}"
             + (f", tracking {tracking_of(o)}" if tracking_of(o) else "") + ")" for o in orders]
    return f"Your latest orders: {'; '.join(lines)}."
