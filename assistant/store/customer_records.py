"""Turning one imported customer record into plain values, and hashing it. Pure: no database.

The record format is ``knowledge/schemas/customer.schema.json``. Validating a record against that
schema is the importer's job; here values are only converted (timestamps parsed, numbers coerced,
extra fields collected into ``attributes``). Required text the record lacks (an item without a name)
is passed on as ``None`` for the database's NOT NULL constraints to reject, which fails the whole
record inside its transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from assistant.errors import ValidationError
from assistant.records import ConsentState

KNOWN_CUSTOMER_FIELDS = frozenset(
    {"id", "name", "email", "phone", "tier", "points", "joined_at", "address", "consent", "preferences",
     "orders"}
)


@dataclass(frozen=True)
class ParsedItem:
    position: int
    product_id: str | None
    name: str | None
    quantity: int | None
    unit_price: float | None
    variant_id: str | None = None
    options: dict[str, Any] | None = None


@dataclass(frozen=True)
class ParsedOrder:
    id: str
    status: str | None
    placed_at: datetime | None
    items: tuple[ParsedItem, ...]
    currency: str = "USD"
    total: float | None = None
    shipping: float | None = None
    updated_at: datetime | None = None
    delivered_at: datetime | None = None
    shipping_address: dict[str, Any] | None = None
    tracking: dict[str, Any] | None = None
    payments: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ParsedCustomer:
    id: str
    name: str | None
    source_hash: str
    consent: ConsentState
    email: str | None = None
    phone: str | None = None
    tier: str = "standard"
    points: int = 0
    joined_at: datetime | None = None
    address: dict[str, Any] | None = None
    attributes: Mapping[str, Any] | None = None
    preferences: tuple[tuple[str, str], ...] = ()
    orders: tuple[ParsedOrder, ...] = ()


def record_hash(record: Mapping[str, Any]) -> str:
    """A stable SHA-256 of a record: the same for the same content whatever the key order."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_timestamp(value: object, where: str) -> datetime | None:
    """ISO 8601 text (or a datetime) to an aware UTC datetime; a value without offset is taken as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as e:
            raise ValidationError(
                f"{where}: {value!r} is not an ISO 8601 date-time",
                user_message=f"Fix {where}: write it like 2024-05-01T14:30:00Z.",
            ) from e
    else:
        raise ValidationError(
            f"{where}: expected a date-time string, got {type(value).__name__}",
            user_message=f"Fix {where}: write it like 2024-05-01T14:30:00Z.",
        )
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _number(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError(f"{where}: expected a number, got {value!r}",
                              user_message=f"Fix {where}: it must be a number.")
    try:
        return float(value)
    except ValueError as e:
        raise ValidationError(f"{where}: expected a number, got {value!r}",
                              user_message=f"Fix {where}: it must be a number.") from e


def _integer(value: object, where: str) -> int | None:
    number = _number(value, where)
    if number is None:
        return None
    if not number.is_integer():
        raise ValidationError(f"{where}: expected a whole number, got {value!r}",
                              user_message=f"Fix {where}: it must be a whole number.")
    return int(number)


def _text(value: object) -> str | None:
    if value is None:
        return None
    return str(value)


def _mapping(value: object, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationError(f"{where}: expected an object, got {type(value).__name__}",
                              user_message=f"Fix {where}: it must be a JSON object.")
    return dict(value)


def _list(value: object, where: str) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValidationError(f"{where}: expected a list, got {type(value).__name__}",
                              user_message=f"Fix {where}: it must be a JSON array.")
    return list(value)


def _record_id(value: object, where: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value).strip() == "":
        raise ValidationError(f"{where}: missing or empty id",
                              user_message=f"Fix {where}: every customer and order needs a non-empty id.")
    return str(value).strip()


def parse_consent(value: object, where: str) -> ConsentState:
    consent = _mapping(value, where) or {}
    defaults = ConsentState()
    return ConsentState(
        personalization=bool(consent.get("personalization", defaults.personalization)),
        marketing=bool(consent.get("marketing", defaults.marketing)),
    )


def parse_preferences(value: object, where: str) -> tuple[tuple[str, str], ...]:
    """``[{kind, value}, ...]`` to unique ``(kind, value)`` pairs in record order (case-insensitive)."""
    seen: set[tuple[str, str]] = set()
    pairs: list[tuple[str, str]] = []
    for index, raw in enumerate(_list(value, where)):
        item = _mapping(raw, f"{where}[{index}]") or {}
        kind, text = _text(item.get("kind")), _text(item.get("value"))
        if not kind or not text or not text.strip():
            raise ValidationError(f"{where}[{index}]: a preference needs a kind and a value",
                                  user_message=f"Fix {where}[{index}]: give both kind and value.")
        key = (kind, text.strip().casefold())
        if key not in seen:
            seen.add(key)
            pairs.append((kind, text.strip()))
    return tuple(pairs)


def parse_order(raw: object, where: str) -> ParsedOrder:
    order = _mapping(raw, where) or {}
    order_id = _record_id(order.get("id"), f"{where}.id")
    where = f"order {order_id}"
    items: list[ParsedItem] = []
    for position, raw_item in enumerate(_list(order.get("items"), f"{where} items"), start=1):
        item = _mapping(raw_item, f"{where} item {position}") or {}
        items.append(
            ParsedItem(
                position=position,
                product_id=_text(item.get("product_id")),
                variant_id=_text(item.get("variant_id")),
                name=_text(item.get("name")),
                options=_mapping(item.get("options"), f"{where} item {position} options"),
                quantity=_integer(item.get("quantity"), f"{where} item {position} quantity"),
                unit_price=_number(item.get("unit_price"), f"{where} item {position} unit_price"),
            )
        )
    payments = tuple(
        _mapping(p, f"{where} payment {i}") or {}
        for i, p in enumerate(_list(order.get("payments"), f"{where} payments"), start=1)
    )
    return ParsedOrder(
        id=order_id,
        status=_text(order.get("status")),
        placed_at=parse_timestamp(order.get("placed_at"), f"{where} placed_at"),
        updated_at=parse_timestamp(order.get("updated_at"), f"{where} updated_at"),
        delivered_at=parse_timestamp(order.get("delivered_at"), f"{where} delivered_at"),
        currency=_text(order.get("currency")) or "USD",
        total=_number(order.get("total"), f"{where} total"),
        shipping=_number(order.get("shipping"), f"{where} shipping"),
        shipping_address=_mapping(order.get("shipping_address"), f"{where} shipping_address"),
        tracking=_mapping(order.get("tracking"), f"{where} tracking"),
        payments=payments,
        items=tuple(items),
    )


def parse_customer_record(record: Mapping[str, Any]) -> ParsedCustomer:
    """One record of the customer-with-orders format to plain values (see the module docstring)."""
    if not isinstance(record, Mapping):
        raise ValidationError(f"expected a customer object, got {type(record).__name__}",
                              user_message="Each customer record must be a JSON object.")
    customer_id = _record_id(record.get("id"), "customer id")
    where = f"customer {customer_id}"
    orders = tuple(
        parse_order(raw, f"{where} order {index}")
        for index, raw in enumerate(_list(record.get("orders"), f"{where} orders"), start=1)
    )
    order_ids = [order.id for order in orders]
    if len(set(order_ids)) != len(order_ids):
        raise ValidationError(f"{where}: the same order id appears twice",
                              user_message=f"Fix {where}: each order id may appear once.")
    return ParsedCustomer(
        id=customer_id,
        name=_text(record.get("name")),
        email=_text(record.get("email")),
        phone=_text(record.get("phone")),
        tier=_text(record.get("tier")) or "standard",
        points=_integer(record.get("points"), f"{where} points") or 0,
        joined_at=parse_timestamp(record.get("joined_at"), f"{where} joined_at"),
        address=_mapping(record.get("address"), f"{where} address"),
        attributes={k: v for k, v in record.items() if k not in KNOWN_CUSTOMER_FIELDS},
        consent=parse_consent(record.get("consent"), f"{where} consent"),
        preferences=parse_preferences(record.get("preferences"), f"{where} preferences"),
        orders=orders,
        source_hash=record_hash(record),
    )
