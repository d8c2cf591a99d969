"""The chat-model seam: LangChain chat models for the bundled GGUF, an OpenAI-compatible server, or a script.

``build_chat_model(settings.llm, settings.model_cache_dir)`` picks the backend by ``llm.mode``:

- ``llamacpp`` (default): :class:`~assistant.llm.llamacpp.LlamaCppChatModel`, llama-cpp-python in-process;
- ``transformers``: :class:`~assistant.llm.hf.TransformersChatModel`, the GGUF de-quantized (cached), int8;
- ``openai``: :class:`~assistant.llm.openai_compat.OpenAIChatModel`, any OpenAI-compatible server;
- ``scripted``: :class:`~assistant.llm.fake.FakeChatModel`, the test fake.

All are :class:`ConciergeChatModel` (a LangChain ``BaseChatModel``): ``invoke``/``stream``/``astream`` work as
usual, each reply carries ``usage_metadata`` and ``response_metadata["usage"]``, and ``model.last_usage`` is
the :class:`Usage` of the latest call. Failures raise :class:`ModelUnavailable` (or :class:`PromptTooLong`);
a missing model file or library raises ``assistant.errors.ConfigError``. Heavy libraries (llama_cpp, torch,
transformers, openai) are imported only by the backend that needs them.
"""

from assistant.errors import ModelUnavailable, PromptTooLong
from assistant.llm.backends import MODES, build_chat_model, bundled_gguf_path, model_file
from assistant.llm.base import ConciergeChatModel, Usage
from assistant.llm.fake import DEFAULT_REPLY, FakeChatModel, ScriptExhausted

__all__ = [
    "DEFAULT_REPLY",
    "MODES",
    "ConciergeChatModel",
    "FakeChatModel",
    "ModelUnavailable",
    "PromptTooLong",
    "ScriptExhausted",
    "Usage",
    "build_chat_model",
    "bundled_gguf_path",
    "model_file",
]
