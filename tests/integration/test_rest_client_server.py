"""The typed REST client (``ui.rest_client``) against the real server over HTTP (``concierge serve``: bundled
model, bundled embeddings, Chroma on disk, SQLite, the demo shop): a visitor opens a guest conversation with
``GuestClient``, chats in it (JSON and streamed) with the guest token every reply renews, reads it, and signs in:
the shopper's ``ShopperClient.chat(..., guest_token=...)`` joins it, after which the guest token opens nothing."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.conftest import free_port, served
from ui.rest_client import ApiProblem, GuestClient, ShopperClient, sign_shopper_token

pytestmark = [pytest.mark.integration, pytest.mark.model]
SECRET = "rest-client-e2e-secret"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("rest-client-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"CONCIERGE_APP__DATA_DIR": str(data), "HF_HUB_OFFLINE": "1", "CONCIERGE_TOKEN_SECRET": SECRET,
           "CONCIERGE_PROFILES": ""}
    with served([sys.executable, "-m", "ui.cli.main", "serve", "--port", str(port)], data / "server.log",
                lambda: httpx.get(f"{url}/healthz", timeout=2).status_code == 200, "concierge server",
                timeout=240, env=env):
        yield url


def test_a_guest_chats_through_the_client_and_the_conversation_joins_the_shopper(server: str) -> None:
    guest = GuestClient(server, timeout=180)

    opened = guest.open_guest()
    first = guest.chat("How long do I have to return something?")
    streamed = list(guest.chat_stream("Can I return sale items?"))
    read = guest.session(opened.session_id)
    kept = guest.guest_token
    shopper = ShopperClient(server, sign_shopper_token("C001", SECRET, ttl_s=600), timeout=180)
    joined = shopper.chat("Thank you", guest_token=kept)
    with pytest.raises(ApiProblem) as gone:
        GuestClient(server, kept, timeout=60).session(opened.session_id)

    assert opened.guest_token.startswith("g1.") and opened.expires_in > 0
    assert first.session_id == opened.session_id and first.guest_token and first.guest_expires_in
    assert "30 days" in first.reply and first.sources
    texts = [e.data.get("text", "") for e in streamed if e.event == "text"]
    assert texts and streamed[-1].event == "done", [e.event for e in streamed]
    assert streamed[-1].data["session_id"] == opened.session_id and streamed[-1].data["guest_token"] == kept
    assert [t.message for t in read.turns] == ["How long do I have to return something?", "Can I return sale items?"]
    assert joined.session_id == opened.session_id and joined.guest_token is None
    assert [t.message for t in shopper.session(opened.session_id).turns][-1] == "Thank you"
    assert gone.value.status in (401, 404)
