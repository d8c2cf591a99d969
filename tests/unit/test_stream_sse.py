"""Issue 16 item 3 over the wire: ``POST /api/v1/chat`` with ``stream: true`` never sends a ``replace`` after a
``text`` event, on the real shopper API and turn pipeline with the scripted chat model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.components import Components
from assistant.identity import issue_token
from assistant.llm import FakeChatModel
from ui.error_table import install_error_table
from ui.shopper_api import build_api

RETURNS = "You can return an item within 30 days from the day it was delivered."


@pytest.fixture
def client(own_demo_components: Components) -> Iterator[TestClient]:
    app = install_error_table(FastAPI())
    app.include_router(build_api(own_demo_components))
    yield TestClient(app)


def streamed(client: TestClient, message: str) -> list[tuple[str, dict[str, Any]]]:
    token = issue_token("C001", "test-secret", 600)
    events: list[tuple[str, dict[str, Any]]] = []
    with client.stream("POST", "/api/v1/chat", json={"message": message, "stream": True},
                       headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
    return events


@pytest.mark.parametrize("message", ["Can you recommend something for me?", "Do I have any offers?",
                                     "How long do I have to return something?"])
def test_no_replace_follows_streamed_text(client: TestClient, own_demo_components: Components,
                                          message: str) -> None:
    llm = own_demo_components.llm
    assert isinstance(llm, FakeChatModel)
    llm.enqueue([f"{RETURNS} Sale items can be returned within 90 days."])  # the second sentence fails

    events = streamed(client, message)

    names = [n for n, _ in events]
    assert names[-1] == "done" and "text" in names and "replace" not in names
    assert "".join(d["text"] for n, d in events if n == "text") == events[-1][1]["reply"]
