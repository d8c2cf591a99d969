"""Store contract for log review and analytics, on SQLite and PostgreSQL: search and filters, labels,
every analytics figure (days bucketed in UTC whatever the connection's time zone), streamed export."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import make_url

from assistant.store import EventRecord, FixedClock, Stores, TurnRecord, build_engine, build_stores
from assistant.store.review_queries import TurnFilter

pytestmark = pytest.mark.integration

BENCH = Path(__file__).resolve().parents[2] / "bench" / "analytics.py"


def bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_analytics", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def shown(offer_id: str, segment: str) -> EventRecord:
    return EventRecord(kind="offer_shown", payload={"offer_id": offer_id, "code": offer_id.upper(), "segment": segment,
                                                    "propensity": 0.3, "policy": "thompson"})


@pytest.fixture
def log(stores: Stores, customer_record: Any, fixed_clock: FixedClock) -> dict[str, str]:
    """A small log over two days, around UTC midnight: returns named turn ids."""
    for customer_id in ("c1", "c2"):
        stores.customers.upsert_from_record(customer_record(customer_id), "test")
    s1, s2, s3 = (stores.sessions.open_session(c) for c in ("c1", "c2", None))

    def turn(session: str, customer: str | None, when: datetime, *events: EventRecord, **fields: Any) -> str:
        fields.setdefault("intent", "policy")
        return str(stores.turns.record_turn(TurnRecord(session_id=session, customer_id=customer, created_at=when,
                                                       message=fields.pop("message", "What is the return window?"),
                                                       reply=fields.pop("reply", "30 days."), **fields), events).id)

    ids = {
        "late": turn(s1, "c1", at(20, 23, 59), shown("runner15", "gold/running-shoes"), verdict="pass"),
        "early": turn(s1, "c1", at(21, 0, 1), message="Refund for my BOOTS?", verdict="fallback", status="fallback"),
        "other": turn(s2, "c2", at(21, 9), shown("runner15", "silver/any"), shown("camp25", "silver/any")),
        "handed": turn(s3, None, at(21, 10), intent="handover", verdict="handover", handover=True),
        "agent": turn(s2, "c2", at(21, 11), author="agent:bob", reply="I have refunded it."),
    }
    fixed_clock.set(at(21, 12))
    stores.bandit.record_feedback("c1", "runner15", "accepted")
    stores.handovers.create(s3, None, "customer_request", "asked for a person", ids["handed"])
    for name, rating in (("late", "down"), ("late", "up"), ("other", "down")):
        stores.events.add(EventRecord(kind="feedback", customer_id="c1" if name == "late" else "c2",
                                      session_id=s1 if name == "late" else s2, turn_id=ids[name],
                                      payload={"rating": rating}))
    stores.review.add_label(ids["early"], "incorrect", "rita", "wrong window")
    stores.review.add_label(ids["early"], "policy_violation", "sam")
    return ids


def found(stores: Stores, **filters: Any) -> list[str]:
    page = stores.review.search(TurnFilter(**filters), limit=100)
    assert page.total == len(page.items)
    return [t.id for t in page.items]


def test_search_filters_and_pages(stores: Stores, log: dict[str, str]) -> None:
    assert found(stores) == [log[k] for k in ("agent", "handed", "other", "early", "late")]
    assert found(stores, text="refund") == [log["agent"], log["early"]]
    assert found(stores, customer_id="c2") == [log["agent"], log["other"]]
    assert found(stores, start=at(21, 0), end=at(21, 9, 30)) == [log["other"], log["early"]]
    assert found(stores, feedback="up") == [log["late"]] and found(stores, feedback="down") == [log["other"]]
    assert found(stores, offer_shown=True) == [log["other"], log["late"]]
    assert found(stores, offer_accepted=True) == [log["late"]]
    assert found(stores, handover=True, intent="handover") == [log["handed"]]
    assert found(stores, author="agent") == [log["agent"]] and log["agent"] not in found(stores, author="assistant")
    assert found(stores, status="fallback", verdict="fallback") == [log["early"]]
    first = stores.review.search(limit=2)
    second = stores.review.search(limit=2, cursor=first.next_cursor)
    assert [t.id for t in first.items + second.items] == found(stores)[:4]


def test_labels_newest_is_current(stores: Stores, log: dict[str, str]) -> None:
    assert found(stores, label="policy_violation") == [log["early"]] and found(stores, label="incorrect") == []
    assert log["early"] not in found(stores, label="none")
    replay = stores.review.get_replay(log["early"])
    assert replay is not None and replay.turn.label == "policy_violation"
    assert [(x.label, x.reviewer, x.note) for x in replay.labels] == [
        ("policy_violation", "sam", None), ("incorrect", "rita", "wrong window")]


def test_summaries_carry_feedback_offers_and_label(stores: Stores, log: dict[str, str]) -> None:
    listed = {t.id: t for t in stores.review.search().items}

    late, other = listed[log["late"]], listed[log["other"]]
    assert (late.feedback, late.offers_shown, late.offer_accepted) == ("up", 1, True)
    assert (other.feedback, other.offers_shown, other.offer_accepted) == ("down", 2, False)
    assert listed[log["agent"]].author == "agent:bob"


def test_analytics_figures(stores: Stores, log: dict[str, str]) -> None:
    days = (date(2026, 11, 20), date(2026, 11, 21))
    run = stores.analytics.run

    assert [(r["day"], r["conversations"], r["turns"]) for r in run("volume", *days)] == [
        ("2026-11-20", 1, 1), ("2026-11-21", 3, 4)]
    # s1 answered; s2 had an agent's reply and s3 a hand-over: a person was involved, so not resolved
    assert run("resolution_total", *days)[0]["resolution_rate"] == round(1 / 3, 4)
    assert run("handover_reasons", *days) == [{"reason": "customer_request", "count": 1, "share": 1.0}]
    assert [(r["day"], r["up"], r["down"]) for r in run("feedback", *days)] == [("2026-11-20", 1, 0),
                                                                               ("2026-11-21", 0, 1)]
    assert [(r["day"], r["fallbacks"]) for r in run("fallbacks", *days)] == [("2026-11-20", 0), ("2026-11-21", 1)]
    assert [(r["offer_id"], r["shown"], r["accepted"], r["conversion_rate"]) for r in run("offer_conversion", *days)
            ] == [("runner15", 2, 1, 0.5), ("camp25", 1, 0, 0.0)]
    assert [(r["segment"], r["shown"], r["converted"]) for r in run("segment_conversion", *days)] == [
        ("silver/any", 2, 0), ("gold/running-shoes", 1, 1)]
    assert [(r["day"], r["offer_id"], r["share"]) for r in run("arm_shares", *days)] == [
        ("2026-11-20", "runner15", 1.0), ("2026-11-21", "camp25", 0.5), ("2026-11-21", "runner15", 0.5)]


@pytest.fixture
def far_east_stores(store_url: str, stores: Stores, fixed_clock: FixedClock) -> Iterator[Stores]:
    """The same database through connections whose session time zone is UTC+14 (PostgreSQL; SQLite has none)."""
    url = make_url(store_url)
    if url.get_backend_name() == "postgresql":
        options = f"{url.query.get('options', '')} -ctimezone=Pacific/Kiritimati".strip()
        url = url.update_query_dict({"options": options})
    engine = build_engine(url)
    try:
        yield build_stores(engine, clock=fixed_clock)
    finally:
        engine.dispose()


def test_days_are_utc_days_whatever_the_connections_time_zone(far_east_stores: Stores, log: dict[str, str]) -> None:
    volume = far_east_stores.analytics.volume(date(2026, 11, 20), date(2026, 11, 21))

    assert [(r["day"], r["turns"]) for r in volume] == [("2026-11-20", 1), ("2026-11-21", 4)]


def test_streamed_export_in_chunks(stores: Stores, log: dict[str, str]) -> None:
    chunks = list(stores.review.iter_export(TurnFilter(), "jsonl", chunk_size=2, include_trace=True))
    rows = [json.loads(line) for chunk in chunks for line in chunk.splitlines()]
    assert [r["id"] for r in rows] == found(stores) and len(chunks) == 3 and "trace" in rows[0]

    text = "".join(stores.review.iter_export(TurnFilter(customer_id="c2"), "csv", chunk_size=1))
    assert [r["id"] for r in csv.DictReader(io.StringIO(text))] == [log["agent"], log["other"]]


def test_exporting_20k_turns_stays_in_bounded_memory(stores: Stores) -> None:
    bench_module().generate_log(stores.engine, 20_000, events=False, customers=20)

    tracemalloc.start()
    try:
        lines = sum(chunk.count("\n") for chunk in stores.review.iter_export(TurnFilter(), "jsonl"))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert lines == 20_000 and peak < 20 * 2**20, f"{lines} lines, peak {peak / 2**20:.1f} MiB"
