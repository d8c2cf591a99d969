"""ORM rows to domain types, and the ranking rules for profiles. Pure: no queries here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import cast

from assistant.records import (
    ChatSession,
    ConsentState,
    CustomerProfile,
    EventRecord,
    Order,
    OrderItem,
    OrderSummary,
    Preference,
    PreferenceOrigin,
    TurnRecord,
    TurnStatus,
)
from assistant.store import models as m


def preference_from_row(row: m.PreferenceRow) -> Preference:
    return Preference(
        id=row.id,
        customer_id=row.customer_id,
        kind=row.kind,
        value=row.value,
        origin=cast(PreferenceOrigin, row.origin),
        source=row.source,
        confidence=row.confidence,
        evidence_count=row.evidence_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
        removed_at=row.removed_at,
    )


def active_preferences(preferences: Iterable[Preference]) -> tuple[Preference, ...]:
    """Active preferences in reading order: explicit ones first (oldest first, as the shopper stated
    them), then inferred ones by falling confidence and evidence. An inferred preference that repeats an
    explicit one (same kind, same value ignoring case) is left out; removed ones are left out."""
    active = [p for p in preferences if p.active]
    explicit = sorted((p for p in active if p.origin == "explicit"), key=lambda p: (p.created_at, p.id))
    stated = {(p.kind, p.value.casefold()) for p in explicit}
    inferred = sorted(
        (p for p in active if p.origin == "inferred" and (p.kind, p.value.casefold()) not in stated),
        key=lambda p: (-p.confidence, -p.evidence_count, p.created_at, p.id),
    )
    return tuple(explicit + inferred)


def consent_from_rows(rows: Iterable[m.ConsentRow]) -> ConsentState:
    """The latest row per kind wins (by time, then by insertion order); defaults for kinds never set."""
    latest: dict[str, m.ConsentRow] = {}
    for row in rows:
        current = latest.get(row.kind)
        if current is None or (row.at, row.id or 0) >= (current.at, current.id or 0):
            latest[row.kind] = row
    defaults = ConsentState()
    return ConsentState(
        personalization=latest["personalization"].granted
        if "personalization" in latest else defaults.personalization,
        marketing=latest["marketing"].granted if "marketing" in latest else defaults.marketing,
    )


def item_from_row(row: m.OrderItemRow) -> OrderItem:
    return OrderItem(
        position=row.position,
        product_id=row.product_id,
        variant_id=row.variant_id,
        name=row.name,
        options=dict(row.options) if row.options is not None else None,
        quantity=row.quantity,
        unit_price=float(row.unit_price),
        status=row.status,
    )


def order_from_row(row: m.OrderRow, items: Iterable[m.OrderItemRow]) -> Order:
    return Order(
        id=row.id,
        customer_id=row.customer_id,
        status=row.status,
        placed_at=row.placed_at,
        updated_at=row.updated_at,
        delivered_at=row.delivered_at,
        currency=row.currency,
        total=float(row.total) if row.total is not None else None,
        shipping=float(row.shipping) if row.shipping is not None else None,
        shipping_address=dict(row.shipping_address) if row.shipping_address is not None else None,
        tracking=dict(row.tracking) if row.tracking is not None else None,
        payments=tuple(dict(p) for p in row.payments or ()),
        history=tuple(dict(h) for h in row.history or ()),
        items=tuple(item_from_row(i) for i in sorted(items, key=lambda i: i.position)),
    )


def summary_from_row(row: m.OrderRow, item_count: int) -> OrderSummary:
    return OrderSummary(
        id=row.id,
        status=row.status,
        placed_at=row.placed_at,
        delivered_at=row.delivered_at,
        currency=row.currency,
        total=float(row.total) if row.total is not None else None,
        item_count=item_count,
    )


def profile_from_rows(
    customer: m.CustomerRow,
    consents: Iterable[m.ConsentRow],
    preferences: Iterable[m.PreferenceRow],
    orders: Iterable[m.OrderRow],
    item_counts: Mapping[str, int],
) -> CustomerProfile:
    summaries = sorted(
        (summary_from_row(o, item_counts.get(o.id, 0)) for o in orders),
        key=lambda s: (s.placed_at, s.id),
        reverse=True,
    )
    return CustomerProfile(
        id=customer.id,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        tier=customer.tier,
        points=customer.points,
        joined_at=customer.joined_at,
        address=dict(customer.address) if customer.address is not None else None,
        attributes=dict(customer.attributes or {}),
        consent=consent_from_rows(consents),
        preferences=active_preferences(preference_from_row(p) for p in preferences),
        orders=tuple(summaries),
        origin=customer.origin,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
    )


def session_from_row(row: m.ChatSessionRow) -> ChatSession:
    return ChatSession(
        id=row.id,
        customer_id=row.customer_id,
        channel=row.channel,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        state=dict(row.state or {}),
    )


def turn_from_row(row: m.TurnRow) -> TurnRecord:
    return TurnRecord(
        id=row.id,
        session_id=row.session_id,
        customer_id=row.customer_id,
        created_at=row.created_at,
        message=row.message,
        reply=row.reply,
        intent=row.intent,
        verdict=row.verdict,
        status=cast(TurnStatus, row.status),
        handover=row.handover,
        trace=dict(row.trace or {}),
        latency_ms=row.latency_ms,
        model=row.model,
        author=row.author or "assistant",
    )


def event_from_row(row: m.EventRow) -> EventRecord:
    return EventRecord(
        id=row.id,
        kind=row.kind,
        payload=dict(row.payload or {}),
        customer_id=row.customer_id,
        session_id=row.session_id,
        turn_id=row.turn_id,
        created_at=row.created_at,
    )
