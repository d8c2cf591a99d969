"""``AnalyticsStore``: figures over the interaction log for reviewers, computed by SQL (GROUP BY) in the store.

Every figure takes a period of whole days, ``start`` and ``end`` inclusive (UTC days; default: the 30 days
ending today), and returns plain rows (``list[dict]``) ready for a chart or a table. Series per day list
every day of the period, days without data as zeros, so a line plot has no gaps.

- ``volume``: conversations (sessions with a turn that day) and turns per day.
- ``resolution`` / ``resolution_total``: conversations resolved, per day (of the conversation's last turn in the
  period) / overall: not handed over, not ended in "I don't know", not reopened within a day; each of the three
  counted too (``handed_over``, ``unanswered``, ``reopened``; see ``assistant.store.conversation_outcomes``).
- ``csat``: the shoppers' ratings (1-5) given in the period, for conversations with the assistant only and for
  those a person was involved in, and for all: count, mean and the count of each score.
- ``handover_reasons``: hand-overs by reason (table ``handovers``).
- ``feedback``: thumbs up and down per day (each turn's latest thumbs, by the turn's day) and their rates.
- ``fallbacks``: turns whose reply failed the verifier and was replaced by one built from facts (status
  ``fallback``), and failed turns (status ``error``), per day.
- ``offer_conversion`` (per offer) / ``segment_conversion`` (per bandit segment): showings of offers and
  how many of them were clicked, accepted, redeemed, and converted (accepted or redeemed: the bandit's
  conversion); feedback events name their showing (``payload.shown_event_id``).
- ``arm_shares``: the bandit's choices over time: offer_shown events per day per offer, as shares of the day.
- ``volume_by_language`` (per day and language) / ``resolution_by_language`` (per language, whole period):
  volume and resolution split by the language of the reply each turn recorded (``trace.language``); turns
  without one (logged before languages were recorded, or replies sent by an agent) count as ``unknown``. A
  conversation counts, with its outcome, under every language it has turns in.

Days are UTC: ``date()`` on SQLite (times are stored as UTC text), ``to_char(ts AT TIME ZONE 'UTC', ...)``
on PostgreSQL, so both group the same instant into the same day whatever the server's time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, String, case, distinct, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from assistant.errors import NotFoundError, ValidationError
from assistant.store import models as m
from assistant.store.clock import Clock, SystemClock
from assistant.store.conversation_outcomes import CSAT_KINDS, conversation_outcomes, csat_query, outcome_counts
from assistant.store.db import read
from assistant.store.handovers import HandoverRow
from assistant.store.turn_language import turn_language

DEFAULT_DAYS = 30
#: the quiet window (``csat.quiet_minutes``) when none is given: a message after such a pause reopens a conversation
DEFAULT_QUIET = timedelta(minutes=10)
MAX_DAYS = 3660
FEEDBACK_KINDS = ("offer_clicked", "offer_accepted", "offer_redeemed")
CONVERSION_KINDS = ("offer_accepted", "offer_redeemed")
Rows = list[dict[str, Any]]


class utc_day(FunctionElement[str]):  # noqa: N801 - a SQL function, named like one
    """The UTC day of a timestamp column as ``'YYYY-MM-DD'`` text, on SQLite and PostgreSQL."""

    type = String()
    name = "utc_day"
    inherit_cache = True


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: object) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: object) -> str:
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


@dataclass(frozen=True)
class Period:
    """Whole UTC days, ``start`` to ``end`` inclusive."""

    start: date
    end: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=UTC)

    @property
    def until(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=UTC)

    def days(self) -> list[str]:
        return [(self.start + timedelta(days=i)).isoformat() for i in range((self.end - self.start).days + 1)]

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def checked_period(first: date, last: date, max_days: int = MAX_DAYS) -> tuple[date, date]:
    """``first`` .. ``last`` when it is a period a person may ask for, else a ValidationError saying why."""
    if first > last:
        raise ValidationError(f"period {first} .. {last} ends before it starts",
                              user_message="The start date must be on or before the end date.")
    if (last - first).days + 1 > max_days:
        raise ValidationError(f"period {first} .. {last} too long",
                              user_message=f"Choose a period of at most {max_days} days.")
    return first, last


def _day(value: date | datetime | None) -> date | None:
    return value.astimezone(UTC).date() if isinstance(value, datetime) else value


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _fill(period: Period, rows: Iterable[Any], columns: tuple[str, ...]) -> Rows:
    """One dict per day of the period (zeros for days without rows), from grouped rows with a ``day``."""
    found = {str(r.day): r for r in rows}
    out = []
    for day in period.days():
        row = found.get(day)
        out.append({"day": day, **{c: int(getattr(row, c) or 0) if row is not None else 0 for c in columns}})
    return out


def _outcome_row(row: Any) -> dict[str, Any]:
    """The counts of a grouped ``outcome_counts`` row, with the resolution rate."""
    counts = {c: int(getattr(row, c, 0) or 0) for c in ("conversations", "handed_over", "unanswered", "reopened",
                                                     "resolved")}
    return {**counts, "resolution_rate": _rate(counts["resolved"], counts["conversations"])}


class AnalyticsStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None,
                 quiet: timedelta = DEFAULT_QUIET) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()
        self.quiet = quiet
        self.figures: dict[str, Callable[[date | None, date | None], Rows]] = {
            "volume": self.volume, "resolution": self.resolution, "resolution_total": self.resolution_total,
            "handover_reasons": self.handover_reasons, "feedback": self.feedback, "fallbacks": self.fallbacks,
            "offer_conversion": self.offer_conversion, "segment_conversion": self.segment_conversion,
            "arm_shares": self.arm_shares, "volume_by_language": self.volume_by_language,
            "resolution_by_language": self.resolution_by_language, "csat": self.csat,
        }

    def with_quiet(self, quiet: timedelta) -> AnalyticsStore:
        """The same figures with another quiet window (``csat.quiet_minutes``: a message after such a pause, within a
        day, reopens a conversation)."""
        return AnalyticsStore(self._sessions, self._clock, quiet)

    def period(self, start: date | datetime | None = None, end: date | datetime | None = None) -> Period:
        """The period asked for: ``end`` defaults to today (UTC), ``start`` to 29 days before ``end``."""
        last = _day(end) or self._clock.now().astimezone(UTC).date()
        first = _day(start) or last - timedelta(days=DEFAULT_DAYS - 1)
        return Period(*checked_period(first, last))

    def run(self, name: str, start: date | datetime | None = None, end: date | datetime | None = None) -> Rows:
        """The figure called ``name`` (one of ``figures``); ``NotFoundError`` for an unknown name."""
        figure = self.figures.get(name)
        if figure is None:
            raise NotFoundError(f"unknown analytics figure {name!r}",
                                user_message=f"Unknown figure; choose one of {', '.join(self.figures)}.")
        return figure(_day(start), _day(end))

    def _rows(self, query: Select[*tuple[Any, ...]], what: str) -> list[Any]:
        with read(self._sessions, what) as session:
            return list(session.execute(query).all())

    # conversations -----------------------------------------------------------------------------------------
    def volume(self, start: date | None = None, end: date | None = None) -> Rows:
        """Per day: ``conversations`` (sessions with a turn that day) and ``turns``."""
        p = self.period(start, end)
        t = m.TurnRow
        day = utc_day(t.created_at)
        query = (select(day.label("day"), func.count(distinct(t.session_id)).label("conversations"),
                        func.count().label("turns"))
                 .where(t.created_at >= p.since, t.created_at < p.until).group_by(day))
        return _fill(p, self._rows(query, "counting conversations per day"), ("conversations", "turns"))

    def resolution(self, start: date | None = None, end: date | None = None) -> Rows:
        """Per day (of each conversation's last turn in the period): conversations, those ``handed_over``,
        ``unanswered`` (ended in "I don't know") and ``reopened`` within a day, those ``resolved`` (none of the three)
        and the ``resolution_rate``."""
        p = self.period(start, end)
        o = conversation_outcomes(p.since, p.until, self.quiet)
        day = utc_day(o.c.last_in_period)
        query = select(day.label("day"), *outcome_counts(o)).group_by(day)
        found = {str(r.day): _outcome_row(r) for r in self._rows(query, "measuring resolution per day")}
        empty = _outcome_row(None)
        return [{"day": d, **found.get(d, empty)} for d in p.days()]

    def resolution_total(self, start: date | None = None, end: date | None = None) -> Rows:
        """One row for the whole period: conversations, handed over, unanswered, reopened, resolved, and the rate."""
        p = self.period(start, end)
        o = conversation_outcomes(p.since, p.until, self.quiet)
        (row,) = self._rows(select(*outcome_counts(o)), "measuring resolution")
        return [{**p.to_dict(), **_outcome_row(row)}]

    def handover_reasons(self, start: date | None = None, end: date | None = None) -> Rows:
        """Hand-overs created in the period by reason, most frequent first, with their share."""
        p = self.period(start, end)
        h = HandoverRow
        query = (select(h.reason.label("reason"), func.count().label("count"))
                 .where(h.created_at >= p.since, h.created_at < p.until)
                 .group_by(h.reason).order_by(func.count().desc(), h.reason))
        rows = self._rows(query, "counting hand-over reasons")
        total = sum(int(r.count) for r in rows)
        return [{"reason": r.reason, "count": int(r.count), "share": _rate(int(r.count), total)} for r in rows]

    # languages ---------------------------------------------------------------------------------------------
    def volume_by_language(self, start: date | None = None, end: date | None = None) -> Rows:
        """Per day and reply language: ``conversations`` (sessions with a turn in it that day) and ``turns``.
        Every day of the period has a row for each language seen in it (zeros when quiet)."""
        p = self.period(start, end)
        t = m.TurnRow
        day, language = utc_day(t.created_at), turn_language()
        query = (select(day.label("day"), language.label("language"),
                        func.count(distinct(t.session_id)).label("conversations"), func.count().label("turns"))
                 .where(t.created_at >= p.since, t.created_at < p.until).group_by(day, language))
        found = {(str(r.day), str(r.language)): r for r in self._rows(query, "counting turns per language")}
        languages = sorted({lang for _, lang in found})
        return [{"day": d, "language": lang,
                 "conversations": int(found[(d, lang)].conversations) if (d, lang) in found else 0,
                 "turns": int(found[(d, lang)].turns) if (d, lang) in found else 0}
                for d in p.days() for lang in languages]

    def resolution_by_language(self, start: date | None = None, end: date | None = None) -> Rows:
        """Per reply language over the period: turns, and the conversations with a turn in it with their outcomes
        (as ``resolution_total``); most conversations first."""
        p = self.period(start, end)
        t = m.TurnRow
        o = conversation_outcomes(p.since, p.until, self.quiet)
        language = turn_language()
        per_language = (select(language.label("language"), t.session_id.label("session_id"),
                               func.count().label("turns"))
                        .where(t.created_at >= p.since, t.created_at < p.until)
                        .group_by(language, t.session_id).subquery("per_language"))
        query = (select(per_language.c.language, func.sum(per_language.c.turns).label("turns"), *outcome_counts(o))
                 .join(o, o.c.session_id == per_language.c.session_id).group_by(per_language.c.language))
        rows = [{"language": str(r.language), "turns": int(r.turns or 0), **_outcome_row(r)}
                for r in self._rows(query, "measuring resolution per language")]
        return sorted(rows, key=lambda row: (-row["conversations"], row["language"]))

    def csat(self, start: date | None = None, end: date | None = None) -> Rows:
        """Ratings given in the period: a row each for ``assistant`` (no person involved), ``handover`` (a person
        was) and ``all``: ``ratings``, ``mean`` (None without ratings) and ``score_1`` .. ``score_5``."""
        p = self.period(start, end)
        found = {r.kind: r for r in self._rows(csat_query(p.since, p.until), "measuring CSAT")}
        counts = {kind: [int(getattr(found.get(kind), f"score_{n}", 0) or 0) for n in range(1, 6)]
                  for kind in CSAT_KINDS}
        counts["all"] = [sum(column) for column in zip(*counts.values(), strict=True)]
        rows: Rows = []
        for kind, scores in counts.items():
            ratings = sum(scores)
            mean = round(sum(n * c for n, c in enumerate(scores, start=1)) / ratings, 2) if ratings else None
            rows.append({"conversations": kind, "ratings": ratings,
                         **{f"score_{n}": c for n, c in enumerate(scores, start=1)}, "mean": mean})
        return rows

    # quality -----------------------------------------------------------------------------------------------
    def feedback(self, start: date | None = None, end: date | None = None) -> Rows:
        """Per day (of the turn): turns, thumbs ``up`` and ``down`` (each turn's latest), ``up_rate`` (up among
        rated turns) and ``feedback_rate`` (rated among all turns)."""
        p = self.period(start, end)
        t, e = m.TurnRow, m.EventRow
        latest = (select(e.turn_id.label("turn_id"), func.max(e.id).label("id"))
                  .where(e.kind == "feedback", e.turn_id.is_not(None), e.created_at >= p.since)
                  .group_by(e.turn_id).subquery())
        rated = aliased(m.EventRow)
        rating = (select(latest.c.turn_id, rated.payload["rating"].as_string().label("rating"))
                  .join(rated, rated.id == latest.c.id).subquery())
        day = utc_day(t.created_at)
        query = (select(day.label("day"), func.count(t.id).label("turns"),
                        func.count(case((rating.c.rating == "up", 1))).label("up"),
                        func.count(case((rating.c.rating == "down", 1))).label("down"))
                 .select_from(t).outerjoin(rating, rating.c.turn_id == t.id)
                 .where(t.created_at >= p.since, t.created_at < p.until).group_by(day))
        rows = _fill(p, self._rows(query, "counting feedback per day"), ("turns", "up", "down"))
        for row in rows:
            row["up_rate"] = _rate(row["up"], row["up"] + row["down"])
            row["feedback_rate"] = _rate(row["up"] + row["down"], row["turns"])
        return rows

    def fallbacks(self, start: date | None = None, end: date | None = None) -> Rows:
        """Per day: turns, ``fallbacks`` (reply failed the verifier, replaced by one from facts), ``errors``
        (the turn failed) and ``fallback_rate``."""
        p = self.period(start, end)
        t = m.TurnRow
        day = utc_day(t.created_at)
        query = (select(day.label("day"), func.count().label("turns"),
                        func.count(case((t.status == "fallback", 1))).label("fallbacks"),
                        func.count(case((t.status == "error", 1))).label("errors"))
                 .where(t.created_at >= p.since, t.created_at < p.until).group_by(day))
        rows = _fill(p, self._rows(query, "counting fallbacks per day"), ("turns", "fallbacks", "errors"))
        for row in rows:
            row["fallback_rate"] = _rate(row["fallbacks"], row["turns"])
        return rows

    # offers ------------------------------------------------------------------------------------------------
    def _conversion(self, p: Period, key: str) -> Rows:
        """Showings in the period grouped by ``key``, and their reactions grouped the same way.

        Two GROUP BY queries: reactions are matched to showings by ``shown_event_id IN (showings of the
        period)`` (an uncorrelated subquery, run once), not by a join on a JSON expression, which SQLite
        can only run as a nested loop. Reactions carry the ``offer_id`` and ``segment`` of their showing."""
        e = m.EventRow
        in_period = (e.kind == "offer_shown", e.created_at >= p.since, e.created_at < p.until)
        group = e.payload[key].as_string()
        shown_query = (select(group.label("group"), func.count().label("shown")).where(*in_period).group_by(group))
        shown_ids = select(e.id).where(*in_period)
        showing = e.payload["shown_event_id"].as_integer()

        def showings(*kinds: str) -> Any:
            return func.count(distinct(case((e.kind.in_(kinds), showing))))

        reactions_query = (select(group.label("group"), showings("offer_clicked").label("clicked"),
                                  showings("offer_accepted").label("accepted"),
                                  showings("offer_redeemed").label("redeemed"),
                                  showings(*CONVERSION_KINDS).label("converted"))
                           .where(e.kind.in_(FEEDBACK_KINDS), e.created_at >= p.since, showing.in_(shown_ids))
                           .group_by(group))
        reactions = {r.group: r for r in self._rows(reactions_query, f"counting offer feedback per {key}")}
        out = []
        for r in self._rows(shown_query, f"counting offers shown per {key}"):
            counts = {"shown": int(r.shown)}
            for column in ("clicked", "accepted", "redeemed", "converted"):
                counts[column] = int(getattr(reactions.get(r.group), column, 0) or 0)
            out.append({key: r.group, **counts, "conversion_rate": _rate(counts["converted"], counts["shown"])})
        return sorted(out, key=lambda row: (-row["shown"], str(row[key])))

    def offer_conversion(self, start: date | None = None, end: date | None = None) -> Rows:
        """Per offer: showings in the period and how many were clicked, accepted, redeemed, converted."""
        return self._conversion(self.period(start, end), "offer_id")

    def segment_conversion(self, start: date | None = None, end: date | None = None) -> Rows:
        """Per bandit segment (``tier/category``): showings and conversions, as ``offer_conversion``."""
        return self._conversion(self.period(start, end), "segment")

    def arm_shares(self, start: date | None = None, end: date | None = None) -> Rows:
        """Per day and offer: times shown and the ``share`` of that day's showings (the bandit's arm shares)."""
        p = self.period(start, end)
        e = m.EventRow
        day = utc_day(e.created_at)
        offer = e.payload["offer_id"].as_string()
        shown = func.count()
        share = shown * 1.0 / func.sum(shown).over(partition_by=day)
        query = (select(day.label("day"), offer.label("offer_id"), shown.label("shown"), share.label("share"))
                 .where(e.kind == "offer_shown", e.created_at >= p.since, e.created_at < p.until)
                 .group_by(day, offer).order_by(day, offer))
        return [{"day": str(r.day), "offer_id": r.offer_id, "shown": int(r.shown), "share": round(float(r.share), 4)}
                for r in self._rows(query, "measuring the bandit's arm shares")]

