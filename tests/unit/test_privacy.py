"""A shopper's rights: consent changes are honoured and kept with time and source; export holds everything
stored about them; erasure leaves nothing of them in any table."""

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.components import Components
from assistant.domain import ShopperIdentity
from assistant.identity import issue_token
from assistant.privacy.customer_data import customer_rows, export_customer
from ui.error_table import install_error_table
from ui.shopper_api import build_api

STAFF = {"X-API-Key": "staff-test-key"}


@pytest.fixture(scope="module")
def client(own_demo_components: Components) -> TestClient:
    app = install_error_table(FastAPI())
    app.include_router(build_api(own_demo_components))
    return TestClient(app)


def shopper(components: Components, customer_id: str) -> dict[str, str]:
    secret = components.settings.security.token_secret.get_secret_value()
    return {"Authorization": f"Bearer {issue_token(customer_id, secret, 600)}"}


def chat(components: Components, customer_id: str, message: str) -> list[Any]:
    return list(components.assistant.respond(ShopperIdentity(customer_id), None, message))


def test_export_holds_profile_orders_turns_and_events(own_demo_components: Components) -> None:
    chat(own_demo_components, "C001", "I'm looking for running shoes under $100")

    data = export_customer(own_demo_components.stores.engine, "C001")

    assert {"customers", "consents", "preferences", "orders", "order_items", "chat_sessions", "turns",
            "events"} <= set(data["tables"])
    assert data["tables"]["customers"][0]["name"] == "Maya Chen"


def test_a_shopper_exports_only_their_own_data(client: TestClient, own_demo_components: Components) -> None:
    body = client.get("/api/v1/me/export", headers=shopper(own_demo_components, "C003")).json()

    assert body["customer_id"] == "C003" and {r["id"] for r in body["tables"]["customers"]} == {"C003"}


def test_opting_out_is_stored_with_its_source_and_honoured(client: TestClient,
                                                          own_demo_components: Components) -> None:
    response = client.post("/api/v1/me/consent", json={"personalization": False},
                           headers=shopper(own_demo_components, "C007"))

    assert response.json() == {"personalization": False, "marketing": True}
    history = [r for r in customer_rows(own_demo_components.stores.engine, "C007")["consents"]
               if r["kind"] == "personalization"]
    assert history[-1]["granted"] is False and history[-1]["source"] == "api" and history[-1]["at"]
    before = len(own_demo_components.stores.customers.list_preferences("C007"))
    events = chat(own_demo_components, "C007", "I love green Ridgeline backpacks in size M")
    assert len(own_demo_components.stores.customers.list_preferences("C007")) == before  # nothing inferred
    assert all(p.get("reason") in (None, "popular with our shoppers")
               for e in events if e.type == "products" for p in e.to_dict()["products"])


def test_staff_erase_removes_every_row_of_the_shopper(client: TestClient, own_demo_components: Components) -> None:
    chat(own_demo_components, "C004", "Where is my order NW-100067?")
    assert customer_rows(own_demo_components.stores.engine, "C004")

    response = client.delete("/api/v1/customers/C004", headers=STAFF)

    assert response.status_code == 200 and response.json()["removed"]["turns"] >= 1
    assert customer_rows(own_demo_components.stores.engine, "C004") == {}
    assert client.get("/api/v1/customers/C004/export", headers=STAFF).status_code == 404


@pytest.mark.parametrize("headers, status", [({}, 401), ({"X-API-Key": "wrong"}, 401)])
def test_erasure_needs_the_staff_key(client: TestClient, headers: dict[str, str], status: int) -> None:
    assert client.delete("/api/v1/customers/C005", headers=headers).status_code == status


def test_erasing_an_unknown_customer_is_a_404(client: TestClient) -> None:
    assert client.delete("/api/v1/customers/NOPE", headers=STAFF).status_code == 404
