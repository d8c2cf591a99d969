"""The staff API over the hand-over queue: the key, the queue oldest first, one hand-over with its turns."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import SecretStr

from assistant.components import Components, build_assistant
from assistant.domain import ShopperIdentity
from assistant.llm import FakeChatModel
from assistant.settings import SecuritySettings
from assistant.staff.roles import StaffPrincipal
from tests.demo_reset import reset_customers
from tests.unit.conftest import DEMO_NOW
from ui.error_table import install_error_table
from ui.handover_api import build_staff_api

KEY = {"X-API-Key": "staff-secret"}


@pytest.fixture
def queued(demo_components: Components, demo_offers: list[dict[str, Any]]) -> Iterator[list[str]]:
    """Two conversations handed over: Maya's (first) and Lucas's; yields their session ids."""
    service = build_assistant(demo_components, llm=FakeChatModel(), offers=lambda: demo_offers,
                              now=lambda: DEMO_NOW)
    sessions = []
    for customer in ("C001", "C004"):
        who = ShopperIdentity(customer)
        session = service.open_session(who)
        list(service.respond(who, session, "Where is my order?"))
        list(service.respond(who, session, "I want to speak to a person"))
        sessions.append(session)
    yield sessions
    reset_customers(demo_components.stores, "C001", "C004")


def client(demo_components: Components, key: str = "staff-secret") -> TestClient:
    app = install_error_table(FastAPI())
    app.include_router(build_staff_api(SecuritySettings(staff_api_key=SecretStr(key)), demo_components.copilot,
                                       demo_components.staff_accounts))
    return TestClient(app)


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}])
def test_the_queue_needs_the_staff_key(demo_components: Components, headers: dict[str, str]) -> None:
    response = client(demo_components).get("/api/v1/handovers", headers=headers)

    assert response.status_code == 401 and "X-API-Key" in response.json()["detail"]


def test_without_a_configured_key_the_staff_api_is_off(demo_components: Components) -> None:
    response = client(demo_components, key="").get("/api/v1/handovers", headers={"X-API-Key": ""})

    assert response.status_code == 403 and "staff_api_key" in response.json()["detail"]


def test_the_queue_lists_handovers_oldest_first_with_reason_and_summary(demo_components: Components,
                                                                      queued: list[str]) -> None:
    body = client(demo_components).get("/api/v1/handovers", headers=KEY).json()

    mine = [h for h in body if h["session_id"] in queued]
    assert [h["session_id"] for h in mine] == queued
    assert all(h["reason"] == "customer_request" and "Where is my order?" in h["summary"] for h in mine)


def test_one_handover_comes_with_the_conversation(demo_components: Components, queued: list[str]) -> None:
    api = client(demo_components)
    first = next(h for h in api.get("/api/v1/handovers", headers=KEY).json() if h["session_id"] == queued[0])

    body = api.get(f"/api/v1/handovers/{first['id']}", headers=KEY).json()

    assert [t["message"] for t in body["turns"]] == ["Where is my order?", "I want to speak to a person"]


def test_an_unknown_handover_is_a_404(demo_components: Components) -> None:
    assert client(demo_components).get("/api/v1/handovers/nope", headers=KEY).status_code == 404


def test_claim_then_resolve_takes_it_off_the_queue(demo_components: Components, queued: list[str]) -> None:
    """The actor is the signed-in agent: an ``agent`` named in the body is ignored."""
    def as_agent(request: Request) -> StaffPrincipal:
        return StaffPrincipal(request.headers["X-Agent"], frozenset({"agent"}))

    app = install_error_table(FastAPI())
    app.include_router(build_staff_api(SecuritySettings(), demo_components.copilot, demo_components.staff_accounts,
                                       lambda _role: as_agent))
    api, ana, ben = TestClient(app), {"X-Agent": "ana"}, {"X-Agent": "ben"}
    first = next(h for h in api.get("/api/v1/handovers", headers=ana).json() if h["session_id"] == queued[0])

    claimed = api.post(f"/api/v1/handovers/{first['id']}/claim", json={"agent": "ben"}, headers=ana)
    taken = api.post(f"/api/v1/handovers/{first['id']}/claim", json={"agent": "ana"}, headers=ben)
    resolved = api.post(f"/api/v1/handovers/{first['id']}/resolve", json={"agent": "ben", "note": "done"},
                        headers=ana)

    assert claimed.json()["status"] == "claimed" and claimed.json()["agent"] == "ana" and taken.status_code == 409
    assert resolved.json()["status"] == "resolved" and resolved.json()["agent"] == "ana"
    assert resolved.json()["note"] == "done"
    assert first["id"] not in [h["id"] for h in api.get("/api/v1/handovers", headers=ana).json()]
