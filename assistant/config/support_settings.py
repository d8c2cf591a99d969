"""The ``support`` settings section: when people answer hand-overs, and how agents hear of a new one.

Business hours are one line a person can write and read (``mon-fri 09:00-17:00; sat 10:00-14:00``) in the shop's
time zone (IANA, checked with ``zoneinfo``); they are parsed here, so a typo stops the server at start with a
message that says what is wrong rather than making every hand-over promise the wrong time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ENTRY = re.compile(r"^(?P<days>[a-z]{3}(?:\s*-\s*[a-z]{3})?(?:\s*/\s*[a-z]{3}(?:\s*-\s*[a-z]{3})?)*)\s+"
                    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$")
_FORMAT_HELP = ("write business hours as entries such as 'mon-fri 09:00-17:00; sat 10:00-14:00' (days mon..sun, a "
                "range mon-fri or a list mon/wed, then 24-hour times; an entry ends by 24:00)")


@dataclass(frozen=True)
class OpeningWindow:
    """Open on ``weekday`` (0 = Monday) from ``start`` to ``end`` minutes after midnight (``end`` may be 1440)."""

    weekday: int
    start: int
    end: int


def _minutes(value: str, entry: str) -> int:
    hours, minutes = (int(part) for part in value.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{value!r} in {entry!r} is no time of day; {_FORMAT_HELP}")
    return hours * 60 + minutes


def _days(spec: str, entry: str) -> list[int]:
    chosen: list[int] = []
    for part in spec.split("/"):
        ends = [p.strip() for p in part.split("-")]
        unknown = [d for d in ends if d not in DAYS]
        if unknown:
            raise ValueError(f"unknown day {unknown[0]!r} in {entry!r}; {_FORMAT_HELP}")
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        span = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
        chosen.extend(d for d in span if d not in chosen)
    return chosen


def parse_business_hours(text: str) -> tuple[OpeningWindow, ...]:
    """``"mon-fri 09:00-17:00; sat 10:00-14:00"`` -> the opening windows, by weekday and start. Empty: none
    (always open). ``ValueError`` with what to write instead for anything else."""
    windows: list[OpeningWindow] = []
    for raw in re.split(r"[;,\n]", text.lower()):
        entry = " ".join(raw.split())
        if not entry:
            continue
        match = _ENTRY.match(entry)
        if match is None:
            raise ValueError(f"cannot read {entry!r}; {_FORMAT_HELP}")
        start, end = _minutes(match["start"], entry), _minutes(match["end"], entry)
        if end <= start:
            raise ValueError(f"{entry!r} closes before it opens (hours past midnight are two entries: "
                             "'fri 20:00-24:00; sat 00:00-02:00')")
        windows.extend(OpeningWindow(day, start, end) for day in _days(match["days"], entry))
    return tuple(sorted(windows, key=lambda w: (w.weekday, w.start)))


def check_time_zone(name: str) -> str:
    """``name`` if ``zoneinfo`` knows it (``Europe/Berlin``, ``UTC``); else ``ValueError``."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin or "
                         "America/New_York)") from e
    return name


def opening_time(minutes: int) -> time:
    """Minutes after midnight as a time of day (1440, the end of the day, is 23:59:59)."""
    return time(23, 59, 59) if minutes >= 1440 else time(minutes // 60, minutes % 60)


class SupportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    business_hours: str = Field(
        "", description="When people answer hand-overs, in support.time_zone: entries such as 'mon-fri 09:00-17:00; "
        "sat 10:00-14:00' (days mon..sun as a range or a list mon/wed/fri, 24-hour times). Outside them a hand-over "
        "tells the shopper when the team opens next and asks for an e-mail address to answer. Empty: always open.")
    time_zone: str = Field("UTC", description="IANA time zone of business_hours (e.g. Europe/Berlin).")
    check_signed_in_agents: bool = Field(
        True, description="During business hours, a hand-over also says nobody is there (and asks for an e-mail "
        "address) when no staff member with the agent role is signed in and active (agent_active_within_s). Off: "
        "business hours alone decide (agents who work from the REST API or the webhook, not the staff views).")
    agent_active_within_s: int = Field(
        1800, description="A signed-in agent counts as there when their staff session made a request within this "
        "many seconds (the session's last use is written at most once a minute).", ge=60)
    webhook_url: str = Field(
        "", description="Agents hear of each new hand-over here: a JSON POST (event, id, reason, created_at, link) "
        "from a background thread, retried on failure (webhook_attempts); the shopper's reply never waits for it. "
        "Empty: no notification.")
    webhook_secret: SecretStr = Field(
        SecretStr(""), description="Signs each webhook body: header X-Concierge-Signature: sha256=<hex HMAC-SHA256 "
        "of the raw body with this secret>. Empty: unsigned.")
    webhook_attempts: int = Field(
        3, description="Tries per notification (a connection error, a timeout or a status other than 2xx fails "
        "one); every failure is logged.", ge=1, le=10)
    webhook_timeout_s: float = Field(5.0, description="Seconds one webhook try may take.", gt=0, le=60)
    staff_url: str = Field(
        "", description="Address of this server as agents reach it (e.g. https://support.example.com), used for the "
        "link in a notification: <staff_url>/staff/?handover=<id>. Empty: the link is that path alone.")

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        parse_business_hours(value)
        return value.strip()

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_time_zone(value.strip())

    @field_validator("webhook_url", "staff_url")
    @classmethod
    def _url(cls, value: str, info: ValidationInfo) -> str:
        url = value.strip()
        if url and not re.match(r"^https?://[^\s/]+\S*$", url):
            raise ValueError(f"{value!r} is no http(s) address (e.g. https://hooks.example.com/concierge)")
        return url.rstrip("/") if info.field_name == "staff_url" else url
