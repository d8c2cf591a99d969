"""Fakes for unit tests: hash embeddings and an in-memory Chroma with a fresh prefix per test."""

import uuid

import pytest

from knowledge.embeddings import HashEmbedder
from knowledge.store import KnowledgeStore, build_chroma_client


@pytest.fixture
def knowledge_store() -> KnowledgeStore:
    client = build_chroma_client("ephemeral")
    return KnowledgeStore(client, HashEmbedder(dimensions=256), prefix=f"t{uuid.uuid4().hex[:8]}_", batch_size=8)
