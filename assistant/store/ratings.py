"""``RatingStore``: the shopper's rating of a conversation (CSAT), 1-5 and an optional comment, one per session.

A rating belongs to its session and to the session's shopper: only that shopper (``customer_id``; ``None`` for a
guest's session) can read or write it, and it is erased with either (``ON DELETE CASCADE``). Rating again
replaces the rating (the shopper changed their mind); the first time it was given is kept as ``created_at``.
The comment is redacted as it is written, like every other text a shopper types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.errors import NotFoundError, ValidationError
from assistant.store import models as m
from assistant.store.clock import Clock, SystemClock
from assistant.store.db import read, write
from assistant.store.handovers import HandoverRow
from assistant.store.sessions import _lock_sqlite, owned_by

MIN_SCORE, MAX_SCORE = 1, 5
MAX_COMMENT_CHARS = 1000
RATING_REASONS = m.RATING_REASONS


@dataclass(frozen=True)
class SessionRating:
    session_id: str
    customer_id: str | None
    score: int
    comment: str | None
    reason: str  # why the shopper was asked: handover_resolved | quiet
    created_at: datetime
    updated_at: datetime


def _from_row(row: m.SessionRatingRow) -> SessionRating:
    return SessionRating(session_id=row.session_id, customer_id=row.customer_id, score=row.score,
                         comment=row.comment, reason=row.reason, created_at=row.created_at,
                         updated_at=row.updated_at)


def check_rating(score: int, comment: str | None, reason: str) -> str | None:
    """``ValidationError`` for a score outside 1-5, a comment over ``MAX_COMMENT_CHARS`` or an unknown reason;
    returns the comment stripped (``None`` when empty)."""
    if isinstance(score, bool) or not isinstance(score, int) or not MIN_SCORE <= score <= MAX_SCORE:
        raise ValidationError(f"rating score {score!r} outside {MIN_SCORE}-{MAX_SCORE}",
                              user_message=f"A rating is a whole number from {MIN_SCORE} to {MAX_SCORE}.")
    if reason not in RATING_REASONS:
        raise ValidationError(f"unknown rating reason {reason!r}",
                              user_message=f"A rating's reason is one of {', '.join(RATING_REASONS)}.")
    cleaned = (comment or "").strip()
    if len(cleaned) > MAX_COMMENT_CHARS:
        raise ValidationError(f"rating comment of {len(cleaned)} characters",
                              user_message=f"Keep the comment to {MAX_COMMENT_CHARS} characters or fewer.")
    return cleaned or None


class RatingStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()

    def rate(self, customer_id: str | None, session_id: str, score: int, comment: str | None = None,
             reason: str = "quiet") -> SessionRating:
        """Store (or replace) the rating of this shopper's session. ``NotFoundError`` when the session is not
        theirs (or does not exist), ``ValidationError`` for a bad score, comment or reason."""
        cleaned = check_rating(score, comment, reason)
        with write(self._sessions, f"rating chat session {session_id}") as session:
            _lock_sqlite(session)
            chat = session.scalars(select(m.ChatSessionRow).where(
                m.ChatSessionRow.id == session_id, owned_by(m.ChatSessionRow.customer_id, customer_id))
                .with_for_update()).one_or_none()
            if chat is None:
                raise NotFoundError(f"chat session {session_id!r} not found for this shopper",
                                    user_message="This conversation no longer exists; start a new one.")
            now = self._clock.now()
            row = session.scalars(select(m.SessionRatingRow)
                                  .where(m.SessionRatingRow.session_id == session_id)).one_or_none()
            if row is None:
                row = m.SessionRatingRow(session_id=session_id, customer_id=chat.customer_id, created_at=now)
                session.add(row)
            row.score, row.comment, row.reason, row.updated_at = score, cleaned, reason, now
            session.flush()
            return _from_row(row)

    def get(self, customer_id: str | None, session_id: str) -> SessionRating | None:
        """The rating of this shopper's session, if they gave one (nothing for another shopper's session)."""
        with read(self._sessions, f"reading the rating of chat session {session_id}") as session:
            row = session.scalars(
                select(m.SessionRatingRow)
                .join(m.ChatSessionRow, m.ChatSessionRow.id == m.SessionRatingRow.session_id)
                .where(m.SessionRatingRow.session_id == session_id,
                       owned_by(m.ChatSessionRow.customer_id, customer_id))).one_or_none()
            return _from_row(row) if row is not None else None

    def handover_resolved_at(self, session_id: str) -> datetime | None:
        """When the session's latest resolved hand-over was resolved (``None``: it has none). The caller has
        checked that the session is the shopper's."""
        with read(self._sessions, f"reading the hand-overs of chat session {session_id}") as session:
            query = (select(HandoverRow.resolved_at)
                     .where(HandoverRow.session_id == session_id, HandoverRow.status == "resolved")
                     .order_by(HandoverRow.resolved_at.desc()).limit(1))
            return session.scalars(query).first()
