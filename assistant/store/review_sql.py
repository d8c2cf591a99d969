"""The SQL behind the review log: a :class:`TurnFilter` as WHERE clauses, keyset page cursors, and turn rows
read into :class:`TurnSummary` records with their feedback, label and offers (two queries per page)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from assistant.errors import ValidationError
from assistant.store import models as m
from assistant.store.review_records import ACCEPTED_KINDS, LabelRecord, TurnFilter, TurnSummary
from assistant.store.turn_language import turn_language


# -- SQL pieces ----------------------------------------------------------------------------------------------
# Filters on events and labels are uncorrelated ``turns.id IN (subquery)`` conditions: each subquery runs once
# (through the ``kind`` index), where a correlated one per turn made SQLite scan every feedback event per turn.
def _turns_with(*kinds: str) -> Select[Any]:
    e = m.EventRow
    return select(e.turn_id).where(e.kind.in_(kinds), e.turn_id.is_not(None))


def _turns_rated(rating: str) -> Select[Any]:
    """Turns whose latest thumbs is ``rating``."""
    e = m.EventRow
    latest = select(func.max(e.id)).where(e.kind == "feedback", e.turn_id.is_not(None)).group_by(e.turn_id)
    return select(e.turn_id).where(e.id.in_(latest), e.payload["rating"].as_string() == rating)


def _turns_labelled(label: str) -> Select[Any]:
    """Turns whose current (newest) label is ``label``."""
    t = m.TurnLabelRow
    return select(t.turn_id).where(t.id.in_(select(func.max(t.id)).group_by(t.turn_id)), t.label == label)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def conditions(f: TurnFilter) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a filter over ``turns``."""
    t = m.TurnRow
    where: list[ColumnElement[bool]] = []
    if f.text and f.text.strip():
        pattern = _like(f.text.strip())
        where.append(or_(t.message.ilike(pattern, escape="\\"), t.reply.ilike(pattern, escape="\\")))
    for column, value in ((t.customer_id, f.customer_id), (t.session_id, f.session_id), (t.intent, f.intent),
                          (t.verdict, f.verdict), (t.status, f.status)):
        if value is not None:
            where.append(column == value)
    if f.start is not None:
        where.append(t.created_at >= f.start)
    if f.end is not None:
        where.append(t.created_at < f.end)
    if f.handover is not None:
        where.append(t.handover.is_(f.handover))
    if f.feedback == "none":
        where.append(t.id.not_in(_turns_with("feedback")))
    elif f.feedback is not None:
        where.append(t.id.in_(_turns_rated(f.feedback)))
    if f.offer_shown is not None:
        shown = _turns_with("offer_shown")
        where.append(t.id.in_(shown) if f.offer_shown else t.id.not_in(shown))
    if f.offer_accepted is not None:
        accepted = _turns_with(*ACCEPTED_KINDS)
        where.append(t.id.in_(accepted) if f.offer_accepted else t.id.not_in(accepted))
    if f.label == "none":
        where.append(t.id.not_in(select(m.TurnLabelRow.turn_id)))
    elif f.label is not None:
        where.append(t.id.in_(_turns_labelled(f.label)))
    if f.language is not None:
        where.append(turn_language() == f.language)
    if f.author == "agent":
        where.append(t.author.like("agent:%"))
    elif f.author is not None:
        where.append(t.author == f.author)
    return where


def base_query(with_trace: bool = False) -> Select[*tuple[Any, ...]]:
    t = m.TurnRow
    columns = [t.id, t.session_id, t.customer_id, t.created_at, t.message, t.reply, t.intent, t.verdict,
               t.status, t.handover, t.author, t.latency_ms, t.model, t.trace["language"].as_string().label("language")]
    return select(*columns, t.trace) if with_trace else select(*columns)


def summaries(session: Session, rows: Sequence[Any]) -> list[TurnSummary]:
    """Turns from their rows, with feedback, label and offers read for all of them in two queries."""
    ids = [r.id for r in rows]
    feedback: dict[str, str | None] = {}
    shown: dict[str, int] = {}
    accepted: set[str] = set()
    labels: dict[str, str] = {}
    if ids:
        e = m.EventRow
        # by turn id alone: with a kind condition too, SQLite (without ANALYZE) walks the kind index instead
        for turn_id, kind, rating in session.execute(
                select(e.turn_id, e.kind, case((e.kind == "feedback", e.payload["rating"].as_string())))
                .where(e.turn_id.in_(ids)).order_by(e.id)):
            if kind == "feedback":
                feedback[turn_id] = rating
            elif kind == "offer_shown":
                shown[turn_id] = shown.get(turn_id, 0) + 1
            elif kind in ACCEPTED_KINDS:
                accepted.add(turn_id)
        label = m.TurnLabelRow
        for turn_id, value in session.execute(select(label.turn_id, label.label)
                                              .where(label.turn_id.in_(ids)).order_by(label.id)):
            labels[turn_id] = value
    return [TurnSummary(id=r.id, session_id=r.session_id, customer_id=r.customer_id, created_at=r.created_at,
                        message=r.message, reply=r.reply, intent=r.intent, verdict=r.verdict, status=r.status,
                        handover=bool(r.handover), author=r.author or "assistant", latency_ms=r.latency_ms,
                        model=r.model, feedback=feedback.get(r.id), label=labels.get(r.id),
                        offers_shown=shown.get(r.id, 0), offer_accepted=r.id in accepted, language=r.language)
            for r in rows]


def encode_cursor(created_at: datetime, turn_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{turn_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (time, id) a cursor stands for; ``ValidationError`` for anything ``encode_cursor`` did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, turn_id = raw.split("|", 1)
        created_at = datetime.fromisoformat(when)
    except (ValueError, binascii.Error, UnicodeDecodeError) as e:
        raise ValidationError(f"bad cursor {cursor[:80]!r}",
                              user_message="That page cursor is not valid; start again from the first page.") from e
    if created_at.tzinfo is None or not turn_id:
        raise ValidationError(f"bad cursor {cursor[:80]!r}",
                              user_message="That page cursor is not valid; start again from the first page.")
    return created_at, turn_id


def older_than(created_at: datetime, turn_id: str) -> ColumnElement[bool]:
    """Turns after (older than) the cursor's. The first condition alone can use the index on ``created_at``."""
    t = m.TurnRow
    return and_(t.created_at <= created_at, or_(t.created_at < created_at, t.id < turn_id))


def label_record(row: m.TurnLabelRow) -> LabelRecord:
    return LabelRecord(id=row.id, turn_id=row.turn_id, label=row.label, note=row.note, reviewer=row.reviewer,
                       created_at=row.created_at)


def csv_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else value
