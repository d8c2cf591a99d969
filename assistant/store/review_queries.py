"""``ReviewStore``: the interaction log as reviewers see it. Staff only (role ``reviewer``).

- ``search(TurnFilter, limit, cursor)``: turns newest first, a page at a time (keyset: the cursor is the
  last turn's time and id, so pages stay stable while new turns arrive), with the total count.
- ``get_replay(turn_id)``: one turn with its trace as replay steps, its events and its labels.
- ``add_label(...)``: a reviewer's label; the newest label of a turn is its current one.
- ``iter_export(filter, "jsonl" | "csv")``: the filtered set as text chunks, read in keyset chunks of
  ``chunk_size`` turns, each in its own short read, so memory stays flat however many turns match.

A turn's *feedback* is the shopper's latest thumbs (``feedback`` events, ``payload.rating`` up/down,
written by ``AssistantService.feedback``); *offer shown* means an ``offer_shown`` event of the turn, *offer
accepted* an ``offer_accepted`` or ``offer_redeemed`` event pointing at it (``BanditStore.record_feedback``
gives the feedback event the turn id of the showing). All of it is computed by SQL, per page or chunk.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.errors import NotFoundError, ValidationError
from assistant.staff.review_replay import ReplayStep, replay_steps
from assistant.store import models as m
from assistant.store.clock import Clock, SystemClock
from assistant.store.db import read, write

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
    ``author``: ``assistant``, ``agent`` (any support agent) or ``agent:<username>``.
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
    if f.author == "agent":
        where.append(t.author.like("agent:%"))
    elif f.author is not None:
        where.append(t.author == f.author)
    return where


def _base_query(with_trace: bool = False) -> Select[*tuple[Any, ...]]:
    t = m.TurnRow
    columns = [t.id, t.session_id, t.customer_id, t.created_at, t.message, t.reply, t.intent, t.verdict,
               t.status, t.handover, t.author, t.latency_ms, t.model]
    return select(*columns, t.trace) if with_trace else select(*columns)


def _summaries(session: Session, rows: Sequence[Any]) -> list[TurnSummary]:
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
                        offers_shown=shown.get(r.id, 0), offer_accepted=r.id in accepted) for r in rows]


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


def _before(created_at: datetime, turn_id: str) -> ColumnElement[bool]:
    """Turns after (older than) the cursor's. The first condition alone can use the index on ``created_at``."""
    t = m.TurnRow
    return and_(t.created_at <= created_at, or_(t.created_at < created_at, t.id < turn_id))


def _label_from_row(row: m.TurnLabelRow) -> LabelRecord:
    return LabelRecord(id=row.id, turn_id=row.turn_id, label=row.label, note=row.note, reviewer=row.reviewer,
                       created_at=row.created_at)


def _csv_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else value


class ReviewStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()

    # finding turns ------------------------------------------------------------------------------------------
    def search(self, f: TurnFilter | None = None, limit: int = 50, cursor: str | None = None) -> TurnPage:
        """One page of matching turns, newest first, with the number of all matches.

        ``cursor`` is the ``next_cursor`` of the previous page (``None``: the first page)."""
        f = f or TurnFilter()
        f.validate()
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationError(f"page size {limit}", user_message=f"A page holds 1 to {MAX_PAGE} turns.")
        where = conditions(f)
        page_where = [*where, _before(*decode_cursor(cursor))] if cursor else where
        query = (_base_query().where(*page_where)
                 .order_by(m.TurnRow.created_at.desc(), m.TurnRow.id.desc()).limit(limit + 1))
        with read(self._sessions, "searching turns") as session:
            rows = session.execute(query).all()
            items = _summaries(session, rows[:limit])
            total = int(session.execute(select(func.count()).select_from(m.TurnRow).where(*where)).scalar_one())
        more = len(rows) > limit
        return TurnPage(items, total, encode_cursor(items[-1].created_at, items[-1].id) if more else None)

    def count(self, f: TurnFilter | None = None) -> int:
        f = f or TurnFilter()
        f.validate()
        with read(self._sessions, "counting turns") as session:
            return int(session.execute(select(func.count()).select_from(m.TurnRow).where(*conditions(f))).scalar_one())

    def iter_turns(self, f: TurnFilter | None = None, chunk_size: int = 1000) -> Iterator[TurnSummary]:
        """Every matching turn, newest first, read ``chunk_size`` at a time (one short read per chunk)."""
        f = f or TurnFilter()
        f.validate()
        for turn, _trace in self._chunks(f, chunk_size, with_trace=False):
            yield turn

    def _chunks(self, f: TurnFilter, chunk_size: int, with_trace: bool
                ) -> Iterator[tuple[TurnSummary, dict[str, Any] | None]]:
        where = conditions(f)
        base = _base_query(with_trace)
        after: tuple[datetime, str] | None = None
        while True:
            query = (base.where(*where, *([_before(*after)] if after else []))
                     .order_by(m.TurnRow.created_at.desc(), m.TurnRow.id.desc()).limit(chunk_size))
            with read(self._sessions, "exporting turns") as session:
                rows = session.execute(query).all()
                chunk = list(zip(_summaries(session, rows),
                                 [dict(r.trace or {}) if with_trace else None for r in rows], strict=True))
            yield from chunk
            if len(chunk) < chunk_size:
                return
            last = chunk[-1][0]
            after = (last.created_at, last.id)

    def iter_export(self, f: TurnFilter | None = None, fmt: str = "jsonl", chunk_size: int = 1000,
                    include_trace: bool = False) -> Iterator[str]:
        """The matching turns as JSON Lines or CSV (header first), in text chunks of up to ``chunk_size`` turns.

        With ``include_trace`` each JSON line also carries the turn's trace (JSONL only). The filter and
        format are checked before the first chunk, so a bad request fails before anything is sent."""
        if fmt not in EXPORT_FORMATS:
            raise ValidationError(f"unknown export format {fmt!r}",
                                  user_message=f"Export as {' or '.join(EXPORT_FORMATS)}.")
        f = f or TurnFilter()
        f.validate()
        return self._export(f, fmt, chunk_size, include_trace and fmt == "jsonl")

    def _export(self, f: TurnFilter, fmt: str, chunk_size: int, include_trace: bool) -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if fmt == "csv":
            writer.writerow(EXPORT_COLUMNS)
        pending = 0
        for turn, trace in self._chunks(f, chunk_size, with_trace=include_trace):
            if fmt == "csv":
                writer.writerow([_csv_cell(getattr(turn, c)) for c in EXPORT_COLUMNS])
            else:
                record = turn.to_dict()
                if trace is not None:
                    record["trace"] = trace
                buffer.write(json.dumps(record, ensure_ascii=False))
                buffer.write("\n")
            pending += 1
            if pending >= chunk_size:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
                pending = 0
        if buffer.tell():
            yield buffer.getvalue()

    # one turn ---------------------------------------------------------------------------------------------
    def get_replay(self, turn_id: str) -> TurnReplay | None:
        """The turn with its trace laid out as replay steps, its events (oldest first) and labels (newest first)."""
        with read(self._sessions, f"reading turn {turn_id} for review") as session:
            row = session.execute(_base_query(with_trace=True).where(m.TurnRow.id == turn_id)).first()
            if row is None:
                return None
            (turn,) = _summaries(session, [row])
            events = session.scalars(select(m.EventRow).where(m.EventRow.turn_id == turn_id)
                                     .order_by(m.EventRow.created_at, m.EventRow.id)).all()
            labels = session.scalars(select(m.TurnLabelRow).where(m.TurnLabelRow.turn_id == turn_id)
                                     .order_by(m.TurnLabelRow.id.desc())).all()
            event_dicts = [{"id": e.id, "kind": e.kind, "payload": dict(e.payload or {}),
                            "created_at": e.created_at.isoformat()} for e in events]
            label_records = [_label_from_row(r) for r in labels]
        trace = dict(row.trace or {})
        steps = replay_steps(trace, turn.to_dict(), event_dicts)
        return TurnReplay(turn=turn, trace=trace, steps=steps, events=event_dicts, labels=label_records)

    # labels -----------------------------------------------------------------------------------------------
    def add_label(self, turn_id: str, label: str, reviewer: str, note: str | None = None) -> LabelRecord:
        """Label a turn; it becomes the turn's current label. ``ValidationError`` for an unknown label or an
        empty reviewer, ``NotFoundError`` for an unknown turn."""
        if label not in TURN_LABELS:
            raise ValidationError(f"unknown label {label!r}",
                                  user_message=f"A label is one of {', '.join(TURN_LABELS)}.")
        reviewer = (reviewer or "").strip()
        if not reviewer or len(reviewer) > 128:
            raise ValidationError("a label needs its reviewer's name",
                                  user_message="Give the reviewer's name (1 to 128 characters).")
        note = (note or "").strip() or None
        if note is not None and len(note) > MAX_NOTE:
            raise ValidationError("label note too long", user_message=f"A note is limited to {MAX_NOTE} characters.")
        with write(self._sessions, f"labelling turn {turn_id}") as session:
            if session.get(m.TurnRow, turn_id) is None:
                raise NotFoundError(f"turn {turn_id!r} not found", user_message="No such turn.")
            row = m.TurnLabelRow(turn_id=turn_id, label=label, note=note, reviewer=reviewer,
                              created_at=self._clock.now())
            session.add(row)
            session.flush()
            return _label_from_row(row)

    def labels_for(self, turn_id: str) -> list[LabelRecord]:
        """A turn's labels, newest (current) first."""
        with read(self._sessions, f"reading labels of turn {turn_id}") as session:
            rows = session.scalars(select(m.TurnLabelRow).where(m.TurnLabelRow.turn_id == turn_id)
                                   .order_by(m.TurnLabelRow.id.desc()))
            return [_label_from_row(r) for r in rows]

