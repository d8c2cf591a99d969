"""``llm.mode: openai`` against llama.cpp's own server (``llama-server``, parallel slots, continuous batching) on the
bundled GGUF: the shared model server of the scale-out topology. Skipped until the binary is built with
``bash scripts/build_model_server.sh`` (512 s on 2 shared cores, so scripts/test.sh does not build it)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from assistant.llm import build_chat_model
from assistant.llm.openai_compat import OpenAIChatModel
from assistant.settings import LLMSettings, OpenAISettings
from tests.integration.llama_server import BUILD_SCRIPT, llama_server_binary, llama_server_served

pytestmark = [pytest.mark.integration, pytest.mark.model]

QUESTIONS = ["Can I return running shoes I have worn once?", "How long does standard shipping take?"]


@pytest.fixture(scope="module")
def llama_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = llama_server_binary()
    if binary is None:
        pytest.skip(f"llama-server is not built for the installed llama-cpp-python: run bash {BUILD_SCRIPT}")
    with llama_server_served(binary, tmp_path_factory.mktemp("llama-server") / "server.log", parallel=2) as url:
        yield url


@pytest.fixture
def model(llama_server_url: str, tmp_path: Path) -> OpenAIChatModel:
    settings = LLMSettings(mode="openai", temperature=0, max_new_tokens=48,
                           openai=OpenAISettings(base_url=llama_server_url, model="local", timeout_s=60))
    built = build_chat_model(settings, tmp_path)
    assert isinstance(built, OpenAIChatModel)
    return built


def messages(question: str) -> list[SystemMessage | HumanMessage]:
    return [SystemMessage("You are a helpful assistant for an online shoe shop. Answer briefly."),
            HumanMessage(question)]


def test_two_concurrent_requests_both_stream_real_text_at_the_same_time(model: OpenAIChatModel) -> None:
    barrier = threading.Barrier(len(QUESTIONS))
    chunks: dict[int, list[tuple[float, str]]] = {i: [] for i in range(len(QUESTIONS))}
    errors: list[BaseException] = []

    def ask(i: int) -> None:
        try:
            barrier.wait()
            for chunk in model.stream(messages(QUESTIONS[i])):
                if chunk.text:
                    chunks[i].append((time.monotonic(), chunk.text))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(QUESTIONS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    assert not errors, errors
    replies = ["".join(text for _, text in chunks[i]).strip() for i in range(len(QUESTIONS))]
    for reply in replies:
        assert len(reply.split()) >= 5, replies  # real text, not an empty or one-token reply
    assert replies[0] != replies[1]
    # parallel slots: each stream's first text arrives before the other stream's last one (one slot, or a
    # server that answers one request at a time, finishes the first reply before the second starts)
    starts = [chunks[i][0][0] for i in range(2)]
    ends = [chunks[i][-1][0] for i in range(2)]
    assert starts[0] < ends[1] and starts[1] < ends[0], (starts, ends)

