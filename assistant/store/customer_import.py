"""Writing one imported customer record (already parsed) inside the caller's transaction.

Rules on re-import of a changed record:
- customer fields are replaced by the record's (extra fields go to ``attributes``);
- consent: a new consent row is written only where the record's flag differs from the last flag that
  came from an import, so an opt-out the shopper gave in chat survives re-imports of unchanged consent;
- explicit import preferences are made equal to the record's (missing ones deleted, new ones added),
  except where the shopper removed that preference (a tombstone of any origin is respected);
  preferences from chat or the UI are kept;
- orders in the record are inserted or updated (their items replaced, a status change appended to the
  history); orders not in the record are kept. An order id that belongs to another customer fails the
  whole record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from assistant.errors import ValidationError
from assistant.records import ImportOutcome
from assistant.store import models as m
from assistant.store.customer_records import ParsedCustomer, ParsedOrder

IMPORT_SOURCE = "import"


def _key(kind: str, value: str) -> tuple[str, str]:
    return kind, value.strip().casefold()


def apply_customer_record(
    session: Session, parsed: ParsedCustomer, origin: str, now: datetime
) -> ImportOutcome:
    """Insert or update one customer with everything in its record; the caller owns the transaction."""
    customer = session.get(m.CustomerRow, parsed.id)
    if customer is not None and customer.source_hash == parsed.source_hash and customer.origin == origin:
        return "unchanged"
    outcome: ImportOutcome = "imported" if customer is None else "updated"
    if customer is None:
        customer = m.CustomerRow(id=parsed.id, created_at=now)
        session.add(customer)
    customer.name = parsed.name  # type: ignore[assignment]  # None fails NOT NULL: the record fails
    customer.email = parsed.email
    customer.phone = parsed.phone
    customer.tier = parsed.tier
    customer.points = parsed.points
    customer.joined_at = parsed.joined_at
    customer.address = parsed.address
    customer.attributes = dict(parsed.attributes or {})
    customer.origin = origin
    customer.source_hash = parsed.source_hash
    customer.updated_at = now
    session.flush()
    _apply_consent(session, parsed, now)
    _apply_preferences(session, parsed, now)
    for order in parsed.orders:
        _apply_order(session, parsed.id, order, now)
    return outcome


def _apply_consent(session: Session, parsed: ParsedCustomer, now: datetime) -> None:
    rows = session.scalars(
        select(m.ConsentRow)
        .where(m.ConsentRow.customer_id == parsed.id, m.ConsentRow.source == IMPORT_SOURCE)
        .order_by(m.ConsentRow.at, m.ConsentRow.id)
    ).all()
    last_imported = {row.kind: row.granted for row in rows}
    wanted = {"personalization": parsed.consent.personalization, "marketing": parsed.consent.marketing}
    for kind, granted in wanted.items():
        if last_imported.get(kind) != granted:
            session.add(
                m.ConsentRow(customer_id=parsed.id, kind=kind, granted=granted, source=IMPORT_SOURCE, at=now)
            )


def _apply_preferences(session: Session, parsed: ParsedCustomer, now: datetime) -> None:
    rows = session.scalars(select(m.PreferenceRow).where(m.PreferenceRow.customer_id == parsed.id)).all()
    removed = {_key(r.kind, r.value) for r in rows if r.removed_at is not None}
    imported = {
        _key(r.kind, r.value): r
        for r in rows
        if r.origin == "explicit" and r.source == IMPORT_SOURCE and r.removed_at is None
    }
    stated_elsewhere = {
        _key(r.kind, r.value)
        for r in rows
        if r.origin == "explicit" and r.source != IMPORT_SOURCE and r.removed_at is None
    }
    wanted = {_key(kind, value): (kind, value) for kind, value in parsed.preferences}
    for key, row in imported.items():
        if key not in wanted:
            session.delete(row)
    for key, (kind, value) in wanted.items():
        if key in imported or key in removed or key in stated_elsewhere:
            continue
        session.add(
            m.PreferenceRow(
                customer_id=parsed.id, kind=kind, value=value, origin="explicit", source=IMPORT_SOURCE,
                confidence=1.0, evidence_count=1, created_at=now, updated_at=now,
            )
        )
    session.flush()


def _history_entry(now: datetime, status: str | None, action: str, note: str | None = None) -> dict[str, Any]:
    return {"at": now.isoformat(), "status": status, "action": action, "note": note}


def _apply_order(session: Session, customer_id: str, parsed: ParsedOrder, now: datetime) -> None:
    row = session.get(m.OrderRow, parsed.id)
    if row is not None and row.customer_id != customer_id:
        raise ValidationError(
            f"order {parsed.id} of customer {customer_id} already belongs to another customer",
            user_message=f"Fix customer {customer_id}: order id {parsed.id} is used by another customer; "
                         "order ids must be unique across the shop.",
        )
    if row is None:
        row = m.OrderRow(id=parsed.id, customer_id=customer_id, payments=[],
                      history=[_history_entry(now, parsed.status, IMPORT_SOURCE)])
        session.add(row)
    elif row.status != parsed.status:
        row.history = [*row.history, _history_entry(now, parsed.status, IMPORT_SOURCE)]
    row.status = parsed.status  # type: ignore[assignment]  # None fails NOT NULL: the record fails
    row.placed_at = parsed.placed_at  # type: ignore[assignment]
    row.updated_at = parsed.updated_at
    row.delivered_at = parsed.delivered_at
    row.currency = parsed.currency
    row.total = parsed.total
    row.shipping = parsed.shipping
    row.shipping_address = parsed.shipping_address
    row.tracking = parsed.tracking
    row.payments = [dict(p) for p in parsed.payments]
    session.flush()
    session.execute(delete(m.OrderItemRow).where(m.OrderItemRow.order_id == parsed.id))
    for item in parsed.items:
        session.add(
            m.OrderItemRow(
                order_id=parsed.id,
                position=item.position,
                product_id=item.product_id,
                variant_id=item.variant_id,
                name=item.name,
                options=item.options,
                quantity=item.quantity,
                unit_price=item.unit_price,
                status="ordered",
            )
        )
    session.flush()
