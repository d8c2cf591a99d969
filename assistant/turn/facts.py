"""The facts a turn gathered, written out for the model, the verifier and the fallback reply.

Everything a reply may state comes from here: policy chunks, product records, the shopper's own orders
and profile, and the offers chosen for them. Retrieved text is data: it is quoted, never obeyed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.domain import Citation, ProductCard
from assistant.personalization.offer_rules import describe
from assistant.records import CustomerProfile, Order
from knowledge.knowledge_store import Hit

if TYPE_CHECKING:
    from assistant.turn.verifier import SupportIndex

#: what ``Verifier.requirements`` takes after the reply and the intent: the orders' (id, status, tracking
#: number), the product ids, the offer codes and the categories of the question
RequirementArgs = tuple[list[tuple[str, str, str | None]], list[str], list[str], tuple[str, ...]]


def money(value: float | None, currency: str = "USD") -> str:
    if value is None:
        return "unknown"
    return f"${value:,.2f}" if currency == "USD" else f"{value:,.2f} {currency}"


def _date(value: datetime | str | None) -> str:
    return value.date().isoformat() if isinstance(value, datetime) else str(value)[:10]


def order_line(order: Order) -> str:
    items = ", ".join(
        f"{i.quantity} x {i.name}" + (f" ({', '.join(f'{k} {v}' for k, v in (i.options or {}).items())})"
                                      if i.options else "")
        for i in order.items
    )
    parts = [f"Order {order.id}: status {order.status}, placed {_date(order.placed_at)}, "
             f"total {money(order.total, order.currency)}; items: {items}."]
    if order.tracking and order.tracking.get("number"):
        parts.append(f"Tracking: {order.tracking.get('carrier', '')} {order.tracking['number']}.".replace("  ", " "))
    if order.delivered_at:
        parts.append(f"Delivered {_date(order.delivered_at)}.")
    parts.extend(payment_lines(order))
    requested = [f"{i.status.replace('_', ' ')} for {i.name}" for i in order.items if i.status != "ordered"]
    if requested:
        parts.append(f"{'; '.join(requested)}.".capitalize())
    return " ".join(parts)


def payment_lines(order: Order) -> list[str]:
    """The order's payment and refund history, one sentence each."""
    lines = []
    for p in order.payments:
        amount, method = money(float(p.get("amount") or 0), order.currency), p.get("method") or "the original method"
        when = f" on {_date(p['at'])}" if p.get("at") else ""
        kind = p.get("kind")
        if kind == "charge":
            lines.append(f"Paid {amount} with {method}{when}.")
        elif kind == "authorization":
            lines.append(f"A hold of {amount} on {method} (charged when the order is processed).")
        elif kind == "authorization_release":
            lines.append(f"The hold of {amount} on {method} was released{when}.")
        elif kind == "refund" and p.get("status") == "pending":
            lines.append(f"Refund of {amount} to {method} pending until the items are received.")
        elif kind == "refund":
            lines.append(f"Refunded {amount}{when}.")
    return lines


def order_details(order: Order) -> str:
    """Everything about one order (for the tool-calling model): the order line, address and history."""
    address = order.shipping_address or {}
    where = ", ".join(str(address[k]) for k in ("line1", "city", "state", "postcode") if address.get(k))
    history = "; ".join(f"{_date(h.get('at'))} {h.get('action')}: {h.get('status')}" for h in order.history[-5:])
    return " ".join(x for x in (order_line(order), f"Ships to: {where}." if where else "",
                                f"History: {history}." if history else "") if x)


def product_line(card: ProductCard, record: Mapping[str, Any] | None = None) -> str:
    stock = "in stock" if card.in_stock else "out of stock"
    line = f"{card.name} ({card.category.replace('-', ' ')}"
    line += f", {card.brand})" if card.brand else ")"
    line += f": {money(card.price, card.currency)}, {stock}"
    for key, values in card.options.items():
        line += f"; {key} in stock: {', '.join(values[:12])}"
    if card.rating:
        line += f"; rated {card.rating}"
    if record and record.get("attributes", {}).get("warranty_months") is not None:
        line += f"; warranty {record['attributes']['warranty_months']} months"
    if card.reason:
        line += f"; {card.reason}"
    return line + "."


def _policy_body(hit: Hit) -> str:
    """The chunk without its heading lines."""
    lines = hit.text.split("\n")
    depth = len(str(hit.metadata.get("heading", "")).split(" > "))
    return " ".join(line.strip() for line in lines[depth:] if line.strip())


@dataclass
class Facts:
    question: str
    intent: str
    profile: CustomerProfile | None = None
    personalized: bool = True
    policies: list[Hit] = field(default_factory=list)
    products: list[ProductCard] = field(default_factory=list)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)
    offers: list[Mapping[str, Any]] = field(default_factory=list)
    refused_order_ids: list[str] = field(default_factory=list)
    #: the verifier's sentence index of these facts, built once per turn (see Verifier.support_index)
    support: SupportIndex | None = field(default=None, repr=False, compare=False)
    #: for policy questions, the sentences that answer it: amounts in the reply must come from these
    evidence: str | None = None
    #: categories the question is about (a policy answer must stay on them)
    categories: tuple[str, ...] = ()

    def requirement_args(self) -> RequirementArgs:
        """The arguments of ``Verifier.requirements`` after the reply and the intent."""
        orders = [(o.id, o.status, (o.tracking or {}).get("number")) for o in self.orders]
        return orders, [c.id for c in self.products], [str(o["code"]) for o in self.offers], self.categories

    @property
    def empty(self) -> bool:
        return not (self.policies or self.products or self.orders or self.offers)

    def shopper_line(self) -> str | None:
        p = self.profile
        if p is None:
            return None
        first = p.name.split()[0]
        if not self.personalized:
            return f"Shopper: {first}."
        line = f"Shopper: {first}, {p.tier} member, {p.points:,} points"
        prefs = [f"{x.kind} {x.value}" for x in p.preferences[:5]]
        return line + (f"; likes: {', '.join(prefs)}." if prefs else ".")

    def lines(self) -> list[str]:
        """Compact fact lines, most useful first, for the model's prompt."""
        out: list[str] = []
        shopper = self.shopper_line()
        if shopper:
            out.append(shopper)
        for order in self.orders:
            out.append(order_line(order))
        for order_id in self.refused_order_ids:
            out.append(f"Order {order_id} is not one of this shopper's orders: do not discuss it.")
        for hit in self.policies:
            out.append(f"Policy ({hit.metadata.get('heading')}): {_policy_body(hit)}")
        for card in self.products:
            out.append("Product " + product_line(card, self.records.get(card.id)))
        for offer in self.offers:
            out.append("Offer for this shopper: " + describe(offer))
        return out

    def corpus(self) -> str:
        """Everything the reply may draw on, as one text (for the verifier)."""
        parts = self.lines()
        parts.extend(hit.text for hit in self.policies)
        return "\n".join(parts)

    def citations(self) -> list[Citation]:
        cites: list[Citation] = []
        for hit in self.policies:
            cites.append(Citation("policy", hit.id, str(hit.metadata.get("title", "")),
                                  source=hit.metadata.get("source"), heading=hit.metadata.get("heading"),
                                  score=hit.score))
        for card in self.products:
            cites.append(Citation("product", card.id, card.name, source=(self.records.get(card.id) or {}).get("id")))
        for order in self.orders:
            cites.append(Citation("order", order.id, f"Order {order.id}"))
        return cites


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


_ASKS_AMOUNT = re.compile(r"\b(how (long|much|many|soon|fast)|when|what time|what does .* cost|price|fee)\b", re.I)


def best_sentences(hits: Sequence[Hit], question: str, limit: int = 2) -> list[str]:
    """The sentences of the retrieved chunks that best answer the question (an extractive answer).

    Scored by content words shared with the question, plus a bonus for a number when the question asks
    for an amount or a time, and a small bonus for the higher-ranked chunk.
    """
    words = {w for w in re.findall(r"[a-z0-9]+", question.lower()) if len(w) > 2} - _STOP
    wants_number = _ASKS_AMOUNT.search(question) is not None
    scored: list[tuple[float, int, int, str]] = []
    for rank, hit in enumerate(hits[:3]):
        for position, sentence in enumerate(_SENTENCE.split(_policy_body(hit))):
            sentence = sentence.strip().lstrip("-* ").strip()
            if len(sentence) < 15:
                continue
            tokens = set(re.findall(r"[a-z0-9]+", sentence.lower()))
            score = len(words & tokens) + len({w.rstrip("s") for w in words} & {t.rstrip("s") for t in tokens}) * 0.5
            if wants_number and re.search(r"\d", sentence):
                score += 1.5
            score -= 0.3 * rank
            scored.append((score, rank, position, sentence))
    if not scored:
        return []
    best = sorted(scored, key=lambda s: (-s[0], s[1], s[2]))[:limit]
    best = [b for b in best if b[0] >= best[0][0] - 1.0]  # drop a weak second sentence
    return [s for *_, s in sorted(best, key=lambda s: (s[1], s[2]))]


_STOP = frozenset("the and for you your can how what does are with have this that from our any".split())
