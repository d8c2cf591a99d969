"""Domain types of a conversation turn: who is asking, and the events a turn streams out.

The UI and the REST API consume these and nothing else of the assistant's internals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class ShopperIdentity:
    """A shopper whose identity was verified from a signed token; never taken from the model."""

    customer_id: str
    expires_at: float | None = None


@dataclass(frozen=True)
class Citation:
    kind: Literal["policy", "product", "order"]
    id: str
    title: str
    source: str | None = None
    heading: str | None = None
    score: float | None = None


@dataclass(frozen=True)
class ProductCard:
    id: str
    name: str
    price: float
    currency: str
    category: str
    brand: str | None = None
    in_stock: bool = True
    rating: float | None = None
    reason: str | None = None  # why it is shown: "matches your size 8.5"
    options: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class OfferView:
    id: str
    code: str
    title: str
    description: str
    propensity: float | None = None


@dataclass(frozen=True)
class Event:
    """Base of everything a turn streams. ``type`` names the event on the wire (SSE ``event:``)."""

    type: str = field(init=False, default="event")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TextDelta(Event):
    text: str = ""
    type: str = field(init=False, default="text")


@dataclass(frozen=True)
class ReplaceText(Event):
    """The streamed text failed verification: show this reply instead of what was streamed."""

    text: str = ""
    reason: str = ""
    type: str = field(init=False, default="replace")


@dataclass(frozen=True)
class SourcesEvent(Event):
    sources: tuple[Citation, ...] = ()
    type: str = field(init=False, default="sources")


@dataclass(frozen=True)
class ProductsEvent(Event):
    products: tuple[ProductCard, ...] = ()
    type: str = field(init=False, default="products")


@dataclass(frozen=True)
class OffersEvent(Event):
    offers: tuple[OfferView, ...] = ()
    type: str = field(init=False, default="offers")


@dataclass(frozen=True)
class HandoverEvent(Event):
    reason: str = ""
    summary: str = ""
    type: str = field(init=False, default="handover")


@dataclass(frozen=True)
class DoneEvent(Event):
    turn_id: str = ""
    session_id: str = ""
    reply: str = ""
    intent: str = ""
    verdict: str = ""
    type: str = field(init=False, default="done")


@dataclass
class ReplyFold:
    """An event stream folded into the reply it amounts to: text deltas appended, a replacement wins over
    what was streamed, the latest sources / products / offers, the hand-over and the closing ``done``.

    One fold for every consumer (REST's JSON answer, the Gradio chat, the copilot's draft): feed it events
    with :meth:`add` as they come (the chat renders in between), or fold a whole stream with :func:`fold`."""

    reply: str = ""
    sources: tuple[Citation, ...] = ()
    products: tuple[ProductCard, ...] = ()
    offers: tuple[OfferView, ...] = ()
    handover: HandoverEvent | None = None
    done: DoneEvent | None = None
    replaced: bool = False

    def add(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self.reply += event.text
        elif isinstance(event, ReplaceText):
            self.reply = event.text
            self.replaced = True
        elif isinstance(event, SourcesEvent):
            self.sources = event.sources
        elif isinstance(event, ProductsEvent):
            self.products = event.products
        elif isinstance(event, OffersEvent):
            self.offers = event.offers
        elif isinstance(event, HandoverEvent):
            self.handover = event
        elif isinstance(event, DoneEvent):
            self.done = event
            if event.reply:
                self.reply = event.reply


def fold(events: Iterable[Event]) -> ReplyFold:
    """Fold a whole event stream (see :class:`ReplyFold`)."""
    folded = ReplyFold()
    for event in events:
        folded.add(event)
    return folded
