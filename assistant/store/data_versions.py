"""``DataVersionStore``: one counter per kind of shop data, so that every replica knows when its caches are stale.

Each process keeps shop data in memory (the catalogue index, purchase signals, the offer codes the verifier knows,
the shop's profile, the policies' word index). When any process changes one of them, the kind's counter in
``data_versions`` goes up; every process reads the counters (one small query, at most once a second) and reloads
only the kinds whose counter moved (``assistant.components.DataWatch``).

Changes in the database announce themselves: :func:`track_changes` counts writes to the tables listed in
``TABLE_KINDS`` and bumps their kinds just before the transaction commits, in that transaction, so the new data
and the new counter become visible together (and the counter's row lock, always the last lock a transaction
takes, is held only for the commit). The knowledge base lives in Chroma, outside any database transaction:
whoever imports into it bumps ``catalog`` / ``policies`` afterwards (``Components.reload_shop_data``).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import BigInteger, String, Table, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, sessionmaker
from sqlalchemy.orm.base import instance_state

from assistant.errors import StoreError
from assistant.store.clock import Clock, SystemClock
from assistant.store.columns import UTCDateTime
from assistant.store.db import read, write
from assistant.store.models import Base

log = logging.getLogger(__name__)

#: the kinds of shop data that processes cache
SHOP_DATA_KINDS: Final = ("catalog", "policies", "offers", "purchases", "shop")
#: tables whose writes change a kind (purchase signals are computed from orders, their items and purchase events)
TABLE_KINDS: Final = {"offers": "offers", "orders": "purchases", "order_items": "purchases",
                      "purchase_events": "purchases", "shop_profile": "shop"}
#: tables whose deletions change a kind: erasing a customer deletes their orders and purchase events by
#: ``ON DELETE CASCADE``
DELETE_KINDS: Final = {"customers": "purchases"}
_PENDING = "concierge_changed_kinds"  # Session.info key: kinds written in the current transaction


class DataVersionRow(Base):
    """How often a kind of shop data has changed; only ever counted up."""

    __tablename__ = "data_versions"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


def bump(session: Session, kinds: Iterable[str], now: datetime) -> None:
    """Count ``kinds`` up by one in ``session``'s transaction (atomic upserts, in a fixed order so that two
    transactions bumping several kinds never wait on each other in a circle)."""
    table = cast(Table, DataVersionRow.__table__)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for kind in sorted(set(kinds)):
        stmt = insert(table).values(kind=kind, version=1, updated_at=now)
        session.execute(stmt.on_conflict_do_update(index_elements=["kind"],
                                                   set_={"version": table.c.version + 1, "updated_at": now}))


def _kinds_of(table: str, deleted: bool) -> set[str]:
    kind = TABLE_KINDS.get(table) or (DELETE_KINDS.get(table) if deleted else None)
    return {kind} if kind else set()


def _pending(session: Session) -> set[str]:
    return cast(set[str], session.info.setdefault(_PENDING, set()))


def track_changes(sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
    """Bump the kinds whose tables a transaction of ``sessions`` wrote, in that transaction, as it commits."""
    now = (clock or SystemClock()).now

    def flushed(session: Session, _context: Any) -> None:
        written = [(obj, False) for obj in session.new]
        written += [(obj, False) for obj in session.dirty if session.is_modified(obj, include_collections=False)]
        written += [(obj, True) for obj in session.deleted]
        for obj, deleted in written:
            table = getattr(instance_state(obj).mapper.local_table, "name", "")
            _pending(session).update(_kinds_of(str(table), deleted))

    def executed(state: ORMExecuteState) -> None:  # bulk statements: delete(...), update(...), insert(...)
        if state.is_insert or state.is_update or state.is_delete:
            table = getattr(getattr(state.statement, "table", None), "name", "")
            _pending(state.session).update(_kinds_of(str(table), state.is_delete))

    def committing(session: Session) -> None:
        session.flush()  # the last flush happens after this hook: its writes must be counted too
        kinds = session.info.pop(_PENDING, None)
        if kinds:
            bump(session, kinds, now())

    def ended(session: Session, transaction: Any) -> None:
        if transaction.parent is None:  # rolled back (a commit has taken them already)
            session.info.pop(_PENDING, None)

    event.listen(sessions, "after_flush", flushed)
    event.listen(sessions, "do_orm_execute", executed)
    event.listen(sessions, "before_commit", committing)
    event.listen(sessions, "after_transaction_end", ended)


class DataVersionStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()

    def versions(self) -> dict[str, int]:
        """Every kind's counter (a kind never changed is missing, i.e. 0)."""
        with read(self._sessions, "reading the shop data versions") as session:
            return {str(k): int(v) for k, v in session.execute(select(DataVersionRow.kind, DataVersionRow.version))}

    def bump(self, kinds: Iterable[str]) -> None:
        """Tell every process that ``kinds`` changed (for data outside the database: the knowledge base)."""
        wanted = set(kinds)
        unknown = wanted - set(SHOP_DATA_KINDS)
        if unknown:
            raise ValueError(f"unknown shop data kinds {sorted(unknown)}: choose from {', '.join(SHOP_DATA_KINDS)}")
        if wanted:
            with write(self._sessions, "counting a shop data change") as session:
                bump(session, wanted, self._clock.now())


class DataWatch:
    """Which kinds of shop data changed since this process last looked.

    ``read`` returns every kind's counter; it is called at most once per ``interval_s`` (other calls in between
    answer "nothing changed" at once), so that checking on every request costs one small query a second. The
    first read only notes where the counters stand: what was loaded before it is up to date."""

    def __init__(self, read: Callable[[], Mapping[str, int]], interval_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._read = read
        self._interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, int] | None = None
        self._checked_at = -math.inf
        self._failing = False

    def changed(self, force: bool = False) -> set[str]:
        """The kinds whose counter moved since the last read (``force``: read now, whenever the last read was)."""
        with self._lock:
            now = self._clock()
            if not force and now - self._checked_at < self._interval_s:
                return set()
            self._checked_at = now
            try:
                current = dict(self._read())
            except StoreError as e:  # the database is away: the caches stay as they are until it answers
                if not self._failing:
                    log.warning("cannot read the shop data versions, caches are kept: %s", e)
                self._failing = True
                return set()
            self._failing = False
            seen, self._seen = self._seen, current
            if seen is None:
                return set()
            return {k for k in current.keys() | seen.keys() if current.get(k, 0) != seen.get(k, 0)}
