"""The profile, order and interaction-log store (SQLAlchemy 2, Alembic; SQLite by default, PostgreSQL by URL).

Use ``open_stores(url)`` (or ``build_engine`` + ``migrate`` + the store classes). Store methods return
the frozen domain types of ``assistant.records``; ORM rows stay inside this package.
"""

from assistant.records import (
    ORDER_STATUSES,
    ChatSession,
    ConsentKind,
    ConsentState,
    CustomerProfile,
    EventRecord,
    ImportOutcome,
    Order,
    OrderItem,
    OrderSummary,
    Preference,
    PreferenceOrigin,
    TurnRecord,
    TurnStatus,
)
from assistant.store.clock import Clock, CounterIds, FixedClock, IdFactory, SystemClock, UuidIds
from assistant.store.customer_records import record_hash
from assistant.store.customers import CustomerStore
from assistant.store.db import (
    build_engine,
    current_revision,
    head_revision,
    migrate,
    normalize_url,
    session_factory,
    store_metadata,
)
from assistant.store.events import EventStore
from assistant.store.handovers import HANDOVER_REASONS, Handover, HandoverStore
from assistant.store.order_store import AppliedChange, OrderChange, OrderStore
from assistant.store.sessions import SessionStore, TurnStore
from assistant.store.stores import Stores, build_stores, open_stores

__all__ = [
    "HANDOVER_REASONS",
    "ORDER_STATUSES",
    "AppliedChange",
    "ChatSession",
    "Clock",
    "ConsentKind",
    "ConsentState",
    "CounterIds",
    "CustomerProfile",
    "CustomerStore",
    "EventRecord",
    "EventStore",
    "FixedClock",
    "Handover",
    "HandoverStore",
    "IdFactory",
    "ImportOutcome",
    "Order",
    "OrderChange",
    "OrderItem",
    "OrderStore",
    "OrderSummary",
    "Preference",
    "PreferenceOrigin",
    "SessionStore",
    "Stores",
    "SystemClock",
    "TurnRecord",
    "TurnStatus",
    "TurnStore",
    "UuidIds",
    "build_engine",
    "build_stores",
    "current_revision",
    "head_revision",
    "migrate",
    "normalize_url",
    "open_stores",
    "record_hash",
    "session_factory",
    "store_metadata",
]
