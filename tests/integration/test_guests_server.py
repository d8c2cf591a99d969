"""Guests on the real server (bundled model, bundled embeddings, Chroma on disk, SQLite, the demo shop): a visitor
without a token chats through ``POST /api/v1/chat`` and through the Gradio page, goes on with the guest token the
reply carries, is asked to sign in for orders, and signs in: the conversation joins them, and what it learned
reaches their profile only when they say yes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.store.stores import open_stores
from tests.integration.conftest import free_port, served, serving_pages

pytestmark = [pytest.mark.integration, pytest.mark.model]
SIGN_IN = "https://shop.example/sign-in"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("guests-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"CONCIERGE_APP__DATA_DIR": str(data), "HF_HUB_OFFLINE": "1", "CONCIERGE_TOKEN_SECRET": "guests-e2e-secret",
           "CONCIERGE_PROFILES": "", "CONCIERGE_SECURITY__DEMO_SIGN_IN": "true",
           "CONCIERGE_APP__SIGN_IN_URL": SIGN_IN}
    with served([sys.executable, "-m", "ui.cli.main", "serve", "--port", str(port)], data / "server.log",
                lambda: serving_pages(url), "concierge server",
                timeout=240, env=env):
        yield url, data


def chat(url: str, message: str, headers: dict[str, str] | None = None, **extra: Any) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/chat", json={"message": message, **extra}, headers=headers or {}, timeout=120)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def demo_token(url: str, customer: str) -> str:
    response = httpx.post(f"{url}/api/v1/demo/token", json={"customer_id": customer}, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def stored(data: Path) -> Any:
    return open_stores(f"sqlite:///{data / 'concierge.db'}", upgrade=False)


def test_a_guest_asks_goes_on_and_is_logged_as_a_guest(server: tuple[str, Path]) -> None:
    url, data = server

    first = chat(url, "How long do I have to return something?")
    body = first.json()
    second = chat(url, "How much is express shipping?", bearer(body["guest_token"]))
    orders = chat(url, "Where is my order?", bearer(second.json()["guest_token"]))

    assert first.status_code == 200 and "30 days" in body["reply"] and body["guest_token"].startswith("g1.")
    assert second.status_code == 200 and second.json()["session_id"] == body["session_id"]
    assert "$14.99" in second.json()["reply"]
    assert orders.status_code == 200 and SIGN_IN in orders.json()["reply"] and orders.json()["verdict"] == "sign_in"
    stores = stored(data)
    try:
        turn = stores.turns.get_turn(body["turn_id"])
        assert turn is not None and turn.customer_id is None and turn.trace["guest"] is True
    finally:
        stores.close()


def test_a_guest_token_opens_no_customer_route_and_a_forged_one_nothing(server: tuple[str, Path]) -> None:
    url, _ = server
    token = chat(url, "hello").json()["guest_token"]

    preferences = httpx.get(f"{url}/api/v1/me/preferences", headers=bearer(token), timeout=10)
    forged = chat(url, "hello", bearer(token[:-4] + "AAAA"))
    customer_forged = chat(url, "hello", bearer("v1.forged.signature"))

    assert preferences.status_code == 401 and forged.status_code == 401 and customer_forged.status_code == 401


def test_a_streamed_guest_turn_ends_with_the_guest_token(server: tuple[str, Path]) -> None:
    url, _ = server
    events: list[tuple[str, Any]] = []
    with httpx.stream("POST", f"{url}/api/v1/chat", json={"message": "Which payment methods do you accept?",
                                                          "stream": True}, timeout=120) as response:
        name = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))

    assert response.status_code == 200 and events[-1][0] == "done" and events[-1][1]["guest_token"].startswith("g1.")


def test_a_guest_who_signs_in_brings_the_conversation_and_chooses_what_is_kept(server: tuple[str, Path]) -> None:
    url, data = server
    guest = chat(url, "I love camping and my budget is under $150. What would you recommend?").json()
    customer = bearer(demo_token(url, "C012"))

    joined = chat(url, "How much is express shipping?", customer, guest_token=guest["guest_token"])
    before = httpx.get(f"{url}/api/v1/me/preferences", headers=customer, timeout=10).json()["preferences"]
    saved = httpx.post(f"{url}/api/v1/guest/preferences", json={"session_id": guest["session_id"], "save": True},
                       headers=customer, timeout=10)
    after = httpx.get(f"{url}/api/v1/me/preferences", headers=customer, timeout=10).json()["preferences"]
    history = httpx.get(f"{url}/api/v1/sessions/{guest['session_id']}", headers=customer, timeout=10)

    assert guest["products"], guest
    assert joined.status_code == 200 and joined.json()["session_id"] == guest["session_id"]
    assert {"kind": "category", "value": "camping"} in joined.json()["guest_preferences"]
    assert not any(p["value"] == "camping" and p["origin"] == "inferred" for p in before)
    assert saved.status_code == 200 and any(p["value"] == "camping" for p in after)
    assert history.status_code == 200 and len(history.json()["turns"]) == 2
    stores = stored(data)
    try:
        assert {t.customer_id for t in stores.turns.turns_for_session("C012", guest["session_id"])} == {"C012"}
    finally:
        stores.close()


def test_the_gradio_page_answers_a_guest(server: tuple[str, Path]) -> None:
    from gradio_client import Client

    url, data = server
    client = Client(url + "/", verbose=False)

    history, _ = client.predict("How much is express shipping?", [], api_name="/chat")

    answer = history[-1]
    text = answer["content"] if isinstance(answer["content"], str) else json.dumps(answer["content"])
    assert "$14.99" in text and "sign in first" not in text.lower()
    stores = stored(data)
    try:
        turn = next(t for t in stores.turns.recent(limit=50) if t.message == "How much is express shipping?"
                    and t.trace.get("guest") and t.id)
        assert turn.customer_id is None
    finally:
        stores.close()
