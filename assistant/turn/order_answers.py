"""Replies about the shopper's own orders built from the order records, the answer first, in the shopper's
language (the sentences are the message catalogue's ``order.*``; amounts and dates as the language writes them).

The first sentence answers what was asked (the status, the tracking number, the total, the items, the
payments); one short sentence of details follows. (:func:`assistant.turn.order_refs.first_sentence_needs` tells
the verifier what a written reply's first sentence must contain for the same question.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from assistant.locales import REFERENCE, catalogue, supported, text
from assistant.locales.local_formats import day_in, money_in
from assistant.records import Order, OrderItem
from assistant.turn.order_refs import PAYMENTS, asked_about


def _day(value: datetime | str | None, language: str = REFERENCE) -> str:
    return day_in(value, language)


def status_of(order: Order, language: str = REFERENCE) -> str:
    """The order's status in ``language`` ("shipped", "已发货"); a status no catalogue names, as stored."""
    key = f"status.{order.status}"
    if supported(language) != REFERENCE and key in catalogue(language):
        return text(key, language)
    return order.status.replace("_", " ")


def _separator(language: str) -> str:
    return "；" if supported(language) == "zh" else "; "


def items_of(order: Order, language: str = REFERENCE) -> str:
    def one(item: OrderItem) -> str:
        options = ", ".join(f"{k} {v}" for k, v in (item.options or {}).items())
        return text("order.item_options" if options else "order.item", language, quantity=item.quantity,
                    name=item.name, options=options)
    joined = ("、" if supported(language) == "zh" else ", ").join(one(i) for i in order.items)
    return joined or text("order.no_items", language)


def tracking_of(order: Order) -> str | None:
    tracking = order.tracking or {}
    number = tracking.get("number")
    if not number:
        return None
    carrier = str(tracking.get("carrier") or "").strip()
    return f"{carrier} {number}".strip()


def _total(order: Order, language: str = REFERENCE) -> str:
    return money_in(order.total, order.currency, language)


def payment_lines(order: Order, language: str = REFERENCE) -> list[str]:
    """The order's payment and refund history, one sentence each, in ``language``."""
    lines = []
    for p in order.payments:
        amount = money_in(float(p.get("amount") or 0), order.currency, language)
        method = p.get("method") or text("payment.original_method", language)
        day = _day(p["at"], language) if p.get("at") else ""
        kind = p.get("kind")
        if kind == "charge":
            lines.append(text("payment.charge_on" if day else "payment.charge", language, amount=amount,
                              method=method, day=day))
        elif kind == "authorization":
            lines.append(text("payment.authorization", language, amount=amount, method=method))
        elif kind == "authorization_release":
            lines.append(text("payment.release_on" if day else "payment.release", language, amount=amount,
                              method=method, day=day))
        elif kind == "refund" and p.get("status") == "pending":
            lines.append(text("payment.refund_pending", language, amount=amount, method=method))
        elif kind == "refund":
            lines.append(text("payment.refund_on" if day else "payment.refund", language, amount=amount, day=day))
    return lines


def order_answer(order: Order, question: str, language: str = REFERENCE) -> str:
    """One order: the sentence that answers the question, then the other main facts in one sentence."""
    lang = language
    asked = asked_about(question)
    status, tracking = status_of(order, lang), tracking_of(order)
    placed = text("order.detail.placed", lang, day=_day(order.placed_at, lang))
    items = text("order.detail.items", lang, items=items_of(order, lang))
    total = text("order.detail.total", lang, total=_total(order, lang))
    status_detail = text("order.detail.status", lang, status=status)
    if asked == "tracking":
        first = (text("order.tracking", lang, order_id=order.id, tracking=tracking) if tracking else
                 text("order.no_tracking", lang, order_id=order.id, status=status))
        rest = [status_detail if tracking else "", placed, items]
    elif asked == "total":
        first = text("order.total", lang, order_id=order.id, total=_total(order, lang))
        rest = [status_detail, placed, items]
    elif asked == "items":
        first = text("order.items", lang, order_id=order.id, items=items_of(order, lang))
        rest = [status_detail, placed, total]
    elif asked == "payment":
        lines = payment_lines(order, lang)
        if lines:
            joined = " ".join(lines)
            if supported(lang) == REFERENCE:
                joined = f"{joined[0].lower()}{joined[1:]}"
            first = text("order.payments", lang, order_id=order.id, payments=joined)
        else:
            first = text("order.no_payment", lang, order_id=order.id)
        rest = [status_detail, total]
    else:
        first = text("order.status", lang, order_id=order.id, status=status)
        rest = [placed, text("order.detail.delivered", lang, day=_day(order.delivered_at, lang))
                if order.delivered_at else "", text("order.detail.tracking", lang, tracking=tracking)
                if tracking else "", items, total]
    details = _separator(lang).join(r for r in rest if r)
    reply = text("order.details", lang, first=first, details=details) if details else first
    if asked != "payment" and PAYMENTS.search(question):
        reply += " " + " ".join(payment_lines(order, lang))
    return reply.strip()


def orders_answer(orders: Sequence[Order], question: str, language: str = REFERENCE) -> str:
    """The reply about the shopper's orders: one order answered in full, several one short line each."""
    if len(orders) == 1:
        return order_answer(orders[0], question, language)
    lines = []
    for o in orders:
        tracking = tracking_of(o)
        lines.append(text("order.list_line_tracking" if tracking else "order.list_line", language, order_id=o.id,
                          status=status_of(o, language), day=_day(o.placed_at, language),
                          total=_total(o, language), tracking=tracking or ""))
    return text("order.list", language, orders=_separator(language).join(lines))
