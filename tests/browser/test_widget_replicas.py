"""The widget needs no sticky sessions (issue 17, item 5): two ``concierge serve`` replicas on one PostgreSQL, one
Chroma server and one Redis (``tests/integration/replica_topology.py``, as compose.yaml runs them), behind a
round-robin proxy that sends each chat message to the other replica than the one before (and spreads every other
request the same way). A shop's page on another origin loads ``/widget.js`` through the proxy; a guest writes three
messages and then signs in and writes a fourth: each is answered, in one conversation, by the two replicas in turn,
and the conversation the server stored is the one the panel shows.

The replicas run the test profile's scripted chat model and hash embeddings (what is checked is where the answers
come from and that the conversation holds together, not what they say)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from assistant.identity import issue_token
from tests.browser.conftest import App, shot
from tests.browser.test_widget import (
    TITLE,
    Relay,
    Site,
    answer,
    bubble_of,
    kept,
    messages,
    page_server,
    shop_page,
    write,
)
from tests.integration.replica_topology import TOKEN_SECRET, Topology, replica_topology

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.browser]

STAFF_KEY = f"widget-replica-staff-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def shop() -> Iterator[Site]:
    yield from page_server("localhost")


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory, postgres_admin_url: str, shop: Site) -> Iterator[Topology]:
    with replica_topology(tmp_path_factory.mktemp("widget-replicas"), postgres_admin_url, STAFF_KEY,
                          extra_env={"CONCIERGE_SECURITY__ALLOWED_ORIGINS": json.dumps([shop.origin])}) as topology:
        yield topology


def test_two_replicas_answer_one_widget_conversation_in_turn(page: Any, topology: Topology, shop: Site) -> None:
    questions = ["How long do I have to return something?", "How much is express shipping?", "Do you ship abroad?"]
    with Relay(topology.urls) as balancer:
        app = App(balancer.url, topology.work)
        page.goto(shop_page(shop, app, "/replicas", data_title=TITLE), wait_until="domcontentloaded")
        bubble_of(page).click()
        replies = []
        for question in questions:
            write(page, question)
            replies.append(answer(page, question)[0])
        guest = kept(page)
        token = issue_token("C002", TOKEN_SECRET, ttl_s=600)
        page.evaluate("token => window.Concierge.setToken(token)", token)
        write(page, "Thank you")
        replies.append(answer(page, "Thank you")[0])
        shown = [(m["from"], m["text"]) for m in messages(page)]
        shot(page, "widget-replicas")
    chats = [index for method, path, index in balancer.served if method == "POST" and path == "/api/v1/chat"]

    assert guest is not None and all(r["state"] == "done" and r["text"] for r in replies), replies
    assert chats == [0, 1, 0, 1], balancer.served  # every message went to the other replica than the one before
    asked = [*questions, "Thank you"]
    assert shown == [x for q, r in zip(asked, replies, strict=True) for x in (("shopper", q), ("assistant", r["text"]))]
    for url in topology.urls:  # both replicas read the one conversation, now the shopper's, as the panel shows it
        turns = httpx.get(f"{url}/api/v1/sessions/{guest['session']}", headers={"Authorization": f"Bearer {token}"},
                          timeout=10).json()["turns"]
        assert [(t["message"], t["reply"]) for t in turns] == [(q, r["text"]) for q, r in zip(asked, replies,
                                                                                            strict=True)]
