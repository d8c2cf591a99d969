"""Understanding order actions and explicit confirmations."""

import pytest

from assistant.turn.understanding import understand


@pytest.mark.parametrize("message", ["yes", "Yes please", "yes, cancel it", "confirm", "Go ahead!", "Sure."])
def test_an_explicit_yes_is_a_confirmation(message: str) -> None:
    assert understand(message).intent == "confirm"


@pytest.mark.parametrize("message", ["no", "No thanks", "no, don't cancel it", "nope, keep it", "never mind"])
def test_an_explicit_no_is_a_denial(message: str) -> None:
    assert understand(message).intent == "deny"


@pytest.mark.parametrize("message", ["yes but where is my order NW-100073?", "ok", "no idea which size"])
def test_yes_or_no_inside_a_longer_message_is_not_a_confirmation(message: str) -> None:
    assert understand(message).intent not in ("confirm", "deny")


@pytest.mark.parametrize("message", ["Please change the address of NW-100091 to 12 Pine Street, Seattle, WA 98101",
                                     "Can I return NW-100065?", "NW-100091: please cancel it",
                                     "I want to cancel my order"])
def test_an_action_on_an_order_is_an_order_action(message: str) -> None:
    assert understand(message).intent == "order_action"


@pytest.mark.parametrize("message", ["Can I cancel an order that has been processed?", "When can I cancel an order?"])
def test_a_general_question_about_actions_stays_a_policy_question(message: str) -> None:
    assert understand(message).intent == "policy"
