"""End to end: the real server (bundled model, bundled embeddings, Chroma on disk, SQLite, demo shop),
chatted with through the REST API and through gradio_client, as a shop's front end would."""

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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"CONCIERGE_APP__DATA_DIR": str(data), "HF_HUB_OFFLINE": "1", "CONCIERGE_TOKEN_SECRET": "e2e-secret",
           "CONCIERGE_PROFILES": "", "CONCIERGE_SECURITY__DEMO_SIGN_IN": "true"}
    with served([sys.executable, "-m", "ui.cli.main", "serve", "--port", str(port)], data / "server.log",
                lambda: serving_pages(url), "concierge server",
                timeout=240, env=env):
        yield url, data


def token(url: str, customer: str = "C001") -> dict[str, str]:
    response = httpx.post(f"{url}/api/v1/demo/token", json={"customer_id": customer}, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def chat(url: str, headers: dict[str, str], message: str, **extra: Any) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/chat", json={"message": message, **extra}, headers=headers, timeout=120)


def stored_turn(data: Path, turn_id: str) -> Any:
    stores = open_stores(f"sqlite:///{data / 'concierge.db'}", upgrade=False)
    try:
        return stores.turns.get_turn(turn_id)
    finally:
        stores.close()


def test_health_reports_the_demo_shop(server: tuple[str, Path]) -> None:
    body = httpx.get(f"{server[0]}/healthz", timeout=10).json()

    assert body["knowledge"]["products"] >= 120 and body["knowledge"]["policies"] > 9 and body["customers"] >= 30


def test_rest_chat_answers_grounded_with_its_source_and_stores_the_turn(server: tuple[str, Path]) -> None:
    url, data = server

    response = chat(url, token(url), "How long do I have to return something?")

    assert response.status_code == 200
    body = response.json()
    assert "30 days" in body["reply"]
    assert any(s["source"] == "returns-and-refunds.md" for s in body["sources"])
    turn = stored_turn(data, body["turn_id"])
    assert turn is not None and turn.customer_id == "C001" and turn.reply == body["reply"]
    assert turn.trace["retrieved"] and turn.trace["timings_ms"]["compose"] >= 0


def test_rest_chat_streams_server_sent_events(server: tuple[str, Path]) -> None:
    url, _ = server
    events = []
    with httpx.stream("POST", f"{url}/api/v1/chat", json={"message": "How much is express shipping?", "stream": True},
                      headers=token(url), timeout=120) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                events.append(line[7:])

    assert events[-1] == "done" and ("text" in events or "replace" in events) and "sources" in events


def test_session_history_is_served_to_its_owner_only(server: tuple[str, Path]) -> None:
    url, _ = server
    maya = token(url, "C001")
    body = chat(url, maya, "hello").json()

    mine = httpx.get(f"{url}/api/v1/sessions/{body['session_id']}", headers=maya, timeout=10)
    theirs = httpx.get(f"{url}/api/v1/sessions/{body['session_id']}", headers=token(url, "C002"), timeout=10)

    assert mine.status_code == 200 and mine.json()["turns"][0]["message"] == "hello"
    assert theirs.status_code == 404


@pytest.mark.parametrize("message", ["", "x" * 4_500, "\x00\x01\x02\xff" * 50, "مرحبا 👋 ¿envío gratis?"])
def test_bad_input_gets_a_clear_reply_never_a_5xx(server: tuple[str, Path], message: str) -> None:
    url, data = server

    response = chat(url, token(url), message)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reply"] and stored_turn(data, body["turn_id"]) is not None


def test_a_message_longer_than_the_contract_allows_is_a_422_with_a_message(server: tuple[str, Path]) -> None:
    url, _ = server

    response = chat(url, token(url), "x" * 20_000)  # the schema's maxLength is 5,000 (a body always fits 64 KB)

    assert response.status_code == 422 and response.json()["error"] and response.json()["detail"], response.text


@pytest.mark.parametrize("headers, session, status", [
    ({"Authorization": "Bearer v1.forged.signature"}, None, 401),
    ({"Authorization": "Bearer g1.forged.signature"}, None, 401),  # no token at all is a guest (test_guests_server)
    (None, "no-such-session", 404),
])
def test_bad_token_or_unknown_session_is_a_4xx_with_a_message(server: tuple[str, Path], headers: Any,
                                                            session: str | None, status: int) -> None:
    url, _ = server

    response = chat(url, headers if headers is not None else token(url), "hi",
                    **({"session_id": session} if session else {}))

    assert response.status_code == status and response.json()["detail"]


def test_gradio_client_chats_through_the_ui(server: tuple[str, Path]) -> None:
    from gradio_client import Client

    url, data = server
    client = Client(url + "/", verbose=False)
    client.predict("C001", api_name="/sign_in")

    history, _ = client.predict("How much is express shipping?", [], api_name="/chat")

    answer = history[-1]
    text = answer["content"] if isinstance(answer["content"], str) else json.dumps(answer["content"])
    assert "$14.99" in text and "Shipping" in text and ".md" not in text  # the source by its title
    stores = open_stores(f"sqlite:///{data / 'concierge.db'}", upgrade=False)
    try:
        assert any(t.message == "How much is express shipping?" for t in stores.turns.recent(limit=20))
    finally:
        stores.close()
