"""The shapes of the review log: the turn filter, a turn as listed, a page, a label and a turn's replay.

Read and written by :class:`assistant.store.review_queries.ReviewStore`; plain data, no database access.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

from assistant.errors import ValidationError
from assistant.staff.review_replay import ReplayStep
from assistant.store import models as m

TURN_LABELS: tuple[str, ...] = m.TURN_LABELS
FEEDBACK_VALUES = ("up", "down", "none")
ACCEPTED_KINDS = ("offer_accepted", "offer_redeemed")
EXPORT_FORMATS = ("jsonl", "csv")
MAX_PAGE = 500
MAX_TEXT = 200
MAX_NOTE = 4000
ExportFormat = Literal["jsonl", "csv"]


@dataclass(frozen=True)
class TurnFilter:
    """What to look for; every field left ``None`` matches everything.

    ``start`` is inclusive and ``end`` exclusive (timezone-aware). ``text`` is a case-insensitive substring
    of the message or the reply (ASCII case folding on SQLite). ``feedback``: ``up``, ``down`` or ``none``
    (no thumbs). ``label``: one of ``TURN_LABELS`` (the current label) or ``none`` (never labelled).
    ``author``: ``assistant``, ``agent`` (any support agent) or ``agent:<username>``. ``language``: the reply's
    language as the turn recorded it (``en``, ``zh``, ...), or ``unknown`` for turns that recorded none.
    """

    text: str | None = None
    customer_id: str | None = None
    session_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    intent: str | None = None
    verdict: str | None = None
    status: str | None = None
    handover: bool | None = None
    feedback: str | None = None
    offer_shown: bool | None = None
    offer_accepted: bool | None = None
    label: str | None = None
    author: str | None = None
    language: str | None = None

    def validate(self) -> None:
        """Raise ``ValidationError`` (with a message for the reviewer) for a filter that cannot match."""
        def bad(message: str) -> ValidationError:
            return ValidationError(f"bad turn filter: {message}", user_message=message)

        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and (value.tzinfo is None or value.utcoffset() is None):
                raise bad(f"{name} must carry a time zone (e.g. 2026-11-29T00:00:00Z).")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise bad("start must be before end.")
        if self.text is not None and len(self.text) > MAX_TEXT:
            raise bad(f"Search text is limited to {MAX_TEXT} characters.")
        if self.feedback is not None and self.feedback not in FEEDBACK_VALUES:
            raise bad(f"feedback is one of {', '.join(FEEDBACK_VALUES)}.")
        if self.label is not None and self.label not in (*TURN_LABELS, "none"):
            raise bad(f"label is one of {', '.join(TURN_LABELS)} or none.")
        if self.status is not None and self.status not in m.TURN_STATUSES:
            raise bad(f"status is one of {', '.join(m.TURN_STATUSES)}.")
        if self.language is not None and not re.fullmatch(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?|unknown",
                                                          self.language):
            raise bad("language is a language code such as en or zh, or unknown.")
        if self.author is not None and self.author not in ("assistant", "agent") and not (
                self.author.startswith("agent:") and len(self.author) > len("agent:")):
            raise bad("author is assistant, agent, or agent:<username>.")


@dataclass(frozen=True)
class TurnSummary:
    """A turn as listed and exported: its columns plus current feedback, label and offers."""

    id: str
    session_id: str
    customer_id: str | None
    created_at: datetime
    message: str
    reply: str
    intent: str | None
    verdict: str | None
    status: str
    handover: bool
    author: str
    latency_ms: int | None
    model: str | None
    feedback: str | None = None
    label: str | None = None
    offers_shown: int = 0
    offer_accepted: bool = False
    language: str | None = None  # of the reply, as the turn recorded it (None: it recorded none)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["created_at"] = self.created_at.isoformat()
        return out


EXPORT_COLUMNS = tuple(f.name for f in fields(TurnSummary))


@dataclass(frozen=True)
class TurnPage:
    items: list[TurnSummary]
    total: int
    next_cursor: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "next_cursor": self.next_cursor, "items": [t.to_dict() for t in self.items]}


@dataclass(frozen=True)
class LabelRecord:
    id: int
    turn_id: str
    label: str
    note: str | None
    reviewer: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "turn_id": self.turn_id, "label": self.label, "note": self.note,
                "reviewer": self.reviewer, "created_at": self.created_at.isoformat()}


@dataclass(frozen=True)
class TurnReplay:
    """One turn for step-by-step review: the turn, its trace as steps, its events, its labels (newest first)."""

    turn: TurnSummary
    trace: dict[str, Any]
    steps: list[ReplayStep]
    events: list[dict[str, Any]] = field(default_factory=list)
    labels: list[LabelRecord] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"turn": self.turn.to_dict(), "steps": [s.to_dict() for s in self.steps], "events": self.events,
                "labels": [label.to_dict() for label in self.labels], "trace": self.trace}
