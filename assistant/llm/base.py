"""The chat-model seam: a LangChain ``BaseChatModel`` base with usage accounting.

A backend writes :meth:`ConciergeChatModel._stream` (yielding one chunk per token or word and a last
chunk carrying the usage); ``invoke``, ``stream``, ``astream`` and the non-streaming ``_generate`` come
from here and from LangChain. After each call the model's :attr:`~ConciergeChatModel.last_usage` holds
the call's :class:`Usage`; the same figures ride on the reply as ``usage_metadata`` (token counts) and
``response_metadata["usage"]`` (timings), which is race-free when one model serves several turns.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field

from assistant.errors import ModelUnavailable


@dataclass(frozen=True)
class Usage:
    """What one model call cost: token counts and timings (seconds; ``None`` when not measurable)."""

    prompt_tokens: int
    completion_tokens: int
    #: from the call until the first token of the reply (includes ``wait_s``)
    time_to_first_token_s: float | None
    #: generated tokens after the first, per second of decoding
    decode_tokens_per_s: float | None
    total_s: float
    #: time spent waiting for the model's lock (another call was generating)
    wait_s: float = 0.0
    finish_reason: str | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total_tokens": self.total_tokens}


class UsageMeter:
    """Times and counts one streamed call: ``token()`` per token (or piece) as it arrives, ``finish()`` at the end."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.wait_s = 0.0
        self.first_at: float | None = None
        self.prompt_tokens = 0
        self.tokens = 0

    def waited(self) -> None:
        self.wait_s = time.perf_counter() - self.started

    def token(self, n: int = 1) -> None:
        if self.first_at is None:
            self.first_at = time.perf_counter()
        self.tokens += n

    def finish(self, prompt_tokens: int | None = None, completion_tokens: int | None = None,
               finish_reason: str | None = None) -> Usage:
        """The call's usage; counts default to what was metered."""
        prompt = self.prompt_tokens if prompt_tokens is None else prompt_tokens
        completion = self.tokens if completion_tokens is None else completion_tokens
        end = time.perf_counter()
        ttft = None if self.first_at is None else self.first_at - self.started
        decode = None
        if self.first_at is not None and completion > 1 and end > self.first_at:
            decode = (completion - 1) / (end - self.first_at)
        return Usage(prompt, completion, ttft, decode, end - self.started, self.wait_s, finish_reason)


@dataclass(frozen=True)
class GenerationOptions:
    """Sampling for one call: the model's fields, overridden by keyword arguments of the call."""

    max_new_tokens: int
    temperature: float
    top_p: float
    top_k: int
    seed: int | None
    stop: list[str]

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0


class ConciergeChatModel(BaseChatModel):
    """Base of Concierge's chat models: sampling fields, usage accounting, message flattening."""

    model_name: str = Field("unknown", description="Name of the model, for traces and benchmarks.")
    max_new_tokens: int = 160
    temperature: float = 0.2
    top_p: float = 0.9
    top_k: int = 40
    seed: int | None = 7
    last_usage: Usage | None = Field(None, exclude=True, description="Usage of the most recent call.")

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "max_new_tokens": self.max_new_tokens,
                "temperature": self.temperature, "top_p": self.top_p, "top_k": self.top_k, "seed": self.seed}

    def _options(self, stop: Sequence[str] | None, kwargs: dict[str, Any]) -> GenerationOptions:
        """Per-call overrides: ``max_new_tokens`` (or ``max_tokens``), ``temperature``, ``top_p``, ``top_k``,
        ``seed``."""
        return GenerationOptions(
            max_new_tokens=int(kwargs.get("max_new_tokens", kwargs.get("max_tokens", self.max_new_tokens))),
            temperature=float(kwargs.get("temperature", self.temperature)),
            top_p=float(kwargs.get("top_p", self.top_p)),
            top_k=int(kwargs.get("top_k", self.top_k)),
            seed=kwargs.get("seed", self.seed),
            stop=list(stop or []),
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: object,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop=stop, run_manager=run_manager, **kwargs))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: object,
    ) -> AsyncIterator[ChatGenerationChunk]:
        """Runs the blocking ``_stream`` in one worker thread that hands chunks to the event loop.

        One thread for the whole stream, not one executor hop per token (which halved decode speed on
        two cores). If the consumer stops early, the worker closes the stream, which frees the model.
        """
        loop = asyncio.get_running_loop()
        # chunks, then None (the stream ended) or the exception it raised
        queue: asyncio.Queue[ChatGenerationChunk | BaseException | None] = asyncio.Queue()
        abandoned = threading.Event()

        def send(item: ChatGenerationChunk | BaseException | None) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                abandoned.set()

        def produce() -> None:
            iterator = self._stream(messages, stop, None, **kwargs)
            try:
                for item in iterator:
                    if abandoned.is_set():
                        break
                    send(item)
            except BaseException as e:  # handed to the consumer, raised there
                send(e)
            else:
                send(None)
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()

        worker = loop.run_in_executor(None, produce)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                if item is None:
                    break
                yield item
        finally:
            abandoned.set()
            await worker

    @contextmanager
    def _metered(self) -> Iterator[UsageMeter]:
        """Meter a ``_stream``; if the caller stops reading early, ``last_usage`` still gets what was metered,
        with ``finish_reason="cancelled"`` (the usage chunk at the end of the stream is never reached)."""
        meter = UsageMeter()
        try:
            yield meter
        except GeneratorExit:
            self.last_usage = meter.finish(finish_reason="cancelled")
            raise

    def _usage_chunk(self, usage: Usage) -> ChatGenerationChunk:
        """The last chunk of a stream: no text, the token counts and the timings."""
        self.last_usage = usage
        message = AIMessageChunk(
            content="",
            usage_metadata={"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens,
                            "total_tokens": usage.total_tokens},
            response_metadata={"model_name": self.model_name, "finish_reason": usage.finish_reason,
                               "usage": usage.as_dict()},
            chunk_position="last",
        )
        return ChatGenerationChunk(message=message)


def text_chunk(text: str) -> ChatGenerationChunk:
    return ChatGenerationChunk(message=AIMessageChunk(content=text))


def to_chat_dicts(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """Role/content dicts for a local chat template (plain text; tool results become ``tool`` turns)."""
    out: list[dict[str, str]] = []
    for m in messages:
        if isinstance(m, SystemMessage):
            role = "system"
        elif isinstance(m, HumanMessage):
            role = "user"
        elif isinstance(m, AIMessage):
            role = "assistant"
        elif isinstance(m, ToolMessage):
            role = "tool"
        else:
            role = getattr(m, "role", None) or "user"
        out.append({"role": role, "content": m.text})
    return out


class ModelLock:
    """Serializes calls to a model runtime that is not thread-safe; a wait past ``timeout_s`` is an error.

    A plain ``threading.Lock`` (not an ``RLock``): a stream driven by ``astream`` may acquire it in one
    worker thread and release it in another.
    """

    def __init__(self, name: str, timeout_s: float = 600.0) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, meter: UsageMeter | None = None) -> Iterator[None]:
        if not self._lock.acquire(timeout=self.timeout_s):
            raise ModelUnavailable(f"{self.name} stayed busy for more than {self.timeout_s:.0f} s")
        if meter is not None:
            meter.waited()
        try:
            yield
        finally:
            self._lock.release()
