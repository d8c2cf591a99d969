"""The typed REST client (ui.rest_client) against the real app on the test profile's fakes: it signs tokens the
server accepts, chats (JSON and streamed), reads the conversation, gives feedback, and as staff claims and resolves
a hand-over and creates, changes and disables an offer. Its models are checked against the served OpenAPI document."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from assistant.components import Components
from tests.unit.test_secure_defaults import web_app
from ui.rest_client import (
    ApiProblem,
    AssistantReply,
    ConsentChoice,
    ConversationTurn,
    ManagedOffer,
    OfferFeedbackResult,
    QueuedHandover,
    ReplyCitation,
    ReplyOffer,
    ReplyProduct,
    ShopperClient,
    ShopperConversation,
    StaffClient,
    TastePreference,
    demo_token,
    sign_shopper_token,
)

SECRET = "client-test-secret-0123456789abcdef"
KEY = "staff-test-key"
OFFER = {"id": "client-offer", "code": "CLIENT-10", "title": "Ten off", "kind": "percent", "value": 10,
         "eligibility": {"tiers": [], "min_basket": 0}}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Components, TestClient]]:
    components, app = web_app(tmp_path_factory.mktemp("client"),
                              {"security": {"token_secret": SECRET, "demo_sign_in": True}})
    yield components, TestClient(app)
    components.stores.close()


def test_the_client_imports_without_the_servers_code() -> None:
    probe = ("import sys, ui.rest_client; heavy = [m for m in ('assistant', 'knowledge', 'fastapi', 'sqlalchemy', "
             "'langchain_core', 'chromadb') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()

    assert out == "[]"


def test_a_shopper_chats_reads_the_conversation_and_gives_feedback(site: tuple[Components, TestClient]) -> None:
    _, http = site
    shopper = ShopperClient("http://testserver", sign_shopper_token("C001", SECRET), http=http)

    reply = shopper.chat("What is your return policy?")
    streamed = list(shopper.chat_stream("And for sale items?", session_id=reply.session_id))
    conversation = shopper.session(str(reply.session_id))

    assert reply.reply and reply.turn_id and reply.session_id
    assert streamed[-1].event == "done" and streamed[-1].data["session_id"] == reply.session_id
    assert [t.message for t in conversation.turns] == ["What is your return policy?", "And for sale items?"]
    assert shopper.updates(str(reply.session_id), after=reply.turn_id).turns[0].message == "And for sale items?"
    assert shopper.feedback(str(reply.turn_id), "up", "clear") == "recorded"
    assert shopper.consent(marketing=False).marketing is False
    preferences = shopper.preferences()
    assert preferences and all(0 <= p.confidence <= 1 for p in preferences), preferences


def test_errors_are_raised_with_the_apis_error_body(site: tuple[Components, TestClient]) -> None:
    _, http = site
    forged = ShopperClient("http://testserver", sign_shopper_token("C001", "another-secret-0123456789"), http=http)
    shopper = ShopperClient("http://testserver", sign_shopper_token("C001", SECRET), http=http)

    with pytest.raises(ApiProblem) as refused:
        forged.chat("hello")
    with pytest.raises(ApiProblem) as missing:
        shopper.session("no-such-session")
    with pytest.raises(ApiProblem) as never_shown:
        shopper.offer_feedback("welcome10", "redeemed", order_id="no-such-order")

    assert refused.value.status == 401 and refused.value.error == "AuthError"
    assert missing.value.status == 404 and missing.value.detail
    assert never_shown.value.status in (404, 422)


def test_staff_claim_and_resolve_a_hand_over_and_manage_an_offer(site: tuple[Components, TestClient]) -> None:
    _, http = site
    token = demo_token("http://testserver", "C002", http=http)
    ShopperClient("http://testserver", token, http=http).chat("I want to talk to a person, please")
    staff = StaffClient("http://testserver", api_key=KEY, http=http)

    [handover] = [h for h in staff.handovers("open") if h.customer_id == "C002"]
    claimed = staff.claim(handover.id)
    resolved = staff.resolve(handover.id, note="answered by phone")
    created = staff.create_offer(OFFER)
    changed = staff.update_offer("client-offer", {"value": 15})
    disabled = staff.disable_offer("client-offer")

    assert (claimed.status, claimed.agent) == ("claimed", "service") and resolved.status == "resolved"
    assert created.offer["code"] == "CLIENT-10" and changed.offer["value"] == 15 and disabled.status == "expired"
    assert "client-offer" in {o.offer["id"] for o in staff.offers()}
    with pytest.raises(ApiProblem) as again:
        staff.create_offer(OFFER)
    assert again.value.status == 409


def test_staff_sign_in_gives_a_session_the_client_keeps(site: tuple[Components, TestClient]) -> None:
    components, http = site
    components.stores.staff.add_user("cli-agent", "agent-pass-1234", ["agent"])
    staff = StaffClient("http://testserver", http=http)

    staff.login("cli-agent", "agent-pass-1234")

    assert staff.me()["username"] == "cli-agent" and staff.handovers() is not None


MODELS: list[tuple[type[BaseModel], str]] = [
    (AssistantReply, "ChatReply"), (ReplyCitation, "Citation"), (ReplyProduct, "ProductCard"),
    (ReplyOffer, "OfferView"), (ShopperConversation, "Conversation"), (ConversationTurn, "ShopperTurn"),
    (OfferFeedbackResult, "OfferFeedbackView"), (ConsentChoice, "ConsentView"), (TastePreference, "PreferenceView"),
    (QueuedHandover, "HandoverView"), (ManagedOffer, "AdminOfferView")]


@pytest.mark.parametrize(("model", "name"), MODELS)
def test_the_clients_models_are_the_documents(site: tuple[Components, TestClient], model: type[BaseModel],
                                              name: str) -> None:
    _, http = site
    schema: dict[str, Any] = http.get("/api/openapi.json").json()["components"]["schemas"][name]

    assert set(model.model_fields) <= set(schema["properties"]), name
    required = {f for f, info in model.model_fields.items() if info.is_required()}
    assert required <= set(schema.get("required", [])), name
