"""CSAT: the shopper rates a conversation once it is over (hand-over resolved, or quiet), 1-5 and a comment, stored
with the session, erased with the shopper; the REST route and the chat's panel. On a temp SQLite store with a fixed
clock (both backends: tests/integration/test_store_ratings.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.components import Components
from assistant.errors import ConflictError, NotFoundError, ValidationError
from assistant.identity import issue_guest_token, issue_token, verify_guest_token, verify_token
from assistant.privacy.customer_data import erase_customer
from assistant.staff.analytics import Analytics
from assistant.staff.log_review import LogReview
from assistant.staff.roles import StaffPrincipal
from assistant.store import CounterIds, FixedClock, Stores, TurnRecord, open_stores
from assistant.turn.session_rating import ConversationRating
from ui.error_table import install_error_table
from ui.rating_panel import build_rating_panel, poll_seconds
from ui.review_api import build_review_api
from ui.shopper_api import build_api
from ui.staff_views.analytics_tab import CSAT_COLUMNS, AnalyticsTab

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
QUIET = timedelta(minutes=10)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def stores(tmp_path: Path, clock: FixedClock, customer_record: Callable[..., dict[str, Any]]) -> Iterator[Stores]:
    opened = open_stores(f"sqlite:///{tmp_path / 'csat.db'}", clock=clock, ids=CounterIds("r"))
    for customer_id in ("c1", "c2"):
        opened.customers.upsert_from_record(customer_record(customer_id), "test")
    yield opened
    opened.close()


@pytest.fixture
def ratings(stores: Stores, clock: FixedClock) -> ConversationRating:
    return ConversationRating(stores, QUIET, now=clock.now)


def chat(stores: Stores, customer_id: str | None, when: datetime = START, **fields: Any) -> str:
    session = stores.sessions.open_session(customer_id)
    stores.turns.record_turn(TurnRecord(session_id=session, customer_id=customer_id, message="hi", reply="hello",
                                        created_at=when, **fields), [])
    return session


# -- when to ask -------------------------------------------------------------------------------------------------
def test_a_conversation_is_not_rated_before_it_goes_quiet(stores: Stores, ratings: ConversationRating,
                                                          clock: FixedClock) -> None:
    session = chat(stores, "c1")
    clock.advance(minutes=9)

    prompt = ratings.prompt("c1", session)

    assert (prompt.ask, prompt.ready, prompt.reason) == (False, False, None)
    with pytest.raises(ConflictError):
        ratings.rate("c1", session, 5)


def test_after_the_quiet_time_the_shopper_is_asked_and_the_rating_is_stored(
        stores: Stores, ratings: ConversationRating, clock: FixedClock) -> None:
    session = chat(stores, "c1")
    clock.advance(minutes=10)
    assert ratings.prompt("c1", session).ask is True

    stored = ratings.rate("c1", session, 4, "  Quick and clear.  ")

    assert (stored.score, stored.comment, stored.reason, stored.customer_id) == (4, "Quick and clear.", "quiet", "c1")
    prompt = ratings.prompt("c1", session)
    assert prompt.ask is False and prompt.rating == stored


def test_an_open_hand_over_is_not_rated_and_a_resolved_one_is_at_once(stores: Stores, ratings: ConversationRating,
                                                                      clock: FixedClock) -> None:
    session = chat(stores, "c1", handover=True)
    handover = stores.handovers.create(session, "c1", "customer_request", "asked for a person")
    clock.advance(hours=1)
    assert ratings.prompt("c1", session).ready is False  # a person is still on it

    stores.handovers.resolve(handover.id, "ana")
    clock.advance(seconds=1)

    prompt = ratings.prompt("c1", session)
    assert (prompt.ask, prompt.reason) == (True, "handover_resolved")
    assert ratings.rate("c1", session, 2).reason == "handover_resolved"


def test_rating_again_replaces_the_rating(stores: Stores, ratings: ConversationRating, clock: FixedClock) -> None:
    session = chat(stores, "c1")
    clock.advance(minutes=30)
    first = ratings.rate("c1", session, 2, "slow")
    clock.advance(minutes=1)

    second = ratings.rate("c1", session, 5)

    assert (second.score, second.comment, second.created_at) == (5, None, first.created_at)
    assert second.updated_at > first.updated_at


def test_a_shopper_cannot_see_or_rate_another_shoppers_conversation(stores: Stores, ratings: ConversationRating,
                                                                    clock: FixedClock) -> None:
    session = chat(stores, "c1")
    clock.advance(hours=1)
    ratings.rate("c1", session, 5)

    with pytest.raises(NotFoundError):
        ratings.prompt("c2", session)
    with pytest.raises(NotFoundError):
        ratings.rate("c2", session, 1)
    with pytest.raises(NotFoundError):
        stores.ratings.rate(None, session, 1)  # a guest neither
    assert stores.ratings.get("c2", session) is None and stores.ratings.get("c1", session) is not None


@pytest.mark.parametrize(("score", "comment"), [(0, None), (6, None), (True, None), (3, "x" * 1001)])
def test_a_score_outside_1_to_5_or_a_long_comment_is_refused(stores: Stores, clock: FixedClock, score: Any,
                                                             comment: str | None) -> None:
    session = chat(stores, "c1")

    with pytest.raises(ValidationError):
        stores.ratings.rate("c1", session, score, comment)

    assert stores.ratings.get("c1", session) is None


def test_the_comment_is_redacted_as_it_is_stored(stores: Stores) -> None:
    session = chat(stores, "c1")

    stored = stores.ratings.rate("c1", session, 3, "write to maya.chen@example.com or call 415-555-0134")

    assert "maya.chen@example.com" not in str(stored.comment) and "415-555-0134" not in str(stored.comment)


def test_the_rating_is_erased_with_the_customer(stores: Stores) -> None:
    session = chat(stores, "c1")
    stores.ratings.rate("c1", session, 5, "great")

    removed = erase_customer(stores.engine, stores.customers, "c1")

    assert removed["session_ratings"] == 1
    assert stores.ratings.get("c1", session) is None


# -- the REST route -------------------------------------------------------------------------------------------------
@pytest.fixture
def client(own_demo_components: Components) -> TestClient:
    app = install_error_table(FastAPI())
    app.include_router(build_api(own_demo_components))
    return TestClient(app)


def bearer(customer_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(customer_id, 'test-secret', 600)}"}


def quiet_session(components: Components, customer_id: str | None, ago: timedelta = timedelta(hours=1)) -> str:
    return chat(components.stores, customer_id, datetime.now(UTC) - ago)


def test_the_shopper_rates_their_quiet_conversation_over_rest(client: TestClient,
                                                              own_demo_components: Components) -> None:
    session = quiet_session(own_demo_components, "C003")
    url = f"/api/v1/sessions/{session}/rating"

    asked = client.get(url, headers=bearer("C003"))
    rated = client.post(url, json={"score": 5, "comment": "Found it fast"}, headers=bearer("C003"))

    assert asked.status_code == 200 and asked.json()["ask"] is True and asked.json()["reason"] == "quiet"
    assert rated.status_code == 200
    body = rated.json()
    assert body["ask"] is False and body["rating"]["score"] == 5 and body["rating"]["comment"] == "Found it fast"
    assert own_demo_components.stores.ratings.get("C003", session) is not None


@pytest.mark.parametrize("body", [{"score": 0}, {"score": 6}, {"score": "5"}, {"score": 4.5}, {"score": True},
                                  {"score": 4, "comment": "x" * 1001}, {"comment": "no score"}])
def test_bad_ratings_are_a_422(client: TestClient, own_demo_components: Components, body: dict[str, Any]) -> None:
    session = quiet_session(own_demo_components, "C004")

    response = client.post(f"/api/v1/sessions/{session}/rating", json=body, headers=bearer("C004"))

    assert response.status_code == 422 and response.json()["detail"]
    assert own_demo_components.stores.ratings.get("C004", session) is None


def test_a_whole_number_written_with_a_fraction_is_a_score(client: TestClient,
                                                            own_demo_components: Components) -> None:
    session = quiet_session(own_demo_components, "C008")

    response = client.post(f"/api/v1/sessions/{session}/rating", json={"score": 4.0}, headers=bearer("C008"))

    assert response.status_code == 200 and response.json()["rating"]["score"] == 4


def test_another_shoppers_session_is_a_404_a_busy_one_a_409_and_no_token_a_401(
        client: TestClient, own_demo_components: Components) -> None:
    theirs = quiet_session(own_demo_components, "C005")
    fresh = quiet_session(own_demo_components, "C006", ago=timedelta(seconds=5))

    other = client.post(f"/api/v1/sessions/{theirs}/rating", json={"score": 1}, headers=bearer("C006"))
    busy = client.post(f"/api/v1/sessions/{fresh}/rating", json={"score": 3}, headers=bearer("C006"))
    anonymous = client.post(f"/api/v1/sessions/{theirs}/rating", json={"score": 1})

    assert other.status_code == 404 and own_demo_components.stores.ratings.get("C005", theirs) is None
    assert busy.status_code == 409 and "minutes after the last message" in busy.json()["detail"]
    assert anonymous.status_code == 401


def test_a_guest_rates_their_own_conversation_only(client: TestClient, own_demo_components: Components) -> None:
    mine, other = quiet_session(own_demo_components, None), quiet_session(own_demo_components, None)
    token, _ = issue_guest_token(mine, "test-secret", 600)
    guest = {"Authorization": f"Bearer {token}"}

    rated = client.post(f"/api/v1/sessions/{mine}/rating", json={"score": 3}, headers=guest)
    not_mine = client.post(f"/api/v1/sessions/{other}/rating", json={"score": 1}, headers=guest)

    assert rated.status_code == 200 and rated.json()["rating"]["score"] == 3
    assert not_mine.status_code == 404 and own_demo_components.stores.ratings.get(None, other) is None


# -- the chat's panel -----------------------------------------------------------------------------------------------
def test_the_panel_asks_once_the_conversation_is_quiet_and_thanks_after_sending(
        own_demo_components: Components) -> None:
    secret = own_demo_components.settings.security.token_secret.get_secret_value()
    stores = own_demo_components.stores
    clock = FixedClock(datetime.now(UTC))
    service = ConversationRating(stores, QUIET, now=clock.now)
    with gr.Blocks():
        panel = build_rating_panel(own_demo_components, gr.State(None), gr.State(None),
                                   lambda t: verify_token(t, secret) if t else None, service=service)
    token = issue_token("C007", secret, 600)
    session = chat(stores, "C007", clock.now())

    assert "visible" not in panel.check(token, session, None)[0]  # not quiet yet: nothing shown
    clock.advance(minutes=11)
    shown = panel.check(token, session, None)
    assert shown[0]["visible"] is True and shown[1]["visible"] is True and shown[5] == session

    assert panel.send(token, session, None, "")[1].startswith("Please choose")
    question, status = panel.send(token, session, 4, "Helpful")
    assert question["visible"] is False and status.startswith("Thank you")
    stored = stores.ratings.get("C007", session)
    assert stored is not None and stored.score == 4
    assert panel.check(token, session, session)[0]["__type__"] == "update"  # the thanks stay
    assert "visible" not in panel.check(token, session, session)[0]
    assert panel.check(None, None, session)[0]["visible"] is False  # signed out / new conversation: hidden


def test_a_guest_is_asked_about_the_tabs_own_conversation_only(own_demo_components: Components) -> None:
    secret = own_demo_components.settings.security.token_secret.get_secret_value()
    stores = own_demo_components.stores
    mine, other = (chat(stores, None, datetime.now(UTC) - timedelta(hours=1)) for _ in range(2))
    tab = SimpleNamespace(token=issue_guest_token(mine, secret, 600)[0])
    with gr.Blocks():
        panel = build_rating_panel(own_demo_components, gr.State(None), gr.State(None), lambda t: None,
                                   guest=gr.State(None), guest_pass=lambda t: verify_guest_token(t, secret))

    assert panel.check(None, mine, None, tab)[0]["visible"] is True
    assert "visible" not in panel.check(None, other, None, tab)[0]  # another guest's conversation: nothing
    assert panel.send(None, other, 5, "", tab)[1].startswith("Your rating could not be saved")
    assert panel.send(None, mine, 5, "", tab)[1].startswith("Thank you")
    stored = stores.ratings.get(None, mine)
    assert stored is not None and stored.score == 5 and stores.ratings.get(None, other) is None


def test_the_panel_looks_more_often_for_a_short_quiet_window() -> None:
    assert poll_seconds(10) == 10.0 and poll_seconds(0.1) == 1.5 and poll_seconds(0.01) == 1.0


# -- analytics: REST and the staff tab --------------------------------------------------------------------------------
def honest_log(stores: Stores, clock: FixedClock) -> None:
    """Three conversations on 2026-11-20: one answered, one that ended in "I don't know", one the shopper reopened
    after a pause (each rated), and one handed over; before this fix all but the last counted as resolved."""
    answered, dont_know, reopened, handed = (stores.sessions.open_session(c) for c in ("c1", "c2", None, None))
    stores.turns.record_turn(TurnRecord(session_id=answered, customer_id="c1", message="Return window?",
                                        reply="30 days.", created_at=START), [])
    stores.turns.record_turn(TurnRecord(session_id=dont_know, customer_id="c2", message="Do you ship to Mars?",
                                        reply="I'm sorry, I don't know that: I couldn't find it in the shop's "
                                              "information.", verdict="no_facts", created_at=START), [])
    for minutes in (0, 45):
        stores.turns.record_turn(TurnRecord(session_id=reopened, customer_id=None, message="Where is it?",
                                            reply="On its way.", created_at=START + timedelta(minutes=minutes)), [])
    stores.turns.record_turn(TurnRecord(session_id=handed, customer_id=None, message="A person, please",
                                        reply="I've asked a person.", handover=True, created_at=START), [])
    clock.advance(hours=2)
    for customer_id, session, score in (("c1", answered, 5), ("c2", dont_know, 2), (None, handed, 4)):
        stores.ratings.rate(customer_id, session, score, None, "quiet")


def reviewer(role: str) -> Callable[..., StaffPrincipal]:
    """Signs every request in as a reviewer (the role checks are tested with the staff routes)."""
    def dependency() -> StaffPrincipal:
        return StaffPrincipal("rita", frozenset({"reviewer"}))
    return dependency


def test_the_analytics_rest_reports_honest_resolution_and_csat(stores: Stores, clock: FixedClock) -> None:
    honest_log(stores, clock)
    app = install_error_table(FastAPI())
    app.include_router(build_review_api(LogReview(stores.review), Analytics(stores.analytics, QUIET), reviewer))
    client = TestClient(app)
    day = {"start": "2026-11-20", "end": "2026-11-20"}

    (total,) = client.get("/api/v1/analytics/resolution_total", params=day).json()["rows"]
    csat = {r["conversations"]: r for r in client.get("/api/v1/analytics/csat", params=day).json()["rows"]}

    assert (total["conversations"], total["resolved"], total["resolution_rate"]) == (4, 1, 0.25)
    assert (total["handed_over"], total["unanswered"], total["reopened"]) == (1, 1, 1)
    assert (csat["assistant"]["ratings"], csat["assistant"]["mean"]) == (2, 3.5)
    assert (csat["handover"]["ratings"], csat["handover"]["mean"], csat["handover"]["score_4"]) == (1, 4.0, 1)


def test_the_analytics_tab_says_what_resolved_means_and_shows_csat(stores: Stores, clock: FixedClock) -> None:
    honest_log(stores, clock)
    tab = AnalyticsTab(lambda _request, _role: StaffPrincipal("rita", frozenset({"reviewer"})),
                       Analytics(stores.analytics, QUIET))

    out = tab.analytics("2026-11-20", "2026-11-20", gr.Request())

    summary, csat_table, scores = out[0], out[-2], out[-1]
    assert "resolved: **25%**" in summary and "1 ended in \"I don't know\"" in summary and "1 reopened" in summary
    assert "CSAT: assistant only 3.50/5 (2 ratings), with a person 4.00/5 (1 rating)" in summary
    assert list(csat_table.columns) == CSAT_COLUMNS
    assert csat_table.to_dict("records")[-1]["conversations"] == "all"
    assert int(scores[(scores["conversations"] == "with a person") & (scores["score"] == "4")]["count"].iloc[0]) == 1
