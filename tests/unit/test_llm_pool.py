"""The llama.cpp pool: generations run on separate instances at once and share the CPU threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from assistant.llm import ModelUnavailable
from assistant.llm.llamacpp import LlamaCppChatModel, LlamaPool

WAIT_S = 10.0  # only reached when the behaviour under test is broken


class FakeLlama:
    """Streams the words of ``reply``; ``gate`` (when set) must open before each token after the first."""

    def __init__(self, name: str, reply: str = "One two three four.") -> None:
        self.name, self.reply = name, reply
        self.n_tokens = 0
        self.started = threading.Event()
        self.gate: threading.Event | None = None

    def create_chat_completion(self, chat: list[dict[str, str]], **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.n_tokens = 10  # the prompt
        words = self.reply.split(" ")
        for i, word in enumerate(words):
            if i == 1:
                self.started.set()
                if self.gate is not None:
                    assert self.gate.wait(WAIT_S), "the other generation never ran alongside"
            self.n_tokens += 1
            yield {"choices": [{"delta": {"content": word + " "}, "finish_reason": None}]}
        yield {"choices": [{"delta": {}, "finish_reason": "stop"}]}


def pool_model(instances: list[FakeLlama], threads: int = 2) -> tuple[LlamaCppChatModel, list[tuple[str, int]]]:
    calls: list[tuple[str, int]] = []
    pool = LlamaPool("fake", list(instances), threads, timeout_s=WAIT_S,
                     set_threads=lambda llama, n: calls.append((llama.name, n)))
    model = LlamaCppChatModel(model_path="fake.gguf")
    model._pool = pool
    return model, calls


def test_two_generations_run_at_once_on_two_instances() -> None:
    a, b = FakeLlama("a"), FakeLlama("b")
    model, threads = pool_model([a, b])
    replies: dict[str, str] = {}

    def ask(key: str) -> None:
        replies[key] = str(model.invoke([HumanMessage("hi")]).content)

    # whichever instance the first call gets waits, after its first token, for the other to start
    a.gate, b.gate = b.started, a.started
    workers = [threading.Thread(target=ask, args=(k,)) for k in "xy"]
    for w in workers:
        w.start()
    for w in workers:
        w.join(WAIT_S * 2)

    assert replies == {"x": "One two three four. ", "y": "One two three four. "}
    assert a.started.is_set() and b.started.is_set()
    # the second started while the first was generating (it waits for that): it got one thread of two
    assert {name for name, _ in threads} == {"a", "b"} and any(n == 1 for _, n in threads)
    assert model.pool.busy == 0 and len(model.pool._free) == 2


def test_one_generation_alone_uses_every_thread() -> None:
    model, threads = pool_model([FakeLlama("a"), FakeLlama("b")], threads=4)

    model.invoke([HumanMessage("hi")])

    assert threads == [("b", 4)]  # the last returned instance (warmest cache), all threads, never re-set
    assert model.last_usage is not None and model.last_usage.finish_reason == "stop"


def test_a_single_instance_is_left_alone() -> None:
    model, threads = pool_model([FakeLlama("a")])

    model.invoke([HumanMessage("hi")])

    assert threads == []  # the threads it was loaded with


def test_a_caller_that_stops_early_frees_the_instance_and_records_a_cancelled_call() -> None:
    model, _ = pool_model([FakeLlama("a")])

    stream = model.stream([HumanMessage("hi")])
    next(stream)
    assert model.pool.busy == 1
    stream.close()

    assert model.pool.busy == 0
    assert model.last_usage is not None and model.last_usage.finish_reason == "cancelled"


def test_threads_are_shared_among_the_generations_running() -> None:
    pool = LlamaPool("fake", [object(), object(), object()], threads=2)

    with pool.hold():
        alone = pool.threads_now()
        with pool.hold(), pool.hold():
            three = pool.threads_now()

    assert (alone, three) == (2, 1)


def test_a_pool_that_stays_busy_is_an_error() -> None:
    pool = LlamaPool("llama.cpp model x", [object()], threads=2, timeout_s=0.05)

    with pool.hold(), pytest.raises(ModelUnavailable, match="stayed busy"), pool.hold():
        pass


class ThreadNoting(FakeLlama):
    """Notes the thread each generation runs on (llama.cpp's OpenMP team belongs to that thread)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.threads: list[threading.Thread] = []

    def create_chat_completion(self, chat: list[dict[str, str]], **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.threads.append(threading.current_thread())
        yield from super().create_chat_completion(chat, **kwargs)


def test_each_generation_runs_on_a_thread_of_its_own_that_ends_with_it() -> None:
    # llama.cpp is built with OpenMP: a thread that has generated keeps its OpenMP team for as long as it lives, and
    # with more such threads than cores every later generation's barriers sleep instead of spinning (decoding at a
    # third of its speed, bench/turn.py). So no generation runs on the caller's thread (a web server's worker thread,
    # the CLI's main thread, which live on): each gets a thread that ends with it.
    llama = ThreadNoting("a")
    model, _ = pool_model([llama])

    first = str(model.invoke([HumanMessage("hi")]).content)
    stream = model.stream([HumanMessage("hi")])
    next(stream)
    stream.close()

    assert first == "One two three four. "
    assert len(llama.threads) == 2 and threading.current_thread() not in llama.threads
    assert llama.threads[0] is not llama.threads[1]
    for thread in llama.threads:
        thread.join(WAIT_S)
        assert not thread.is_alive()


def test_an_error_of_the_generation_reaches_the_caller() -> None:
    class Failing(FakeLlama):
        def create_chat_completion(self, chat: list[dict[str, str]], **kwargs: Any) -> Iterator[dict[str, Any]]:
            yield {"choices": [{"delta": {"content": "Partly "}, "finish_reason": None}]}
            raise ValueError("Requested tokens (3000) exceed context window of 2048")

    model, _ = pool_model([Failing("a")])

    with pytest.raises(Exception, match="context window"):
        model.invoke([HumanMessage("hi")])
    assert model.pool.busy == 0


def test_warming_evaluates_the_prompt_on_the_instance_the_next_generation_gets() -> None:
    class Noting(FakeLlama):
        def __init__(self, name: str) -> None:
            super().__init__(name)
            self.calls: list[tuple[list[dict[str, str]], dict[str, Any]]] = []

        def create_chat_completion(self, chat: list[dict[str, str]], **kwargs: Any) -> Iterator[dict[str, Any]]:
            self.calls.append((chat, kwargs))
            yield from super().create_chat_completion(chat, **kwargs)

    a, b = Noting("a"), Noting("b")
    model, _ = pool_model([a, b])

    model.warm([HumanMessage("hi")])
    model.invoke([HumanMessage("hello")])

    warmed = a if a.calls else b
    assert [c[0] for c in warmed.calls] == [[{"role": "user", "content": "hi"}], [{"role": "user", "content": "hello"}]]
    assert warmed.calls[0][1]["max_tokens"] == 1 and model.pool.busy == 0
