"""Factories that build each component from settings, importing heavy libraries only when needed.

Entry points (CLI, web app, tests) call :func:`build_components` once; everything downstream receives
the pieces it needs as arguments. There is no global container.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import ConfigError
from assistant.records import ShopProfile
from assistant.settings import Settings
from knowledge.embeddings import Embedder, build_embedder
from knowledge.knowledge_store import KnowledgeStore, build_chroma_client

if TYPE_CHECKING:  # annotations only: the heavy pieces are imported when first built
    import numpy as np
    from langchain_core.language_models import BaseChatModel

    from assistant.privacy.shopper_data import ShopperData
    from assistant.shop.catalog_index import CatalogCache
    from assistant.shop.shop_import import Progress
    from assistant.staff.accounts import StaffAccounts
    from assistant.staff.analytics import Analytics
    from assistant.staff.copilot import Copilot
    from assistant.staff.copy_review import CopyReview
    from assistant.staff.log_review import LogReview
    from assistant.store.stores import Stores
    from assistant.turn.turn_service import AssistantService
    from knowledge.importing import ImportReport

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

    @cached_property
    def embedder(self) -> Embedder:
        return build_embedder_from(self.settings)

    @cached_property
    def knowledge(self) -> KnowledgeStore:
        return build_knowledge_store(self.settings, self.embedder)

    @cached_property
    def stores(self) -> Stores:
        """The relational stores (schema migrated on first use)."""
        from assistant.store.stores import open_stores

        return open_stores(self.settings.database_url)

    @cached_property
    def catalog(self) -> CatalogCache:
        from assistant.shop.catalog_index import CatalogCache

        return CatalogCache(self.knowledge)

    @cached_property
    def shop_profile(self) -> ShopProfile:
        """Who the shop is (name, currency, locale): as imported with the shop folder (the same for every process
        on this database), else the neutral default; ``app.shop_*`` settings override it. Read again after an
        import (``reload_shop_data``)."""
        from assistant.shop.shop_identity import effective_profile

        return effective_profile(self.stores.shop.get(), self.settings.app,
                                 lambda: [str(p.get("currency") or "") for p in self.catalog.get().products.values()])

    @cached_property
    def llm(self) -> BaseChatModel:
        from assistant.llm.backends import build_chat_model

        return build_chat_model(self.settings.llm, self.settings.model_cache_dir)

    @cached_property
    def assistant(self) -> AssistantService:
        """The turn service, with every component it needs."""
        return build_assistant(self)

    # services the UI calls (REST routers and Gradio views alike) -----------------------------------------
    @cached_property
    def log_review(self) -> LogReview:
        """Search, replay, label and export the interaction log (reviewers)."""
        from assistant.staff.log_review import LogReview

        return LogReview(self.stores.review)

    @cached_property
    def analytics(self) -> Analytics:
        """Figures over the interaction log (reviewers)."""
        from assistant.staff.analytics import Analytics

        return Analytics(self.stores.analytics)

    @cached_property
    def copy_review(self) -> CopyReview:
        """The review queue of generated marketing copy; edits are checked without loading the chat model."""
        from assistant.personalization.copywriter import review_verifier
        from assistant.staff.copy_review import CopyReview

        return CopyReview(self.stores.copy, lambda: review_verifier(self))

    @cached_property
    def copilot(self) -> Copilot:
        """Hand-overs and the agents' copilot; the turn service (and the chat model) is built on first need."""
        from assistant.staff.copilot import Copilot

        return Copilot(stores=self.stores, service_factory=lambda: self.assistant, copy_review=self.copy_review)

    @cached_property
    def privacy(self) -> ShopperData:
        """What is stored about shoppers: the demo list, consent, offer feedback, export and erasure."""
        from assistant.privacy.shopper_data import ShopperData

        return ShopperData(self.stores, on_erased=lambda: self.assistant.deps.recommender.refresh())

    @cached_property
    def staff_accounts(self) -> StaffAccounts:
        """Staff sign-in: passwords and sessions."""
        from assistant.staff.accounts import StaffAccounts

        return StaffAccounts(self.stores.staff)

    def load_demo_if_empty(self) -> list[ImportReport] | None:
        """First start: import the bundled demo shop when the knowledge base and the customers are both empty
        (``None`` if nothing was done); the catalogue is read again either way."""
        from assistant.shop.shop_import import load_demo_if_empty

        k = self.settings.knowledge
        reports = load_demo_if_empty(self.knowledge, self.stores.customers, self.stores.offers,
                                     shop_profiles=self.stores.shop, chunk_size=k.chunk_size, overlap=k.chunk_overlap,
                                     max_document_chars=k.max_document_chars,
                                     max_chunks_per_document=k.max_chunks_per_document,
                                     demo_shop=self.settings.app.demo_shop)
        self.reload_shop_data()
        return reports

    def ingest_shop(self, root: Path, *,
                    progress_for: Callable[[str], Progress | None] = lambda _kind: None) -> list[ImportReport]:
        """Import a whole shop folder (catalogue, policies, customers, offers and its profile, shop.json) into
        this app's stores; the shop data is read again afterwards."""
        from assistant.shop.shop_import import ingest_shop

        k = self.settings.knowledge
        reports = ingest_shop(root, self.knowledge, self.stores.customers, self.stores.offers,
                              shop_profiles=self.stores.shop, chunk_size=k.chunk_size, overlap=k.chunk_overlap,
                              max_bytes=int(k.max_file_mb * 1_000_000), max_document_chars=k.max_document_chars,
                              max_chunks_per_document=k.max_chunks_per_document,
                              progress_for=progress_for)
        self.reload_shop_data()
        return reports

    def reload_shop_data(self) -> None:
        """After an import or an offer edit: the catalogue index is read again, and the turn service (which holds
        the catalogue, the purchase signals and the offer codes it verifies against) is rebuilt on its next use.
        The chat model and the stores are kept."""
        self.catalog.invalidate()
        self.__dict__.pop("assistant", None)
        self.__dict__.pop("shop_profile", None)


def build_components(settings: Settings) -> Components:
    configure_offline()
    settings.app.data_dir.mkdir(parents=True, exist_ok=True)
    return Components(settings)


def build_assistant(
    components: Components,
    *,
    llm: BaseChatModel | None = None,
    offers: Callable[[], Sequence[Mapping[str, Any]]] | None = None,
    now: Callable[[], datetime] | None = None,
    rng: np.random.Generator | None = None,
) -> AssistantService:
    """The service over the components' stores; ``llm``/``offers``/``now`` and the offer policy's random
    generator ``rng`` (a ``numpy.random.Generator``) may be replaced (tests)."""
    from assistant.orders.order_actions import OrderActions
    from assistant.personalization.offer_bandit import OfferChooser, build_policy
    from assistant.personalization.recommender import build_recommender
    from assistant.turn.shop_tools import ShopTools
    from assistant.turn.state import TurnDeps
    from assistant.turn.turn_service import AssistantService
    from assistant.turn.verifier import Verifier

    settings = components.settings
    catalog = components.catalog.get()
    clock = now or (lambda: datetime.now(UTC))
    offer_source = offers or components.stores.offers.all
    if rng is None:
        import numpy as np

        rng = np.random.default_rng(settings.offers.seed)
    chooser = OfferChooser(components.stores.bandit,
                           build_policy(settings.offers.policy, settings.offers.propensity_draws), rng)
    shop_tools = ShopTools(components.knowledge, catalog, components.stores.orders, offer_source, clock,
                           settings.agent.min_relevance, events=components.stores.events, chooser=chooser)
    known_codes = {str(o["code"]) for o in offer_source()}
    deps = TurnDeps(
        settings=settings, shop_tools=shop_tools, catalog=catalog, customers=components.stores.customers,
        llm=llm if llm is not None else components.llm,
        verifier=Verifier(catalog, known_codes, settings.agent.support_threshold, components.embedder),
        recommender=build_recommender(components.knowledge, catalog, components.stores, settings, clock), now=clock,
        stores=components.stores, actions=OrderActions(components.stores.orders, catalog, settings.orders),
        shop=components.shop_profile,
    )
    return AssistantService(deps, components.stores)
