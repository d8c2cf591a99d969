"""REST routes: offer feedback (shopper token; an offer never shown is a 404 with no change) and the copy review
queue (staff key)."""

from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from assistant.components import Components, build_assistant
from assistant.domain import ShopperIdentity
from assistant.identity import issue_token
from assistant.llm import FakeChatModel
from tests.unit.conftest import DEMO_NOW
from ui.error_table import install_error_table
from ui.shopper_api import build_api

STAFF = {"X-API-Key": "staff-test-key"}


@pytest.fixture
def client(own_demo_components: Components) -> TestClient:
    app = install_error_table(FastAPI())
    app.include_router(build_api(own_demo_components))
    return TestClient(app)


def bearer(customer_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(customer_id, 'test-secret', 600)}"}


def show_an_offer(components: Components, customer_id: str) -> dict[str, Any]:
    service = build_assistant(components, llm=FakeChatModel(), now=lambda: DEMO_NOW, rng=np.random.default_rng(4))
    events = list(service.respond(ShopperIdentity(customer_id), None, "Do I have any offers?"))
    return next(o for e in events if e.type == "offers" for o in e.to_dict()["offers"])


def test_feedback_on_a_shown_offer_updates_the_bandit_once(client: TestClient,
                                                           own_demo_components: Components) -> None:
    offer = show_an_offer(own_demo_components, "C007")

    first = client.post(f"/api/v1/offers/{offer['id']}/feedback", json={"kind": "accepted"}, headers=bearer("C007"))
    again = client.post(f"/api/v1/offers/{offer['id']}/feedback", json={"kind": "accepted"}, headers=bearer("C007"))

    assert first.status_code == 200 and first.json()["converted"] is True
    assert again.status_code == 200 and again.json()["status"] == "already recorded"
    assert own_demo_components.stores.bandit.all()[("gold/running-shoes", offer["id"])].conversions == 1


def test_feedback_on_an_offer_never_shown_is_a_404_and_changes_nothing(client: TestClient,
                                                                       own_demo_components: Components) -> None:
    before = own_demo_components.stores.bandit.all()

    response = client.post("/api/v1/offers/plat30/feedback", json={"kind": "clicked"}, headers=bearer("C010"))

    assert response.status_code == 404 and "never shown to you" in response.json()["detail"]
    assert own_demo_components.stores.bandit.all() == before
    assert own_demo_components.stores.events.list_for("C010", ["offer_clicked"]) == []


def test_feedback_needs_a_shopper_token_and_a_known_kind(client: TestClient) -> None:
    assert client.post("/api/v1/offers/runner15/feedback", json={"kind": "accepted"}).status_code == 401
    assert client.post("/api/v1/offers/runner15/feedback", json={"kind": "loved"},
                       headers=bearer("C001")).status_code == 422


def test_the_copy_queue_needs_the_staff_key(client: TestClient, own_demo_components: Components) -> None:
    assert client.get("/api/v1/copy").status_code == 401
    assert client.get("/api/v1/copy", headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.get("/api/v1/copy", headers=STAFF).status_code == 200

    security = own_demo_components.settings.security
    off = install_error_table(FastAPI())
    closed = own_demo_components.settings.model_copy(
        update={"security": security.model_copy(update={"staff_api_key": SecretStr("")})})
    twin = Components(closed)
    twin.__dict__.update({k: own_demo_components.__dict__[k] for k in ("stores", "knowledge", "catalog")
                          if k in own_demo_components.__dict__})
    off.include_router(build_api(twin))
    refused = TestClient(off).get("/api/v1/copy", headers=STAFF)
    assert refused.status_code == 403 and "staff_api_key" in refused.json()["detail"]


def test_a_reviewer_approves_edits_or_rejects_pending_copy_once(client: TestClient,
                                                                own_demo_components: Components) -> None:
    store = own_demo_components.stores.copy
    facts = {"lines": ["Audience: gold members."], "products": [], "offers": []}
    drafts = [store.add(kind="banner", text=f"Gold week {i}", facts=facts, verdict={"ok": True}, segment="gold/any")
              for i in range(3)]

    pending = client.get("/api/v1/copy", params={"status": "pending"}, headers=STAFF).json()
    approve = client.post(f"/api/v1/copy/{drafts[0].id}/approve", json={"reviewer": "ana"}, headers=STAFF)
    edit = client.post(f"/api/v1/copy/{drafts[1].id}/edit", json={"reviewer": "ben", "text": "Gold week!"},
                       headers=STAFF)
    reject = client.post(f"/api/v1/copy/{drafts[2].id}/reject", json={"reviewer": "cy"}, headers=STAFF)
    twice = client.post(f"/api/v1/copy/{drafts[0].id}/reject", json={"reviewer": "dan"}, headers=STAFF)
    missing = client.post("/api/v1/copy/nope/approve", json={"reviewer": "dan"}, headers=STAFF)

    assert {d.id for d in drafts} <= {d["id"] for d in pending}
    assert approve.json()["status"] == "approved" and edit.json()["text"] == "Gold week!"
    assert reject.json()["status"] == "rejected"
    assert twice.status_code == 409 and "already reviewed" in twice.json()["detail"]
    assert missing.status_code == 404
    still_pending = {d["id"] for d in client.get("/api/v1/copy", params={"status": "pending"}, headers=STAFF).json()}
    assert not still_pending & {d.id for d in drafts}
