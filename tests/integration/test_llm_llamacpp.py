"""The llamacpp backend with the real bundled SmolLM2-135M-Instruct GGUF."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from assistant.llm import PromptTooLong, build_chat_model
from assistant.llm.llamacpp import LlamaCppChatModel
from assistant.settings import LLMSettings

pytestmark = [pytest.mark.integration, pytest.mark.model]

MESSAGES = [SystemMessage("You are a helpful assistant for an online shoe shop. Answer briefly."),
            HumanMessage("Can I return running shoes I have worn once?")]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> LlamaCppChatModel:
    built = build_chat_model(LLMSettings(temperature=0, max_new_tokens=24), tmp_path_factory.mktemp("models"))
    assert isinstance(built, LlamaCppChatModel)
    return built


def test_stream_yields_several_token_chunks(model: LlamaCppChatModel) -> None:
    chunks = [c.text for c in model.stream(MESSAGES) if c.text]

    assert len(chunks) > 1
    assert "".join(chunks).strip()


def test_greedy_output_is_repeatable(model: LlamaCppChatModel) -> None:
    first = model.invoke(MESSAGES).content

    second = model.invoke(MESSAGES).content

    assert first == second


def test_max_new_tokens_bounds_the_reply(model: LlamaCppChatModel) -> None:
    model.invoke(MESSAGES, max_new_tokens=5)

    usage = model.last_usage
    assert usage is not None and usage.completion_tokens <= 5
    assert usage.finish_reason == "length" and usage.completion_tokens == 5


def test_usage_is_recorded_for_the_trace(model: LlamaCppChatModel) -> None:
    reply = model.invoke(MESSAGES)

    usage = model.last_usage
    assert usage is not None and usage.prompt_tokens > 20 and usage.completion_tokens > 1
    assert usage.time_to_first_token_s is not None and usage.decode_tokens_per_s is not None
    assert reply.usage_metadata is not None and reply.usage_metadata["input_tokens"] == usage.prompt_tokens
    assert reply.response_metadata["model_name"] == "SmolLM2-135M-Instruct.Q4_1"


def test_astream_yields_the_same_greedy_reply(model: LlamaCppChatModel) -> None:
    expected = model.invoke(MESSAGES).content

    async def collect() -> str:
        return "".join([c.text async for c in model.astream(MESSAGES)])

    assert asyncio.run(collect()) == expected


def test_concurrent_calls_are_serialized_and_both_complete(model: LlamaCppChatModel) -> None:
    expected = model.invoke(MESSAGES).content
    replies: list[str] = []

    def ask() -> None:
        replies.append(str(model.invoke(MESSAGES).content))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert replies == [expected, expected]


def test_an_abandoned_stream_records_its_usage_and_frees_the_model(model: LlamaCppChatModel) -> None:
    stream = model.stream(MESSAGES)
    next(stream)
    stream.close()
    usage = model.last_usage

    assert usage is not None and usage.finish_reason == "cancelled" and usage.completion_tokens >= 1
    assert model.invoke(MESSAGES, max_new_tokens=3).content


def test_models_built_twice_share_one_loaded_llama(model: LlamaCppChatModel, tmp_path: Path) -> None:
    again = build_chat_model(LLMSettings(temperature=0, max_new_tokens=24), tmp_path)

    assert isinstance(again, LlamaCppChatModel) and again.llama is model.llama


def test_a_prompt_longer_than_the_context_window_is_prompt_too_long(tmp_path: Path) -> None:
    small = build_chat_model(LLMSettings(context_window=256, temperature=0), tmp_path)

    with pytest.raises(PromptTooLong):
        small.invoke([HumanMessage("shoes " * 400)])


def test_a_generation_runs_on_a_thread_of_its_own_not_the_callers(model: LlamaCppChatModel,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # llama.cpp's OpenMP team stays with the thread that generated for as long as it lives: a generation on the
    # caller's thread (here pytest's main thread) made every later generation of the process decode at a third of
    # its speed (bench/turn.py). Each generation gets a thread that ends with it.
    threads: list[threading.Thread] = []
    for llama in model.pool.instances:
        real = llama.create_chat_completion

        def noting(*args: object, real: object = real, **kwargs: object) -> object:
            threads.append(threading.current_thread())
            return real(*args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(llama, "create_chat_completion", noting)

    reply = model.invoke(MESSAGES).content

    assert str(reply).strip()
    assert len(threads) == 1 and threads[0] is not threading.current_thread()
    threads[0].join(5)
    assert not threads[0].is_alive()


def test_a_warmed_system_prompt_is_not_evaluated_again_by_the_next_prompt(model: LlamaCppChatModel,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    system = SystemMessage("You are the assistant of a shop selling kettles. Answer in one short sentence, using "
                           "only the facts given.")
    model.invoke([SystemMessage("Another system prompt, so nothing of the one above is in the cache."),
                  HumanMessage("Hi")])
    evaluated: list[int] = []
    for llama in model.pool.instances:
        real = llama.eval

        def noting(tokens: list[int], real: object = real) -> object:
            evaluated.append(len(tokens))
            return real(tokens)  # type: ignore[operator]

        monkeypatch.setattr(llama, "eval", noting)

    model.warm([system, HumanMessage("Hello")])
    warm_prefill = evaluated[0]
    evaluated.clear()
    model.invoke([system, HumanMessage("Is the steel kettle in stock?")])

    # the question's own tokens (and the chat template's around them) are evaluated, not the system prompt again
    assert evaluated[0] < warm_prefill / 2
