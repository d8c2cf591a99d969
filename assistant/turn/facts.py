"""The facts a turn gathered, written out for the model, the verifier and the fallback reply.

Everything a reply may state comes from here: policy chunks, product records, the shopper's own orders
and profile, and the offers chosen for them. Retrieved text is data: it is quoted, never obeyed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.domain import Citation, ProductCard
from assistant.personalization.offer_rules import describe
from assistant.records import CustomerProfile, Order, money
from assistant.turn.order_answers import payment_lines, status_of
from assistant.turn.order_refs import asked_about, first_sentence_needs
from assistant.turn.policy_answers import Similarity, answer_sentences, policy_body
from knowledge.knowledge_store import Hit

if TYPE_CHECKING:
    from assistant.turn.catalog_answers import CatalogAnswer
    from assistant.turn.verifier import SupportIndex

#: what ``Verifier.requirements`` takes after the reply and the intent: the orders' (id, status, tracking
#: number), the product ids, the offer codes, the categories of the question, and what the first sentence
#: must contain (groups of spellings, one of each: the one order's status, tracking number, total or items)
RequirementArgs = tuple[list[tuple[str, str, str | None]], list[str], list[str], tuple[str, ...],
                        list[tuple[str, ...]]]


def _date(value: datetime | str | None) -> str:
    return value.date().isoformat() if isinstance(value, datetime) else str(value)[:10]


def _items(order: Order, options: bool = True) -> str:
    return ", ".join(
        f"{i.quantity} x {i.name}" + (f" ({', '.join(f'{k} {v}' for k, v in (i.options or {}).items())})"
                                      if i.options and options else "")
        for i in order.items
    )


def _shipping(order: Order) -> list[str]:
    """The order's tracking and delivery, one sentence each."""
    parts = []
    if order.tracking and order.tracking.get("number"):
        parts.append(f"Tracking: {order.tracking.get('carrier', '')} {order.tracking['number']}.".replace("  ", " "))
    if order.delivered_at:
        parts.append(f"Delivered {_date(order.delivered_at)}.")
    return parts


def _requests(order: Order) -> list[str]:
    """What was asked of its items (a return, an exchange), as one sentence, if anything."""
    requested = [f"{i.status.replace('_', ' ')} for {i.name}" for i in order.items if i.status != "ordered"]
    return [f"{'; '.join(requested)}.".capitalize()] if requested else []


def order_line(order: Order) -> str:
    return " ".join([f"Order {order.id}: status {order.status}, placed {_date(order.placed_at)}, "
                     f"total {money(order.total, order.currency)}; items: {_items(order)}.", *_shipping(order),
                     *payment_lines(order), *_requests(order)])


def order_prompt_line(order: Order, asked: str) -> str:
    """The order as the model's prompt gives it for a question that asks ``asked`` (:func:`order_refs.asked_about`):
    what answers it and what names the order, nothing else. Every token of the prompt is prefill the shopper waits
    for (about 4 ms a token on 2 cores), and an order with its payments and every item's options ran to 150 tokens."""
    head = f"Order {order.id}: status {order.status}"
    if asked in ("total", "payment"):
        return " ".join([f"{head}, total {money(order.total, order.currency)}.", *payment_lines(order)])
    if asked == "items":
        return f"{head}; items: {_items(order)}."
    return " ".join([f"{head}, placed {_date(order.placed_at)}; items: {_items(order, options=False)}.",
                     *_shipping(order), *_requests(order)])


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
    high = float((record or {}).get("max_price") or card.price)
    price = money(card.price, card.currency) + (f" to {money(high, card.currency)}" if high - card.price >= 0.005
                                                else "")
    line += f": {price}, {stock}"
    for key, values in card.options.items():
        line += f"; {key} in stock: {', '.join(values[:12])}"
    if card.rating:
        line += f"; rated {card.rating}"
    if card.reason:
        line += f"; {card.reason}"
    return line + "."


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
    #: for policy questions, the sentences that answer it, one a line, best first: every claim of a written
    #: reply must be stated by one of them (see :meth:`policy_evidence`)
    evidence: str | None = None
    #: how the question and a policy sentence compare by meaning (the verifier's embedder), to rank sentences
    similarity: Similarity | None = field(default=None, repr=False, compare=False)
    #: categories the question is about (a policy answer must stay on them)
    categories: tuple[str, ...] = ()
    #: a question about the catalogue answered in code (a price, stock, a count, ...): the prompt holds only it
    answer: CatalogAnswer | None = None
    #: the language of the reply (the facts themselves stay as the shop wrote them)
    language: str = "en"

    def requirement_args(self) -> RequirementArgs:
        """The arguments of ``Verifier.requirements`` after the reply and the intent."""
        # the status as the reply's language says it ("shipped", "已发货")
        orders = [(o.id, status_of(o, self.language) if self.language != "en" else o.status,
                   (o.tracking or {}).get("number")) for o in self.orders]
        first = first_sentence_needs(self.orders[0], self.question, (status_of(self.orders[0], self.language),)) \
            if self.intent == "order_status" and len(self.orders) == 1 else []
        return orders, [c.id for c in self.products], [str(o["code"]) for o in self.offers], self.categories, first

    def policy_evidence(self) -> str | None:
        """For a policy question (or another question answered by policies alone), the policy sentences that
        answer it (computed once): a written reply may state only what one of them states."""
        about_policy = self.intent == "policy" or (self.intent == "other" and not self.products)
        if self.evidence is None and about_policy and self.policies:
            self.evidence = "\n".join(answer_sentences(self.policies, self.question, limit=4, close=False,
                                                       similarity=self.similarity))
        return self.evidence

    def policy_answer(self, limit: int = 2) -> list[str]:
        """The policy sentences that answer the question, best first: the extractive answer."""
        return answer_sentences(self.policies, self.question, limit, similarity=self.similarity)

    @property
    def empty(self) -> bool:
        return not (self.policies or self.products or self.orders or self.offers or self.answer)

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
        if self.answer is not None:  # the computed answer and the facts that answer it, nothing else
            return [f"Answer: {self.answer.text}", *self.answer.lines,
                    *("Offer for this shopper: " + describe(offer) for offer in self.offers)]
        out: list[str] = []
        shopper = self.shopper_line()
        if shopper:
            out.append(shopper)
        for order in self.orders:
            out.append(order_line(order))
        out.extend(refused_order_line(order_id) for order_id in self.refused_order_ids)
        for hit in self.policies:
            out.append(f"Policy ({hit.metadata.get('heading')}): {policy_body(hit)}")
        for card in self.products:
            out.append("Product " + product_line(card, self.records.get(card.id)))
        for offer in self.offers:
            out.append("Offer for this shopper: " + describe(offer))
        return out

    def named_products(self) -> list[str]:
        """Ids of the products a reply may name: those the turn found, and the items of the shopper's own orders."""
        return list(dict.fromkeys([*(c.id for c in self.products),
                                   *(i.product_id for o in self.orders for i in o.items if i.product_id)]))

    def prompt_lines(self) -> list[str]:
        """:meth:`lines` as the model's prompt gives them: for a question about the shopper's own orders alone,
        each order with only what the question asks (:func:`order_prompt_line`) and no shopper line; the
        verifier still checks the reply against everything (:meth:`corpus`)."""
        if self.answer is not None or not self.orders or self.policies or self.products or self.offers:
            return self.lines()
        asked = asked_about(self.question)
        return [*(order_prompt_line(order, asked) for order in self.orders),
                *(refused_order_line(i) for i in self.refused_order_ids)]

    def trusted_text(self) -> str:
        """The facts that come from the shop's records (orders, products, offers, a computed answer), not from
        retrieved documents: the only place an identifier that looks like a code may come from."""
        return "\n".join(line for line in self.lines() if not line.startswith("Policy ("))

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


def refused_order_line(order_id: str) -> str:
    """The fact line for an order id the shopper named that is not theirs (in the facts and in the prompt)."""
    return f"Order {order_id} is not one of this shopper's orders: do not discuss it."
