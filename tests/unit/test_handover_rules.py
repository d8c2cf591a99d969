"""The hand-over rules on their own: anger, disputes of a refusal, the summary a person reads."""

import pytest

from assistant.records import TurnRecord
from assistant.turn.handover_rules import is_angry, summarize, triage
from assistant.turn.understanding import understand

REFUSED = {"last_refusal": {"kind": "cancel", "order_id": "NW-100073", "reason": "status", "message": "shipped"}}


@pytest.mark.parametrize("message", ["This is ridiculous", "WHERE IS MY ORDER I PAID FOR IT WEEKS AGO",
                                     "what a joke of a shop", "My damn order is late"])
def test_strong_words_or_shouting_are_anger(message: str) -> None:
    assert is_angry(message)


@pytest.mark.parametrize("message", ["Tell me a joke about cats", "Thanks!!!", "Where is my order NW-100073?",
                                     "Is the jacket OK in the rain?"])
def test_ordinary_messages_are_not_anger(message: str) -> None:
    assert not is_angry(message)


def test_a_request_for_a_person_is_a_customer_request() -> None:
    assert triage("Can I talk to a human?", understand("Can I talk to a human?"), {}) == "customer_request"


@pytest.mark.parametrize("message", ["That's not fair, I need it cancelled", "Why not?",
                                     "Please cancel my order NW-100073"])
def test_disputing_or_repeating_a_refused_request_is_a_policy_restriction(message: str) -> None:
    assert triage(message, understand(message), REFUSED) == "policy_restriction"


def test_a_dispute_without_a_refusal_before_is_not_a_handover() -> None:
    assert triage("Why not?", understand("Why not?"), {}) is None


def test_no_after_a_refusal_is_not_a_dispute() -> None:
    assert triage("no", understand("no"), REFUSED) is None


def test_the_summary_gives_the_reason_then_the_latest_turns_redacted() -> None:
    turns = [TurnRecord(session_id="s", customer_id="C001", message=f"question {i}", reply=f"answer {i}")
             for i in range(10)]

    summary = summarize("customer_request", turns, "call me at +1 555 010 1234", limit=2)

    lines = summary.splitlines()
    assert lines[0] == "The shopper asked for a person."
    assert lines[1:5] == ["Shopper: question 8", "Assistant: answer 8", "Shopper: question 9", "Assistant: answer 9"]
    assert "555" not in summary and "[PHONE]" in summary
