"""Degrading instead of failing: a chat model that times out hands the shopper to a person (like a failed lookup),
and a database that is full says so."""

import time
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.outputs import ChatGenerationChunk
from sqlalchemy.exc import OperationalError

from assistant.domain import DoneEvent, ShopperIdentity
from assistant.errors import ModelUnavailable
from assistant.llm import FakeChatModel
from assistant.llm.base import text_chunk
from assistant.llm.fake import split_words
from assistant.store.db import _store_error
from assistant.turn.turn_service import AssistantService

MAYA = ShopperIdentity("C001")
QUESTION = "Where is my order NW-100073?"  # the model writes about the shopper's own order
POLICY_QUESTION = "How long do I have to return something?"  # answered by the policy's sentences, no model


class TimingOutModel(FakeChatModel):
    """Streams ``before`` (if any), then fails as the OpenAI backend does when its server does not answer: after
    ``quiet`` seconds of silence (a client's read timeout; the turn has read what came before by then)."""

    before: str = ""
    quiet: float = 0.0

    def _stream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any
                ) -> Iterator[ChatGenerationChunk]:
        for piece in split_words(self.before):
            yield text_chunk(piece)
        time.sleep(self.quiet)
        raise ModelUnavailable("the model server at http://127.0.0.1:9/v1 did not answer within 1 s")


def test_a_model_timeout_hands_over_with_a_clear_line(make_service: Callable[[FakeChatModel], AssistantService]
                                                      ) -> None:
    service = make_service(TimingOutModel.model_validate({}))

    events = list(service.respond(MAYA, None, QUESTION))

    done = events[-1]
    assert isinstance(done, DoneEvent) and done.verdict == "handover"
    assert "can't look that up right now" in done.reply
    assert [e.to_dict()["reason"] for e in events if e.type == "handover"] == ["tool_failure"]
    stored = service.turns.get_turn(done.turn_id)
    assert stored is not None and stored.handover and stored.status == "ok"
    assert any("did not answer" in p for p in stored.trace["problems"])


def test_a_policy_question_is_answered_while_the_model_times_out(
        make_service: Callable[[FakeChatModel], AssistantService]) -> None:
    service = make_service(TimingOutModel.model_validate({}))

    events = list(service.respond(MAYA, None, POLICY_QUESTION))

    done = events[-1]
    assert isinstance(done, DoneEvent) and done.verdict == "fallback" and "30 days" in done.reply
    assert not [e for e in events if e.type in ("handover", "replace")]


def test_a_model_failing_mid_reply_replaces_what_was_streamed(
        make_service: Callable[[FakeChatModel], AssistantService]) -> None:
    before = "Your order NW-100073 has shipped. And then "
    service = make_service(TimingOutModel.model_validate({"before": before, "quiet": 0.5}))

    events = list(service.respond(MAYA, None, QUESTION))

    kinds = [e.type for e in events]
    assert "text" in kinds and "replace" in kinds and kinds.index("text") < kinds.index("replace")
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.reply == events[kinds.index("replace")].to_dict()["text"]


def test_a_full_database_says_it_is_full() -> None:
    error = OperationalError("INSERT INTO turns ...", {}, Exception("database or disk is full"))

    wrapped = _store_error("recording turn t1", error)

    assert "full" in wrapped.user_message and "Free disk space" in wrapped.user_message
    assert "recording turn t1" in str(wrapped)
