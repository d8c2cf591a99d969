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

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.errors import NotFoundError, ValidationError
from assistant.staff.review_replay import replay_steps
from assistant.store import models as m
from assistant.store.clock import Clock, SystemClock
from assistant.store.db import read, write
from assistant.store.review_records import (
    ACCEPTED_KINDS,
    EXPORT_COLUMNS,
    EXPORT_FORMATS,
    FEEDBACK_VALUES,
    MAX_NOTE,
    MAX_PAGE,
    MAX_TEXT,
    TURN_LABELS,
    ExportFormat,
    LabelRecord,
    TurnFilter,
    TurnPage,
    TurnReplay,
    TurnSummary,
)
from assistant.store.review_sql import (
    base_query,
    conditions,
    csv_cell,
    decode_cursor,
    encode_cursor,
    label_record,
    older_than,
    summaries,
)

__all__ = ["ACCEPTED_KINDS", "EXPORT_COLUMNS", "EXPORT_FORMATS", "FEEDBACK_VALUES", "MAX_NOTE", "MAX_PAGE", "MAX_TEXT",
           "TURN_LABELS", "ExportFormat", "LabelRecord", "ReviewStore", "TurnFilter", "TurnPage", "TurnReplay",
           "TurnSummary", "conditions", "decode_cursor", "encode_cursor"]


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
        page_where = [*where, older_than(*decode_cursor(cursor))] if cursor else where
        query = (base_query().where(*page_where)
                 .order_by(m.TurnRow.created_at.desc(), m.TurnRow.id.desc()).limit(limit + 1))
        with read(self._sessions, "searching turns") as session:
            rows = session.execute(query).all()
            items = summaries(session, rows[:limit])
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
        base = base_query(with_trace)
        after: tuple[datetime, str] | None = None
        while True:
            query = (base.where(*where, *([older_than(*after)] if after else []))
                     .order_by(m.TurnRow.created_at.desc(), m.TurnRow.id.desc()).limit(chunk_size))
            with read(self._sessions, "exporting turns") as session:
                rows = session.execute(query).all()
                chunk = list(zip(summaries(session, rows),
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
                writer.writerow([csv_cell(getattr(turn, c)) for c in EXPORT_COLUMNS])
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
            row = session.execute(base_query(with_trace=True).where(m.TurnRow.id == turn_id)).first()
            if row is None:
                return None
            (turn,) = summaries(session, [row])
            events = session.scalars(select(m.EventRow).where(m.EventRow.turn_id == turn_id)
                                     .order_by(m.EventRow.created_at, m.EventRow.id)).all()
            labels = session.scalars(select(m.TurnLabelRow).where(m.TurnLabelRow.turn_id == turn_id)
                                     .order_by(m.TurnLabelRow.id.desc())).all()
            event_dicts = [{"id": e.id, "kind": e.kind, "payload": dict(e.payload or {}),
                            "created_at": e.created_at.isoformat()} for e in events]
            label_records = [label_record(r) for r in labels]
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
            return label_record(row)

    def labels_for(self, turn_id: str) -> list[LabelRecord]:
        """A turn's labels, newest (current) first."""
        with read(self._sessions, f"reading labels of turn {turn_id}") as session:
            rows = session.scalars(select(m.TurnLabelRow).where(m.TurnLabelRow.turn_id == turn_id)
                                   .order_by(m.TurnLabelRow.id.desc()))
            return [label_record(r) for r in rows]
