"""The reviewers' REST API on a small app: roles, filters as query params, replay, labels, streamed export,
analytics, and clear 4xx answers for bad input."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Header, HTTPException
from fastapi.testclient import TestClient

from assistant.staff.analytics import Analytics
from assistant.staff.log_review import LogReview
from assistant.staff.roles import StaffPrincipal
from assistant.store import CounterIds, EventRecord, FixedClock, Stores, TurnRecord, open_stores
from ui.error_table import install_error_table
from ui.review_api import build_review_api


def fake_require(role: str) -> Callable[..., StaffPrincipal]:
    """Like ``ui.staff_auth``'s: 401 without a principal, 403 without the role. ``X-Test-Role: reviewer`` (or several,
    comma-separated) signs in as ``X-Test-User`` (default ``rita``)."""
    def dependency(x_test_role: str | None = Header(None), x_test_user: str = Header("rita")) -> StaffPrincipal:
        if not x_test_role:
            raise HTTPException(401, "not signed in")
        principal = StaffPrincipal(x_test_user, frozenset(x_test_role.split(",")))
        if not principal.has(role):
            raise HTTPException(403, f"this needs the {role} role")
        return principal
    return dependency


REVIEWER = {"X-Test-Role": "reviewer"}


@pytest.fixture
def stores(tmp_path: Path, customer_record: Callable[..., dict[str, Any]]) -> Iterator[Stores]:
    opened = open_stores(f"sqlite:///{tmp_path / 'api.db'}", clock=FixedClock(datetime(2026, 11, 20, 9, tzinfo=UTC)),
                         ids=CounterIds("t"))
    opened.customers.upsert_from_record(customer_record("c1"), "test")
    yield opened
    opened.close()


@pytest.fixture
def client(stores: Stores) -> TestClient:
    app = install_error_table(FastAPI())
    app.include_router(build_review_api(LogReview(stores.review), Analytics(stores.analytics), fake_require))
    return TestClient(app)


def add_turns(stores: Stores, n: int, customer_id: str | None = "c1", **fields: Any) -> list[str]:
    session = stores.sessions.open_session(customer_id)
    made = []
    for i in range(n):
        when = datetime(2026, 11, 20 + i % 3, 10, i, tzinfo=UTC)
        made.append(str(stores.turns.record_turn(TurnRecord(
            session_id=session, customer_id=customer_id, message=f"question {i}", reply=f"answer {i}",
            created_at=when, intent="policy", trace={"timings_ms": {"guard": 0.1}, "verdict": "pass"}, **fields),
            [EventRecord(kind="offer_shown", payload={"offer_id": "runner15", "segment": "gold/any"})]).id))
    return made


# -- roles ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/v1/review/turns", "/api/v1/review/turns/x", "/api/v1/review/export",
                                  "/api/v1/analytics/volume"])
def test_every_route_needs_a_reviewer(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"X-Test-Role": "agent"}).status_code == 403
    assert client.post("/api/v1/review/turns/x/labels", json={"label": "correct"}).status_code == 401


def test_an_admin_is_a_reviewer_too(client: TestClient) -> None:
    assert client.get("/api/v1/review/turns", headers={"X-Test-Role": "admin"}).status_code == 200


# -- list -----------------------------------------------------------------------------------------------------
def test_turns_are_listed_newest_first_a_page_at_a_time(client: TestClient, stores: Stores) -> None:
    made = add_turns(stores, 5)

    first = client.get("/api/v1/review/turns", params={"limit": 2}, headers=REVIEWER).json()
    rest = client.get("/api/v1/review/turns", params={"limit": 10, "cursor": first["next_cursor"]},
                      headers=REVIEWER).json()

    listed = [t["id"] for t in first["items"] + rest["items"]]
    assert first["total"] == 5 and rest["next_cursor"] is None
    assert sorted(listed) == sorted(made) and len(set(listed)) == 5
    assert first["items"][0]["created_at"] >= first["items"][1]["created_at"] >= rest["items"][0]["created_at"]


def test_filters_come_as_query_parameters(client: TestClient, stores: Stores) -> None:
    add_turns(stores, 3)
    fallback = add_turns(stores, 1, status="fallback", handover=True)[0]

    def found(**params: Any) -> list[str]:
        body = client.get("/api/v1/review/turns", params=params, headers=REVIEWER).json()
        return [t["id"] for t in body["items"]]

    assert found(status="fallback", handover="true", q="QUESTION 0", customer_id="c1") == [fallback]
    assert len(found(start="2026-11-20", end="2026-11-20")) == 2  # a day is inclusive at both ends
    assert found(start="2026-11-21T00:00:00Z", end="2026-11-21T23:59:59Z") != []
    assert found(offer_shown="true", feedback="none", label="none", author="assistant") != []
    assert found(author="agent") == []


@pytest.mark.parametrize("params", [{"start": "yesterday"}, {"end": "2026-13-01"}, {"start": "2026-11-21",
                                                                                    "end": "2026-11-20"},
                                    {"feedback": "meh"}, {"label": "great"}, {"handover": "perhaps"},
                                    {"author": "robot"}, {"limit": 0}, {"cursor": "garbage"}])
def test_a_bad_filter_is_a_422_that_says_why(client: TestClient, stores: Stores, params: dict[str, Any]) -> None:
    add_turns(stores, 1)

    response = client.get("/api/v1/review/turns", params=params, headers=REVIEWER)

    assert response.status_code == 422 and response.json()["detail"]


# -- replay and labels ----------------------------------------------------------------------------------------
def test_a_turn_opens_with_its_steps_events_and_labels(client: TestClient, stores: Stores) -> None:
    (turn_id,) = add_turns(stores, 1)
    stores.review.add_label(turn_id, "correct", "sam")

    body = client.get(f"/api/v1/review/turns/{turn_id}", headers=REVIEWER).json()

    assert body["turn"]["id"] == turn_id and body["turn"]["label"] == "correct"
    assert [s["name"] for s in body["steps"]] == ["guard", "record"] and body["steps"][0]["ms"] == 0.1
    assert [e["kind"] for e in body["events"]] == ["offer_shown"] and body["labels"][0]["reviewer"] == "sam"


def test_an_unknown_turn_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/review/turns/nope", headers=REVIEWER).status_code == 404
    response = client.post("/api/v1/review/turns/nope/labels", json={"label": "correct"}, headers=REVIEWER)
    assert response.status_code == 404


def test_a_label_is_stored_under_the_signed_in_reviewer(client: TestClient, stores: Stores) -> None:
    (turn_id,) = add_turns(stores, 1)

    response = client.post(f"/api/v1/review/turns/{turn_id}/labels",
                           json={"label": "outdated_knowledge", "note": "window is 60 days now"},
                           headers={**REVIEWER, "X-Test-User": "sam"})

    assert response.status_code == 201
    assert response.json()["reviewer"] == "sam" and response.json()["label"] == "outdated_knowledge"
    assert [(x.label, x.reviewer, x.note) for x in stores.review.labels_for(turn_id)] == [
        ("outdated_knowledge", "sam", "window is 60 days now")]


@pytest.mark.parametrize("body", [{"label": "great"}, {}, {"label": "correct", "note": "x" * 4001}])
def test_a_bad_label_is_422_and_stores_nothing(client: TestClient, stores: Stores, body: dict[str, Any]) -> None:
    (turn_id,) = add_turns(stores, 1)

    response = client.post(f"/api/v1/review/turns/{turn_id}/labels", json=body, headers=REVIEWER)

    assert response.status_code == 422 and stores.review.labels_for(turn_id) == []


# -- export ---------------------------------------------------------------------------------------------------
def test_export_streams_jsonl_of_the_filtered_set(client: TestClient, stores: Stores) -> None:
    add_turns(stores, 4)

    with client.stream("GET", "/api/v1/review/export", params={"format": "jsonl", "start": "2026-11-21"},
                       headers=REVIEWER) as response:
        text = "".join(response.iter_text())

    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in response.headers["content-disposition"]
    rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) == 2 and all(r["created_at"] >= "2026-11-21" for r in rows)


def test_export_as_csv_with_a_header(client: TestClient, stores: Stores) -> None:
    add_turns(stores, 3)

    response = client.get("/api/v1/review/export", params={"format": "csv"}, headers=REVIEWER)

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 3 and rows[0]["offers_shown"] == "1"


def test_export_in_an_unknown_format_or_with_a_bad_filter_is_422(client: TestClient) -> None:
    assert client.get("/api/v1/review/export", params={"format": "xlsx"}, headers=REVIEWER).status_code == 422
    assert client.get("/api/v1/review/export", params={"start": "soon"}, headers=REVIEWER).status_code == 422


# -- analytics ------------------------------------------------------------------------------------------------
def test_each_figure_answers_with_its_period_and_rows(client: TestClient, stores: Stores) -> None:
    add_turns(stores, 3)

    for name in stores.analytics.figures:
        response = client.get(f"/api/v1/analytics/{name}", params={"start": "2026-11-20", "end": "2026-11-22"},
                              headers=REVIEWER)
        assert response.status_code == 200, (name, response.text)
        assert response.json()["start"] == "2026-11-20" and isinstance(response.json()["rows"], list)
    volume = client.get("/api/v1/analytics/volume", params={"start": "2026-11-20", "end": "2026-11-22"},
                        headers=REVIEWER).json()
    assert [r["turns"] for r in volume["rows"]] == [1, 1, 1]


def test_an_unknown_figure_is_404_and_a_bad_period_422(client: TestClient) -> None:
    assert client.get("/api/v1/analytics/revenue", headers=REVIEWER).status_code == 404
    for params in ({"start": "20/11/2026"}, {"start": "2026-11-22", "end": "2026-11-20"},
                   {"start": "1900-01-01", "end": "2026-11-20"}):
        response = client.get("/api/v1/analytics/volume", params=params, headers=REVIEWER)
        assert response.status_code == 422 and response.json()["detail"], params



def test_turns_carry_their_reply_language_and_filter_by_it(client: TestClient, stores: Stores) -> None:
    add_turns(stores, 2)  # their traces record no language
    session = stores.sessions.open_session("c1")
    chinese = str(stores.turns.record_turn(TurnRecord(
        session_id=session, customer_id="c1", message="退货期限是多久？", reply="签收后30天内。",
        created_at=datetime(2026, 11, 22, 12, tzinfo=UTC), trace={"language": "zh"}), []).id)

    def found(**params: Any) -> list[tuple[str, str | None]]:
        body = client.get("/api/v1/review/turns", params=params, headers=REVIEWER).json()
        return [(t["id"], t["language"]) for t in body["items"]]

    assert found(language="zh") == [(chinese, "zh")]
    assert len(found(language="unknown")) == 2 and found(language="en") == []
    assert client.get("/api/v1/review/turns", params={"language": "Chinese!"}, headers=REVIEWER).status_code == 422
