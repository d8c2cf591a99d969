"""``HandoverStore``: conversations handed over to a person, the agents' queue.

A hand-over is ``open`` when created, ``claimed`` once an agent took it, ``resolved`` when done. A chat
session has at most one hand-over that is not resolved (``open_session_id`` is unique and set only
while unresolved), so asking twice never queues the same conversation twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from assistant.errors import ConflictError, NotFoundError, ValidationError
from assistant.store import models as m
from assistant.store.clock import Clock, IdFactory, SystemClock, UuidIds
from assistant.store.columns import UTCDateTime
from assistant.store.db import read, write
from assistant.store.models import Base

HANDOVER_REASONS = ("customer_request", "missing_knowledge", "policy_restriction", "tool_failure",
                    "angry_customer")
HANDOVER_STATUSES = ("open", "claimed", "resolved")
#: what a contact address must look like (the shape the redaction recognises as an e-mail address)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class HandoverRow(Base):
    __tablename__ = "handovers"
    __table_args__ = (
        CheckConstraint(_in("reason", HANDOVER_REASONS), name="reason"),
        CheckConstraint(_in("status", HANDOVER_STATUSES), name="status"),
        Index("ix_handovers_status_created", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), ForeignKey("chat_sessions.id", ondelete="CASCADE"),
                                            index=True)
    customer_id: Mapped[str | None] = mapped_column(String(128), ForeignKey("customers.id", ondelete="CASCADE"),
                                                    nullable=True, index=True)
    turn_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the turn that asked (logged after)
    reason: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    agent: Mapped[str | None] = mapped_column(String(128), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: the session id while not resolved, NULL afterwards: one unresolved hand-over per session
    open_session_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    #: nobody was there: the shopper was asked for an e-mail address to be answered at (``contact_*``, migration 0008)
    contact_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: the address the shopper gave, kept as given (not redacted: they gave it to be answered there), with what they
    #: were told it is used for (their consent) and when; deleted with the customer (the foreign key cascades)
    contact_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    contact_consent: Mapped[str | None] = mapped_column(Text, nullable=True)
    contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class Handover:
    id: str
    session_id: str
    customer_id: str | None
    reason: str
    summary: str
    status: str
    created_at: datetime
    turn_id: str | None = None
    agent: str | None = None
    note: str | None = None
    claimed_at: datetime | None = None
    resolved_at: datetime | None = None
    contact_asked_at: datetime | None = None
    contact_email: str | None = None
    contact_consent: str | None = None
    contact_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"


def _from_row(row: HandoverRow) -> Handover:
    return Handover(id=row.id, session_id=row.session_id, customer_id=row.customer_id, reason=row.reason,
                    summary=row.summary, status=row.status, created_at=row.created_at, turn_id=row.turn_id,
                    agent=row.agent, note=row.note, claimed_at=row.claimed_at, resolved_at=row.resolved_at,
                    contact_asked_at=row.contact_asked_at, contact_email=row.contact_email,
                    contact_consent=row.contact_consent, contact_at=row.contact_at)


def _not_found(handover_id: str) -> NotFoundError:
    return NotFoundError(f"hand-over {handover_id!r} not found", user_message="No such hand-over.")


class HandoverStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None,
                 ids: IdFactory | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()
        self._ids = ids or UuidIds()

    def create(self, session_id: str, customer_id: str | None, reason: str, summary: str,
               turn_id: str | None = None, ask_contact: bool = False) -> Handover:
        """Queue a conversation for a person. If the session already has an unresolved hand-over, that
        one is returned unchanged (one per session). ``ask_contact``: nobody is there, the shopper is asked for an
        e-mail address (``contact_asked_at``; :meth:`set_contact` keeps the answer)."""
        if reason not in HANDOVER_REASONS:
            raise ValidationError(f"unknown hand-over reason {reason!r}",
                                  user_message=f"A hand-over reason is one of {', '.join(HANDOVER_REASONS)}.")
        with write(self._sessions, f"handing over session {session_id}") as session:
            existing = session.scalars(select(HandoverRow).where(HandoverRow.open_session_id == session_id)).first()
            if existing is not None:
                return _from_row(existing)
            chat = session.get(m.ChatSessionRow, session_id)
            if chat is None or chat.customer_id != customer_id:
                raise NotFoundError(f"chat session {session_id!r} of {customer_id!r} not found",
                                    user_message="This conversation no longer exists; start a new one.")
            row = HandoverRow(id=self._ids.new_id(), session_id=session_id, customer_id=customer_id,
                              turn_id=turn_id, reason=reason, summary=summary[:4000], status="open",
                              created_at=self._clock.now(), open_session_id=session_id,
                              contact_asked_at=self._clock.now() if ask_contact else None)
            session.add(row)
            session.flush()
            return _from_row(row)

    def get(self, handover_id: str) -> Handover | None:
        """Any hand-over by id. Staff only."""
        with read(self._sessions, f"reading hand-over {handover_id}") as session:
            row = session.get(HandoverRow, handover_id)
            return _from_row(row) if row is not None else None

    def open_for_session(self, session_id: str) -> Handover | None:
        """The session's unresolved hand-over, if any (the bot stays quiet while there is one)."""
        with read(self._sessions, f"reading the hand-over of session {session_id}") as session:
            row = session.scalars(select(HandoverRow).where(HandoverRow.open_session_id == session_id)).first()
            return _from_row(row) if row is not None else None

    def list_open(self, limit: int = 100, statuses: tuple[str, ...] = ("open", "claimed")) -> list[Handover]:
        """The queue: hand-overs in ``statuses``, oldest first. Staff only."""
        with read(self._sessions, "listing hand-overs") as session:
            rows = session.scalars(select(HandoverRow).where(HandoverRow.status.in_(statuses))
                                   .order_by(HandoverRow.created_at, HandoverRow.id).limit(limit))
            return [_from_row(r) for r in rows]

    def claim(self, handover_id: str, agent: str) -> Handover:
        """An agent takes the conversation. Claiming one's own claim again is a no-op; one claimed by
        another agent, or resolved, raises ``ConflictError``."""
        with write(self._sessions, f"claiming hand-over {handover_id}") as session:
            row = self._locked(session, handover_id)
            if row.status == "claimed" and row.agent == agent:
                return _from_row(row)
            if row.status != "open":
                raise ConflictError(f"hand-over {handover_id} is {row.status} ({row.agent})",
                                    user_message=f"This conversation is already {row.status} by {row.agent}.")
            row.status, row.agent, row.claimed_at = "claimed", agent, self._clock.now()
            session.flush()
            return _from_row(row)

    def resolve(self, handover_id: str, agent: str, note: str | None = None) -> Handover:
        """Close the hand-over; the assistant answers in that conversation again. Resolving twice is a no-op."""
        with write(self._sessions, f"resolving hand-over {handover_id}") as session:
            row = self._locked(session, handover_id)
            if row.status == "resolved":
                return _from_row(row)
            if row.status == "claimed" and row.agent != agent:
                raise ConflictError(f"hand-over {handover_id} is claimed by {row.agent}",
                                    user_message=f"This conversation is claimed by {row.agent}.")
            row.status, row.agent, row.note = "resolved", agent, note
            row.resolved_at, row.open_session_id = self._clock.now(), None
            session.flush()
            return _from_row(row)

    def ask_contact(self, handover_id: str) -> Handover:
        """Nobody is there: the shopper is asked for an e-mail address now (kept once, the first time)."""
        with write(self._sessions, f"asking for a contact on hand-over {handover_id}") as session:
            row = self._locked(session, handover_id)
            if row.contact_asked_at is None and row.status != "resolved":
                row.contact_asked_at = self._clock.now()
                session.flush()
            return _from_row(row)

    def set_contact(self, handover_id: str, email: str, consent: str) -> Handover:
        """Keep the e-mail address the shopper gave to be answered at, with ``consent`` (what they were told it is
        used for). Only on an unresolved hand-over that asked for one (else ``ConflictError``); a newer address
        replaces the older one. ``ValidationError`` for something that is no e-mail address."""
        address = email.strip()
        if not EMAIL.fullmatch(address) or len(address) > 320:
            raise ValidationError("not an e-mail address", user_message="That is not an e-mail address.")
        if not consent.strip():
            raise ValidationError("a contact without consent", user_message="Say what the address is used for.")
        with write(self._sessions, f"keeping the contact of hand-over {handover_id}") as session:
            row = self._locked(session, handover_id)
            if row.status == "resolved" or row.contact_asked_at is None:
                raise ConflictError(f"hand-over {handover_id} did not ask for a contact ({row.status})",
                                    user_message="This hand-over takes no contact address.")
            row.contact_email, row.contact_consent, row.contact_at = address, consent.strip(), self._clock.now()
            session.flush()
            return _from_row(row)

    @staticmethod
    def _locked(session: Session, handover_id: str) -> HandoverRow:
        row = session.scalars(select(HandoverRow).where(HandoverRow.id == handover_id).with_for_update()).first()
        if row is None:
            raise _not_found(handover_id)
        return row
