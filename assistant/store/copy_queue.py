"""``CopyStore``: the review queue of generated marketing copy.

Every draft starts ``pending``; only a reviewer moves it, once, to ``approved``, ``edited`` (approved
with the reviewer's text; the generated text is kept in ``original_text``) or ``rejected``. Nothing is
approved by the generator.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from assistant.errors import NotFoundError, ValidationError
from assistant.store.clock import Clock, SystemClock
from assistant.store.columns import JSONType, UTCDateTime, require_json
from assistant.store.db import read, write
from assistant.store.models import Base

COPY_KINDS = ("email", "push", "banner")
COPY_STATUSES = ("pending", "approved", "edited", "rejected")
REVIEWED = ("approved", "edited", "rejected")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CopyDraftRow(Base):
    """One piece of generated copy for a customer or a segment, with the facts it was written from."""

    __tablename__ = "copy_drafts"
    __table_args__ = (
        CheckConstraint(_in("kind", COPY_KINDS), name="kind"),
        CheckConstraint(_in("status", COPY_STATUSES), name="status"),
        CheckConstraint("customer_id IS NOT NULL OR segment IS NOT NULL", name="audience"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(
        String(128), ForeignKey("customers.id", ondelete="CASCADE"), nullable=True, index=True)
    segment: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    original_text: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONType)
    verdict: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), index=True)
    reviewer: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class CopyDraft:
    id: str
    customer_id: str | None
    segment: str | None
    kind: str
    text: str
    original_text: str
    facts: dict[str, Any]
    verdict: dict[str, Any]
    status: str
    reviewer: str | None
    created_at: datetime
    updated_at: datetime
    reviewed_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for key in ("created_at", "updated_at", "reviewed_at"):
            out[key] = out[key].isoformat() if out[key] is not None else None
        return out


def _draft(row: CopyDraftRow) -> CopyDraft:
    return CopyDraft(row.id, row.customer_id, row.segment, row.kind, row.text, row.original_text,
                     dict(row.facts or {}), dict(row.verdict or {}), row.status, row.reviewer, row.created_at,
                     row.updated_at, row.reviewed_at)


class CopyStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()

    def add(self, *, kind: str, text: str, facts: dict[str, Any], verdict: dict[str, Any],
            customer_id: str | None = None, segment: str | None = None) -> CopyDraft:
        """Queue a new draft as ``pending``."""
        if kind not in COPY_KINDS:
            raise ValidationError(f"unknown copy kind {kind!r}",
                                  user_message=f"Choose one of {', '.join(COPY_KINDS)}.")
        if customer_id is None and segment is None:
            raise ValidationError("copy needs a customer or a segment",
                                  user_message="Give the customer or the segment the copy is for.")
        require_json(facts, "the facts of a copy draft")
        require_json(verdict, "the verdict of a copy draft")
        now = self._clock.now()
        row = CopyDraftRow(id=uuid.uuid4().hex, customer_id=customer_id, segment=segment, kind=kind, text=text,
                           original_text=text, facts=facts, verdict=verdict, status="pending", reviewer=None,
                           created_at=now, updated_at=now, reviewed_at=None)
        with write(self._sessions, "queueing generated copy") as session:
            session.add(row)
            session.flush()
            return _draft(row)

    def get(self, draft_id: str) -> CopyDraft | None:
        with read(self._sessions, f"reading copy {draft_id}") as session:
            row = session.get(CopyDraftRow, draft_id)
            return _draft(row) if row is not None else None

    def list(self, status: str | None = None, limit: int = 200) -> list[CopyDraft]:
        """Drafts, oldest first; only those in ``status`` if given."""
        if status is not None and status not in COPY_STATUSES:
            raise ValidationError(f"unknown copy status {status!r}",
                                  user_message=f"Status must be one of {', '.join(COPY_STATUSES)}.")
        query = select(CopyDraftRow)
        if status is not None:
            query = query.where(CopyDraftRow.status == status)
        with read(self._sessions, "listing generated copy") as session:
            rows = session.scalars(query.order_by(CopyDraftRow.created_at, CopyDraftRow.id).limit(limit))
            return [_draft(r) for r in rows]

    def review(self, draft_id: str, status: str, reviewer: str, text: str | None = None,
               note: dict[str, Any] | None = None) -> CopyDraft:
        """Move a pending draft to ``approved``, ``edited`` (with ``text``) or ``rejected``."""
        if status not in REVIEWED:
            raise ValidationError(f"cannot review copy into {status!r}",
                                  user_message=f"A review approves, edits or rejects ({', '.join(REVIEWED)}).")
        if not reviewer.strip():
            raise ValidationError("a review needs a reviewer", user_message="Say who reviews the copy.")
        if status == "edited" and not (text or "").strip():
            raise ValidationError("an edit needs the new text", user_message="Give the edited text.")
        with write(self._sessions, f"reviewing copy {draft_id}") as session:
            row = session.get(CopyDraftRow, draft_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no copy {draft_id!r}", user_message=f"There is no copy with id {draft_id!r}.")
            if row.status != "pending":
                raise ValidationError(
                    f"copy {draft_id} is already {row.status}",
                    user_message=f"Copy {draft_id} was already reviewed ({row.status} by {row.reviewer}); "
                                 "only pending copy can be reviewed.")
            now = self._clock.now()
            row.status, row.reviewer, row.reviewed_at, row.updated_at = status, reviewer.strip(), now, now
            if status == "edited":
                row.text = str(text).strip()
            if note:
                row.verdict = {**dict(row.verdict or {}), "review": note}
            session.flush()
            return _draft(row)
