"""``EventStore``: what shoppers saw and did (products viewed, offers shown and accepted, feedback...)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.errors import ValidationError
from assistant.records import EventRecord
from assistant.store import models as m
from assistant.store.clock import Clock, SystemClock
from assistant.store.columns import require_json
from assistant.store.convert import event_from_row
from assistant.store.db import read, write


def event_row(event: EventRecord, clock: Clock) -> m.EventRow:
    if not event.kind:
        raise ValidationError("an event needs a kind", user_message="Give the event a kind.")
    require_json(event.payload, f"the payload of a {event.kind} event")
    return m.EventRow(
        customer_id=event.customer_id,
        session_id=event.session_id,
        turn_id=event.turn_id,
        kind=event.kind,
        payload=dict(event.payload),
        created_at=event.created_at or clock.now(),
    )


def check_event_owner(session: Session, event: EventRecord) -> None:
    """An event may only point at a session or turn of its own customer (or of nobody, if anonymous)."""
    owners: list[tuple[str, str | None]] = []
    if event.session_id is not None:
        chat = session.get(m.ChatSessionRow, event.session_id)
        owners.append((f"session {event.session_id}", chat.customer_id if chat else event.customer_id))
    if event.turn_id is not None:
        turn = session.get(m.TurnRow, event.turn_id)
        owners.append((f"turn {event.turn_id}", turn.customer_id if turn else event.customer_id))
    for what, owner in owners:
        if owner != event.customer_id:
            raise ValidationError(
                f"{event.kind} event for customer {event.customer_id!r} points at {what} of another customer",
                user_message="An event can only refer to the same shopper's session and turn.",
            )


class EventStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()

    def add(self, event: EventRecord) -> EventRecord:
        """Store one event; returns it with ``id`` and ``created_at`` filled."""
        row = event_row(event, self._clock)
        with write(self._sessions, f"recording a {event.kind} event") as session:
            check_event_owner(session, event)
            session.add(row)
            session.flush()
            return event_from_row(row)

    def list_for(self, customer_id: str, kinds: Iterable[str] | None = None) -> list[EventRecord]:
        """A shopper's events, oldest first; only the given kinds if ``kinds`` is set."""
        query = select(m.EventRow).where(m.EventRow.customer_id == customer_id)
        if kinds is not None:
            query = query.where(m.EventRow.kind.in_(list(kinds)))
        with read(self._sessions, f"listing events of {customer_id}") as session:
            rows = session.scalars(query.order_by(m.EventRow.created_at, m.EventRow.id))
            return [event_from_row(r) for r in rows]
