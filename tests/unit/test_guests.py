"""Guests (issue 16 item 1): a visitor without a shopper token chats as a guest, on the real shopper API and turn
pipeline with the scripted chat model, hash embeddings and a temp SQLite store.

A guest token is signed, expiring and names one conversation; it is never a customer token. Guests get policy and
product answers, recommendations from what they said in this conversation only, public offers only, and "sign in
to see your orders" (with the shop's sign-in link) for order questions. Their turns are logged, marked as a
guest's. A guest who signs in brings the conversation along; what it learned reaches their profile only when they
say yes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.components import Components
from assistant.domain import ShopperIdentity
from assistant.errors import AuthError, NotFoundError
from assistant.identity import (
    GUEST_PREFIX,
    issue_guest_token,
    issue_token,
    verify_guest_token,
    verify_token,
)
from assistant.records import EventRecord, TurnRecord
from assistant.store.stores import Stores
from ui.chat_page import build_chat_ui
from ui.chat_transcript import ChatTranscript
from ui.error_table import install_error_table
from ui.guest_chat import GuestTab
from ui.rate_limits import RateLimiter
from ui.shopper_api import build_api

SECRET = "test-secret"
SIGN_IN = "https://shop.example/account/sign-in"


# the token ------------------------------------------------------------------------------------------------------
def test_a_guest_token_names_a_guest_and_one_conversation() -> None:
    token, issued = issue_guest_token("s-1", SECRET, 600)

    verified = verify_guest_token(token, SECRET)

    assert verified == issued and verified.session_id == "s-1" and verified.guest_id.startswith(GUEST_PREFIX)
    assert verified.expires_at > time.time()


def test_a_guest_token_is_never_a_customer_token_nor_the_other_way_round() -> None:
    guest, _ = issue_guest_token("s-1", SECRET, 600)
    customer = issue_token("C001", SECRET, 600)

    with pytest.raises(AuthError):
        verify_token(guest, SECRET)
    with pytest.raises(AuthError):
        verify_guest_token(customer, SECRET)
    with pytest.raises(AuthError):  # a guest token relabelled as a customer one: the signature does not match
        verify_token("v1." + guest.split(".", 1)[1], SECRET)


def test_a_customer_token_cannot_name_a_guest_subject() -> None:
    with pytest.raises(AuthError):
        issue_token("guest:abc", SECRET, 600)
    forged_by_backend = _customer_token_with_subject("guest:abc")
    with pytest.raises(AuthError, match="guest"):
        verify_token(forged_by_backend, SECRET)


@pytest.mark.parametrize("make", [
    lambda: issue_guest_token("s-1", "another-secret-0123456789", 600)[0],  # forged
    lambda: issue_guest_token("s-1", SECRET, 60, now=lambda: time.time() - 3600)[0],  # expired
    lambda: "g1.e30.AAAA",  # malformed
])
def test_a_forged_expired_or_malformed_guest_token_is_refused(make: Any) -> None:
    with pytest.raises(AuthError):
        verify_guest_token(make(), SECRET)


def _customer_token_with_subject(subject: str) -> str:
    """A token the shop's backend might sign for a customer id that looks like a guest's."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    payload = b64(json.dumps({"sub": subject, "exp": int(time.time()) + 600}).encode())
    signature = hmac.new(SECRET.encode(), f"v1.{payload}".encode(), hashlib.sha256).digest()
    return f"v1.{payload}.{b64(signature)}"


# the API --------------------------------------------------------------------------------------------------------
@pytest.fixture
def client(own_demo_components: Components) -> Iterator[TestClient]:
    own_demo_components.settings.app.sign_in_url = SIGN_IN
    app = install_error_table(FastAPI())
    app.include_router(build_api(own_demo_components))
    yield TestClient(app)


def customer(customer_id: str = "C001") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(customer_id, SECRET, 600)}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ask(client: TestClient, message: str, headers: dict[str, str] | None = None, **body: Any) -> Any:
    response = client.post("/api/v1/chat", json={"message": message, **body}, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def test_without_a_token_the_chat_answers_a_guest_and_returns_their_token(client: TestClient,
                                                                          own_demo_components: Components) -> None:
    body = ask(client, "How long do I have to return something?")

    assert body["reply"] and body["turn_id"] and body["session_id"]
    guest = verify_guest_token(body["guest_token"], SECRET)
    assert guest.session_id == body["session_id"] and body["guest_expires_in"] > 0
    turn = own_demo_components.stores.turns.get_turn(body["turn_id"])
    assert turn is not None and turn.customer_id is None and turn.trace["guest"] is True


def test_a_guest_continues_their_conversation_with_the_token_they_got(client: TestClient) -> None:
    first = ask(client, "hello")

    second = ask(client, "How much is express shipping?", bearer(first["guest_token"]))
    read = client.get(f"/api/v1/sessions/{first['session_id']}", headers=bearer(second["guest_token"]))

    assert second["session_id"] == first["session_id"]
    assert verify_guest_token(second["guest_token"], SECRET).guest_id == \
        verify_guest_token(first["guest_token"], SECRET).guest_id
    assert read.status_code == 200 and [t["message"] for t in read.json()["turns"]] == \
        ["hello", "How much is express shipping?"]


def test_a_conversation_read_again_shows_each_reply_with_the_sources_it_was_shown_with(client: TestClient) -> None:
    first = ask(client, "hello")
    second = ask(client, "How long do I have to return something?", bearer(first["guest_token"]))

    read = client.get(f"/api/v1/sessions/{first['session_id']}", headers=bearer(second["guest_token"]))

    assert second["sources"], second  # the policy answer came with its source
    turns = read.json()["turns"]
    assert turns[-1]["sources"] == second["sources"]
    assert turns[0]["sources"] == first["sources"] == []  # a greeting cites nothing


def test_a_conversation_read_again_shows_the_product_cards_and_offers_as_they_were_shown(client: TestClient,
                                                                                      ) -> None:
    asked = ask(client, "Do you have a tent for camping?")
    read = client.get(f"/api/v1/sessions/{asked['session_id']}", headers=bearer(asked["guest_token"]))

    assert asked["products"], asked
    turn = read.json()["turns"][-1]
    assert turn["products"] == asked["products"] and turn["offers"] == asked["offers"]


def test_a_guest_sees_only_their_own_conversation(client: TestClient) -> None:
    mine, theirs = ask(client, "hello"), ask(client, "hello")

    other = client.get(f"/api/v1/sessions/{theirs['session_id']}", headers=bearer(mine["guest_token"]))
    posted = client.post("/api/v1/chat", json={"message": "hi", "session_id": theirs["session_id"]},
                         headers=bearer(mine["guest_token"]))
    tokenless = client.post("/api/v1/chat", json={"message": "hi", "session_id": theirs["session_id"]})
    customers = client.get(f"/api/v1/sessions/{theirs['session_id']}", headers=customer())

    assert other.status_code == 404 and posted.status_code == 404
    assert tokenless.status_code == 401 and customers.status_code == 404


def test_a_guest_rates_their_own_answers_only(client: TestClient) -> None:
    mine, theirs = ask(client, "hello"), ask(client, "hello")

    own = client.post("/api/v1/feedback", json={"turn_id": mine["turn_id"], "rating": "up"},
                      headers=bearer(mine["guest_token"]))
    other = client.post("/api/v1/feedback", json={"turn_id": theirs["turn_id"], "rating": "up"},
                        headers=bearer(mine["guest_token"]))

    assert own.status_code == 200 and other.status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/me/preferences", "/api/v1/me/export"])
def test_a_guest_token_is_refused_where_a_customer_is_needed(client: TestClient, path: str) -> None:
    token = ask(client, "hello")["guest_token"]

    assert client.get(path, headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("token", [
    "v1.forged.signature", "g1.forged.signature",
    issue_guest_token("s-x", SECRET, 60, now=lambda: time.time() - 3600)[0],
    issue_token("C001", SECRET, 60, now=lambda: time.time() - 3600),
])
def test_a_bad_or_expired_token_is_still_a_401_not_a_guest(client: TestClient, token: str) -> None:
    response = client.post("/api/v1/chat", json={"message": "hi"}, headers=bearer(token))

    assert response.status_code == 401 and response.json()["detail"]


def test_an_order_question_from_a_guest_gets_sign_in_with_the_shops_link(client: TestClient,
                                                                         own_demo_components: Components) -> None:
    english = ask(client, "Where is my order?")
    cancel = ask(client, "Please cancel my order N10023")
    chinese = ask(client, "我的订单到哪里了？")

    assert SIGN_IN in english["reply"] and "sign in" in english["reply"].lower() and english["verdict"] == "sign_in"
    assert SIGN_IN in cancel["reply"] and cancel["verdict"] == "sign_in"
    assert SIGN_IN in chinese["reply"] and "登录" in chinese["reply"]
    turn = own_demo_components.stores.turns.get_turn(cancel["turn_id"])
    assert turn is not None and not turn.trace["tool_calls"] and turn.trace["action"] is None


def test_without_a_sign_in_link_the_reply_still_asks_to_sign_in(client: TestClient,
                                                                own_demo_components: Components) -> None:
    own_demo_components.settings.app.sign_in_url = ""

    body = ask(client, "What is the status of my order?")

    assert "sign in" in body["reply"].lower() and "http" not in body["reply"]


def test_a_guest_is_shown_public_offers_only(client: TestClient, own_demo_components: Components) -> None:
    offers = {o["id"]: o for o in own_demo_components.stores.offers.all()}

    body = ask(client, "Do you have any offers or discount codes?")

    shown = [offers[o["id"]] for o in body["offers"]]
    assert shown, body
    for offer in shown:
        rules = offer["eligibility"]
        assert not rules["tiers"] and not rules["first_order_only"] and not rules["requires_marketing_consent"]


def tool_calls(components: Components, turn_id: str) -> list[dict[str, Any]]:
    turn = components.stores.turns.get_turn(turn_id)
    assert turn is not None
    return list(turn.trace["tool_calls"])


def test_a_guests_recommendations_use_what_they_said_in_this_conversation_only(
        client: TestClient, own_demo_components: Components) -> None:
    customers_before = len(own_demo_components.stores.customers.list_ids())
    first = ask(client, "I love camping and my budget is under $100.")

    body = ask(client, "Can you recommend something?", bearer(first["guest_token"]))
    fresh = ask(client, "Can you recommend something?")

    chat = own_demo_components.stores.sessions.get_session(None, first["session_id"])
    assert chat is not None and {"kind": "category", "value": "camping"} in \
        [{"kind": i["kind"], "value": i["value"]} for i in chat.state["guest_learned"]]
    recommend, other = (next(c for c in tool_calls(own_demo_components, turn["turn_id"]) if c["name"] == "recommend")
                        for turn in (body, fresh))
    assert recommend["args"]["personalized"] is True and other["args"]["personalized"] is False
    assert body["products"] and all(p["price"] <= 100 for p in body["products"])
    assert len(own_demo_components.stores.customers.list_ids()) == customers_before


def test_signing_in_joins_the_conversation_and_saves_tastes_only_with_consent(
        client: TestClient, own_demo_components: Components) -> None:
    guest = ask(client, "I love camping gear.")
    before = {(p.kind, p.value) for p in own_demo_components.stores.customers.list_preferences("C007")}

    joined = ask(client, "How much is express shipping?", customer("C007"), guest_token=guest["guest_token"])
    reread = client.get(f"/api/v1/sessions/{guest['session_id']}", headers=customer("C007"))
    as_guest = client.get(f"/api/v1/sessions/{guest['session_id']}", headers=bearer(guest["guest_token"]))
    after_join = {(p.kind, p.value) for p in own_demo_components.stores.customers.list_preferences("C007")}

    assert joined["session_id"] == guest["session_id"]
    assert {"kind": "category", "value": "camping"} in joined["guest_preferences"]
    assert reread.status_code == 200 and [t["message"] for t in reread.json()["turns"]][0] == "I love camping gear."
    assert as_guest.status_code == 404  # the guest token no longer opens it
    turn = own_demo_components.stores.turns.get_turn(guest["turn_id"])
    assert turn is not None and turn.customer_id == "C007"
    assert after_join == before  # nothing written without the customer's yes

    saved = client.post("/api/v1/guest/preferences", json={"session_id": guest["session_id"], "save": True},
                        headers=customer("C007"))

    assert saved.status_code == 200 and {"kind": "category", "value": "camping"} in saved.json()["saved"]
    assert ("category", "camping") in {(p.kind, p.value)
                                       for p in own_demo_components.stores.customers.list_preferences("C007")}


def test_declining_writes_nothing_and_ends_the_offer(client: TestClient, own_demo_components: Components) -> None:
    guest = ask(client, "I love camping gear.")
    before = own_demo_components.stores.customers.list_preferences("C008")

    joined = client.post("/api/v1/guest/join", json={"guest_token": guest["guest_token"]}, headers=customer("C008"))
    declined = client.post("/api/v1/guest/preferences", json={"session_id": guest["session_id"], "save": False},
                           headers=customer("C008"))
    again = own_demo_components.assistant.guests.pending("C008", guest["session_id"])

    assert joined.status_code == 200 and joined.json()["preferences"]
    assert declined.status_code == 200 and declined.json()["saved"] == [] and again == []
    assert own_demo_components.stores.customers.list_preferences("C008") == before


def test_another_customer_cannot_take_a_joined_conversation(client: TestClient) -> None:
    guest = ask(client, "hello")
    client.post("/api/v1/guest/join", json={"guest_token": guest["guest_token"]}, headers=customer("C007"))

    stolen = client.post("/api/v1/guest/join", json={"guest_token": guest["guest_token"]}, headers=customer("C008"))
    decided = client.post("/api/v1/guest/preferences", json={"session_id": guest["session_id"], "save": True},
                          headers=customer("C008"))

    assert stolen.status_code == 404 and decided.status_code == 404


def test_a_guest_cannot_join_or_decide(client: TestClient) -> None:
    guest = ask(client, "hello")

    joined = client.post("/api/v1/guest/join", json={"guest_token": guest["guest_token"]},
                         headers=bearer(guest["guest_token"]))
    decided = client.post("/api/v1/guest/preferences", json={"session_id": guest["session_id"], "save": True},
                          headers=bearer(guest["guest_token"]))

    assert joined.status_code == 401 and decided.status_code == 401


def test_a_streamed_guest_reply_carries_the_token_in_its_done_event(client: TestClient) -> None:
    events = []
    with client.stream("POST", "/api/v1/chat", json={"message": "How much is express shipping?", "stream": True}) \
            as response:
        name = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))

    done = events[-1]
    assert done[0] == "done" and verify_guest_token(done[1]["guest_token"], SECRET).session_id == done[1]["session_id"]


def test_new_guest_conversations_are_limited_per_address(own_demo_components: Components) -> None:
    limiter = RateLimiter({"chat_shopper": "100/minute", "chat_ip": "100/minute", "guest_ip": "2/minute"},
                          prefix=f"guests-{time.time_ns()}")
    app = install_error_table(FastAPI())
    app.include_router(build_api(own_demo_components, limiter=limiter))
    client = TestClient(app)

    first, second = ask(client, "hello"), ask(client, "hello")
    third = client.post("/api/v1/chat", json={"message": "hello"})
    opened = client.post("/api/v1/guest")
    going_on = client.post("/api/v1/chat", json={"message": "hi"}, headers=bearer(first["guest_token"]))

    assert first["session_id"] != second["session_id"]
    assert third.status_code == 429 and int(third.headers["retry-after"]) > 0 and opened.status_code == 429
    assert going_on.status_code == 200  # a guest conversation already open goes on


def test_with_guests_off_no_token_is_a_401(client: TestClient, own_demo_components: Components) -> None:
    own_demo_components.settings.security.guest_sessions = False
    try:
        response = client.post("/api/v1/chat", json={"message": "hello"})
        opened = client.post("/api/v1/guest")
    finally:
        own_demo_components.settings.security.guest_sessions = True

    assert response.status_code == 401 and opened.status_code == 404


def test_a_guest_conversation_can_be_opened_before_the_first_message(client: TestClient) -> None:
    opened = client.post("/api/v1/guest")
    body = opened.json()

    read = client.get(f"/api/v1/sessions/{body['session_id']}", headers=bearer(body["guest_token"]))
    said = ask(client, "hello", bearer(body["guest_token"]))

    assert opened.status_code == 200 and read.status_code == 200 and read.json()["turns"] == []
    assert said["session_id"] == body["session_id"]


def test_the_turns_of_guests_show_in_the_log_as_guests(own_demo_components: Components, client: TestClient) -> None:
    body = ask(client, "How long do I have to return something?")

    recent = own_demo_components.stores.turns.recent(200)

    assert any(t.id == body["turn_id"] and t.customer_id is None and t.trace.get("guest") for t in recent)
    own = ask(client, "hello", customer())  # a customer's turn carries no guest mark and no guest token
    turn = own_demo_components.stores.turns.get_turn(own["turn_id"])
    assert turn is not None and "guest" not in turn.trace and own.get("guest_token") is None


def test_guest_offers_are_exactly_the_public_eligible_ones(own_demo_components: Components) -> None:
    tools = own_demo_components.assistant.deps.shop_tools
    every = {o["id"]: o for o in own_demo_components.stores.offers.all()}

    offered = {o["id"] for o in tools.for_shopper(None, guest=True).eligible_offers(None, False)}
    nobody = tools.for_shopper(None).eligible_offers(None, False)  # no shopper and no guest (e.g. a segment's copy)

    public = {i for i, o in every.items() if not (o["eligibility"]["tiers"] or o["eligibility"]["first_order_only"]
                                                    or o["eligibility"]["requires_marketing_consent"])}
    assert offered and offered <= public and nobody == []
    assert "welcome10" in every and "welcome10" not in offered  # a first-order offer needs the shopper's history


# the chat page --------------------------------------------------------------------------------------------------
class _Client:
    host = "127.0.0.9"


class _Request:
    client = _Client()
    headers: dict[str, str] = {}

    def __init__(self, **query: str) -> None:
        self.query_params = query


@pytest.fixture
def page(own_demo_components: Components) -> Iterator[dict[str, Callable[..., Any]]]:
    """The chat page's event functions by name, with the demo sign-in on (a guest signs in during the chat)."""
    own_demo_components.settings.app.sign_in_url = SIGN_IN
    own_demo_components.settings.security.demo_sign_in = True
    try:
        blocks = build_chat_ui(own_demo_components)
        yield {str(f.name): f.fn for f in blocks.fns.values() if f.fn is not None}
    finally:
        own_demo_components.settings.security.demo_sign_in = False


def chat_as(page: dict[str, Callable[..., Any]], chat: ChatTranscript, guest: GuestTab, message: str,
            token: str | None = None) -> list[dict[str, str]]:
    page["send"](message, chat)
    *_, (shown, _, _) = list(page["answer_waiting"](chat, token, _Request(), guest))
    return list(shown)


def test_the_page_without_a_token_chats_as_a_guest(page: dict[str, Callable[..., Any]],
                                                   own_demo_components: Components) -> None:
    chat, guest = ChatTranscript(), GuestTab()

    shown = chat_as(page, chat, guest, "How long do I have to return something?")
    orders = chat_as(page, chat, guest, "Where is my order?")

    assert shown[-1]["role"] == "assistant" and "sign in first" not in shown[-1]["content"].lower()
    assert SIGN_IN in orders[-1]["content"]
    assert guest.token is not None and verify_guest_token(guest.token, SECRET).session_id == chat.session_id
    turns = own_demo_components.assistant.history(None, str(chat.session_id))
    assert [t.message for t in turns] == ["How long do I have to return something?", "Where is my order?"]


def test_a_guest_who_signs_in_on_the_page_keeps_the_conversation_and_is_asked(
        page: dict[str, Callable[..., Any]], own_demo_components: Components) -> None:
    chat, guest = ChatTranscript(), GuestTab()
    chat_as(page, chat, guest, "I love camping gear.")
    before = own_demo_components.stores.customers.list_preferences("C003")

    signed = page["sign_in"]("C003", chat, guest)

    token, shown, session_id, kept, row, note = signed[0], signed[2], signed[3], signed[5], signed[7], signed[8]
    assert kept is chat and shown[0]["content"] == "I love camping gear." and session_id == chat.session_id
    assert row["visible"] is True and "camping" in note["value"]
    assert own_demo_components.stores.customers.list_preferences("C003") == before  # asked, not written
    assert [t.customer_id for t in own_demo_components.assistant.history(ShopperIdentity("C003"), session_id)] \
        == ["C003"]

    answered = page["save_tastes"](token, session_id)

    assert "camping" in answered[1]["value"]
    assert ("category", "camping") in {(p.kind, p.value)
                                       for p in own_demo_components.stores.customers.list_preferences("C003")}


def test_signing_in_without_a_guest_conversation_still_starts_a_new_one(page: dict[str, Callable[..., Any]]) -> None:
    chat = ChatTranscript()

    signed = page["sign_in"]("C003", chat, GuestTab())

    assert signed[5] is not chat and signed[2] == [] and signed[7]["visible"] is False


def test_the_page_continues_a_guest_conversation_from_a_link(page: dict[str, Callable[..., Any]],
                                                             client: TestClient) -> None:
    started = ask(client, "How much is express shipping?")
    chat, guest = ChatTranscript(), GuestTab()

    shown, session_id, _, row, *_ = page["from_link"](None, chat, guest, _Request(guest=started["guest_token"]))
    more = chat_as(page, chat, guest, "And standard shipping?")

    assert session_id == started["session_id"] and shown[0]["content"] == "How much is express shipping?"
    assert row["visible"] is False and len(more) == 4 and chat.session_id == started["session_id"]


def test_the_page_joins_a_linked_guest_conversation_to_the_signed_in_shopper(
        page: dict[str, Callable[..., Any]], client: TestClient, own_demo_components: Components) -> None:
    started = ask(client, "I love camping gear.")
    chat, guest = ChatTranscript(), GuestTab()
    token = issue_token("C004", SECRET, 600)

    shown, session_id, _, row, note, *_ = page["from_link"](token, chat, guest,
                                                            _Request(guest=started["guest_token"]))

    assert session_id == started["session_id"] and row["visible"] is True and "camping" in note["value"]
    turn = own_demo_components.stores.turns.get_turn(started["turn_id"])
    assert turn is not None and turn.customer_id == "C004" and guest.token is None


# the store: joining a guest conversation (SQLite and PostgreSQL) -------------------------------------------------
def test_joining_moves_the_conversation_and_all_recorded_in_it_to_the_customer(
        stores: Stores, customer_record: Callable[..., dict[str, Any]]) -> None:
    for customer_id in ("c1", "c2"):
        stores.customers.upsert_from_record(customer_record(customer_id), "demo")
    guest = stores.sessions.open_session(None, "api")
    stores.turns.record_turn(TurnRecord(session_id=guest, customer_id=None, message="hi", reply="hello"),
                             [EventRecord(kind="product_shown", payload={"product_id": "p-1"})])
    stores.handovers.create(guest, None, "customer_request", "wants a person")
    own = stores.sessions.open_session("c2", "api")

    joined = stores.sessions.join_customer(guest, "c1")

    assert joined.customer_id == "c1" and stores.sessions.get_session(None, guest) is None
    assert [t.customer_id for t in stores.turns.turns_for_session("c1", guest)] == ["c1"]
    assert [e.kind for e in stores.events.list_for("c1")] == ["product_shown"]
    assert stores.handovers.open_for_session(guest).customer_id == "c1"  # type: ignore[union-attr]
    with pytest.raises(NotFoundError):
        stores.sessions.join_customer(guest, "c2")  # already a customer's
    with pytest.raises(NotFoundError):
        stores.sessions.join_customer(own, "c1")  # never a guest's
    with pytest.raises(NotFoundError):
        stores.sessions.join_customer(stores.sessions.open_session(None, "api"), "nobody")
