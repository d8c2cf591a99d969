"""The openai backend against a real OpenAI-compatible server: llama-cpp-python's, on loopback, bundled GGUF."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from assistant.llm import build_chat_model
from assistant.llm.openai_compat import OpenAIChatModel
from assistant.settings import LLMSettings, OpenAISettings

pytestmark = [pytest.mark.integration, pytest.mark.model]

MESSAGES = [SystemMessage("You are a helpful assistant for an online shoe shop. Answer briefly."),
            HumanMessage("Can I return running shoes I have worn once?")]


@pytest.fixture
def model(llama_server: str, tmp_path: Path) -> OpenAIChatModel:
    settings = LLMSettings(mode="openai", temperature=0, max_new_tokens=24,
                           openai=OpenAISettings(base_url=llama_server, model="local", timeout_s=60))
    built = build_chat_model(settings, tmp_path)
    assert isinstance(built, OpenAIChatModel)
    return built


def test_stream_yields_several_chunks_from_the_server(model: OpenAIChatModel) -> None:
    chunks = [c.text for c in model.stream(MESSAGES) if c.text]

    assert len(chunks) > 1
    assert "".join(chunks).strip()
    assert model.last_usage is not None and model.last_usage.time_to_first_token_s is not None


def test_streamed_and_invoked_greedy_replies_agree(model: OpenAIChatModel) -> None:
    streamed = "".join(c.text for c in model.stream(MESSAGES))

    invoked = model.invoke(MESSAGES)

    assert invoked.content == streamed
    assert invoked.usage_metadata is not None and invoked.usage_metadata["input_tokens"] > 20


def test_max_new_tokens_is_sent_and_respected(model: OpenAIChatModel) -> None:
    model.invoke(MESSAGES, max_new_tokens=5)

    usage = model.last_usage
    assert usage is not None and usage.completion_tokens == 5 and usage.finish_reason == "length"


def test_astream_streams_through_the_async_client(model: OpenAIChatModel) -> None:
    async def collect() -> list[str]:
        return [c.text async for c in model.astream(MESSAGES) if c.text]

    assert len(asyncio.run(collect())) > 1
