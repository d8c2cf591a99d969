"""Issue 16 item 5, "when nobody is there": business hours and time zone are settings; outside them, or with no
agent signed in, a hand-over says when someone will answer (in the shopper's language) and asks for an e-mail
address, kept on the hand-over with the purpose the shopper was told (never in the redacted turn), shown to the
agent and erased with the customer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import gradio as gr
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from assistant.components import Components, build_assistant
from assistant.config.loading import load_settings
from assistant.config.support_settings import OpeningWindow, SupportSettings, parse_business_hours
from assistant.domain import DoneEvent, ShopperIdentity
from assistant.errors import ConfigError
from assistant.llm import FakeChatModel
from assistant.locales import text
from assistant.privacy.customer_data import erase_customer
from assistant.settings import SecuritySettings
from assistant.staff.copilot import Copilot
from assistant.staff.roles import StaffPrincipal
from assistant.staff.support_hours import SupportHours, when_text
from assistant.store import store_metadata
from assistant.turn.turn_service import AssistantService
from ui.error_table import install_error_table
from ui.handover_api import build_staff_api
from ui.staff_views.copilot_tab import CopilotTab, profile_view
from ui.staff_views.staff_text import plain

HOURS = "mon-fri 09:00-17:00; sat 10:00-14:00"
BERLIN = SupportSettings(business_hours=HOURS, time_zone="Europe/Berlin")
SUNDAY_NOON = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # the demo's "now": a Sunday
MONDAY_TEN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 11:00 in Berlin: open
ADDRESS = "daniel.reply@example.net"
LUCAS_ADDRESS = "lucas.answer@example.org"


# -- the settings ----------------------------------------------------------------------------------
def test_business_hours_read_as_windows_per_weekday() -> None:
    windows = parse_business_hours("mon-wed 09:00-17:00; fri/sun 10:30-24:00")

    assert [(w.weekday, w.start, w.end) for w in windows] == [
        (0, 540, 1020), (1, 540, 1020), (2, 540, 1020), (4, 630, 1440), (6, 630, 1440)]
    assert parse_business_hours("") == ()


@pytest.mark.parametrize(("hours", "says"), [
    ("mon-fri 9-17", "cannot read"), ("mon-fry 09:00-17:00", "unknown day"), ("mon 17:00-09:00", "closes before"),
    ("mon 09:00-25:00", "no time of day")])
def test_unreadable_business_hours_stop_the_settings_with_what_to_write(hours: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        load_settings(["test"], env={"CONCIERGE_SUPPORT__BUSINESS_HOURS": hours})


def test_the_time_zone_is_checked_with_zoneinfo() -> None:
    with pytest.raises(ConfigError, match="unknown time zone"):
        load_settings(["test"], env={"CONCIERGE_SUPPORT__TIME_ZONE": "Europe/Atlantis"})
    assert load_settings(["test"], env={"CONCIERGE_SUPPORT__TIME_ZONE": "Asia/Shanghai"}).support.time_zone \
        == "Asia/Shanghai"


# -- when someone answers --------------------------------------------------------------------------
@pytest.mark.parametrize(("now", "opens"), [
    (datetime(2026, 12, 4, 22, 0, tzinfo=UTC), datetime(2026, 12, 5, 10, 0)),  # Friday 23:00 -> Saturday 10:00
    (datetime(2026, 12, 5, 14, 0, tzinfo=UTC), datetime(2026, 12, 7, 9, 0)),  # Saturday 15:00 -> Monday 09:00
    (datetime(2026, 12, 7, 7, 59, tzinfo=UTC), datetime(2026, 12, 7, 9, 0)),  # Monday 08:59 -> 09:00
    (datetime(2026, 3, 27, 17, 0, tzinfo=UTC), datetime(2026, 3, 28, 10, 0)),  # the night the clocks go forward
])
def test_the_next_opening_is_in_the_shops_zone(now: datetime, opens: datetime) -> None:
    found = SupportHours(BERLIN).next_opening(now)

    assert found is not None and found.replace(tzinfo=None) == opens and str(found.tzinfo) == "Europe/Berlin"


def test_open_hours_with_an_agent_mean_somebody_is_there() -> None:
    hours = SupportHours(BERLIN)

    assert hours.is_open(MONDAY_TEN) and hours.away(MONDAY_TEN, agent_signed_in=True) is None
    assert hours.away(MONDAY_TEN, agent_signed_in=False) == hours.away(MONDAY_TEN, False)
    assert hours.away(MONDAY_TEN, agent_signed_in=False).why == "no_agent"  # type: ignore[union-attr]
    away = hours.away(SUNDAY_NOON, agent_signed_in=True)
    assert away is not None and away.why == "closed"
    unchecked = SupportHours(BERLIN.model_copy(update={"check_signed_in_agents": False}))
    assert unchecked.away(MONDAY_TEN, agent_signed_in=False) is None


def test_the_opening_is_written_for_the_shoppers_language() -> None:
    opens = SupportHours(BERLIN).next_opening(SUNDAY_NOON)
    assert opens is not None

    english, chinese = when_text(opens, "en"), when_text(opens, "zh")

    assert "Monday, November 30, 2026" in english and "9:00\u202fAM" in english and "Central European" in english
    assert "2026年11月30日星期一" in chinese and "09:00" in chinese and "中欧" in chinese and "AM" not in chinese


def test_a_window_ending_at_midnight_is_open_until_then() -> None:
    late = SupportHours(SupportSettings(business_hours="sun 20:00-24:00", time_zone="UTC"))

    assert late.windows == (OpeningWindow(6, 1200, 1440),)
    assert late.is_open(datetime(2026, 11, 29, 23, 59, tzinfo=UTC))
    assert not late.is_open(datetime(2026, 11, 30, 0, 0, tzinfo=UTC))


# -- the turn ---------------------------------------------------------------------------------------
DANIEL = ShopperIdentity("C002")
HELP = "I want to talk to a human please"


def service_with(components: Components, offers: list[dict[str, Any]], now: datetime,
                 **support: Any) -> AssistantService:
    base = build_assistant(components, llm=FakeChatModel(), offers=lambda: offers, now=lambda: now,
                           rng=np.random.default_rng(3))
    settings = base.deps.settings
    changed = settings.model_copy(update={"support": SupportSettings(**{"business_hours": HOURS,
                                                                        "time_zone": "Europe/Berlin", **support})})
    return AssistantService(replace(base.deps, settings=changed), components.stores)


def say(service: AssistantService, session: str, message: str, who: ShopperIdentity = DANIEL) -> DoneEvent:
    done = list(service.respond(who, session, message))[-1]
    assert isinstance(done, DoneEvent)
    return done


@pytest.fixture
def closed(own_demo_components: Components, demo_offers: list[dict[str, Any]]) -> Iterator[AssistantService]:
    yield service_with(own_demo_components, demo_offers, SUNDAY_NOON)


def test_a_handover_when_closed_says_when_and_asks_for_an_address(closed: AssistantService) -> None:
    session = closed.open_session(DANIEL)

    done = say(closed, session, HELP)

    handover = closed.stores.handovers.open_for_session(session)
    assert done.verdict == "handover" and handover is not None and handover.contact_asked_at is not None
    assert "Monday, November 30, 2026 at 9:00\u202fAM" in done.reply
    assert text("handover.ask_contact") in done.reply and text("handover.contact_purpose") in done.reply
    assert "shortly" not in done.reply


def test_a_chinese_shoppers_handover_says_it_in_chinese(closed: AssistantService) -> None:
    session = closed.open_session(DANIEL)

    done = say(closed, session, "我要人工客服")

    assert "11月30日" in done.reply and text("handover.ask_contact", "zh") in done.reply


def test_the_address_given_is_the_handovers_contact_not_the_turns(closed: AssistantService,
                                                                  own_demo_components: Components) -> None:
    session = closed.open_session(DANIEL)
    say(closed, session, HELP)

    done = say(closed, session, f"sure, it is {ADDRESS} thanks")

    handover = closed.stores.handovers.open_for_session(session)
    assert done.reply == text("handover.contact_saved")
    assert handover is not None and handover.contact_email == ADDRESS
    assert handover.contact_consent == text("handover.contact_purpose") and handover.contact_at is not None
    stored = closed.stores.turns.turns_for_session(DANIEL.customer_id, session)[-1]
    assert ADDRESS not in stored.message and "[EMAIL]" in stored.message and ADDRESS not in stored.reply
    shown = profile_view(Copilot(closed).handover_context(handover.id))
    assert plain(ADDRESS) in shown and plain(text("handover.contact_purpose")) in shown


def test_while_nobody_is_there_a_message_waits_and_the_address_is_asked_again(closed: AssistantService) -> None:
    session = closed.open_session(DANIEL)
    say(closed, session, HELP)

    done = say(closed, session, "any news?")

    assert done.reply.startswith(text("handover.waiting_away")) and text("handover.ask_contact") in done.reply


def test_with_an_agent_signed_in_during_hours_the_handover_promises_a_reply(
        own_demo_components: Components, demo_offers: list[dict[str, Any]]) -> None:
    staff = own_demo_components.stores.staff
    if staff.get_user("hours-agent") is None:
        staff.add_user("hours-agent", "correct horse", ["agent"])
    token = staff.create_session("hours-agent", 3600)  # signed in now (the store's clock): active since MONDAY_TEN
    service = service_with(own_demo_components, demo_offers, MONDAY_TEN, agent_active_within_s=10 ** 9)
    session = service.open_session(DANIEL)
    try:
        done = say(service, session, HELP)
        later = say(service, session, f"write to {ADDRESS}")
    finally:
        staff.delete_session(token)

    handover = service.stores.handovers.open_for_session(session)
    assert done.reply == text("handover.customer_request")
    assert handover is not None and handover.contact_asked_at is None and handover.contact_email is None
    assert later.reply == text("handover.waiting")  # never asked: the address is not kept


def test_with_nobody_signed_in_during_hours_the_handover_says_so(own_demo_components: Components,
                                                                 demo_offers: list[dict[str, Any]]) -> None:
    monday = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)  # after any session signed in by now (the store's clock)
    service = service_with(own_demo_components, demo_offers, monday, agent_active_within_s=60)
    session = service.open_session(DANIEL)

    done = say(service, session, HELP)

    assert text("handover.away.no_agent") in done.reply and text("handover.ask_contact") in done.reply


def test_the_contact_is_erased_with_the_customer(closed: AssistantService, own_demo_components: Components) -> None:
    lucas = ShopperIdentity("C004")
    session = closed.open_session(lucas)
    say(closed, session, HELP, lucas)
    say(closed, session, LUCAS_ADDRESS, lucas)
    handover = closed.stores.handovers.open_for_session(session)
    assert handover is not None and handover.contact_email == LUCAS_ADDRESS

    erase_customer(own_demo_components.stores.engine, own_demo_components.stores.customers, "C004")

    assert closed.stores.handovers.get(handover.id) is None
    with own_demo_components.stores.engine.connect() as connection:
        dumped = json.dumps([[dict(r._mapping) for r in connection.execute(select(t))]
                             for t in store_metadata().sorted_tables], default=str)
    assert LUCAS_ADDRESS not in dumped


def test_the_notification_link_opens_the_handover_with_its_contact_in_the_copilot(closed: AssistantService) -> None:
    session = closed.open_session(DANIEL)
    say(closed, session, HELP)
    say(closed, session, f"mail me at {ADDRESS}")
    handover = closed.stores.handovers.open_for_session(session)
    assert handover is not None
    checked: list[str] = []

    def need(_request: gr.Request | None, role: str) -> StaffPrincipal:
        checked.append(role)
        return StaffPrincipal("ana", frozenset({"agent"}))

    tab = CopilotTab(need, Copilot(closed))

    opened = tab.open_linked(gr.Request(query_params={"handover": handover.id}))
    nothing = tab.open_linked(gr.Request(query_params={}))

    assert opened[3] == session and plain(ADDRESS) in opened[0] and checked == ["agent"]
    assert nothing == tuple(gr.skip() for _ in range(9))


def test_the_staff_api_shows_the_agent_the_contact(closed: AssistantService,
                                                   own_demo_components: Components) -> None:
    session = closed.open_session(DANIEL)
    say(closed, session, HELP)
    say(closed, session, f"{ADDRESS} please")
    handover = closed.stores.handovers.open_for_session(session)
    assert handover is not None
    app = install_error_table(FastAPI())
    app.include_router(build_staff_api(SecuritySettings(staff_api_key=SecretStr("staff-secret")),
                                       Copilot(closed), own_demo_components.staff_accounts))

    body = TestClient(app).get(f"/api/v1/handovers/{handover.id}", headers={"X-API-Key": "staff-secret"}).json()

    assert body["contact_email"] == ADDRESS and body["contact_consent"] == text("handover.contact_purpose")
    assert body["contact_asked_at"] and body["contact_at"]
    assert all(ADDRESS not in turn["message"] for turn in body["turns"])  # the log keeps it redacted


def test_once_an_agent_claimed_it_the_shopper_is_told_they_will_reply(closed: AssistantService) -> None:
    session = closed.open_session(DANIEL)
    say(closed, session, HELP)
    handover = closed.stores.handovers.open_for_session(session)
    assert handover is not None
    closed.stores.handovers.claim(handover.id, "ana")

    assert say(closed, session, "any news?").reply == text("handover.waiting")


def test_signing_in_from_a_notification_link_comes_back_to_the_handover(own_demo_components: Components) -> None:
    from argon2 import PasswordHasher

    from assistant.staff.accounts import StaffAccounts
    from assistant.store import session_factory
    from assistant.store.staff_accounts import StaffStore
    from ui.staff_auth import StaffSignInFirst, build_auth

    store = StaffStore(session_factory(own_demo_components.stores.engine),
                       hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    if store.get_user("link-agent") is None:
        store.add_user("link-agent", "correct horse", ["agent"])
    auth = build_auth(own_demo_components.settings.security, StaffAccounts(store))
    inner = FastAPI()
    inner.include_router(auth.router)
    inner.get("/staff/")(lambda: {"page": "staff"})
    client = TestClient(StaffSignInFirst(inner, auth))

    away = client.get("/staff/?handover=h-42", follow_redirects=False)
    form = client.get(away.headers["location"])
    csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
    signed = client.post("/staff/login", data={"username": "link-agent", "password": "correct horse",
                                               "next": "/staff/?handover=h-42", "csrf": csrf},
                         follow_redirects=False)

    assert away.status_code == 303 and away.headers["location"] == "/staff/login?next=/staff/%3Fhandover%3Dh-42"
    assert 'value="/staff/?handover=h-42"' in form.text
    assert signed.status_code == 303 and signed.headers["location"] == "/staff/?handover=h-42"
