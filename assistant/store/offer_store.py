"""``OfferStore``: the offers catalogue in the database, so every app replica sees the same offers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from assistant.records import ImportOutcome
from assistant.store.clock import Clock, SystemClock
from assistant.store.columns import JSONType, UTCDateTime, require_json
from assistant.store.db import read, write
from assistant.store.models import Base
from knowledge.importing import content_hash


class OfferRow(Base):
    __tablename__ = "offers"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    origin: Mapped[str | None] = mapped_column(String(128), nullable=True)
    source_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OfferStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()

    def upsert(self, offer: Mapping[str, Any], origin: str | None = None) -> ImportOutcome:
        """Insert or replace one (already validated) offer; unchanged offers are left alone."""
        data = dict(offer)
        require_json(data, f"offer {data.get('id')!r}")
        digest = content_hash(data)
        now = self._clock.now()
        with write(self._sessions, f"storing offer {data.get('id')}") as session:
            row = session.get(OfferRow, str(data["id"]))
            if row is None:
                session.add(OfferRow(id=str(data["id"]), code=str(data["code"]), data=data, active=True,
                                     origin=origin, source_hash=digest, created_at=now, updated_at=now))
                return "imported"
            if row.source_hash == digest and row.active:
                return "unchanged"
            row.code, row.data, row.active, row.origin = str(data["code"]), data, True, origin or row.origin
            row.source_hash, row.updated_at = digest, now
            return "updated"

    def edit(self, offer_id: str, offer: Mapping[str, Any]) -> bool:
        """Replace one (already validated) offer's fields by hand (the admin). Its import set, active flag and
        source hash are kept: re-importing the unchanged file it came from leaves the edit alone, a changed file
        replaces it. False when there is no such offer."""
        data = dict(offer)
        require_json(data, f"offer {offer_id!r}")
        with write(self._sessions, f"editing offer {offer_id}") as session:
            row = session.get(OfferRow, offer_id)
            if row is None:
                return False
            row.code, row.data, row.updated_at = str(data["code"]), data, self._clock.now()
            return True

    def deactivate_missing(self, origin: str, keep_ids: Iterable[str]) -> int:
        """Offers of ``origin`` not in ``keep_ids`` stop being shown (kept for the log's sake)."""
        keep = set(keep_ids)
        with write(self._sessions, f"retiring offers of {origin}") as session:
            rows = session.scalars(select(OfferRow).where(OfferRow.origin == origin, OfferRow.active)).all()
            gone = [r for r in rows if r.id not in keep]
            for row in gone:
                row.active = False
            return len(gone)

    def all(self, include_inactive: bool = False) -> list[dict[str, Any]]:
        with read(self._sessions, "listing offers") as session:
            query = select(OfferRow).order_by(OfferRow.id)
            if not include_inactive:
                query = query.where(OfferRow.active)
            return [dict(r.data) for r in session.scalars(query)]

    def get(self, offer_id: str) -> dict[str, Any] | None:
        with read(self._sessions, f"reading offer {offer_id}") as session:
            row = session.get(OfferRow, offer_id)
            return dict(row.data) if row is not None else None
