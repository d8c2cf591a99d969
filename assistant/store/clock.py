"""Time and id seams for the stores: the system ones, and deterministic ones for tests."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the time; every store takes one so tests can pin it."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move; for tests."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)`` (e.g. ``advance(seconds=5)``); returns the new time."""
        self._now = self._now + timedelta(**delta)
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = when.astimezone(UTC)


class IdFactory(Protocol):
    """Makes new string ids for sessions and turns."""

    def new_id(self) -> str: ...


class UuidIds:
    """Random ids: 32 hex characters of a uuid4."""

    def new_id(self) -> str:
        return uuid.uuid4().hex


class CounterIds:
    """Predictable ids for tests: ``prefix000001``, ``prefix000002``, ... (zero-padded so they sort)."""

    def __init__(self, prefix: str = "id", start: int = 1) -> None:
        self._prefix = prefix
        self._counter = itertools.count(start)

    def new_id(self) -> str:
        return f"{self._prefix}{next(self._counter):06d}"
