"""The turn through the whole graph on fakes: events streamed, reply verified, turn and events stored."""

import re
from collections.abc import Callable
from typing import Any

import pytest

from assistant.domain import DoneEvent, Event, ShopperIdentity
from assistant.errors import NotFoundError
from assistant.llm import FakeChatModel
from assistant.turn.turn_service import AssistantService

MAYA = ShopperIdentity("C001")
DANIEL = ShopperIdentity("C002")  # opted out of personalization


def run(service: AssistantService, who: ShopperIdentity, message: str, session: str | None = None) -> list[Event]:
    return list(service.respond(who, session, message))


def of(events: list[Event], kind: str) -> list[dict[str, Any]]:
    return [e.to_dict() for e in events if e.type == kind]


def final(events: list[Event]) -> DoneEvent:
    done = events[-1]
    assert isinstance(done, DoneEvent)
    return done


Make = Callable[[FakeChatModel], AssistantService]


def test_a_policy_answer_is_built_from_the_policy_streams_with_sources_and_is_stored(make_service: Make,
                                                                                      fake_llm: FakeChatModel) -> None:
    # issue 13 item 5, issue 16 item 3: the policy's own sentences, sentence by sentence, for a signed-in shopper
    # too; the model is not asked (it would have said 60 days)
    service = make_service(fake_llm.enqueue(["You have 60 days to return anything."]))

    events = run(service, MAYA, "How long do I have to return something?")

    done = final(events)
    assert done.verdict == "fallback" and "30 days" in done.reply and "60" not in done.reply
    assert fake_llm.calls == [] and not of(events, "replace") and len(of(events, "text")) >= 2
    assert "".join(e["text"] for e in of(events, "text")) == done.reply
    # the documents the reply quotes ("... Source: X."), not all that were retrieved
    quoted = [t.strip() for t in re.split(r"Sources?: ", done.reply)[-1].rstrip(".").split(";")]
    assert list(dict.fromkeys(s["title"] for s in of(events, "sources")[0]["sources"])) == quoted, done.reply
    stored = service.turns.get_turn(done.turn_id)
    assert stored is not None and stored.customer_id == "C001" and stored.intent == "policy"
    assert stored.trace["retrieved"] and stored.trace["raw_model_text"] == "" and stored.status == "fallback"
    assert any(p.startswith("built from the facts") for p in stored.trace["problems"])
    assert set(stored.trace["timings_ms"]) >= {"guard", "load_profile", "understand", "tools", "compose", "verify"}


def test_the_prompt_holds_the_facts_and_the_question(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm.enqueue(["It has shipped."]))

    run(service, MAYA, "Where is my order NW-100073?")  # the model writes about the shopper's own order

    prompt = "\n".join(m.text for m in fake_llm.calls[0])
    assert "Question: Where is my order NW-100073?" in prompt
    assert "Order NW-100073: status shipped" in prompt and "Tracking: UPS 1Z5GAGTR0388899375." in prompt
    # only what the question asks of the order (each token is prefill the shopper waits for): not its payments,
    # nor the shopper's profile
    assert "Paid" not in prompt and "Shopper:" not in prompt


def test_an_invented_number_is_replaced_by_a_reply_built_from_facts(make_service: Make, fake_llm: FakeChatModel
                                                                    ) -> None:
    service = make_service(fake_llm.enqueue(["Your order NW-100073 has shipped and cost $64.50."]))

    events = run(service, MAYA, "Where is my order NW-100073?")  # the model writes about the shopper's own order

    done = final(events)
    assert fake_llm.calls and done.verdict == "fallback" and "64.50" not in done.reply and "shipped" in done.reply
    assert not of(events, "text") or "64.50" not in "".join(e["text"] for e in of(events, "text"))
    stored = service.turns.get_turn(done.turn_id)
    assert stored is not None and stored.status == "fallback"
    assert any("64.5" in p for p in stored.trace["problems"])


def test_an_invented_coupon_code_fails_verification(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm.enqueue(["Use code FREE100 for a free order."]))

    done = final(run(service, MAYA, "Do I have any offers?"))

    assert "FREE100" not in done.reply and done.verdict == "fallback"


def test_unknown_question_says_it_does_not_know_and_offers_a_human(make_service: Make, fake_llm: FakeChatModel
                                                                   ) -> None:
    service = make_service(fake_llm)

    done = final(run(service, MAYA, "zxqv wplk"))

    assert "don't know" in done.reply and "person" in done.reply
    assert fake_llm.calls == []


def test_own_order_status_comes_from_the_store(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm.enqueue(["Your order NW-100073 has shipped."]))

    events = run(service, MAYA, "Where is my order NW-100073?")

    assert final(events).reply == "Your order NW-100073 has shipped."
    assert "Tracking: UPS 1Z5GAGTR0388899375" in "\n".join(m.text for m in fake_llm.calls[0])


def test_another_shoppers_order_is_refused_without_leaking_it(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)

    done = final(run(service, MAYA, "Where is my order NW-100080?"))  # Daniel's earbuds

    assert "isn't one of them" in done.reply and "Earbuds" not in done.reply
    stored = service.turns.get_turn(done.turn_id)
    assert stored is not None and "Earbuds" not in str(stored.trace) and fake_llm.calls == []


def test_product_search_shows_only_in_stock_cards_within_budget(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)

    events = run(service, MAYA, "I need running shoes under $100")

    cards = of(events, "products")[0]["products"]
    assert cards and all(c["in_stock"] and c["price"] <= 100 for c in cards)
    assert all(c["category"] == "running-shoes" for c in cards)


def test_recommendations_follow_explicit_preferences(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)

    events = run(service, MAYA, "Can you recommend some running shoes for me?")

    cards = of(events, "products")[0]["products"]
    assert cards and all(c["category"] == "running-shoes" and "8.5" in c["options"]["size"] for c in cards)
    assert all("your stated size 8.5" in c["reason"] and "budget of $150" in c["reason"] for c in cards)
    assert cards[0]["brand"] == "Stridewell"


def test_opted_out_shopper_gets_no_personalization(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)

    events = run(service, DANIEL, "Can you recommend something for me?")  # built from the facts, no model

    assert all(c["reason"] == "popular with our shoppers" for c in of(events, "products")[0]["products"])
    assert not of(events, "offers") and "Daniel" not in final(events).reply
    facts = service.turns.get_turn(final(events).turn_id).trace["facts"]  # what the model would be given
    assert "Shopper: Daniel." in facts and not any(f.startswith("Shopper: Daniel,") for f in facts)  # no tier...


def test_products_shown_are_logged_as_events_with_the_turn(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)

    done = final(run(service, MAYA, "I need running shoes under $100"))

    events = service.stores.events.list_for("C001", kinds=["product_shown"])
    assert events and all(e.turn_id == done.turn_id for e in events if e.turn_id == done.turn_id)
    assert any(e.turn_id == done.turn_id for e in events)


@pytest.mark.parametrize("message, expected", [
    ("", "Ask me anything"),
    ("x" * 20_000, "too long"),
    ("\x00\x01\x02\x03\x04\x05\x06\x07\x08" * 20, "couldn't read"),
])
def test_bad_input_gets_a_clear_reply_and_is_still_logged(make_service: Make, fake_llm: FakeChatModel,
                                                          message: str, expected: str) -> None:
    service = make_service(fake_llm)

    done = final(run(service, MAYA, message))

    assert expected in done.reply and fake_llm.calls == []
    stored = service.turns.get_turn(done.turn_id)
    assert stored is not None and stored.verdict is not None and stored.verdict.startswith("blocked")
    assert len(stored.message) <= 4000


def test_emoji_and_right_to_left_text_are_answered(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)

    done = final(run(service, MAYA, "مرحبا 👋 shipping?"))

    assert done.reply and service.turns.get_turn(done.turn_id) is not None


def test_unknown_or_foreign_session_is_refused(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)
    daniels = service.open_session(DANIEL)

    with pytest.raises(NotFoundError):
        service.respond(MAYA, "no-such-session", "hi")
    with pytest.raises(NotFoundError):
        service.respond(MAYA, daniels, "hi")


def test_a_crash_mid_turn_gives_a_friendly_line_and_logs_an_error_turn(make_service: Make) -> None:
    class Broken(FakeChatModel):
        def _stream(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("backend exploded")

    service = make_service(Broken())

    events = run(service, MAYA, "Where is my order NW-100073?")  # the model writes about the shopper's own order

    done = final(events)
    assert done.verdict == "error" and "can't look that up" in done.reply
    stored = service.turns.get_turn(done.turn_id)
    assert stored is not None and stored.status == "error" and "backend exploded" in stored.trace["error"]["message"]


def test_handover_request_creates_a_handover_event(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)

    events = run(service, MAYA, "I want to talk to a human please")

    assert of(events, "handover")[0]["reason"] == "customer_request"
    done = final(events)
    assert any(e.turn_id == done.turn_id for e in service.stores.events.list_for("C001", kinds=["handover"]))


def test_personal_data_is_redacted_in_the_stored_turn(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)

    done = final(run(service, MAYA, "my card 4242 4242 4242 4242 was charged twice, mail me at maya@example.com"))

    stored = service.turns.get_turn(done.turn_id)
    assert stored is not None and "4242 4242" not in stored.message and "maya@example.com" not in stored.message
    assert "[CARD]" in stored.message and "[EMAIL]" in stored.message


def test_a_session_keeps_its_turns_in_order(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)
    first = final(run(service, MAYA, "hello"))

    run(service, MAYA, "How much is express shipping?", first.session_id)

    assert [t.message for t in service.history(MAYA, first.session_id)] == ["hello", "How much is express shipping?"]


def test_feedback_is_stored_for_own_turns_only(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)
    done = final(run(service, MAYA, "hello"))

    service.feedback(MAYA, done.turn_id, "up")

    assert [e.payload["rating"] for e in service.stores.events.list_for("C001", kinds=["feedback"])
            if e.turn_id == done.turn_id] == ["up"]
    with pytest.raises(NotFoundError):
        service.feedback(DANIEL, done.turn_id, "down")


def test_a_caller_that_stops_listening_does_not_lose_the_turn(make_service: Make, fake_llm: FakeChatModel) -> None:
    import time

    service = make_service(fake_llm.enqueue(["You can return an item within 30 days. It is easy. Really."]))
    session = service.open_session(MAYA)
    events = service.respond(MAYA, session, "How long do I have to return something?")

    next(events)
    events.close()  # the browser tab was closed after the first words

    deadline = time.monotonic() + 10
    while not service.turns.turns_for_session("C001", session) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [t.message for t in service.turns.turns_for_session("C001", session)] == [
        "How long do I have to return something?"]


def test_a_reply_naming_the_products_of_the_shoppers_own_order_passes(make_service: Make,
                                                                       fake_llm: FakeChatModel) -> None:
    # the items of the order asked about are facts of the turn, though not products the turn looked up: naming them
    # is the answer, not an invented product (the reply was thrown away for "product ... is not in the facts")
    reply = "You ordered the Stridewell Aircool Long-Sleeve Running Top and the Stridewell Race Day Singlet."
    service = make_service(fake_llm.enqueue([reply]))

    events = run(service, MAYA, "What did I order in NW-100073?")

    done = final(events)
    assert done.reply == reply and done.verdict == "pass"
