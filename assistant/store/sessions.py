"""``SessionStore`` (conversations) and ``TurnStore`` (the interaction log).

Shopper-facing reads take the shopper's id (``None`` for an anonymous shopper) and return nothing that
belongs to anyone else. ``TurnStore.get_turn`` and ``TurnStore.recent`` are for staff (log review)
and must only be reachable from views that checked a staff role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from assistant.errors import ConflictError, NotFoundError, ValidationError
from assistant.records import ChatSession, EventRecord, TurnRecord
from assistant.store import models as m
from assistant.store.clock import Clock, IdFactory, SystemClock, UuidIds
from assistant.store.columns import require_json, to_json_safe
from assistant.store.convert import session_from_row, turn_from_row
from assistant.store.db import read, write
from assistant.store.events import check_event_owner, event_row


def owned_by(column: InstrumentedAttribute[str | None], customer_id: str | None) -> ColumnElement[bool]:
    """``column = customer_id``, or ``column IS NULL`` for anonymous shoppers."""
    return column.is_(None) if customer_id is None else column == customer_id


#: keys of a session's state that belong to staff (an agent's take-over): ``set_state`` keeps them as stored;
#: only ``hold`` and ``release`` change them
STAFF_STATE_KEYS = ("taken_over_by",)


def _session_not_found(session_id: str) -> NotFoundError:
    return NotFoundError(
        f"chat session {session_id!r} not found for this shopper",
        user_message="This conversation no longer exists; start a new one.",
    )


class SessionStore:
    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock | None = None, ids: IdFactory | None = None
    ) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()
        self._ids = ids or UuidIds()

    def open_session(self, customer_id: str | None, channel: str = "web") -> str:
        """Start a conversation; ``customer_id`` None for an anonymous shopper. Returns the session id."""
        now = self._clock.now()
        with write(self._sessions, "opening a chat session") as session:
            if customer_id is not None and session.get(m.CustomerRow, customer_id) is None:
                raise NotFoundError(
                    f"customer {customer_id!r} is not in the store",
                    user_message=f"No customer {customer_id!r}: import the shop's customers first, "
                                 "or open an anonymous session.",
                )
            row = m.ChatSessionRow(id=self._ids.new_id(), customer_id=customer_id, channel=channel,
                                created_at=now, last_seen_at=now, state={})
            session.add(row)
            return row.id

    def get_session(self, customer_id: str | None, session_id: str) -> ChatSession | None:
        """The session if it is this shopper's (anonymous sessions for ``customer_id=None``)."""
        with read(self._sessions, f"reading chat session {session_id}") as session:
            row = self._owned(session, customer_id, session_id)
            return session_from_row(row) if row is not None else None

    def sessions_for(self, customer_id: str) -> list[ChatSession]:
        """A shopper's sessions, most recently active first."""
        with read(self._sessions, f"listing sessions of {customer_id}") as session:
            rows = session.scalars(
                select(m.ChatSessionRow)
                .where(m.ChatSessionRow.customer_id == customer_id)
                .order_by(m.ChatSessionRow.last_seen_at.desc(), m.ChatSessionRow.id.desc())
            )
            return [session_from_row(r) for r in rows]

    def set_state(self, customer_id: str | None, session_id: str, state: Mapping[str, Any]) -> ChatSession:
        """Replace the session's state (pending actions awaiting the shopper's confirmation). The staff keys
        (``STAFF_STATE_KEYS``: who took the conversation over) are kept as stored, whatever ``state`` says."""
        require_json(state, "a session's state")
        with write(self._sessions, f"saving state of chat session {session_id}") as session:
            _lock_sqlite(session)
            row = self._owned(session, customer_id, session_id, lock=True)
            if row is None:
                raise _session_not_found(session_id)
            kept = {k: v for k, v in (row.state or {}).items() if k in STAFF_STATE_KEYS}
            row.state = {**{k: v for k, v in state.items() if k not in STAFF_STATE_KEYS}, **kept}
            row.last_seen_at = self._clock.now()
            session.flush()
            return session_from_row(row)

    def join_customer(self, session_id: str, customer_id: str) -> ChatSession:
        """A guest's conversation (no customer yet) becomes ``customer_id``'s, with everything recorded in it: every
        table that has both a ``session_id`` and a ``customer_id`` (turns, events, hand-overs, ...) is moved in
        the same transaction. ``NotFoundError`` when the session is not a guest's or the customer is unknown."""
        with write(self._sessions, f"joining chat session {session_id} to a customer") as session:
            _lock_sqlite(session)
            if session.get(m.CustomerRow, customer_id) is None:
                raise NotFoundError(f"customer {customer_id!r} is not in the store",
                                    user_message="No profile for this shopper.")
            row = self._owned(session, None, session_id, lock=True)
            if row is None:
                raise _session_not_found(session_id)
            row.customer_id = customer_id
            row.last_seen_at = self._clock.now()
            for table in m.Base.metadata.sorted_tables:
                owned = {"session_id", "customer_id"} <= set(table.c.keys())
                if table.name == m.ChatSessionRow.__tablename__ or not owned:
                    continue
                session.execute(table.update().where(table.c.session_id == session_id, table.c.customer_id.is_(None))
                                .values(customer_id=customer_id))
            session.flush()
            return session_from_row(row)

    # staff: the copilot -----------------------------------------------------------------------
    def find(self, session_id: str) -> ChatSession | None:
        """Any session by id, whoever it belongs to. Staff only (the copilot): shopper paths use ``get_session``."""
        with read(self._sessions, f"reading chat session {session_id}") as session:
            row = session.get(m.ChatSessionRow, session_id)
            return session_from_row(row) if row is not None else None

    def hold(self, session_id: str, agent: str, at: datetime | None = None) -> ChatSession:
        """Staff: ``agent`` takes the conversation over (``state["taken_over_by"]``); the assistant stops
        answering. Taking one's own again changes nothing; one another agent holds raises ``ConflictError``."""
        with write(self._sessions, f"taking over chat session {session_id}") as session:
            row = self._locked(session, session_id)
            holder = (row.state or {}).get("taken_over_by") or {}
            if holder.get("agent") == agent:
                return session_from_row(row)
            if holder.get("agent"):
                raise ConflictError(f"session {session_id} is held by {holder['agent']}",
                                    user_message=f"{holder['agent']} has already taken over this conversation.")
            when = at or self._clock.now()
            row.state = {**(row.state or {}), "taken_over_by": {"agent": agent, "at": when.isoformat()}}
            session.flush()
            return session_from_row(row)

    def release(self, session_id: str, agent: str) -> ChatSession:
        """Staff: ``agent`` gives the conversation back to the assistant. Nobody holding it changes nothing;
        another agent holding it raises ``ConflictError``."""
        with write(self._sessions, f"giving back chat session {session_id}") as session:
            row = self._locked(session, session_id)
            holder = (row.state or {}).get("taken_over_by") or {}
            if holder.get("agent") and holder.get("agent") != agent:
                raise ConflictError(f"session {session_id} is held by {holder['agent']}",
                                    user_message=f"{holder['agent']} has this conversation; only they can give "
                                                 "it back.")
            if holder:
                row.state = {k: v for k, v in (row.state or {}).items() if k != "taken_over_by"}
                session.flush()
            return session_from_row(row)

    @staticmethod
    def _locked(session: Session, session_id: str) -> m.ChatSessionRow:
        _lock_sqlite(session)
        query = select(m.ChatSessionRow).where(m.ChatSessionRow.id == session_id).with_for_update()
        row = session.scalars(query).first()
        if row is None:
            raise _session_not_found(session_id)
        return row

    @staticmethod
    def _owned(session: Session, customer_id: str | None, session_id: str,
               lock: bool = False) -> m.ChatSessionRow | None:
        query = select(m.ChatSessionRow).where(
            m.ChatSessionRow.id == session_id, owned_by(m.ChatSessionRow.customer_id, customer_id)
        )
        return session.scalars(query.with_for_update() if lock else query).one_or_none()


def _lock_sqlite(session: Session) -> None:
    """SQLite: take the write lock before reading a row that is then changed (PostgreSQL: ``FOR UPDATE``)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite" and connection.engine.url.database not in (None, "", ":memory:"):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class TurnStore:
    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock | None = None, ids: IdFactory | None = None
    ) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()
        self._ids = ids or UuidIds()

    def record_turn(self, turn: TurnRecord, events: Iterable[EventRecord] = ()) -> TurnRecord:
        """Store a turn and its events in one transaction: all of them, or (on any error) none.

        The session must belong to ``turn.customer_id``. Each event gets the turn's id, session and
        customer; an event naming another customer, or with a payload JSON cannot hold, is refused.
        The trace is made JSON-safe instead (values JSON cannot hold are stored as text, NaN as null).
        Returns the turn as stored, with ``id`` and ``created_at`` filled.
        """
        stored = replace(
            turn, id=turn.id or self._ids.new_id(), created_at=turn.created_at or self._clock.now()
        )
        assert stored.id is not None and stored.created_at is not None
        with write(self._sessions, f"recording turn {stored.id}") as session:
            chat = session.get(m.ChatSessionRow, stored.session_id)
            if chat is None:
                raise _session_not_found(stored.session_id)
            if chat.customer_id != stored.customer_id:
                raise ValidationError(
                    f"turn for customer {stored.customer_id!r} in session {stored.session_id} "
                    "of another shopper",
                    user_message="A turn can only be recorded in the same shopper's conversation.",
                )
            row = m.TurnRow(
                id=stored.id,
                session_id=stored.session_id,
                customer_id=stored.customer_id,
                created_at=stored.created_at,
                message=stored.message,
                reply=stored.reply,
                intent=stored.intent,
                verdict=stored.verdict,
                status=stored.status,
                handover=stored.handover,
                trace=to_json_safe(stored.trace),
                latency_ms=stored.latency_ms,
                model=stored.model,
                author=stored.author,
            )
            session.add(row)
            session.flush()
            for event in events:
                if event.customer_id is not None and event.customer_id != stored.customer_id:
                    raise ValidationError(
                        f"{event.kind} event for customer {event.customer_id!r} "
                        f"in a turn of {stored.customer_id!r}",
                        user_message="A turn's events must belong to the turn's shopper.",
                    )
                owned = replace(event, customer_id=stored.customer_id, session_id=stored.session_id,
                                turn_id=stored.id, created_at=event.created_at or stored.created_at)
                check_event_owner(session, owned)
                session.add(event_row(owned, self._clock))
            chat.last_seen_at = max(chat.last_seen_at, stored.created_at)
            session.flush()
            return turn_from_row(row)

    def turns_for_session(self, customer_id: str | None, session_id: str) -> list[TurnRecord]:
        """The turns of this shopper's session, oldest first; empty if the session is not theirs."""
        with read(self._sessions, f"reading turns of session {session_id}") as session:
            rows = session.scalars(
                select(m.TurnRow)
                .join(m.ChatSessionRow, m.ChatSessionRow.id == m.TurnRow.session_id)
                .where(m.TurnRow.session_id == session_id, owned_by(m.ChatSessionRow.customer_id, customer_id))
                .order_by(m.TurnRow.created_at, m.TurnRow.id)
            )
            return [turn_from_row(r) for r in rows]

    def get_turn(self, turn_id: str) -> TurnRecord | None:
        """Any turn by id. Staff only (log review): shopper paths use ``turns_for_session``."""
        with read(self._sessions, f"reading turn {turn_id}") as session:
            row = session.get(m.TurnRow, turn_id)
            return turn_from_row(row) if row is not None else None

    def recent(self, limit: int = 50, before: datetime | None = None) -> list[TurnRecord]:
        """The latest turns of all shoppers, newest first. Staff only (log review)."""
        query = select(m.TurnRow)
        if before is not None:
            query = query.where(m.TurnRow.created_at < before)
        with read(self._sessions, "listing recent turns") as session:
            rows = session.scalars(query.order_by(m.TurnRow.created_at.desc(), m.TurnRow.id.desc()).limit(limit))
            return [turn_from_row(r) for r in rows]
