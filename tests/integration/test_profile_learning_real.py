"""Issue 4's integration test on real components: the bundled chat model and embeddings, Chroma on disk and
SQLite. A chat about "running shoes under $100, size 10" changes the profile and the next recommendations,
and a removed preference never comes back."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from assistant.components import build_assistant
from assistant.domain import Event, ShopperIdentity
from assistant.turn.turn_service import AssistantService

pytestmark = [pytest.mark.integration, pytest.mark.model]


@pytest.fixture(scope="module")
def service(real_demo_shop: Any) -> AssistantService:
    return build_assistant(real_demo_shop, now=lambda: datetime.now(UTC))


def new_shopper(service: AssistantService) -> ShopperIdentity:
    customer_id = f"R-{uuid.uuid4().hex[:8]}"
    service.stores.customers.upsert_from_record({"id": customer_id, "name": "Robin Real", "tier": "silver",
                                                 "consent": {"personalization": True}, "orders": []}, "test")
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


def test_a_running_shoe_chat_changes_the_profile_and_the_next_recommendations(service: AssistantService) -> None:
    who = new_shopper(service)

    chat(service, who, "I'm looking for running shoes under $100, size 10")

    assert {"running-shoes"} <= inferred(service, who).get("category", set())
    assert inferred(service, who).get("size") == {"10"} and inferred(service, who).get("budget") == {"under 100"}
    after = cards(chat(service, who, "Can you recommend something for me?"))
    assert after and all(c["category"] == "running-shoes" and c["price"] <= 100 and c["in_stock"]
                         and "10" in c["options"]["size"] for c in after)


def test_a_removed_preference_never_comes_back(service: AssistantService) -> None:
    who = new_shopper(service)
    chat(service, who, "I'm looking for running shoes under $100, size 10")
    size = next(p for p in service.preferences(who) if p["kind"] == "size")

    service.remove_preference(who, size["id"])
    chat(service, who, "running shoes in size 10 please")

    assert "size" not in inferred(service, who)
