"""Order ids recognised by the shopper's own ids, whatever the shop's format; rule questions stay policy."""

import pytest

from assistant.turn.order_refs import LATEST, asked_about, find_order_ids, resolve_order_id
from assistant.turn.understanding import understand

OWN = ["#Q-0042", "#Q-0017"]


@pytest.mark.parametrize("message", [
    "What is the status of my order #Q-0042?", "status of q-0042 please", "where is Q0042", "order (#Q-0042)?",
    "Has #Q-0042 shipped?", "order # Q-0042.", "(Q-0042)",
])
def test_an_own_id_is_found_however_it_is_written_and_given_as_stored(message: str) -> None:
    assert find_order_ids(message, OWN) == ("#Q-0042",)
    assert understand(message, own_order_ids=OWN).order_ids == ("#Q-0042",)


@pytest.mark.parametrize("own, message, expected", [
    (["cart-48", "cart-7"], "What did I order in cart-48?", ("cart-48",)),
    (["10234"], "Where is order 10234?", ("10234",)),
    (["48"], "Where is order 48?", ("48",)),
    (["48"], "Do you have it in size 48?", ()),  # a short number is an id only when named as one
    (["10234"], "I paid $10234.50 for it", ()),
])
def test_formats_no_pattern_knows(own: list[str], message: str, expected: tuple[str, ...]) -> None:
    assert find_order_ids(message, own) == expected


@pytest.mark.parametrize("message, token", [
    ("What's the status of order #Q-0099?", "Q-0099"),  # shaped like the shopper's ids
    ("Where is order cart-12?", "cart-12"),  # named as an order
    ("is NW-55555 late?", "NW-55555"),  # an id-like token, as before
])
def test_a_token_that_only_looks_like_an_id_is_kept_to_be_refused(message: str, token: str) -> None:
    found = find_order_ids(message, OWN)

    assert found == (token,) and all(t not in OWN for t in found)


def test_own_and_foreign_ids_in_one_message_keep_their_order() -> None:
    assert find_order_ids("compare #Q-0099 with q-0017", OWN) == ("Q-0099", "#Q-0017")


def test_a_spelling_is_resolved_to_the_stored_id() -> None:
    assert resolve_order_id("q 0017", OWN) == "#Q-0017" and resolve_order_id("Q-0099", OWN) is None


@pytest.mark.parametrize("message", [
    "If I cancel an order I paid by credit card, how long until I get my refund?",
    "Can I still cancel my order once it has been processed?",
    "What happens if the payment for my order keeps failing?",
    "After the items in my order have been modified, can I still cancel it?",
    "I paid with a gift card. If I cancel my pending order, when does the money come back?",
    "I forgot to enter my coupon code. Can you add it to my order now?",
    "Can I pay for my order with a gift card?",
])
def test_a_question_about_rules_or_timing_is_a_policy_question_even_about_my_order(message: str) -> None:
    assert understand(message, own_order_ids=OWN).intent == "policy"


@pytest.mark.parametrize("message, intent", [
    ("I want to cancel my order", "order_action"),
    ("Please cancel #Q-0042", "order_action"),
    ("Where is my order?", "order_status"),
    ("If it has shipped, where is my order?", "order_status"),
    ("Can I return #Q-0042 if it doesn't fit?", "order_action"),
    ("What is my latest order?", "order_status"),
    ("How much did I pay for my order?", "order_status"),
])
def test_requests_and_named_orders_stay_order_turns(message: str, intent: str) -> None:
    assert understand(message, own_order_ids=OWN).intent == intent


@pytest.mark.parametrize("question, asked", [
    ("What is the status of my order #Q-0042?", "status"), ("What's the tracking number for #Q-0042?", "tracking"),
    ("What was the total of my order Q-0042?", "total"), ("What did I order in Q-0042?", "items"),
    ("How did I pay for Q-0042?", "payment"), ("Where is my latest order?", "status"),
])
def test_what_an_order_question_asks_for(question: str, asked: str) -> None:
    assert asked_about(question) == asked


def test_latest_means_one_order() -> None:
    assert LATEST.search("Where is my latest order?") and LATEST.search("my most recent purchase")
    assert not LATEST.search("where are my orders?")
