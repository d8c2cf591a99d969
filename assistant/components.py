"""Factories that build each component from settings, importing heavy libraries only when needed.

Entry points (CLI, web app, tests) call :func:`build_components` once; everything downstream receives
the pieces it needs as arguments. There is no global container.

What is built from shop data (the catalogue index, the turn service with its offer codes and purchase signals, the
shop's profile) is cached here and kept current across processes: a read of one of them first looks (at most every
``data_check_s``) at the database's shop data versions (``assistant.store.data_versions``) and reloads only the kinds
another process changed. Replicas and the CLI on one database thus agree within about a second.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from assistant.errors import ConfigError, StoreError
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
    from assistant.staff.handover_notice import HandoverNotifier
    from assistant.staff.log_review import LogReview
    from assistant.store.data_versions import DataVersionStore, DataWatch
    from assistant.store.stores import Stores
    from assistant.turn.turn_service import AssistantService
    from knowledge.importing import ImportReport

log = logging.getLogger(__name__)
T = TypeVar("T")
#: how often at most a process asks the database whether another process changed shop data (seconds)
DATA_CHECK_S = 1.0
#: import report kind -> the kind of shop data it changes
REPORT_KINDS = {"catalog": "catalog", "policies": "policies", "customers": "purchases", "offers": "offers",
                "shop": "shop"}
ALL_SHOP_DATA = ("catalog", "policies", "offers", "purchases", "shop")  # = data_versions.SHOP_DATA_KINDS


class shop_data_cache(Generic[T]):  # noqa: N801 - used like functools.cached_property
    """Like ``cached_property`` for what is built from shop data: every read first lets the components check
    whether shop data changed (``Components.sync_shop_data``, which may drop the value). A value put in the
    instance's ``__dict__`` (tests) wins and is left alone, as with ``cached_property``."""

    def __init__(self, build: Callable[[Components], T]) -> None:
        self.build = build
        self.__doc__ = build.__doc__
        self.name = build.__name__

    def __set_name__(self, _owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> shop_data_cache[T]: ...
    @overload
    def __get__(self, obj: Components, objtype: type | None = None) -> T: ...

    def __get__(self, obj: Components | None, objtype: type | None = None) -> T | shop_data_cache[T]:
        if obj is None:
            return self
        with obj._building:
            if not obj._build_depth:  # only the outermost read: a half-built value must not miss a change
                obj.sync_shop_data()
            if self.name not in obj._shop_built:
                obj._build_depth += 1
                try:
                    obj._shop_built[self.name] = self.build(obj)
                finally:
                    obj._build_depth -= 1
            return obj._shop_built[self.name]


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
            query_cache_size=s.query_cache_size,  # the ONNX export: one per machine (XDG_CACHE_HOME), not per data dir
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
    #: how often at most this process checks the shop data versions (seconds)
    data_check_s: float = DATA_CHECK_S
    _shop_built: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _building: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)
    _build_depth: int = field(default=0, init=False, repr=False)

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

    @shop_data_cache
    def catalog(self) -> CatalogCache:
        """The catalogue index, loaded from the knowledge base on first use and after a change."""
        from assistant.shop.catalog_index import CatalogCache

        return CatalogCache(self.knowledge)

    @shop_data_cache
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

    @shop_data_cache
    def assistant(self) -> AssistantService:
        """The turn service, with every component it needs."""
        return build_assistant(self)

    @cached_property
    def data_versions(self) -> DataVersionStore:
        """The shop data versions every process on this database shares."""
        from assistant.store.data_versions import DataVersionStore
        from assistant.store.db import session_factory

        return DataVersionStore(session_factory(self.stores.engine))

    @cached_property
    def data_watch(self) -> DataWatch:
        from assistant.store.data_versions import DataWatch

        return DataWatch(self.data_versions.versions, self.data_check_s)

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

        return Analytics(self.stores.analytics, quiet=timedelta(minutes=self.settings.csat.quiet_minutes))

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
    def handover_notifier(self) -> HandoverNotifier:
        """Tells agents of new hand-overs (support.webhook_url), from one background thread."""
        from assistant.staff.handover_notice import HandoverNotifier

        return HandoverNotifier(self.settings.support)

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
        if reports is not None:
            self.shop_data_imported(reports)
        else:
            self._reload(set(ALL_SHOP_DATA))
        return reports

    def ingest_shop(self, root: Path, *,
                    progress_for: Callable[[str], Progress | None] = lambda _kind: None) -> list[ImportReport]:
        """Import a whole shop folder (catalogue, policies, customers, offers and its profile, shop.json) into
        this app's stores; what changed is read again afterwards, by every process."""
        from assistant.shop.shop_import import ingest_shop

        k = self.settings.knowledge
        reports = ingest_shop(root, self.knowledge, self.stores.customers, self.stores.offers,
                              shop_profiles=self.stores.shop, chunk_size=k.chunk_size, overlap=k.chunk_overlap,
                              max_bytes=int(k.max_file_mb * 1_000_000), max_document_chars=k.max_document_chars,
                              max_chunks_per_document=k.max_chunks_per_document,
                              progress_for=progress_for)
        self.shop_data_imported(reports)
        return reports

    # shop data shared by processes -----------------------------------------------------------------------
    def shop_data_imported(self, reports: Iterable[ImportReport]) -> None:
        """After imports by this process: the kinds they changed are reloaded here and in every other process."""
        kinds = {REPORT_KINDS[r.kind] for r in reports
                 if r.kind in REPORT_KINDS and (r.imported or r.updated or r.deleted)}
        if kinds:
            self.reload_shop_data(kinds)

    def reload_shop_data(self, kinds: Iterable[str] = ALL_SHOP_DATA) -> None:
        """After this process changed shop data (an import, an offer edit): ``kinds`` are counted up in the database
        (the knowledge base is outside it, so its importers must say so; offers, orders and the shop profile are
        counted by their own transactions too) and reloaded here at once; other processes reload them at their
        next check. The chat model and the stores are kept."""
        wanted = set(kinds)
        try:
            self.data_versions.bump(wanted)
        except StoreError as e:  # the change itself stands; other processes see it when the counter moves again
            log.warning("could not count the change of %s for other processes: %s", ", ".join(sorted(wanted)), e)
        self._reload(wanted | self.data_watch.changed(force=True))

    def sync_shop_data(self) -> set[str]:
        """Reload what another process changed since the last check (the database is asked at most every
        ``data_check_s``); the kinds reloaded."""
        changed = self.data_watch.changed()
        if changed:
            log.info("shop data changed elsewhere, reloading: %s", ", ".join(sorted(changed)))
            self._reload(changed)
        return changed

    def _reload(self, kinds: set[str]) -> None:
        """Drop or refresh what is built from ``kinds``: the catalogue or the shop profile rebuild the turn service on
        its next use; offers and purchases are refreshed inside it; policies drop the word index."""
        with self._building:
            built = self._shop_built
            service = self.__dict__.get("assistant") or built.get("assistant")
            if kinds & {"catalog", "shop"}:
                catalog = built.get("catalog")
                if catalog is not None:
                    catalog.invalidate()
                for name in ("assistant", "shop_profile"):
                    built.pop(name, None)
                    self.__dict__.pop(name, None)
                service = None
            if service is not None and "offers" in kinds:  # the codes the verifier knows
                service.deps.verifier.known_codes = {str(o["code"]) for o in service.deps.shop_tools.offers()}
            if service is not None and "purchases" in kinds:
                refresh = getattr(service.deps.recommender.signals, "refresh", None)
                if callable(refresh):
                    refresh()
            if "knowledge" in self.__dict__:
                if "policies" in kinds:
                    self.knowledge.forget_word_index("policies")
                if "catalog" in kinds:
                    self.knowledge.forget_word_index("products")


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
    from assistant.personalization.contextual_bandit import build_offer_chooser
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
    chooser = build_offer_chooser(settings.offers, components.stores.bandit, rng)
    shop_tools = ShopTools(components.knowledge, catalog, components.stores.orders, offer_source, clock,
                           settings.agent.min_relevance, events=components.stores.events, chooser=chooser)
    known_codes = {str(o["code"]) for o in offer_source()}
    deps = TurnDeps(
        settings=settings, shop_tools=shop_tools, catalog=catalog, customers=components.stores.customers,
        llm=llm if llm is not None else components.llm,
        verifier=Verifier(catalog, known_codes, settings.agent.support_threshold, components.embedder),
        recommender=build_recommender(components.knowledge, catalog, components.stores, settings, clock), now=clock,
        stores=components.stores, actions=OrderActions(components.stores.orders, catalog, settings.orders),
        shop=components.shop_profile, notifier=components.handover_notifier,
    )
    return AssistantService(deps, components.stores)
