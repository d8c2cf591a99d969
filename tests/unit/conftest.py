"""Fakes for unit tests: hash embeddings and an in-memory Chroma with a fresh prefix per test."""

import uuid

import pytest

from knowledge.embeddings import HashEmbedder
from knowledge.knowledge_store import KnowledgeStore, build_chroma_client


@pytest.fixture
def knowledge_store() -> KnowledgeStore:
    client = build_chroma_client("ephemeral")
    return KnowledgeStore(client, HashEmbedder(dimensions=256), prefix=f"t{uuid.uuid4().hex[:8]}_", batch_size=8)


# ---- the demo shop on fakes: hash embeddings, in-memory Chroma, temp SQLite, scripted model -------------
from collections.abc import Callable, Iterator  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from assistant.components import (  # noqa: E402
    Components,
    build_assistant,  # noqa: E402
    build_components,
)
from assistant.config.loading import load_settings  # noqa: E402
from assistant.llm import FakeChatModel  # noqa: E402
from assistant.shop.shop_import import demo_shop_path, ingest_shop, load_offers  # noqa: E402
from assistant.turn.turn_service import AssistantService  # noqa: E402

DEMO_NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def demo_components(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Components]:
    data = tmp_path_factory.mktemp("demo")
    settings = load_settings(["test"], env={}, overrides={
        "app": {"data_dir": str(data)}, "knowledge": {"collection_prefix": f"d{uuid.uuid4().hex[:8]}_"},
        "embeddings": {"dimensions": 4096}})
    components = build_components(settings)
    reports = ingest_shop(demo_shop_path(), components.knowledge, components.stores.customers,
                          components.stores.offers, shop_profiles=components.stores.shop)
    assert all(r.ok for r in reports), [r.summary() for r in reports]
    yield components
    components.stores.close()


@pytest.fixture(scope="session")
def demo_offers() -> list[dict[str, Any]]:
    offers, errors = load_offers(Path(demo_shop_path()) / "offers.json")
    assert not errors
    return offers


@pytest.fixture
def fake_llm() -> FakeChatModel:
    return FakeChatModel()


@pytest.fixture
def make_service(demo_components: Components, demo_offers: list[dict[str, Any]]
                 ) -> Callable[[FakeChatModel], AssistantService]:
    def make(llm: FakeChatModel) -> AssistantService:
        return build_assistant(demo_components, llm=llm, offers=lambda: demo_offers, now=lambda: DEMO_NOW)
    return make


@pytest.fixture(scope="module")
def own_demo_components(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Components]:
    """The demo shop like ``demo_components``, but one per test module: for tests that change shoppers'
    state (offer feedback, bandit counts, copy queue) without touching other modules' shop."""
    data = tmp_path_factory.mktemp("own-demo")
    settings = load_settings(["test"], env={}, overrides={
        "app": {"data_dir": str(data)}, "knowledge": {"collection_prefix": f"o{uuid.uuid4().hex[:8]}_"},
        "embeddings": {"dimensions": 4096}, "security": {"staff_api_key": "staff-test-key"}})
    components = build_components(settings)
    reports = ingest_shop(demo_shop_path(), components.knowledge, components.stores.customers,
                          components.stores.offers, shop_profiles=components.stores.shop)
    assert all(r.ok for r in reports), [r.summary() for r in reports]
    yield components
    components.stores.close()
