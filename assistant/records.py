"""Domain types of the store: frozen dataclasses, the only things store methods return.

ORM rows (``assistant.store.models``) never leave the store. ``TurnRecord`` and ``EventRecord`` are
also what callers pass in; the store fills ``id`` and ``created_at`` when they are left empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

ImportOutcome = Literal["imported", "updated", "unchanged"]
ConsentKind = Literal["personalization", "marketing"]
PreferenceOrigin = Literal["explicit", "inferred"]
TurnStatus = Literal["ok", "error", "fallback"]

#: Order statuses of the import schema (knowledge/schemas/customer.schema.json).
ORDER_STATUSES: tuple[str, ...] = ("pending", "processed", "shipped", "delivered", "cancelled", "returned")


@dataclass(frozen=True)
class ConsentState:
    """The current consent flags; without any recorded change the schema defaults apply."""

    personalization: bool = True
    marketing: bool = False


@dataclass(frozen=True)
class Preference:
    id: int
    customer_id: str
    kind: str
    value: str
    origin: PreferenceOrigin
    source: str
    confidence: float
    evidence_count: int
    created_at: datetime
    updated_at: datetime
    removed_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.removed_at is None


@dataclass(frozen=True)
class OrderItem:
    position: int
    product_id: str
    name: str
    quantity: int
    unit_price: float
    variant_id: str | None = None
    options: dict[str, Any] | None = None
    status: str = "ordered"


@dataclass(frozen=True)
class Order:
    id: str
    customer_id: str
    status: str
    placed_at: datetime
    currency: str
    items: tuple[OrderItem, ...]
    total: float | None = None
    shipping: float | None = None
    updated_at: datetime | None = None
    delivered_at: datetime | None = None
    shipping_address: dict[str, Any] | None = None
    tracking: dict[str, Any] | None = None
    payments: tuple[dict[str, Any], ...] = ()
    history: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class OrderSummary:
    """One line per order in a profile; ``item_count`` counts units (the sum of item quantities)."""

    id: str
    status: str
    placed_at: datetime
    currency: str
    total: float | None
    item_count: int
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class CustomerProfile:
    """Everything the assistant may know about one shopper, ready to read.

    ``preferences`` holds the active ones only: explicit first, then inferred by falling confidence.
    ``orders`` are summaries, newest first; ``OrderStore`` has the details.
    """

    id: str
    name: str
    tier: str
    points: int
    consent: ConsentState
    email: str | None = None
    phone: str | None = None
    joined_at: datetime | None = None
    address: dict[str, Any] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    preferences: tuple[Preference, ...] = ()
    orders: tuple[OrderSummary, ...] = ()
    origin: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ChatSession:
    id: str
    customer_id: str | None
    channel: str
    created_at: datetime
    last_seen_at: datetime
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TurnRecord:
    """One turn as the service hands it over (``id``/``created_at`` may be left empty) and as stored."""

    session_id: str
    customer_id: str | None
    message: str
    reply: str
    status: TurnStatus = "ok"
    intent: str | None = None
    verdict: str | None = None
    handover: bool = False
    trace: dict[str, Any] = field(default_factory=dict)
    latency_ms: int | None = None
    model: str | None = None
    id: str | None = None
    created_at: datetime | None = None
    #: "assistant", or "agent:<username>" when a support agent sent the reply (``trace`` then holds the draft)
    author: str = "assistant"

    @property
    def shopper_author(self) -> str:
        """Who the shopper is told wrote the reply: "assistant", or "agent:<display name>" ("agent:" when the
        agent has none: "our team"). The agent's username is for staff only."""
        if not self.author.startswith("agent:"):
            return self.author
        return "agent:" + str(self.trace.get("shown_as") or "")


@dataclass(frozen=True)
class EventRecord:
    """An event as handed over (``id``/``created_at`` empty) and as stored.

    Inside ``TurnStore.record_turn`` the ids of the turn, its session and its customer are filled in.
    """

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    customer_id: str | None = None
    session_id: str | None = None
    turn_id: str | None = None
    id: int | None = None
    created_at: datetime | None = None


#: what the assistant calls a shop that gave no name (a sentence says "... in our shop's information")
UNNAMED_SHOP = "our shop"
ShopProfileSource = Literal["shop.json", "default"]


@dataclass(frozen=True)
class ShopProfile:
    """Who the shop is: its name, the currency its amounts are in and its locale (``shop.json`` of the shop
    folder, or a neutral default: no name, the catalogue's most common currency, English).

    ``name`` is empty when the shop gave none: sentences then use :attr:`called` ("our shop"), titles
    leave the name out. ``source`` says where it came from; ``origin`` is the shop folder it was imported with.
    """

    name: str = ""
    currency: str = "USD"
    locale: str = "en"
    source: ShopProfileSource = "default"
    origin: str | None = None
    updated_at: datetime | None = None

    @property
    def called(self) -> str:
        """How the assistant names the shop in a sentence: its name, or "our shop"."""
        return self.name or UNNAMED_SHOP

    def title(self, suffix: str) -> str:
        """A page title: "<name> · <suffix>", or the suffix alone for a shop without a name."""
        return f"{self.name} · {suffix}" if self.name else suffix


@lru_cache(maxsize=512)
def _currency_style(currency: str, locale: str | None) -> tuple[str, int]:
    """(symbol, decimals) of ``currency`` as English text in ``locale``'s region writes it (CLDR via Babel):
    USD is "$" (but "US$" in en_CA), CAD "CA$" (but "$" in en_CA), EUR "€", GBP "£", JPY "¥" with no decimals; a
    code Babel does not know is its own symbol with two decimals."""
    from babel import Locale, UnknownLocaleError, localedata
    from babel.numbers import get_currency_precision, get_currency_symbol

    english = "en"
    if locale:
        try:
            territory = Locale.parse(locale.replace("-", "_")).territory
        except (UnknownLocaleError, ValueError, TypeError):
            territory = None
        if territory and localedata.exists(f"en_{territory}"):
            english = f"en_{territory}"
    return get_currency_symbol(currency, locale=english), get_currency_precision(currency)


def money(value: float | None, currency: str = "USD", locale: str | None = None) -> str:
    """An amount as English text writes it, with the currency's symbol: "$1,234.50", "€12.00", "¥1,200",
    "CHF 12.00". ``locale`` (the shop's, e.g. en_CA) picks between symbols that several currencies share; the
    digits are always English (a decimal point, commas between thousands): the replies are English."""
    if value is None:
        return "unknown"
    symbol, decimals = _currency_style((currency or "USD").upper(), locale)
    number = f"{abs(value):,.{decimals}f}"
    sign = "-" if value < 0 and float(number.replace(",", "")) != 0 else ""
    return f"{sign}{symbol} {number}" if symbol[-1:].isalpha() else f"{sign}{symbol}{number}"
