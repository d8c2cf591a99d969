"""The typed REST client (ui.rest_client) against the real app on the test profile's fakes: it signs tokens the
server accepts, chats (JSON and streamed), reads the conversation, gives feedback, and as staff claims and resolves
a hand-over and creates, changes and disables an offer. Its models are checked against the served OpenAPI document."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from assistant.components import Components
from assistant.identity import verify_token
from tests.unit.test_secure_defaults import web_app
from ui.rest_client import (
    ApiProblem,
    AssistantReply,
    ConsentChoice,
    ConversationTurn,
    GuestClient,
    GuestConversation,
    GuestTaste,
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
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Components, httpx.Client]]:
    components, app = web_app(tmp_path_factory.mktemp("client"),
                              {"security": {"token_secret": SECRET, "demo_sign_in": True}})
    # Starlette's TestClient is an httpx-style client (of its ``httpx2``), not an ``httpx.Client`` to mypy
    yield components, cast(httpx.Client, TestClient(app))
    components.stores.close()


#: what the server needs and a shop's backend does not: models, vector store, database, web UI, server code
SERVER_ONLY = ("torch", "chromadb", "sqlalchemy", "gradio", "llama_cpp", "transformers", "sentence_transformers",
               "langchain_core", "langgraph", "fastapi", "numpy", "alembic", "assistant", "knowledge")


def test_the_client_loads_nothing_of_the_servers_models_or_database() -> None:
    probe = ("import sys, ui.rest_client; "
             f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(SERVER_ONLY)!r}))")
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", probe], capture_output=True, text=True, check=True)
    # ``-X importtime`` writes one line per module imported: "import time: self | cumulative | name"
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in done.stderr.splitlines()
                if line.startswith("import time:") and "|" in line}

    assert done.stdout.strip() == "[]"
    assert "httpx" in imported and "pydantic" in imported  # the probe sees imports: it can fail
    assert imported.isdisjoint(SERVER_ONLY), sorted(imported & set(SERVER_ONLY))


def test_the_client_imports_and_signs_where_the_server_packages_are_missing() -> None:
    """As in a shop backend's virtualenv with ``httpx`` and ``pydantic`` only: every server package is made
    unimportable before the client is imported."""
    probe = f"""
import sys

class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {set(SERVER_ONLY)!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
        return None

sys.meta_path.insert(0, Missing())
from ui.rest_client import ShopperClient, sign_shopper_token
print(sign_shopper_token("C001", "{SECRET}", ttl_s=600))
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    assert verify_token(done.stdout.strip(), SECRET).customer_id == "C001"


def test_a_shopper_chats_reads_the_conversation_and_gives_feedback(site: tuple[Components, httpx.Client]) -> None:
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


def test_a_shopper_gives_feedback_on_an_offer_they_were_shown(site: tuple[Components, httpx.Client]) -> None:
    components, http = site
    shopper = ShopperClient("http://testserver", sign_shopper_token("C007", SECRET), http=http)
    reply = shopper.chat("Do I have any offers?")
    assert reply.offers, reply  # the turn showed an offer: feedback on it is this shopper's to give
    offer = reply.offers[0]

    clicked = shopper.offer_feedback(offer.id, "clicked")
    accepted = shopper.offer_feedback(offer.id, "accepted")
    again = shopper.offer_feedback(offer.id, "accepted")

    assert (clicked.offer_id, clicked.kind, clicked.recorded) == (offer.id, "clicked", True)
    assert accepted.recorded is True and again.recorded is False and again.status == "already recorded"
    kinds = [e.kind for e in components.stores.events.list_for("C007", ["offer_clicked", "offer_accepted"])]
    assert sorted(kinds) == ["offer_accepted", "offer_clicked"]


def test_errors_are_raised_with_the_apis_error_body(site: tuple[Components, httpx.Client]) -> None:
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


def test_a_guest_chats_goes_on_with_the_renewed_token_and_joins_the_shopper_who_signs_in(
        site: tuple[Components, httpx.Client]) -> None:
    _, http = site
    guest = GuestClient("http://testserver", http=http)

    first = guest.chat("What is your return policy?")
    streamed = list(guest.chat_stream("And for sale items?"))
    read = guest.session(str(first.session_id))
    token = guest.guest_token
    shopper = ShopperClient("http://testserver", sign_shopper_token("C003", SECRET), http=http)
    joined = shopper.chat("Thanks", guest_token=token)
    with pytest.raises(ApiProblem) as gone:
        GuestClient("http://testserver", token, http=http).chat("Still there?")

    assert first.guest_token and first.guest_expires_in and first.guest_expires_in > 0 and first.session_id
    done = streamed[-1]
    assert done.event == "done" and done.data["session_id"] == first.session_id
    assert done.data["guest_token"] == token  # every reply renews it; the client keeps the latest
    assert [t.message for t in read.turns] == ["What is your return policy?", "And for sale items?"]
    assert joined.session_id == first.session_id and joined.guest_token is None
    assert joined.guest_preferences is not None
    assert [t.message for t in shopper.session(str(first.session_id)).turns][-1] == "Thanks"
    assert gone.value.status == 404  # the conversation is the shopper's now: the guest token opens nothing


def test_a_guest_opens_a_conversation_before_writing_and_a_new_one_on_demand(
        site: tuple[Components, httpx.Client]) -> None:
    _, http = site
    guest = GuestClient("http://testserver", http=http)

    opened = guest.open_guest()
    reply = guest.chat("Do you ship abroad?")
    again = guest.open_guest()
    with pytest.raises(ApiProblem) as no_customer:
        guest.preferences()

    assert opened.guest_token.startswith("g1.") and opened.expires_in > 0
    assert reply.session_id == opened.session_id
    assert again.session_id != opened.session_id and guest.session_id == again.session_id
    assert guest.guest_token == again.guest_token and guest.session(again.session_id).turns == []
    assert no_customer.value.status == 401


def test_staff_claim_and_resolve_a_hand_over_and_manage_an_offer(site: tuple[Components, httpx.Client]) -> None:
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


def test_staff_sign_in_gives_a_session_the_client_keeps(site: tuple[Components, httpx.Client]) -> None:
    components, http = site
    components.stores.staff.add_user("cli-agent", "agent-pass-1234", ["agent"])
    staff = StaffClient("http://testserver", http=http)

    staff.login("cli-agent", "agent-pass-1234")

    assert staff.me()["username"] == "cli-agent" and staff.handovers() is not None


MODELS: list[tuple[type[BaseModel], str]] = [
    (AssistantReply, "ChatReply"), (ReplyCitation, "Citation"), (ReplyProduct, "ProductCard"),
    (ReplyOffer, "OfferView"), (ShopperConversation, "Conversation"), (ConversationTurn, "ShopperTurn"),
    (OfferFeedbackResult, "OfferFeedbackView"), (ConsentChoice, "ConsentView"), (TastePreference, "PreferenceView"),
    (QueuedHandover, "HandoverView"), (ManagedOffer, "AdminOfferView"), (GuestConversation, "GuestSession"),
    (GuestTaste, "LearnedPreference")]


@pytest.mark.parametrize(("model", "name"), MODELS)
def test_the_clients_models_are_the_documents(site: tuple[Components, httpx.Client], model: type[BaseModel],
                                              name: str) -> None:
    _, http = site
    schema: dict[str, Any] = http.get("/api/openapi.json").json()["components"]["schemas"][name]

    assert set(model.model_fields) <= set(schema["properties"]), name
    required = {f for f, info in model.model_fields.items() if info.is_required()}
    assert required <= set(schema.get("required", [])), name
