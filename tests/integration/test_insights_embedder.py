"""Insights with the real bundled embedder: paraphrased complaints that share few words still group into one theme
each at the default threshold, and a declined question no document answers is a gap while one the documents
answer is not (default gap score). SQLite and in-memory Chroma; the embedding model is the real one."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from assistant.staff.insights import DEFAULT_THRESHOLD, Insights, knowledge_probe
from assistant.staff.theme_clusters import cluster_texts
from assistant.store import CounterIds, EventRecord, FixedClock, Stores, TurnRecord, open_stores
from assistant.store.db import session_factory
from assistant.store.insight_queries import InsightStore
from knowledge.embeddings import Embedder
from knowledge.knowledge_store import IndexItem, KnowledgeStore, build_chroma_client

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
THEMES = {
    "late": ["My order still hasn't arrived after two weeks.",
             "Where is my package? It should have been here days ago.",
             "The parcel is very late and the tracking hasn't moved.", "My delivery is overdue, when will it come?"],
    "refund": ["I sent the item back but never got my money back.", "Still waiting for my refund after returning it.",
               "When will I be reimbursed for the return I made?",
               "The refund for my returned order hasn't reached my bank account."],
    "login": ["I can't log into my account.", "My password doesn't work when I try to sign in.",
              "The login page keeps rejecting my credentials.", "I'm locked out of my account, how do I get back in?"],
}


def test_paraphrases_group_into_one_theme_each_at_the_default_threshold(bundled_embedder: Embedder) -> None:
    texts = [t for group in THEMES.values() for t in group]

    clusters = cluster_texts(bundled_embedder.embed_documents(texts), DEFAULT_THRESHOLD)

    assert sorted(sorted(texts[i] for i in c.members) for c in clusters) == sorted(sorted(g) for g in THEMES.values())


@pytest.fixture
def stores(tmp_path: Path, customer_record: Callable[..., dict[str, Any]]) -> Iterator[Stores]:
    opened = open_stores(f"sqlite:///{tmp_path / 'insights.db'}", clock=FixedClock(NOW), ids=CounterIds("i"))
    opened.customers.upsert_from_record(customer_record("c1"), "test")
    yield opened
    opened.close()


def test_the_report_groups_flagged_turns_and_finds_the_gap(stores: Stores, bundled_embedder: Embedder) -> None:
    def turn(message: str, day: int, *events: EventRecord, **fields: Any) -> None:
        stores.turns.record_turn(TurnRecord(session_id=stores.sessions.open_session("c1"), customer_id="c1",
                                            message=message, created_at=datetime(2026, 11, day, 10, tzinfo=UTC),
                                            **{"reply": "Here you are.", **fields}), events)

    for n, message in enumerate(THEMES["late"]):
        turn(message, 20 + n, EventRecord(kind="feedback", payload={"rating": "down"}))
    for n, message in enumerate(THEMES["login"]):
        turn(message, 20 + n, verdict="no_facts", reply="Sorry, I don't know that.")
    turn("Do you match the prices of other shops if I find it cheaper elsewhere?", 24, verdict="no_facts",
         reply="Sorry, I don't know that.")
    knowledge = KnowledgeStore(build_chroma_client("ephemeral"), bundled_embedder, prefix=f"i{uuid.uuid4().hex[:8]}_")
    knowledge.upsert("policies", [IndexItem(f"p{n}", text, {"kind": "policy", "origin": "t", "title": title})
                                  for n, (title, text) in enumerate([
                                      ("Accounts", "Forgot your password or cannot sign in to your account? Use the "
                                       "'reset password' link on the login page; we e-mail you a new link."),
                                      ("Delivery", "Parcels arrive within 3-5 working days; if yours is late, the "
                                       "tracking link shows where it is.")])])
    service = Insights(lambda: InsightStore(session_factory(stores.engine)), lambda: bundled_embedder,
                       lambda: knowledge_probe(knowledge), today=lambda: NOW.date())

    report = service.report(date(2026, 11, 1), date(2026, 11, 27))

    assert report.turns == 9
    assert sorted((t.turns, t.counts["thumbs_down"], t.counts["declined"]) for t in report.themes) == [
        (1, 0, 1), (4, 0, 4), (4, 4, 0)]
    assert [g.question for g in report.gaps] == [
        "Do you match the prices of other shops if I find it cheaper elsewhere?"], [
        (g.question, g.best_score) for g in report.gaps]
