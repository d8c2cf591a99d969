"""Is anybody there to take a hand-over? Business hours, signed-in agents, and the next opening time.

A hand-over made when nobody can answer soon must not promise "shortly": the shopper is told when the team opens
next (in the shop's time zone, written the way the shopper's language writes dates and times) or that nobody is
signed in right now, and is asked for an e-mail address to answer. Everything here is pure: the caller passes the
time and whether an agent is signed in, so tests need no clock and no staff sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from assistant.config.support_settings import OpeningWindow, SupportSettings, opening_time, parse_business_hours
from assistant.locales import babel_locale, text

Absence = Literal["closed", "no_agent"]


@dataclass(frozen=True)
class Away:
    """Nobody can answer now: ``why`` is ``closed`` (outside business hours; ``opens`` is the next opening, aware
    in the shop's zone) or ``no_agent`` (open, but no agent signed in; ``opens`` is None)."""

    why: Absence
    opens: datetime | None = None


class SupportHours:
    """The shop's business hours (``support.business_hours`` in ``support.time_zone``)."""

    def __init__(self, settings: SupportSettings) -> None:
        self.settings = settings
        self.zone = ZoneInfo(settings.time_zone)
        self.windows: tuple[OpeningWindow, ...] = parse_business_hours(settings.business_hours)

    @property
    def always_open(self) -> bool:
        return not self.windows

    def _window_bounds(self, day: datetime, window: OpeningWindow) -> tuple[datetime, datetime]:
        """The window's start and end on ``day`` (a local date in the shop's zone), as aware local datetimes."""
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        start = datetime.combine(midnight.date(), opening_time(window.start), self.zone)
        end = midnight + timedelta(days=1) if window.end >= 1440 else datetime.combine(
            midnight.date(), opening_time(window.end), self.zone)
        return start, end

    def is_open(self, now: datetime) -> bool:
        if self.always_open:
            return True
        local = now.astimezone(self.zone)
        for window in self.windows:
            if window.weekday == local.weekday():
                start, end = self._window_bounds(local, window)
                if start <= local < end:
                    return True
        return False

    def next_opening(self, now: datetime) -> datetime | None:
        """The start of the next opening window after ``now``, aware in the shop's zone (None: always open, or
        open now)."""
        if self.always_open or self.is_open(now):
            return None
        local = now.astimezone(self.zone)
        for ahead in range(8):
            day = local + timedelta(days=ahead)
            starts = [self._window_bounds(day, w)[0] for w in self.windows if w.weekday == day.weekday()]
            later = sorted(s for s in starts if s > local)
            if later:
                return later[0]
        return None  # unreachable with at least one window

    def away(self, now: datetime, agent_signed_in: bool | None) -> Away | None:
        """Why nobody can answer now, or None when someone can. ``agent_signed_in`` None: not checked."""
        opens = self.next_opening(now)
        if opens is not None:
            return Away("closed", opens)
        if agent_signed_in is False and self.settings.check_signed_in_agents:
            return Away("no_agent")
        return None


def when_text(moment: datetime, language: str) -> str:
    """A moment as the shopper's language writes it (CLDR), in the moment's own zone, with the zone's name:
    "Monday, November 30, 2026 at 9:00 AM (Central European Standard Time)";
    "2026年11月30日星期一 09:00（中欧标准时间）"."""
    from babel.dates import format_date, format_time, get_timezone_name

    locale = babel_locale(language)
    zone = moment.tzinfo or UTC
    day = format_date(moment.date(), "full", locale=locale)
    clock = format_time(moment, "short", tzinfo=zone, locale=locale)
    key = str(getattr(zone, "key", "UTC"))
    zone_name = "UTC" if key in ("UTC", "Etc/UTC", "GMT", "Etc/GMT") else get_timezone_name(moment, "long",
                                                                                           locale=locale)
    return text("handover.when", language, day=day, time=clock, zone=zone_name)


def away_reply(away: Away, language: str, reason: str = "customer_request") -> str:
    """What a hand-over (for ``reason``) says when nobody is there: when someone will answer, and the request for an
    e-mail address with what it is used for (the shopper's consent is giving it after reading this)."""
    if away.why == "closed" and away.opens is not None:
        absence = text("handover.away.closed", language, when=when_text(away.opens, language))
    else:
        absence = text("handover.away.no_agent", language)
    return text("handover.away", language, queued=text(f"handover.queued.{reason}", language), absence=absence,
                ask=text("handover.ask_contact", language), purpose=contact_purpose(language))


def contact_purpose(language: str) -> str:
    """What the shopper's e-mail address is used for, as they were told: kept with the address as its consent."""
    return text("handover.contact_purpose", language)
