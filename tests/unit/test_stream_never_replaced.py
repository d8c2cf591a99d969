"""Issue 16 item 3: verified sentences stream as they are verified, and what the shopper saw is never replaced.

Whole turns on the demo shop with the scripted chat model: a reply built from the facts (products,
recommendations, offers, computed answers, policy sentences) streams at once without the model, for a signed-in
shopper as for a guest; a model's sentence (the shopper's own orders) is shown only once the reply so far passes
every check of the whole reply, and a sentence failing after it ends the reply."""

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
#: a sentence Maya's order NW-100073 states, and one it does not (no delivery date is in the facts)
SHIPPED = "Your order NW-100073 has shipped."
INVENTED_DATE = "It arrives on December 24."


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
    ("C001", "How long do I have to return something?"),  # policy sentences (issue 13 item 5)
    ("C001", "How much is express shipping?"),
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
    service = make_service(fake_llm.enqueue([f"{SHIPPED} {INVENTED_DATE}"]))

    events, done = turn(service, "C001", "Where is my order NW-100073?")  # the model writes about own orders

    assert fake_llm.calls and not replaced_after_text(events) and "replace" not in kinds(events)
    assert done.verdict == "pass" and done.reply == SHIPPED and "December" not in shown(events)
    assert shown(events) == done.reply
    stored = service.turns.get_turn(done.turn_id)
    assert stored is not None and any(p.startswith("left out") and "December" in p for p in stored.trace["problems"])


def test_a_signed_in_shoppers_policy_answer_streams_sentence_by_sentence_before_its_sources(
        make_service: Make, fake_llm: FakeChatModel) -> None:
    # issue 16 item 3: the policy's sentences as they are, first words well before the end, never a replace
    service = make_service(fake_llm.enqueue([f"{RETURNS} {INVENTED}"]))  # would be cut at the 90 if asked

    events, done = turn(service, "C001", "How long do I have to return something?")

    seen = kinds(events)
    assert fake_llm.calls == [] and "replace" not in seen and seen[-1] == "done"
    assert seen.count("text") >= 2 and seen.index("sources") > max(i for i, k in enumerate(seen) if k == "text")
    assert shown(events) == done.reply and "30 days" in done.reply and "90" not in done.reply
    assert done.intent == "policy" and "Source: " in done.reply
    sources = next(e for e in events if e.type == "sources").to_dict()["sources"]
    assert sources and all(s["kind"] == "policy" for s in sources)


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
