"""Through the service on the demo shop (fakes): chats change the profile and the next recommendations;
what the shopper removes stays removed; the two /api/v1/me/preferences routes."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.components import Components, build_assistant
from assistant.domain import Event, ShopperIdentity
from assistant.identity import issue_token
from assistant.llm import FakeChatModel
from assistant.turn.turn_service import AssistantService
from ui.error_table import install_error_table
from ui.shopper_api import build_api


@pytest.fixture
def service(own_demo_components: Components) -> AssistantService:
    # the store writes with the wall clock, so the service reads preferences with it too (no decay between them)
    return build_assistant(own_demo_components, llm=FakeChatModel(), now=lambda: datetime.now(UTC))


def new_shopper(components: Components, personalization: bool = True) -> ShopperIdentity:
    customer_id = f"T-{uuid.uuid4().hex[:8]}"
    components.stores.customers.upsert_from_record({
        "id": customer_id, "name": "Robin Test", "consent": {"personalization": personalization},
        "preferences": [], "orders": []}, "test")
    return ShopperIdentity(customer_id)


def chat(service: AssistantService, who: ShopperIdentity, message: str) -> list[Event]:
    return list(service.respond(who, None, message))


def cards(events: list[Event]) -> list[dict[str, Any]]:
    return [p for e in events if e.type == "products" for p in e.to_dict()["products"]]


def inferred(service: AssistantService, who: ShopperIdentity) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for p in service.preferences(who):
        if p["origin"] == "inferred":
            out.setdefault(p["kind"], set()).add(p["value"])
    return out


def test_a_chat_about_running_shoes_changes_the_profile_and_the_next_recommendations(
        service: AssistantService, own_demo_components: Components) -> None:
    who = new_shopper(own_demo_components)
    before = cards(chat(service, who, "Can you recommend something for me?"))

    chat(service, who, "I'm looking for running shoes under $100, size 10")

    assert inferred(service, who) == {"category": {"running-shoes"}, "size": {"10"}, "budget": {"under 100"}}
    after = cards(chat(service, who, "Can you recommend something for me?"))
    assert after and after != before
    assert all(c["category"] == "running-shoes" and c["price"] <= 100 and "10" in c["options"]["size"]
               for c in after)
    assert all("in stock in size 10, the size you mentioned" in c["reason"] and "budget of $100" in c["reason"]
               for c in after)


def test_the_turn_records_what_was_inferred(service: AssistantService, own_demo_components: Components) -> None:
    who = new_shopper(own_demo_components)

    done = chat(service, who, "Any Ridgeline backpacks in green?")[-1].to_dict()

    stored = service.turns.get_turn(done["turn_id"])
    assert stored is not None
    assert {(p["kind"], p["value"]) for p in stored.trace["preferences_inferred"]} == {
        ("category", "backpacks"), ("brand", "Ridgeline"), ("colour", "green")}
    sources = {p["source_turn"] for p in service.preferences(who)}
    assert sources == {done["turn_id"]}


def test_a_removed_inferred_preference_never_comes_back(service: AssistantService,
                                                        own_demo_components: Components) -> None:
    who = new_shopper(own_demo_components)
    chat(service, who, "I'm looking for running shoes under $100, size 10")
    budget = next(p for p in service.preferences(who) if p["kind"] == "budget")

    service.remove_preference(who, budget["id"])
    for _ in range(3):
        chat(service, who, "running shoes under $100 please, I never spend more than $100")

    assert "budget" not in inferred(service, who)
    assert service.deps.recommender.tastes(own_demo_components.stores.customers.get(who.customer_id)).budget is None


def test_nothing_is_inferred_for_a_shopper_who_opted_out(service: AssistantService,
                                                        own_demo_components: Components) -> None:
    who = new_shopper(own_demo_components, personalization=False)

    chat(service, who, "I'm looking for running shoes under $100, size 10")

    assert service.preferences(who) == []


# -- the API -----------------------------------------------------------------------------------------
@pytest.fixture
def client(own_demo_components: Components, service: AssistantService) -> Iterator[TestClient]:
    own_demo_components.__dict__["assistant"] = service  # the app's service is this test's
    app = install_error_table(FastAPI())
    app.include_router(build_api(own_demo_components))
    try:
        yield TestClient(app)
    finally:
        own_demo_components.__dict__.pop("assistant", None)


def bearer(components: Components, who: ShopperIdentity) -> dict[str, str]:
    secret = components.settings.security.token_secret.get_secret_value()
    return {"Authorization": f"Bearer {issue_token(who.customer_id, secret, 600)}"}


def test_get_my_preferences_lists_stated_and_inferred_ones(client: TestClient, service: AssistantService,
                                                           own_demo_components: Components) -> None:
    who = ShopperIdentity("C004")  # states hiking boots, size 10, Ridgeline, backpacking
    chat(service, who, "I also need a rain jacket in size L")

    body = client.get("/api/v1/me/preferences", headers=bearer(own_demo_components, who)).json()

    got = {(p["kind"], p["value"], p["origin"]) for p in body["preferences"]}
    assert body["customer_id"] == "C004"
    assert {("category", "hiking-boots", "explicit"), ("size", "L", "inferred")} <= got
    assert all({"confidence", "evidence_count", "in_use", "source_turn"} <= set(p) for p in body["preferences"])


def test_my_preferences_need_a_shopper_token(client: TestClient) -> None:
    assert client.get("/api/v1/me/preferences").status_code == 401
    assert client.delete("/api/v1/me/preferences/1").status_code == 401


def test_delete_removes_my_preference_for_good(client: TestClient, service: AssistantService,
                                               own_demo_components: Components) -> None:
    who = new_shopper(own_demo_components)
    chat(service, who, "Do you have Kestrel running shoes?")
    headers = bearer(own_demo_components, who)
    brand = next(p for p in client.get("/api/v1/me/preferences", headers=headers).json()["preferences"]
                 if p["kind"] == "brand")

    response = client.delete(f"/api/v1/me/preferences/{brand['id']}", headers=headers)
    chat(service, who, "Kestrel running shoes, please")

    assert response.status_code == 200 and response.json()["preference"]["value"] == "Kestrel"
    listed = client.get("/api/v1/me/preferences", headers=headers).json()["preferences"]
    assert not any(p["kind"] == "brand" for p in listed)


def test_nobody_removes_another_shoppers_preference(client: TestClient, service: AssistantService,
                                                    own_demo_components: Components) -> None:
    owner, other = new_shopper(own_demo_components), new_shopper(own_demo_components)
    chat(service, owner, "Do you have Kestrel running shoes?")
    pref_id = service.preferences(owner)[0]["id"]

    response = client.delete(f"/api/v1/me/preferences/{pref_id}", headers=bearer(own_demo_components, other))

    assert response.status_code == 404
    assert any(p["id"] == pref_id for p in service.preferences(owner))
    assert client.delete("/api/v1/me/preferences/0", headers=bearer(own_demo_components, owner)).status_code == 422
