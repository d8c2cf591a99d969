"""``ShopProfileStore``: who the shop is (name, currency, locale), in the database so that every process and
every replica reads the same one. One database holds one shop: the table has one row, written when a shop
folder is imported."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from assistant.records import ImportOutcome, ShopProfile, ShopProfileSource
from assistant.store.clock import Clock, SystemClock
from assistant.store.columns import UTCDateTime
from assistant.store.db import read, write
from assistant.store.models import Base

#: the key of the one row
THE_SHOP = "shop"


class ShopProfileRow(Base):
    __tablename__ = "shop_profile"
    __table_args__ = (CheckConstraint("source IN ('shop.json', 'default')", name="source"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    locale: Mapped[str] = mapped_column(String(35))
    source: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str | None] = mapped_column(String(128), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


def _profile(row: ShopProfileRow) -> ShopProfile:
    source: ShopProfileSource = "shop.json" if row.source == "shop.json" else "default"
    return ShopProfile(name=row.name, currency=row.currency, locale=row.locale, source=source, origin=row.origin,
                       updated_at=row.updated_at)


class ShopProfileStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()

    def get(self) -> ShopProfile | None:
        """The stored profile; ``None`` before any shop folder was imported."""
        with read(self._sessions, "reading the shop profile") as session:
            row = session.get(ShopProfileRow, THE_SHOP)
            return _profile(row) if row is not None else None

    def put(self, profile: ShopProfile) -> ImportOutcome:
        """Store ``profile`` in place of the one stored (its ``updated_at`` is the store's clock)."""
        fields = {"name": profile.name, "currency": profile.currency, "locale": profile.locale,
                  "source": profile.source, "origin": profile.origin}
        with write(self._sessions, "storing the shop profile") as session:
            row = session.get(ShopProfileRow, THE_SHOP)
            if row is None:
                session.add(ShopProfileRow(id=THE_SHOP, updated_at=self._clock.now(), **fields))
                return "imported"
            if all(getattr(row, key) == value for key, value in fields.items()):
                return "unchanged"
            for key, value in fields.items():
                setattr(row, key, value)
            row.updated_at = self._clock.now()
            return "updated"
