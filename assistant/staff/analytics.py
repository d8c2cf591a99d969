"""Analytics for reviewers: figures over the interaction log, per whole UTC days (see the store's queries).

The service the analytics REST route (``ui.review_api``) and the staff page's analytics tab both call.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from assistant.errors import NotFoundError
from assistant.store.analytics_queries import DEFAULT_DAYS, MAX_DAYS, AnalyticsStore, Period, Rows

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "Analytics", "Period", "Rows"]


class Analytics:
    """``figures`` names the figures; ``period`` checks a period (``ValidationError``), ``run`` computes one
    figure (``NotFoundError`` for an unknown name)."""

    def __init__(self, store: AnalyticsStore, quiet: timedelta | None = None) -> None:
        """``quiet``: the quiet window (``csat.quiet_minutes``); a message after such a pause reopens a conversation."""
        self._store = store.with_quiet(quiet) if quiet is not None else store

    @property
    def figures(self) -> tuple[str, ...]:
        return tuple(self._store.figures)

    def period(self, start: date | datetime | None = None, end: date | datetime | None = None) -> Period:
        """The period asked for: ``end`` defaults to today (UTC), ``start`` to 29 days before ``end``."""
        return self._store.period(start, end)

    def run(self, name: str, start: date | datetime | None = None, end: date | datetime | None = None) -> Rows:
        return self._store.run(name, start, end)

    def check(self, name: str) -> None:
        """``NotFoundError`` naming the figures there are, unless ``name`` is one of them."""
        if name not in self._store.figures:
            raise NotFoundError(f"unknown analytics figure {name!r}",
                                user_message=f"no figure {name!r}: choose one of {', '.join(self.figures)}")

    def figure(self, name: str, start: date | None = None, end: date | None = None) -> tuple[Period, Rows]:
        """One figure over a checked period: ``NotFoundError`` for an unknown name (before the period is
        checked), ``ValidationError`` for a bad period."""
        self.check(name)
        period = self.period(start, end)
        return period, self.run(name, period.start, period.end)
