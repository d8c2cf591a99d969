"""The scripted chat model for tests (``llm.mode: scripted``): replies come from a queue, calls are recorded.

    model = FakeChatModel()
    model.enqueue(["Your order ships tomorrow.", AIMessage("", tool_calls=[...])])
    model.invoke("Where is my order?")      # -> "Your order ships tomorrow."
    model.calls[0]                          # -> [HumanMessage("Where is my order?")]

Replies stream word by word (whitespace kept), tool calls arrive in a last chunk as tool-call chunks, so
the merged stream equals the scripted message. With the queue empty it answers :data:`DEFAULT_REPLY`,
or raises :class:`~assistant.llm.fake.ScriptExhausted` when ``strict``.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, PrivateAttr

from assistant.llm.base import ConciergeChatModel, text_chunk

DEFAULT_REPLY = "I can help with that."
_WORDS = re.compile(r"\s*\S+\s*|\s+")


def split_words(text: str) -> list[str]:
    """``"a b  c"`` -> ``["a ", "b  ", "c"]``: pieces that join back to the text."""
    return _WORDS.findall(text)



class ScriptExhausted(AssertionError):
    """A strict :class:`~assistant.llm.fake.FakeChatModel` was called with no reply queued.

    An ``AssertionError`` on purpose: it is a test failure, and code that catches ``ConciergeError``
    to fall back must not swallow it.
    """


class FakeChatModel(ConciergeChatModel):
    """A chat model whose replies are scripted with :meth:`enqueue`; every call's messages land in ``calls``."""

    model_name: str = "scripted"
    strict: bool = False
    default_reply: str = DEFAULT_REPLY
    calls: list[list[BaseMessage]] = Field(default_factory=list, exclude=True)
    #: the keyword arguments of each call (``max_new_tokens``, ``tools`` bound with ``bind``, ...)
    call_kwargs: list[dict[str, Any]] = Field(default_factory=list, exclude=True)
    #: OpenAI-format tool schemas from the last :meth:`bind_tools`
    bound_tools: list[dict[str, Any]] = Field(default_factory=list, exclude=True)
    tool_choice: str | None = None
    _queue: deque[AIMessage] = PrivateAttr(default_factory=deque)
    _guard: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "concierge-scripted"

    def enqueue(self, replies: Iterable[str | AIMessage]) -> FakeChatModel:
        """Script the next replies, in order; a string is a plain text reply."""
        with self._guard:
            for reply in replies:
                self._queue.append(AIMessage(content=reply) if isinstance(reply, str) else reply)
        return self

    @property
    def pending(self) -> int:
        """Replies still queued."""
        return len(self._queue)

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: object,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Record the tools (as OpenAI schemas) and return this same model, so a script drives the agent."""
        self.bound_tools = [convert_to_openai_tool(t) for t in tools]
        self.tool_choice = tool_choice
        return self

    def _next_reply(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
        with self._guard:
            self.calls.append(list(messages))
            self.call_kwargs.append(dict(kwargs))
            if self._queue:
                return self._queue.popleft()
        if self.strict:
            last = messages[-1].text if messages else ""
            raise ScriptExhausted(f"FakeChatModel(strict=True) got call {len(self.calls)} with no reply queued; "
                                  f"last message: {last[:200]!r}. Call enqueue([...]) first.")
        return AIMessage(content=self.default_reply)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: object,
    ) -> Iterator[ChatGenerationChunk]:
        reply = self._next_reply(messages, kwargs)
        pieces = split_words(reply.text)
        limit = self._options(stop, kwargs).max_new_tokens
        with self._metered() as meter:
            meter.prompt_tokens = sum(len(split_words(m.text)) for m in messages)
            for piece in pieces[:limit]:
                meter.token()
                yield text_chunk(piece)
            if reply.tool_calls:
                calls = [tool_call_chunk(name=tc["name"], args=json.dumps(tc["args"]), id=tc.get("id"), index=i)
                         for i, tc in enumerate(reply.tool_calls)]
                meter.token(len(calls))
                yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=calls))
            finish = "tool_calls" if reply.tool_calls else ("length" if len(pieces) > limit else "stop")
            usage = meter.finish(finish_reason=finish)
        yield self._usage_chunk(usage)
