"""Composing: where the model's stream is cut into sentences, and when generation stops early."""

from collections.abc import Callable

from assistant.domain import Event
from assistant.llm import FakeChatModel
from assistant.turn.answer_nodes import compose_node, tools_node
from assistant.turn.compose import LOOKAHEAD, MAX_SENTENCE_PIECES, _split_sentences
from assistant.turn.input_guard import guard_input
from assistant.turn.state import TurnState
from assistant.turn.turn_service import AssistantService
from assistant.turn.understanding import understand

Make = Callable[[FakeChatModel], AssistantService]
EXPRESS = "Express shipping costs $14.99."


def composed(service: AssistantService, message: str) -> tuple[dict[str, object], list[Event]]:
    deps = service.deps
    s = TurnState(turn_id="t", session_id="s", customer_id="C001", message=message,
                  guard=guard_input(message, 4000))
    s.understanding = understand(message, deps.catalog.categories, deps.catalog.brands)
    events: list[Event] = []
    s.facts = tools_node(s, deps, events.append)["facts"]
    events.clear()
    return compose_node(s, deps, events.append), events


def test_a_list_bullet_on_the_same_line_starts_a_new_sentence() -> None:
    done, rest = _split_sentences("- Express costs $14.99. - Standard is free over $50. - It")

    assert done == ["- Express costs $14.99.", "- Standard is free over $50."] and rest == "- It"


def test_a_hyphen_inside_a_sentence_does_not_split_it() -> None:
    done, rest = _split_sentences("It takes 1-2 days. Then")

    assert done == ["It takes 1-2 days."] and rest == "Then"


def test_bullets_on_one_line_are_verified_and_shown_one_by_one(make_service: Make, fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm.enqueue([f"- {EXPRESS} - It arrives in 9 days. - More."]))

    update, events = composed(service, "How much is express shipping?")

    assert [e.to_dict()["text"] for e in events] == [f"- {EXPRESS}"]
    # what was shown stands as the reply; the failing bullet and the rest are left out, not shown then replaced
    assert update["verdict"] == "pass" and update["reply"] == f"- {EXPRESS}"
    assert any("9" in p and p.startswith("left out") for p in update["problems"])  # type: ignore[attr-defined]


def test_a_model_repeating_itself_is_stopped_and_shown_once(make_service: Make, fake_llm: FakeChatModel) -> None:
    looping = " ".join([EXPRESS] * 30)
    service = make_service(fake_llm.enqueue([looping]))

    update, events = composed(service, "How much is express shipping?")

    usage = update["llm_usage"]
    assert update["reply"] == EXPRESS and update["verdict"] == "pass"
    assert [e.to_dict()["text"] for e in events] == [EXPRESS]
    assert usage["finish_reason"] == "cancelled"  # type: ignore[index]
    assert usage["completion_tokens"] < len(looping.split()) / 3  # type: ignore[index]


def test_a_sentence_that_never_ends_is_stopped_without_waiting_for_the_token_budget(make_service: Make,
                                                                                     fake_llm: FakeChatModel) -> None:
    # the small model sometimes writes a list of items with commas for 160 tokens and no full stop: nothing of it
    # is ever shown, so generating it only delays the reply built from the facts by a second or two
    endless = "Express shipping costs $14.99 and " + " ".join(f"item {i}," for i in range(200))
    service = make_service(fake_llm.enqueue([endless]))

    update, events = composed(service, "How much is express shipping?")

    usage = update["llm_usage"]
    assert update["verdict"] != "pass" and not [e for e in events if e.type == "text"]
    assert any("without ending a sentence" in p for p in update["problems"])  # type: ignore[attr-defined]
    assert usage["finish_reason"] == "cancelled"  # type: ignore[index]
    assert usage["completion_tokens"] <= MAX_SENTENCE_PIECES + LOOKAHEAD + 2  # type: ignore[index]


def test_one_repeat_does_not_stop_the_reply(make_service: Make, fake_llm: FakeChatModel) -> None:
    reply = f"{EXPRESS} {EXPRESS} Gold and platinum members get free express shipping."
    service = make_service(fake_llm.enqueue([reply]))

    update, _ = composed(service, "How much is express shipping?")

    assert update["reply"] == f"{EXPRESS} Gold and platinum members get free express shipping."


class _FailsAfterText:
    """A chat model whose stream gives two pieces and then fails, all before the consumer looks."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def stream(self, messages: object) -> object:
        from langchain_core.messages import AIMessageChunk

        yield AIMessageChunk(content="Your order shipped. ")
        yield AIMessageChunk(content="It arrives ")
        raise self.error


def test_text_queued_before_a_model_failure_is_handed_over_before_the_failure() -> None:
    import time

    from assistant.errors import ModelUnavailable
    from assistant.turn.compose import _Producer

    producer = _Producer(_FailsAfterText(ModelUnavailable("down")), [], lookahead=8)  # type: ignore[arg-type]
    producer.start()
    time.sleep(0.2)  # the producer has queued both pieces and the error before the first take
    pieces, finished = producer.take()
    assert (pieces, finished) == (["Your order shipped. ", "It arrives "], False)
    try:
        producer.take()
    except ModelUnavailable:
        pass
    else:
        raise AssertionError("the failure after the text was lost")
    producer.stop()
