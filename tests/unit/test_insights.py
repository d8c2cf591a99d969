"""Insights: thumbs-down turns, hand-overs, review labels and declined questions grouped into themes by meaning, and
the knowledge gaps among the declined questions (temp SQLite, hash embeddings, in-memory Chroma)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from fastapi import FastAPI, Header, HTTPException
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from assistant.errors import ValidationError
from assistant.staff.analytics import Analytics
from assistant.staff.insights import REINGEST_HINT, InsightReport, Insights, knowledge_probe
from assistant.staff.log_review import LogReview
from assistant.staff.roles import StaffPrincipal
from assistant.staff.theme_clusters import cluster_texts
from assistant.store import CounterIds, EventRecord, FixedClock, Stores, TurnRecord, build_stores, open_stores
from assistant.store.db import session_factory
from assistant.store.insight_queries import InsightStore
from knowledge.embeddings import HashEmbedder
from knowledge.knowledge_store import IndexItem, KnowledgeStore
from ui.cli.main import app
from ui.error_table import install_error_table
from ui.insights_api import InsightsView, build_insights_api
from ui.review_api import build_review_api
from ui.staff_views.insights_tab import GAP_COLUMNS, InsightsTab

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DELIVERY = ["my parcel delivery is late", "the parcel delivery came late again", "why is my parcel delivery so late",
            "late parcel delivery, still waiting at home"]
REFUND = ["the refund never reached my card", "still no refund on my card", "where is the refund to my card"]
SIGN_IN = ["cannot sign in to my account, password rejected", "my account password is rejected at sign in",
           "account sign in fails, password not accepted"]


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def stores(store_engine: Engine, customer_record: Callable[..., dict[str, Any]]) -> Stores:
    """The stores on SQLite and on PostgreSQL (``store_engine``), with one shopper."""
    opened = build_stores(store_engine, clock=FixedClock(NOW), ids=CounterIds("i"))
    opened.customers.upsert_from_record(customer_record("c1"), "test")
    return opened


def turn(stores: Stores, message: str, when: datetime, *events: EventRecord, session: str | None = None,
         **fields: Any) -> str:
    fields = {"reply": "Here you are.", **fields}
    record = TurnRecord(session_id=session or stores.sessions.open_session("c1"), customer_id="c1", message=message,
                        created_at=when, **fields)
    stored = stores.turns.record_turn(record, events)
    assert stored.id is not None
    return stored.id


def thumbs(rating: str) -> EventRecord:
    return EventRecord(kind="feedback", payload={"rating": rating})


def handed_over(stores: Stores, message: str, when: datetime, reason: str) -> str:
    session = stores.sessions.open_session("c1")
    turn_id = turn(stores, message, when, session=session, handover=True, verdict="handover")
    stores.handovers.create(session, "c1", reason, f"Shopper (latest): {message}", turn_id)
    return turn_id


def declined(stores: Stores, message: str, when: datetime) -> str:
    return turn(stores, message, when, verdict="no_facts", reply="Sorry, I don't know that.")


def labelled(stores: Stores, message: str, when: datetime, label: str) -> str:
    turn_id = turn(stores, message, when)
    stores.review.add_label(turn_id, label, "rita")
    return turn_id


def seed(stores: Stores) -> dict[str, str]:
    """Three themes of paraphrased complaints (4, 3 and 3 turns), over two weeks, and turns that must not count."""
    ids = {
        "d0": turn(stores, DELIVERY[0], at(16), thumbs("down")),
        "d1": turn(stores, DELIVERY[1], at(24), thumbs("down")),
        "d2": handed_over(stores, DELIVERY[2], at(25), "missing_knowledge"),
        "d3": declined(stores, DELIVERY[3], at(26)),
        "r0": labelled(stores, REFUND[0], at(24), "incorrect"),
        "r1": labelled(stores, REFUND[1], at(25), "outdated_knowledge"),
        "r2": turn(stores, REFUND[2], at(25), thumbs("down")),
        "s0": declined(stores, SIGN_IN[0], at(24)),
        "s1": turn(stores, SIGN_IN[1], at(25), thumbs("down"), verdict="no_facts", reply="Sorry, I don't know."),
        "s2": handed_over(stores, SIGN_IN[2], at(26), "angry_customer"),
    }
    turn(stores, "thanks, that was helpful", at(25), thumbs("up"))  # thumbs up: not a complaint
    turn(stores, "what a lovely shop", at(25), thumbs("down"), thumbs("up"))  # the latest thumbs counts: up
    labelled(stores, "is the shop open on sunday", at(25), "correct")  # a correct label is not a problem
    turn(stores, "do you sell gift cards", at(25))  # nothing flagged
    declined(stores, "an old question nobody can answer", datetime(2026, 1, 5, tzinfo=UTC))  # outside the period
    return ids


def insights(stores: Stores, knowledge: KnowledgeStore | None = None) -> Insights:
    return Insights(lambda: InsightStore(session_factory(stores.engine)), lambda: HashEmbedder(dimensions=256),
                    (lambda: knowledge_probe(knowledge)) if knowledge is not None else None,
                    today=lambda: NOW.date())


def run(stores: Stores, knowledge: KnowledgeStore | None = None, **options: Any) -> InsightReport:
    return insights(stores, knowledge).report(date(2026, 11, 10), date(2026, 11, 27), **options)


def test_paraphrased_complaints_in_three_themes_come_out_as_three_themes_with_their_counts(stores: Stores) -> None:
    ids = seed(stores)

    report = run(stores)

    assert report.turns == 10
    assert report.counts == {"thumbs_down": 4, "handover": 2, "label": 2, "declined": 3}
    got = {t.representative: (t.turns, t.counts, t.details) for t in report.themes}
    assert len(report.themes) == 3, [t.representative for t in report.themes]
    delivery, refund, sign_in = report.themes[0], *sorted(report.themes[1:], key=lambda t: t.representative not in
                                                              REFUND)
    assert delivery.representative in DELIVERY and refund.representative in REFUND
    assert sign_in.representative in SIGN_IN
    assert got[delivery.representative] == (4, {"thumbs_down": 2, "handover": 1, "label": 0, "declined": 1},
                                             {"missing_knowledge": 1})
    assert got[refund.representative] == (3, {"thumbs_down": 1, "handover": 0, "label": 2, "declined": 0},
                                          {"incorrect": 1, "outdated_knowledge": 1})
    assert got[sign_in.representative] == (3, {"thumbs_down": 1, "handover": 1, "label": 0, "declined": 2},
                                           {"angry_customer": 1})
    assert {e.turn_id for e in delivery.examples} == {ids["d0"], ids["d1"], ids["d2"], ids["d3"]}


def test_each_theme_has_a_count_per_week_of_the_period(stores: Stores) -> None:
    seed(stores)

    delivery = run(stores).themes[0]

    assert delivery.weekly == [("2026-11-09", 0), ("2026-11-16", 1), ("2026-11-23", 3)]  # weeks start on Monday
    assert sum(c for _, c in delivery.weekly) == 4


def test_declined_questions_the_documents_do_not_answer_are_gaps_with_example_turns(
        stores: Stores, knowledge_store: KnowledgeStore) -> None:
    ids = seed(stores)
    knowledge_store.upsert("policies", [IndexItem("shipping-1", "Late parcel delivery: a parcel delivery takes "
                                                  "three days; when your delivery is late, write to us.",
                                                  {"kind": "policy", "origin": "t", "title": "Delivery"})])

    report = run(stores, knowledge_store, gap_score=0.3)

    assert [(g.turns, {e.turn_id for e in g.examples}) for g in report.gaps] == [(2, {ids["s0"], ids["s1"]})]
    assert report.gaps[0].question in SIGN_IN and report.gaps[0].best_score < 0.3
    assert report.gaps[0].examples[0].created_at == at(25) and report.gaps[0].examples[0].message == SIGN_IN[1]
    assert report.hint == REINGEST_HINT and "concierge import policies" in str(report.to_dict()["hint"])


def test_an_empty_log_gives_a_clear_message_and_no_themes(stores: Stores) -> None:
    report = run(stores)

    assert report.turns == 0 and report.themes == [] and report.gaps == []
    assert "nothing to group" in report.message and "2026-11-10" in report.message


def test_a_period_ending_before_it_starts_is_refused() -> None:
    service = Insights(lambda: pytest.fail("no store"), lambda: HashEmbedder(), today=lambda: NOW.date())
    with pytest.raises(ValidationError):
        service.report(date(2026, 11, 27), date(2026, 11, 1))


def test_clustering_is_deterministic_and_keeps_unrelated_texts_apart() -> None:
    embedder = HashEmbedder(dimensions=256)
    vectors = embedder.embed_documents([*DELIVERY, *REFUND, "completely different words here"])

    first = cluster_texts(vectors, 0.45)

    assert first == cluster_texts(vectors, 0.45)
    assert [sorted(c.members) for c in first] == [[0, 1, 2, 3], [4, 5, 6], [7]]
    assert cluster_texts(vectors, 1.01) == cluster_texts(vectors, 1.5)  # nothing merges: one cluster per text
    assert len(cluster_texts(vectors, 1.01)) == 8 and cluster_texts([], 0.5) == []


def test_the_command_prints_themes_gaps_and_what_to_do(tmp_path: Path,
                                                        customer_record: Callable[..., dict[str, Any]]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    seeded = open_stores(f"sqlite:///{data / 'concierge.db'}", clock=FixedClock(NOW), ids=CounterIds("i"))
    seeded.customers.upsert_from_record(customer_record("c1"), "test")
    seed(seeded)
    seeded.close()
    env = {"CONCIERGE_PROFILES": "test", "CONCIERGE_APP__DATA_DIR": str(data),
           "CONCIERGE_KNOWLEDGE__COLLECTION_PREFIX": f"i{uuid.uuid4().hex[:8]}_",
           "CONCIERGE_EMBEDDINGS__DIMENSIONS": "256"}

    result = CliRunner().invoke(app, ["insights", "--start", "2026-11-10", "--end", "2026-11-27"], env=env)
    as_json = CliRunner().invoke(app, ["insights", "--start", "2026-11-10", "--end", "2026-11-27", "--json"], env=env)
    empty = CliRunner().invoke(app, ["insights", "--start", "2026-10-01", "--end", "2026-10-31"], env=env)

    assert result.exit_code == 0, result.stderr
    assert "10 flagged turns" in result.stdout and "in 3 themes" in result.stdout
    assert "Knowledge gaps" in result.stdout and "concierge import policies" in result.stdout
    assert "grouped 10 flagged turns into 3 themes" in result.stderr
    assert [t["turns"] for t in json.loads(as_json.stdout)["themes"]] == [4, 3, 3]
    assert empty.exit_code == 0 and "nothing to group" in empty.stdout


# the REST route and the staff view --------------------------------------------------------------------------------
def fake_require(role: str) -> Callable[..., StaffPrincipal]:
    """401 without ``X-Test-Role``, 403 without the role (as ``ui.staff_auth``'s dependency)."""
    def dependency(x_test_role: str | None = Header(None)) -> StaffPrincipal:
        if not x_test_role:
            raise HTTPException(401, "not signed in")
        principal = StaffPrincipal("rita", frozenset(x_test_role.split(",")))
        if not principal.has(role):
            raise HTTPException(403, f"this needs the {role} role")
        return principal
    return dependency


def test_the_route_answers_reviewers_with_the_report_before_the_figures_route_takes_the_path(stores: Stores) -> None:
    seed(stores)
    api = install_error_table(FastAPI())
    api.include_router(build_insights_api(insights(stores), fake_require))
    api.include_router(build_review_api(LogReview(stores.review), Analytics(stores.analytics), fake_require))
    client = TestClient(api)

    answer = client.get("/api/v1/analytics/insights?start=2026-11-10&end=2026-11-27",
                        headers={"X-Test-Role": "reviewer"})

    assert answer.status_code == 200, answer.text
    body = InsightsView.model_validate(answer.json())  # the response model names every field the service gives
    assert [t.turns for t in body.themes] == [4, 3, 3] and body.turns == 10
    assert client.get("/api/v1/analytics/insights").status_code == 401
    assert client.get("/api/v1/analytics/insights", headers={"X-Test-Role": "agent"}).status_code == 403
    assert client.get("/api/v1/analytics/insights?start=soon", headers={"X-Test-Role": "reviewer"}).status_code == 422
    assert client.get("/api/v1/analytics/volume", headers={"X-Test-Role": "reviewer"}).status_code == 200


def test_the_view_plots_counts_per_theme_and_the_trend_after_the_role_check(stores: Stores) -> None:
    seed(stores)
    checked: list[str] = []

    def need(_request: gr.Request | None, role: str) -> StaffPrincipal:
        checked.append(role)
        return StaffPrincipal("rita", frozenset({"reviewer"}))

    view = InsightsTab(need, insights(stores))
    summary, counts, trend, themes, gaps = view.frames("2026-11-10", "2026-11-27", gr.Request())
    _, counts_chart, trend_chart, *_ = view.show("2026-11-10", "2026-11-27", gr.Request(), progress=gr.Progress())

    assert checked == ["reviewer"] * 2  # the drawn view checks again
    assert "10 flagged turns" in summary and "in 3 themes" in summary
    per_theme = counts.groupby("theme")["count"].sum().tolist()
    assert sorted(per_theme) == [3, 4, 4]  # signals per theme: one sign-in turn is both thumbs down and declined
    assert set(counts["signal"]) == {"thumbs down", "hand-over", "review label", "declined"}
    assert len(trend) == 3 * 3 and trend["count"].sum() == 10  # 3 themes x 3 weeks
    assert themes["turns"].tolist() == [4, 3, 3] and list(gaps.columns) == GAP_COLUMNS
    assert counts_chart.format == "PNG" and counts_chart.size[0] > 300 and trend_chart.size[0] > 300
