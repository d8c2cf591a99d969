"""Scale-out backend: any OpenAI-compatible chat completions server (vLLM, TGI, Ollama, llama.cpp server).

Written on the ``openai`` client directly (``langchain-openai`` is not a dependency). Streams text and
tool-call deltas, asks for usage in the stream (servers that ignore ``stream_options`` get the reply
counted), supports ``bind_tools`` (LangChain tools, functions, pydantic models or OpenAI tool dicts)
with the calls parsed into ``AIMessage.tool_calls``, and has native async paths for the web app.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, convert_to_openai_messages
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr, SecretStr

from assistant.errors import ConciergeError, ConfigError, ModelUnavailable, PromptTooLong
from assistant.llm.base import ConciergeChatModel, UsageMeter, text_chunk

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI
    from openai.types import CompletionUsage
    from openai.types.chat import ChatCompletion, ChatCompletionChunk


def _openai() -> Any:
    try:
        import openai
    except ImportError as e:
        raise ConfigError("llm.mode openai needs the openai package: pip install openai") from e
    return openai


@dataclass
class _StreamEnd:
    """What a stream's chunks say about the whole call: the server's usage (if it sends one) and why it stopped."""

    usage: CompletionUsage | None = None
    finish: str | None = None


class OpenAIChatModel(ConciergeChatModel):
    """Chat completions over HTTP; ``model_name`` is the model name sent to the server."""

    base_url: str = "http://127.0.0.1:8080/v1"
    api_key: SecretStr = SecretStr("not-needed")
    timeout_s: float = 60.0
    max_retries: int = 1
    #: extra JSON fields for every request, e.g. ``{"top_k": 40}`` for servers that accept it
    extra_body: dict[str, Any] | None = None
    _client: OpenAI | None = PrivateAttr(None)
    _aclients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncOpenAI] = PrivateAttr(
        default_factory=weakref.WeakKeyDictionary)

    @property
    def _llm_type(self) -> str:
        return "concierge-openai"

    def _client_kwargs(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "api_key": self.api_key.get_secret_value(), "timeout": self.timeout_s,
                "max_retries": self.max_retries}

    @property
    def client(self) -> OpenAI:
        if self._client is None:
            self._client = _openai().OpenAI(**self._client_kwargs())
        return self._client

    def _async_client(self) -> AsyncOpenAI:
        """One ``AsyncOpenAI`` per event loop (its connection pool belongs to the loop)."""
        loop = asyncio.get_running_loop()
        client = self._aclients.get(loop)
        if client is None:
            client = self._aclients[loop] = _openai().AsyncOpenAI(**self._client_kwargs())
        return client

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: object,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Send ``tools`` with every request; ``tool_choice`` is auto, none, any/required or a tool's name."""
        formatted = [convert_to_openai_tool(t) for t in tools]
        if tool_choice is not None:
            if tool_choice == "any":
                tool_choice = "required"
            kwargs["tool_choice"] = tool_choice if tool_choice in ("auto", "none", "required") else {
                "type": "function", "function": {"name": tool_choice}}
        return self.bind(tools=formatted, **kwargs)

    def _params(self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any],
                stream: bool) -> dict[str, Any]:
        opts = self._options(stop, kwargs)
        params: dict[str, Any] = {
            "model": self.model_name, "messages": convert_to_openai_messages(messages),
            "max_tokens": opts.max_new_tokens, "temperature": opts.temperature, "top_p": opts.top_p,
            "stream": stream,
        }
        if opts.seed is not None:
            params["seed"] = opts.seed
        if opts.stop:
            params["stop"] = opts.stop
        for key in ("tools", "tool_choice", "parallel_tool_calls", "response_format"):
            if kwargs.get(key) is not None:
                params[key] = kwargs[key]
        if stream:
            params["stream_options"] = {"include_usage": True}
        if self.extra_body:
            params["extra_body"] = self.extra_body
        return params

    # -- errors -----------------------------------------------------------------------------------

    def _wrap(self, e: Exception) -> ConciergeError:
        openai = _openai()
        where = f"the model server at {self.base_url}"
        if isinstance(e, openai.AuthenticationError | openai.PermissionDeniedError):
            return ConfigError(f"{where} rejected the API key ({e}): set CONCIERGE_LLM__OPENAI__API_KEY")
        if isinstance(e, openai.NotFoundError):
            return ConfigError(f"{where} has no model {self.model_name!r} or no chat completions endpoint ({e}): "
                               "check CONCIERGE_LLM__OPENAI__MODEL and CONCIERGE_LLM__OPENAI__BASE_URL (.../v1)")
        if isinstance(e, openai.BadRequestError) and "context" in str(e).lower():
            return PromptTooLong(f"{where} says the prompt is too long: {e}")
        if isinstance(e, openai.APITimeoutError):
            return ModelUnavailable(f"{where} did not answer within {self.timeout_s:g} s")
        if isinstance(e, openai.APIConnectionError):
            return ModelUnavailable(f"cannot reach {where}: is it running? ({e})")
        return ModelUnavailable(f"{where} failed: {e}")

    # -- parsing ----------------------------------------------------------------------------------

    def _chunks(self, part: ChatCompletionChunk, meter: UsageMeter, end: _StreamEnd) -> Iterator[ChatGenerationChunk]:
        """Chunks for one streamed ``ChatCompletionChunk``; ``end`` gathers usage and finish reason."""
        if getattr(part, "usage", None) is not None:
            end.usage = part.usage
        for choice in part.choices[:1]:
            end.finish = choice.finish_reason or end.finish
            delta = choice.delta
            if delta.content:
                meter.token()
                yield text_chunk(delta.content)
            if delta.tool_calls:
                meter.token()
                calls = [tool_call_chunk(name=tc.function.name if tc.function else None,
                                         args=tc.function.arguments if tc.function else None,
                                         id=tc.id, index=tc.index) for tc in delta.tool_calls]
                yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=calls))

    def _finish(self, meter: UsageMeter, end: _StreamEnd) -> ChatGenerationChunk:
        usage = end.usage  # servers that ignore stream_options: the streamed pieces are counted
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion = int(getattr(usage, "completion_tokens", 0) or meter.tokens)
        return self._usage_chunk(meter.finish(prompt, completion, end.finish))

    def _result(self, response: ChatCompletion, meter: UsageMeter) -> ChatResult:
        choice = response.choices[0]
        message = choice.message
        calls, invalid = [], []
        for tc in message.tool_calls or []:
            fn = getattr(tc, "function", None)
            if fn is None:
                continue
            try:
                args = json.loads(fn.arguments or "{}")
                if not isinstance(args, dict):
                    raise ValueError("arguments are not a JSON object")
                calls.append(tool_call(name=fn.name, args=args, id=tc.id))
            except ValueError as e:
                invalid.append(invalid_tool_call(name=fn.name, args=fn.arguments, id=tc.id, error=str(e)))
        usage_info = response.usage
        meter.token(0)  # not streamed: the first token is seen with the whole reply
        usage = meter.finish(int(getattr(usage_info, "prompt_tokens", 0) or 0),
                             int(getattr(usage_info, "completion_tokens", 0) or 0), choice.finish_reason)
        self.last_usage = usage
        ai = AIMessage(
            content=message.content or "", tool_calls=calls, invalid_tool_calls=invalid,
            usage_metadata={"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens,
                            "total_tokens": usage.total_tokens},
            response_metadata={"model_name": response.model or self.model_name,
                               "finish_reason": choice.finish_reason, "usage": usage.as_dict()},
        )
        return ChatResult(generations=[ChatGeneration(message=ai)])

    # -- the four call paths ----------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: object,
    ) -> ChatResult:
        meter = UsageMeter()
        try:
            response = self.client.chat.completions.create(**self._params(messages, stop, kwargs, stream=False))
        except _openai().OpenAIError as e:
            raise self._wrap(e) from e
        return self._result(response, meter)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: object,
    ) -> ChatResult:
        meter = UsageMeter()
        try:
            response = await self._async_client().chat.completions.create(
                **self._params(messages, stop, kwargs, stream=False))
        except _openai().OpenAIError as e:
            raise self._wrap(e) from e
        return self._result(response, meter)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: object,
    ) -> Iterator[ChatGenerationChunk]:
        end = _StreamEnd()
        with self._metered() as meter:
            try:
                with self.client.chat.completions.create(**self._params(messages, stop, kwargs, stream=True)) as parts:
                    for part in parts:
                        yield from self._chunks(part, meter, end)
            except _openai().OpenAIError as e:
                raise self._wrap(e) from e
            last = self._finish(meter, end)
        yield last

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: object,
    ) -> AsyncIterator[ChatGenerationChunk]:
        meter, end = UsageMeter(), _StreamEnd()
        try:
            parts = await self._async_client().chat.completions.create(
                **self._params(messages, stop, kwargs, stream=True))
            async with parts:
                async for part in parts:
                    for chunk in self._chunks(part, meter, end):
                        yield chunk
        except _openai().OpenAIError as e:
            raise self._wrap(e) from e
        except (GeneratorExit, asyncio.CancelledError):
            self.last_usage = meter.finish(finish_reason="cancelled")
            raise
        yield self._finish(meter, end)
