"""Issue 16 item 3: verified sentences stream as they are verified, and what the shopper saw is never replaced.

Whole turns on the demo shop with the scripted chat model: a reply built from the facts (products,
recommendations, offers, computed answers) streams at once without the model; a model's sentence is shown only
once the reply so far passes every check of the whole reply, and a sentence failing after it ends the reply."""

from collections.abc import Callable

import pytest

from assistant.domain import DoneEvent, Event, ShopperIdentity
from assistant.llm import FakeChatModel
from assistant.turn.built_answers import sentence_pieces
from assistant.turn.turn_service import AssistantService

Make = Callable[[FakeChatModel], AssistantService]
#: a sentence the demo's return policy states, and one it does not (the verifier fails the 90)
RETURNS = "You can return an item within 30 days from the day it was delivered."
INVENTED = "Sale items can be returned within 90 days."


def turn(service: AssistantService, customer: str, message: str) -> tuple[list[Event], DoneEvent]:
    events = list(service.respond(ShopperIdentity(customer), None, message))
    done = events[-1]
    assert isinstance(done, DoneEvent)
    return events, done


def kinds(events: list[Event]) -> list[str]:
    return [e.type for e in events]


def replaced_after_text(events: list[Event]) -> bool:
    seen = kinds(events)
    return "text" in seen and "replace" in seen[seen.index("text"):]


def shown(events: list[Event]) -> str:
    return "".join(str(e.to_dict()["text"]) for e in events if e.type == "text")


@pytest.mark.parametrize(("customer", "message"), [
    ("C004", "Tell me about the Ridgeline Stormfront 3L Rain Jacket"),
    ("C001", "Can you recommend something for me?"),
    ("C001", "I need running shoes under $100"),
    ("C001", "Do I have any offers?"),
    ("C004", "Do you have waterproof jackets?"),
])
def test_an_answer_the_facts_give_streams_at_once_without_the_model(make_service: Make, fake_llm: FakeChatModel,
                                                                    customer: str, message: str) -> None:
    service = make_service(fake_llm.enqueue([f"{RETURNS} {INVENTED}"]))  # would fail if it were asked

    events, done = turn(service, customer, message)

    assert fake_llm.calls == []
    assert not replaced_after_text(events) and "replace" not in kinds(events)
    assert shown(events) == done.reply and done.verdict == "fallback"
    assert len([e for e in events if e.type == "text"]) == len(sentence_pieces(done.reply))


def test_a_model_sentence_that_passes_is_kept_when_a_later_one_fails(make_service: Make,
                                                                     fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm.enqueue([f"{RETURNS} {INVENTED}"]))

    events, done = turn(service, "C001", "How long do I have to return something?")

    assert not replaced_after_text(events)
    assert done.verdict == "pass" and done.reply.startswith(RETURNS) and "90" not in done.reply
    assert shown(events) == done.reply  # the source line is added after, never swapped in
    stored = service.turns.get_turn(done.turn_id)
    assert stored is not None and any(p.startswith("left out") and "90" in p for p in stored.trace["problems"])


def test_a_sentence_is_held_until_the_reply_answers_what_was_asked(make_service: Make,
                                                                   fake_llm: FakeChatModel) -> None:
    # each sentence is true, but the order's status (shipped) must open the reply: the verify step would
    # replace it, so nothing of it is shown and the reply built from the facts is the first text
    service = make_service(fake_llm.enqueue(["Thanks for asking about order NW-100073. It has shipped."]))

    events, done = turn(service, "C001", "Where is my order NW-100073?")

    answer = [e for e in events if e.type in ("text", "replace")]
    assert not replaced_after_text(events) and answer and answer[0].type == "replace"
    assert done.verdict == "fallback" and "shipped" in done.reply and "Thanks" not in shown(events)


def test_sentence_pieces_join_back_to_the_reply() -> None:
    reply = "Yes, we have: A ($1.00). Offer: SAVE10.\n您好。谢谢！"

    pieces = sentence_pieces(reply)

    assert pieces == ["Yes, we have: A ($1.00).", " Offer: SAVE10.", "\n您好。", "谢谢！"]
