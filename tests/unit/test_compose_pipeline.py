"""Pipelined composing: the model keeps generating while the caller's thread verifies sentences."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk

from assistant.domain import Event
from assistant.llm import FakeChatModel, ModelUnavailable
from assistant.turn.compose import LOOKAHEAD, compose_reply
from assistant.turn.facts import Facts
from assistant.turn.verifier import Verdict

FIRST = "Express shipping costs $14.99."
SECOND = "It arrives in two days."
WAIT_S = 10.0  # only reached when the behaviour under test is broken


class ScriptedStream:
    """A model whose token iterator records how far it got, in which thread, and whether it was closed."""

    def __init__(self, text: str, fail_after: int | None = None, error: Exception | None = None) -> None:
        self.pieces = [w + " " for w in text.split()]
        self.fail_after, self.error = fail_after, error
        self.pulled = 0
        self.all_generated = threading.Event()
        self.closed = threading.Event()
        self.threads: set[str] = set()
        self.last_usage = None

    def stream(self, messages: list[Any]) -> Iterator[AIMessageChunk]:
        def tokens() -> Iterator[AIMessageChunk]:
            try:
                for i, piece in enumerate(self.pieces):
                    if self.fail_after is not None and i == self.fail_after:
                        assert self.error is not None
                        raise self.error
                    self.threads.add(threading.current_thread().name)
                    self.pulled = i + 1
                    if self.pulled == len(self.pieces):
                        self.all_generated.set()
                    yield AIMessageChunk(content=piece)
            finally:
                self.closed.set()

        return tokens()


class SlowVerifier:
    """Checks nothing; its first check waits until the model has generated its last token (or gives up)."""

    def __init__(self, model: ScriptedStream | None = None, fail: str | None = None) -> None:
        self.model, self.fail = model, fail
        self.checked: list[str] = []
        self.generated_during_first_check: bool | None = None

    def support_index(self, corpus: str) -> None:
        return None

    def requirements(self, reply: str, *args: Any) -> list[str]:
        return []

    def check(self, sentence: str, *args: Any, **kwargs: Any) -> Verdict:
        if not self.checked and self.model is not None:
            self.generated_during_first_check = self.model.all_generated.wait(WAIT_S)
        self.checked.append(sentence)
        return Verdict(False, ("made up",)) if sentence == self.fail else Verdict(True)


def facts() -> Facts:
    return Facts(question="How much is express shipping?", intent="policy")


def test_the_model_keeps_generating_while_a_sentence_is_verified() -> None:
    model = ScriptedStream(f"{FIRST} {SECOND}")
    verifier = SlowVerifier(model)
    events: list[Event] = []

    result = compose_reply(model, facts(), verifier, "Shop", events.append)  # type: ignore[arg-type]

    # the first check blocked until the last token was generated: with generation paused during
    # verification that never happens and the wait gives up
    assert verifier.generated_during_first_check is True
    assert result.ok and result.text == f"{FIRST} {SECOND}"
    assert verifier.checked == [FIRST, SECOND, f"{FIRST} {SECOND}"]  # each sentence, then the reply so far
    assert [e.to_dict()["text"] for e in events] == [FIRST, " " + SECOND]


def test_tokens_are_read_in_another_thread_and_sentences_emitted_in_the_callers() -> None:
    model = ScriptedStream(f"{FIRST} {SECOND}")
    emitted_in: list[str] = []

    compose_reply(model, facts(), SlowVerifier(), "Shop",  # type: ignore[arg-type]
                  lambda e: emitted_in.append(threading.current_thread().name))

    assert model.threads and threading.current_thread().name not in model.threads
    assert emitted_in == [threading.current_thread().name] * 2


def test_a_failing_sentence_stops_generation_and_closes_the_stream() -> None:
    model = ScriptedStream(" ".join([FIRST, SECOND] + [f"Line {i} is here." for i in range(60)]))
    verifier = SlowVerifier(fail=FIRST)

    result = compose_reply(model, facts(), verifier, "Shop", lambda e: None)  # type: ignore[arg-type]

    assert not result.ok and result.problems == ("made up",) and result.text == ""
    assert model.closed.is_set()  # closed by the time compose_reply returns
    # the producer reads at most LOOKAHEAD pieces ahead of the consumer, then notices the stop
    assert model.pulled <= len(FIRST.split()) + 1 + LOOKAHEAD + 2 < len(model.pieces)


def test_a_stopped_backend_stream_records_a_cancelled_call() -> None:
    model = FakeChatModel().enqueue([" ".join([FIRST] + [f"Line {i} is here." for i in range(60)])])

    result = compose_reply(model, facts(), SlowVerifier(fail=FIRST), "Shop", lambda e: None)  # type: ignore[arg-type]

    assert result.usage["finish_reason"] == "cancelled"
    assert result.usage["completion_tokens"] <= len(FIRST.split()) + 1 + LOOKAHEAD + 2


def test_a_complete_backend_stream_reports_its_own_usage() -> None:
    model = FakeChatModel().enqueue([f"{FIRST} {SECOND}"])

    result = compose_reply(model, facts(), SlowVerifier(), "Shop", lambda e: None)  # type: ignore[arg-type]

    assert result.usage["finish_reason"] == "stop" and result.usage["completion_tokens"] == 9


@pytest.mark.parametrize("fail_after", [0, 7])
def test_a_model_error_is_raised_in_the_callers_thread(fail_after: int) -> None:
    error = ModelUnavailable("llama.cpp generation failed: boom")
    model = ScriptedStream(f"{FIRST} {SECOND}", fail_after=fail_after, error=error)

    with pytest.raises(ModelUnavailable) as raised:
        compose_reply(model, facts(), SlowVerifier(), "Shop", lambda e: None)  # type: ignore[arg-type]

    assert raised.value is error
    assert model.closed.is_set()


def test_an_error_while_verifying_stops_the_producer() -> None:
    model = ScriptedStream(" ".join([FIRST] + [f"Line {i} is here." for i in range(60)]))

    class Broken(SlowVerifier):
        def check(self, sentence: str, *args: Any, **kwargs: Any) -> Verdict:
            raise RuntimeError("verifier broke")

    with pytest.raises(RuntimeError, match="verifier broke"):
        compose_reply(model, facts(), Broken(), "Shop", lambda e: None)  # type: ignore[arg-type]

    assert model.closed.is_set() and model.pulled < len(model.pieces)
