"""``POST /api/v1/events``: the shop's backend sends signed events; a wrong, missing, stale or reused
signature gets 401 and changes nothing; bad records are listed by number and the rest applied."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.components import Components
from assistant.personalization.event_intake import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.unit.event_shop import SECRET, event, inferred, make_shop
from ui.error_table import install_error_table
from ui.events_api import build_events_api


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Components]:
    components = make_shop(tmp_path)
    yield components
    components.stores.close()


@pytest.fixture
def client(shop: Components) -> TestClient:
    api = FastAPI()
    install_error_table(api)
    api.include_router(build_events_api(shop))
    return TestClient(api)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def post(client: TestClient, body: bytes, *, secret: str = SECRET, sent: int | None = None,
         content_type: str = "application/json") -> Any:
    sent = int(time.time()) if sent is None else sent
    return client.post("/api/v1/events", content=body, headers={
        "Content-Type": content_type, TIMESTAMP_HEADER: str(sent), SIGNATURE_HEADER: sign(body, sent, secret)})


def body_of(*events: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def test_a_signed_request_is_applied_to_the_profile(client: TestClient, shop: Components) -> None:
    response = post(client, body_of(event("e1", "purchase", at=now_iso(), product_id="W-2")))

    assert response.status_code == 200, response.text
    assert response.json() == {"received": 1, "applied": 1, "failed": 0, "preferences_learned": 2,
                               "preferences_refused": 0, "purchases_recorded": 1, "errors": []}
    assert inferred(shop, "S1") == {("category", "widgets"): (pytest.approx(0.4, abs=0.01), "event:e1"),
                                    ("brand", "Globex"): (pytest.approx(0.4, abs=0.01), "event:e1")}


def test_a_wrong_signature_is_refused_and_changes_nothing(client: TestClient, shop: Components) -> None:
    response = post(client, body_of(event("e1", "purchase", at=now_iso(), product_id="W-2")),
                    secret="another-secret-entirely-0123456789")

    assert response.status_code == 401
    assert response.json()["error"] == "AuthError" and "signature does not match" in response.json()["detail"]
    assert inferred(shop, "S1") == {}


def test_a_body_changed_after_signing_is_refused(client: TestClient, shop: Components) -> None:
    body = body_of(event("e1", "purchase", at=now_iso(), product_id="W-2"))
    sent = int(time.time())
    changed = body.replace(b"S1", b"S2")

    response = client.post("/api/v1/events", content=changed, headers={
        TIMESTAMP_HEADER: str(sent), SIGNATURE_HEADER: sign(body, sent, SECRET)})

    assert response.status_code == 401 and inferred(shop, "S2") == {}


def test_an_unsigned_request_is_refused_with_what_to_send(client: TestClient) -> None:
    response = client.post("/api/v1/events", content=body_of(event("e1", "search", query="widgets")))

    assert response.status_code == 401
    assert SIGNATURE_HEADER in response.json()["detail"] and TIMESTAMP_HEADER in response.json()["detail"]


def test_a_request_signed_more_than_five_minutes_ago_is_a_replay(client: TestClient, shop: Components) -> None:
    response = post(client, body_of(event("e1", "purchase", at=now_iso(), product_id="W-2")),
                    sent=int(time.time()) - 301)

    assert response.status_code == 401 and "replay" in response.json()["detail"]
    assert inferred(shop, "S1") == {}


def test_the_same_signed_request_sent_again_is_refused(client: TestClient, shop: Components) -> None:
    body = body_of(event("e1", "purchase", at=now_iso(), product_id="W-2"))
    sent = int(time.time())
    headers = {TIMESTAMP_HEADER: str(sent), SIGNATURE_HEADER: sign(body, sent, SECRET)}
    first = client.post("/api/v1/events", content=body, headers=headers)

    again = client.post("/api/v1/events", content=body, headers=headers)

    assert first.status_code == 200 and again.status_code == 401
    assert "already received" in again.json()["detail"]
    assert inferred(shop, "S1")[("brand", "Globex")][0] == pytest.approx(0.4, abs=0.01)  # applied once


def test_bad_records_are_listed_by_number_and_the_rest_applied(client: TestClient, shop: Components) -> None:
    response = post(client, body_of(
        event("e1", "purchase", at=now_iso(), product_id="G-1"),
        event("e2", "purchase", at=now_iso()),
        event("e3", "product_view", customer_id="NOBODY", at=now_iso(), product_id="G-1"),
        event("e4", "review", at=now_iso(), product_id="G-1", rating=9)))

    assert response.status_code == 200
    got = response.json()
    assert (got["received"], got["applied"], got["failed"]) == (4, 1, 3)
    assert [e["record"] for e in got["errors"]] == [2, 3, 4]
    assert "missing required field 'product_id'" in got["errors"][0]["message"]
    assert "'NOBODY' is not in the store" in got["errors"][1]["message"]
    assert "rating" in got["errors"][2]["message"]
    assert set(inferred(shop, "S1")) == {("category", "gadgets"), ("brand", "Acme")}


def test_json_lines_bodies_name_the_bad_line(client: TestClient, shop: Components) -> None:
    body = (json.dumps(event("e1", "purchase", at=now_iso(), product_id="G-2")) + "\n{oops\n").encode()

    response = post(client, body, content_type="application/x-ndjson")

    assert response.status_code == 200
    assert response.json()["errors"] == [{"record": 2, "message": "invalid JSON: Expecting property name enclosed "
                                                                  "in double quotes (column 2)"}]


def test_a_request_without_one_valid_event_is_422(client: TestClient, shop: Components) -> None:
    response = post(client, body_of(event("e1", "dance", at=now_iso())))

    assert response.status_code == 422
    assert "record 1" in response.json()["detail"] and inferred(shop, "S1") == {}


def test_a_body_that_is_not_json_is_422(client: TestClient) -> None:
    assert post(client, b"events, please").status_code == 422


def test_the_app_serves_the_route_through_its_middleware(tmp_path: Path) -> None:
    """The real app (``create_app``): the route is mounted, documented with its signature scheme, 401 and 422,
    and a signed request goes through the body limit, JSON depth and origin checks to the profile."""
    from ui.server import create_app

    components = make_shop(tmp_path)
    try:
        client = TestClient(create_app(components))
        operation = client.get("/api/openapi.json").json()["paths"]["/api/v1/events"]["post"]
        response = post(client, body_of(event("e1", "purchase", at=now_iso(), product_id="G-1")))

        assert {"401", "422"} <= set(operation["responses"]) and {"EventSignature": []} in operation["security"]
        assert response.status_code == 200, response.text
        assert set(inferred(components, "S1")) == {("category", "gadgets"), ("brand", "Acme")}
    finally:
        components.stores.close()
