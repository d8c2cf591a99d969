"""How each conversation ended, as SQL: the honest resolution figures and CSAT of ``AnalyticsStore``.

A *conversation* is a chat session with a turn in the period. It counts as **resolved** only when none of these is
true (each is a column of :func:`conversation_outcomes`, computed over all of the session's turns, whenever they
were logged, so a figure for a past period can still change for a day after it):

- ``handed_over``: a person was involved: a turn handed it over, the hand-over queue has it, or an agent replied
  (a take-over);
- ``unanswered``: its last turn was an "I don't know": verdict ``no_facts`` or ``error``, status ``error``, or a
  reply that is the catalogue's ``nothing_found`` message (any language);
- ``reopened``: the shopper came back within a day: in the same session, a message more than
  ``csat.quiet_minutes`` after the one before it (the chat had asked for a rating by then) and at most 24 h after;
  or, for a signed-in shopper, the next conversation they began (by its first turn) began after this one's last
  turn and within 24 h. A guest's session can only be reopened in itself.

Durations are computed in SQL (``seconds_between``): ``julianday`` on SQLite, ``EXTRACT(EPOCH ...)`` on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, and_, case, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from assistant.locales import fixed_prefix
from assistant.store import models as m
from assistant.store.handovers import HandoverRow

#: a message within this long after the conversation went quiet reopens it
REOPEN_WINDOW = timedelta(days=1)
#: the turn verdicts that mean the assistant could not answer ("I don't know", or the turn failed)
UNANSWERED_VERDICTS = ("no_facts", "error")
#: the kinds of conversation CSAT is split by
CSAT_KINDS = ("assistant", "handover")


class seconds_between(FunctionElement[float]):  # noqa: N801 - a SQL function, named like one
    """Seconds from the first timestamp to the second, on SQLite and PostgreSQL."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: object) -> str:
    first, second = list(element.clauses)
    return (f"((julianday({compiler.process(second, **kw)}) - julianday({compiler.process(first, **kw)}))"
            " * 86400.0)")


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: object) -> str:
    first, second = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(second, **kw)} - {compiler.process(first, **kw)}))"


def unanswered(turn: Any = m.TurnRow) -> ColumnElement[bool]:
    """A turn (``turns`` or an alias/subquery with its columns) whose reply was an "I don't know"."""
    nothing_found = [turn.reply.startswith(prefix, autoescape=True)
                     for prefix in fixed_prefix("nothing_found") if prefix.strip()]
    return or_(turn.verdict.in_(UNANSWERED_VERDICTS), turn.status == "error", *nothing_found)


def person_sessions() -> Select[tuple[str]]:
    """Sessions a person was involved in: a turn handed over, a hand-over queued, or an agent's reply."""
    t, h = m.TurnRow, HandoverRow
    return select(t.session_id).where(or_(t.handover.is_(True), t.author != "assistant")).union(
        select(h.session_id))  # type: ignore[return-value]


def conversation_outcomes(since: datetime, until: datetime, quiet: timedelta) -> Any:
    """One row per session with a turn in ``[since, until)``: ``session_id``, ``last_in_period`` (its last turn in
    the period), ``handed_over``, ``unanswered``, ``reopened`` (0 or 1 each) and ``resolved`` (1 when none).

    Joins and GROUP BYs over the period's sessions, no per-row subquery: a window function gives each turn its
    place (is it the last) and the pause before it; another over a shopper's sessions gives the next one's start."""
    t, h = m.TurnRow, HandoverRow
    in_period = select(t.session_id).where(t.created_at >= since, t.created_at < until).distinct()
    person = or_(t.handover.is_(True), t.author != "assistant")
    order = (t.created_at, t.id)  # one ordering for both window functions: one sort
    ranked = (select(t.session_id.label("session_id"), t.created_at.label("created_at"),
                     t.verdict.label("verdict"), t.status.label("status"), t.reply.label("reply"),
                     case((person, 1), else_=0).label("person"),
                     func.lead(t.id).over(partition_by=t.session_id, order_by=order).label("next_id"),
                     func.lag(t.created_at).over(partition_by=t.session_id, order_by=order).label("previous"))
              .where(t.session_id.in_(in_period)).subquery("ranked"))
    gap = seconds_between(ranked.c.previous, ranked.c.created_at)
    came_back = and_(ranked.c.previous.is_not(None), gap > quiet.total_seconds(),
                     gap <= REOPEN_WINDOW.total_seconds())
    in_window = and_(ranked.c.created_at >= since, ranked.c.created_at < until)
    per_session = (select(ranked.c.session_id,
                          func.max(case((in_window, ranked.c.created_at))).label("last_in_period"),
                          func.max(ranked.c.created_at).label("last_at"),
                          func.max(ranked.c.person).label("person"),
                          func.max(case((and_(ranked.c.next_id.is_(None), unanswered(ranked.c)), 1), else_=0))
                          .label("unanswered"),
                          func.max(case((came_back, 1), else_=0)).label("came_back"))
                   .group_by(ranked.c.session_id).subquery("per_session"))
    queued = select(h.session_id).where(h.session_id.in_(in_period)).distinct().subquery("queued")
    # a signed-in shopper's conversations around the period, each with the first turn of the one they began next
    recent = select(t.session_id).where(t.created_at >= since, t.created_at < until + REOPEN_WINDOW).distinct()
    spans = (select(t.session_id.label("session_id"), t.customer_id.label("customer_id"),
                    func.min(t.created_at).label("first_at"), func.max(t.created_at).label("last_at"))
             .where(t.session_id.in_(recent), t.customer_id.is_not(None))
             .group_by(t.session_id, t.customer_id).subquery("spans"))
    following = (select(spans.c.session_id, spans.c.last_at,
                        func.lead(spans.c.first_at).over(partition_by=spans.c.customer_id,
                                                         order_by=(spans.c.first_at, spans.c.session_id))
                        .label("next_first")).subquery("following"))
    new_session = (select(following.c.session_id)
                   .where(following.c.next_first > following.c.last_at,
                          seconds_between(following.c.last_at, following.c.next_first)
                          <= REOPEN_WINDOW.total_seconds()).subquery("new_session"))
    # IN (a subquery run once), not a join: SQLite would run a joined subquery again for every conversation
    handed_over = case((or_(per_session.c.person == 1, per_session.c.session_id.in_(select(queued.c.session_id))), 1),
                       else_=0)
    reopened = case((or_(per_session.c.came_back == 1,
                         per_session.c.session_id.in_(select(new_session.c.session_id))), 1), else_=0)
    outcome = (select(per_session.c.session_id, per_session.c.last_in_period, handed_over.label("handed_over"),
                      per_session.c.unanswered, reopened.label("reopened")).subquery("flags"))
    resolved = case((and_(outcome.c.handed_over == 0, outcome.c.unanswered == 0, outcome.c.reopened == 0), 1),
                    else_=0)
    return select(*outcome.c, resolved.label("resolved")).subquery("outcomes")


def outcome_counts(outcomes: Any) -> list[Any]:
    """The aggregate columns every resolution figure shows, over an ``outcomes`` subquery (or a join with it)."""
    return [func.count().label("conversations"), func.sum(outcomes.c.handed_over).label("handed_over"),
            func.sum(outcomes.c.unanswered).label("unanswered"), func.sum(outcomes.c.reopened).label("reopened"),
            func.sum(outcomes.c.resolved).label("resolved")]


def csat_query(since: datetime, until: datetime) -> Select[Any]:
    """Ratings given in ``[since, until)`` per kind of conversation (``assistant``: no person involved;
    ``handover``): how many, and how many of each score."""
    r = m.SessionRatingRow
    persons = person_sessions().subquery("persons")
    kind = case((r.session_id.in_(select(persons.c.session_id)), literal("handover")), else_=literal("assistant"))
    scores = [func.count(case((r.score == score, 1))).label(f"score_{score}") for score in range(1, 6)]
    return (select(kind.label("kind"), *scores)
            .where(r.created_at >= since, r.created_at < until).group_by(kind))
