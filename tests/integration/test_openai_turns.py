"""Chat turns through the ``openai`` backend in ``graph`` mode: llama-cpp-python's OpenAI-compatible server on
loopback serves the bundled GGUF, the demo shop runs on the real embeddings, and the reply streams."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.components import build_assistant
from assistant.domain import DoneEvent, Event, ShopperIdentity
from assistant.evaluation import DEMO_NOW
from assistant.llm import build_chat_model
from assistant.llm.openai_compat import OpenAIChatModel
from assistant.settings import LLMSettings, OpenAISettings
from assistant.turn.turn_service import AssistantService

pytestmark = [pytest.mark.integration, pytest.mark.model]

MAYA = ShopperIdentity("C001")


@pytest.fixture(scope="module")
def llm(llama_server: str, tmp_path_factory: pytest.TempPathFactory) -> OpenAIChatModel:
    settings = LLMSettings(mode="openai", temperature=0, openai=OpenAISettings(base_url=llama_server, model="local"))
    built = build_chat_model(settings, Path(tmp_path_factory.mktemp("openai-cache")))
    assert isinstance(built, OpenAIChatModel)
    return built


@pytest.fixture(scope="module")
def service(real_demo_shop: Any, llm: OpenAIChatModel) -> AssistantService:
    assert real_demo_shop.settings.agent.mode == "graph"
    return build_assistant(real_demo_shop, llm=llm, now=lambda: DEMO_NOW)


def turn(service: AssistantService, message: str) -> tuple[list[Event], DoneEvent]:
    events = list(service.respond(MAYA, None, message))
    done = events[-1]
    assert isinstance(done, DoneEvent)
    return events, done


def test_a_policy_answer_is_built_from_its_source_and_streamed_without_the_model(service: AssistantService,
                                                                                llm: OpenAIChatModel) -> None:
    from assistant.turn.built_answers import BUILT

    before = llm.last_usage
    events, done = turn(service, "How long do I have to return something?")

    stored = service.turns.get_turn(done.turn_id)
    assert "30 days" in done.reply
    kinds = [e.type for e in events]
    assert "text" in kinds and "replace" not in kinds  # what the shopper saw, as it came, never swapped
    assert any(s["source"] == "returns-and-refunds.md" for e in events if e.type == "sources"
               for s in e.to_dict()["sources"])
    assert llm.last_usage is before  # the policy's own sentences: the model server was not asked
    assert stored is not None and BUILT in stored.trace["problems"]


def test_an_order_question_is_answered_from_the_store_through_the_server(service: AssistantService,
                                                                         llm: OpenAIChatModel) -> None:
    _, done = turn(service, "Where is my order NW-100073?")

    assert "shipped" in done.reply.lower() or "1Z5GAGTR0388899375" in done.reply
    assert done.verdict in ("pass", "fallback")
    stored = service.turns.get_turn(done.turn_id)
    assert llm.last_usage is not None and llm.last_usage.time_to_first_token_s is not None  # streamed by the server
    assert stored is not None and stored.trace["raw_model_text"]
