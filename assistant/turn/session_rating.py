"""When to ask a shopper to rate their conversation (CSAT), and taking the rating.

A conversation is ready to be rated once it is over for now: a person of the shop's team resolved its hand-over
(reason ``handover_resolved``), or nobody wrote for ``csat.quiet_minutes`` (reason ``quiet``). It is not while a
hand-over is open (a person is still on it) or before its first turn. The chat page's rating panel and
``POST /api/v1/sessions/{id}/rating`` both go through here; a shopper only ever reaches their own sessions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from assistant.errors import ConflictError, NotFoundError
from assistant.store.ratings import MAX_COMMENT_CHARS, MAX_SCORE, MIN_SCORE, SessionRating
from assistant.store.stores import Stores

__all__ = ["MAX_COMMENT_CHARS", "MAX_SCORE", "MIN_SCORE", "ConversationRating", "RatingPrompt", "SessionRating"]


@dataclass(frozen=True)
class RatingPrompt:
    """Whether to ask for a rating now (``ask``: ready and not rated yet), why, and the rating given, if any."""

    session_id: str
    ready: bool
    reason: str | None  # handover_resolved | quiet | None (not ready)
    rating: SessionRating | None

    @property
    def ask(self) -> bool:
        return self.ready and self.rating is None


def _now() -> datetime:
    return datetime.now(UTC)


class ConversationRating:
    def __init__(self, stores: Stores, quiet: timedelta, now: Callable[[], datetime] = _now) -> None:
        self._stores = stores
        self._quiet = quiet
        self._now = now

    def prompt(self, customer_id: str | None, session_id: str) -> RatingPrompt:
        """Whether this shopper's session is ready to be rated; ``NotFoundError`` when it is not theirs."""
        if self._stores.sessions.get_session(customer_id, session_id) is None:
            raise NotFoundError(f"chat session {session_id!r} not found for this shopper",
                                user_message="This conversation no longer exists; start a new one.")
        rating = self._stores.ratings.get(customer_id, session_id)
        return RatingPrompt(session_id, *self._readiness(customer_id, session_id), rating)

    def _readiness(self, customer_id: str | None, session_id: str) -> tuple[bool, str | None]:
        turns = self._stores.turns.turns_for_session(customer_id, session_id)
        if not turns or self._stores.handovers.open_for_session(session_id) is not None:
            return False, None
        if self._stores.ratings.handover_resolved_at(session_id) is not None:
            return True, "handover_resolved"
        last = max((t.created_at for t in turns if t.created_at is not None), default=None)
        if last is not None and self._now() - last >= self._quiet:
            return True, "quiet"
        return False, None

    def rate(self, customer_id: str | None, session_id: str, score: int, comment: str | None = None
             ) -> SessionRating:
        """Store the shopper's rating of their session (again: replaces it). ``NotFoundError`` for a session that is
        not theirs, ``ConflictError`` before it is ready (see the module), ``ValidationError`` for a score outside
        1-5 or a comment that is too long."""
        prompt = self.prompt(customer_id, session_id)
        if not prompt.ready or prompt.reason is None:
            minutes = f"{self._quiet.total_seconds() / 60:g}"
            raise ConflictError(f"session {session_id} is not ready to be rated",
                                user_message="This conversation can be rated once it is over: when the person "
                                             f"helping you has finished, or {minutes} minutes after the last "
                                             "message.")
        return self._stores.ratings.rate(customer_id, session_id, score, comment, prompt.reason)
