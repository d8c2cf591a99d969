"""``InsightStore``: the turns that tell the shop what to fix, read for ``assistant.staff.insights``.

Four signals, each a row per turn (the shopper's message, redacted as it was logged):

- ``thumbs_down``: the turn's latest thumbs (``feedback`` events, ``payload.rating``) is down;
- ``handover``: a hand-over was opened on the turn (table ``handovers``; ``detail`` is its reason). A hand-over
  without a logged turn (an agent's take-over) is left out: there is no question to group;
- ``label``: the turn's current review label says something was wrong (``PROBLEM_LABELS``; ``detail``: the label);
- ``declined``: the reply was an "I don't know" (``conversation_outcomes.unanswered``: verdict ``no_facts`` or
  ``error``, a failed turn, or the catalogue's "nothing found" message); replies an agent sent are left out.

Each signal reads the turns of the period, newest first, at most ``limit`` of them, in one query each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from assistant.store import models as m
from assistant.store.conversation_outcomes import unanswered
from assistant.store.db import read
from assistant.store.handovers import HandoverRow

#: the signals, in the order reports list them
SIGNALS = ("thumbs_down", "handover", "label", "declined")
#: review labels that say the turn went wrong (``correct`` does not)
PROBLEM_LABELS = ("incorrect", "outdated_knowledge", "policy_violation")


@dataclass(frozen=True)
class SignalRow:
    """One turn flagged by one signal."""

    turn_id: str
    session_id: str
    created_at: datetime
    message: str
    signal: str
    detail: str | None = None


class InsightStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def signals(self, since: datetime, until: datetime, limit: int = 2000) -> list[SignalRow]:
        """Every signal's turns logged in ``[since, until)``, newest first within a signal (``limit`` per signal)."""
        t = m.TurnRow
        in_period = (t.created_at >= since, t.created_at < until, t.message != "")
        order = (t.created_at.desc(), t.id.desc())
        columns = (t.id, t.session_id, t.created_at, t.message)
        e = m.EventRow
        latest_thumbs = (select(e.turn_id.label("turn_id"), func.max(e.id).label("id"))
                         .where(e.kind == "feedback", e.turn_id.is_not(None), e.created_at >= since)
                         .group_by(e.turn_id).subquery("latest_thumbs"))
        thumbs = aliased(m.EventRow)
        thumbs_down = (select(*columns).join(latest_thumbs, latest_thumbs.c.turn_id == t.id)
                       .join(thumbs, thumbs.id == latest_thumbs.c.id)
                       .where(*in_period, thumbs.payload["rating"].as_string() == "down").order_by(*order))
        h = HandoverRow
        handed = (select(*columns, h.reason).join(h, h.turn_id == t.id).where(*in_period).order_by(*order))
        lb = m.TurnLabelRow
        latest_label = (select(lb.turn_id.label("turn_id"), func.max(lb.id).label("id"))
                        .group_by(lb.turn_id).subquery("latest_label"))
        current = aliased(m.TurnLabelRow)
        labelled = (select(*columns, current.label).join(latest_label, latest_label.c.turn_id == t.id)
                    .join(current, current.id == latest_label.c.id)
                    .where(*in_period, current.label.in_(PROBLEM_LABELS)).order_by(*order))
        declined = (select(*columns, t.verdict).where(*in_period, t.author == "assistant", unanswered(t))
                    .order_by(*order))
        out: list[SignalRow] = []
        with read(self._sessions, "reading feedback for insights") as session:
            for row in session.execute(thumbs_down.limit(limit)).all():
                out.append(SignalRow(row.id, row.session_id, row.created_at, row.message, "thumbs_down"))
            for signal, query in (("handover", handed), ("label", labelled), ("declined", declined)):
                for turn_id, session_id, created_at, message, detail in session.execute(query.limit(limit)).all():
                    out.append(SignalRow(turn_id, session_id, created_at, message, signal,
                                         None if detail is None else str(detail)))
        return out
