"""Factories that build each component from settings, importing heavy libraries only when needed.

Entry points (CLI, web app, tests) call :func:`build_components` once; everything downstream receives
the pieces it needs as arguments. There is no global container.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from assistant.errors import ConfigError
from assistant.settings import Settings
from knowledge.embeddings import Embedder, build_embedder
from knowledge.store import KnowledgeStore, build_chroma_client

log = logging.getLogger(__name__)


def configure_offline() -> None:
    """Nothing may reach a model hub at run time: the models come from installed packages."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def limit_torch_threads(settings: Settings) -> None:
    """Serving processes: torch's OpenMP threads to ``app.torch_threads`` (``OMP_NUM_THREADS``, read when the
    OpenMP runtime starts, so set before torch or llama.cpp load; llama.cpp passes its own thread count)."""
    threads = settings.app.torch_threads
    if threads and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        if "torch" in sys.modules:  # too late for the default: this thread at least
            sys.modules["torch"].set_num_threads(threads)


def build_embedder_from(settings: Settings) -> Embedder:
    s = settings.embeddings
    try:
        return build_embedder(
            s.mode, model_path=s.model_path, batch_size=s.batch_size, dimensions=s.dimensions,
            query_cache_size=s.query_cache_size,
        )
    except ValueError as e:
        raise ConfigError(str(e)) from e


def build_knowledge_store(settings: Settings, embedder: Embedder) -> KnowledgeStore:
    k = settings.knowledge
    try:
        client = build_chroma_client(k.mode, settings.chroma_path, k.server_url)
    except ValueError as e:
        raise ConfigError(str(e)) from e
    return KnowledgeStore(client, embedder, prefix=k.collection_prefix, batch_size=k.batch_size)


@dataclass
class Components:
    """The app's long-lived pieces, built lazily so a command pays only for what it uses."""

    settings: Settings
    _cache: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def embedder(self) -> Embedder:
        return build_embedder_from(self.settings)

    @cached_property
    def knowledge(self) -> KnowledgeStore:
        return build_knowledge_store(self.settings, self.embedder)

    @cached_property
    def stores(self) -> Any:
        """The relational stores (schema migrated on first use)."""
        from assistant.store.factory import open_stores

        return open_stores(self.settings.database_url)

    @cached_property
    def catalog(self) -> Any:
        from assistant.catalog import CatalogCache

        return CatalogCache(self.knowledge)

    @cached_property
    def llm(self) -> Any:
        from assistant.llm.factory import build_chat_model

        return build_chat_model(self.settings.llm, self.settings.model_cache_dir)

    @cached_property
    def assistant(self) -> Any:
        """The turn service, with every component it needs."""
        from assistant.wiring import build_assistant

        return build_assistant(self)

    def reload_shop_data(self) -> None:
        """After an import or an offer edit: the catalogue index is read again, and the turn service (which holds
        the catalogue, the purchase signals and the offer codes it verifies against) is rebuilt on its next use.
        The chat model and the stores are kept."""
        self.catalog.invalidate()
        self.__dict__.pop("assistant", None)


def build_components(settings: Settings) -> Components:
    configure_offline()
    settings.app.data_dir.mkdir(parents=True, exist_ok=True)
    return Components(settings)
