"""SQLAlchemy models of the profile, order and interaction-log store.

These rows never leave ``assistant.store``: the store classes convert them to the frozen domain types
in ``assistant.records``. Every table that holds a customer's data references ``customers.id``
with ``ON DELETE CASCADE``, so deleting a customer erases everything of theirs. Schema changes go
through Alembic revisions in ``assistant/migrations/versions``; a contract test checks that the
migrations and these models agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from assistant.store.columns import JSONType, UTCDateTime
from assistant.store.pii_columns import redact_row

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CONSENT_KINDS = ("personalization", "marketing")
PREFERENCE_ORIGINS = ("explicit", "inferred")
TURN_STATUSES = ("ok", "error", "fallback")
STAFF_ROLES = ("agent", "reviewer", "admin")
TURN_LABELS = ("correct", "incorrect", "outdated_knowledge", "policy_violation")
RATING_REASONS = ("handover_resolved", "quiet")  # why the shopper was asked to rate the conversation

# Money: exact decimal in PostgreSQL, read back as float (the domain types use float).
Money = Numeric(12, 2, asdecimal=False)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _customer_fk(nullable: bool = False) -> Mapped[Any]:
    return mapped_column(
        String(128), ForeignKey("customers.id", ondelete="CASCADE"), nullable=nullable, index=True
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# PII out of every write: the shopper and model text columns are redacted before each insert and update
event.listen(Base, "before_insert", redact_row, propagate=True)
event.listen(Base, "before_update", redact_row, propagate=True)


class CustomerRow(Base):
    """A shopper; ``id`` is the shop's own customer id."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    tier: Mapped[str] = mapped_column(String(32), default="standard")
    points: Mapped[int] = mapped_column(Integer, default=0)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    address: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    origin: Mapped[str | None] = mapped_column(String(128), index=True)
    source_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsentRow(Base):
    """One change of one consent flag; the latest row per (customer, kind) wins."""

    __tablename__ = "consents"
    __table_args__ = (
        CheckConstraint(_in("kind", CONSENT_KINDS), name="kind"),
        Index("ix_consents_customer_kind_at", "customer_id", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = _customer_fk()
    kind: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class PreferenceRow(Base):
    """A liking, stated (explicit) or guessed from behaviour (inferred).

    ``removed_at`` set means the shopper removed it: the row stays as a tombstone so the same
    preference is never inferred again.
    """

    __tablename__ = "preferences"
    __table_args__ = (
        CheckConstraint(_in("origin", PREFERENCE_ORIGINS), name="origin"),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence"),
        UniqueConstraint("customer_id", "kind", "value", "origin", name="uq_preferences_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = _customer_fk()
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(300))
    origin: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(128))
    confidence: Mapped[float] = mapped_column(Float)
    evidence_count: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OrderRow(Base):
    """An order; ``id`` is the shop's order id. ``history`` is a list of ``{at, status, action, note}``."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer_placed", "customer_id", "placed_at"),)

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    customer_id: Mapped[str] = _customer_fk()
    status: Mapped[str] = mapped_column(String(32))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    total: Mapped[float | None] = mapped_column(Money)
    shipping: Mapped[float | None] = mapped_column(Money)
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    tracking: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    payments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)


class OrderItemRow(Base):
    """One line of an order, in ``position`` order."""

    __tablename__ = "order_items"
    __table_args__ = (UniqueConstraint("order_id", "position", name="uq_order_items_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[str] = mapped_column(String(128))
    variant_id: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(300))
    options: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[float] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(32), default="ordered")


class ChatSessionRow(Base):
    """A conversation; ``customer_id`` is empty for anonymous shoppers. ``state`` holds pending actions."""

    __tablename__ = "chat_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = _customer_fk(nullable=True)
    channel: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class TurnRow(Base):
    """One message and its reply, with the full trace; ``message``, ``reply`` and ``trace`` are redacted as the row is
    written (``assistant.store.pii_columns``)."""

    __tablename__ = "turns"
    __table_args__ = (
        CheckConstraint(_in("status", TURN_STATUSES), name="status"),
        Index("ix_turns_session_created", "session_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("chat_sessions.id", ondelete="CASCADE")
    )
    customer_id: Mapped[str | None] = _customer_fk(nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    message: Mapped[str] = mapped_column(Text)
    reply: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(64))
    verdict: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    handover: Mapped[bool] = mapped_column(Boolean, default=False)
    trace: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    model: Mapped[str | None] = mapped_column(String(200))
    #: who wrote the reply: "assistant", or "agent:<username>" for a reply a support agent sent
    author: Mapped[str] = mapped_column(String(160), default="assistant", server_default="assistant")


class EventRow(Base):
    """Something that happened: a product viewed, an offer shown or accepted, feedback, a review label."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_customer_created", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str | None] = _customer_fk(nullable=True)
    session_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("chat_sessions.id", ondelete="CASCADE"), index=True
    )
    turn_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("turns.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class StaffUserRow(Base):
    """A member of the shop's staff. ``roles`` is a comma-separated subset of ``STAFF_ROLES`` (admin is all
    three). ``password_hash`` is an argon2 hash; the password itself is never stored."""

    __tablename__ = "staff_users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: what a shopper sees beside this person's replies ("Ana"); None: "our team"
    display_name: Mapped[str | None] = mapped_column(String(80))


class StaffSessionRow(Base):
    """A signed-in staff member. ``id`` is the SHA-256 of the session token (the token is only in the cookie)."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TurnLabelRow(Base):
    """A reviewer's label on a turn; the newest label per turn is its current one."""

    __tablename__ = "turn_labels"
    __table_args__ = (CheckConstraint(_in("label", TURN_LABELS), name="label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    turn_id: Mapped[str] = mapped_column(String(64), ForeignKey("turns.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SessionRatingRow(Base):
    """The shopper's rating of a conversation (CSAT): 1-5 and an optional comment, one per session (rating again
    replaces it). ``comment`` is redacted as it is written (``assistant.store.pii_columns``); the row goes with
    its session and with its customer."""

    __tablename__ = "session_ratings"
    __table_args__ = (
        CheckConstraint("score >= 1 AND score <= 5", name="score"),
        CheckConstraint(_in("reason", RATING_REASONS), name="reason"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("chat_sessions.id", ondelete="CASCADE"), unique=True
    )
    customer_id: Mapped[str | None] = _customer_fk(nullable=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
