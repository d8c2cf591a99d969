"""Analytics over the interaction log, by SQL: per-day series, resolution, hand-over reasons, feedback,
fallbacks, offer conversion per offer and segment, the bandit's arm shares. On SQLite (PostgreSQL: the
integration test ``tests/integration/test_store_review.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import NotFoundError, ValidationError
from assistant.store import CounterIds, EventRecord, FixedClock, Stores, TurnRecord, open_stores

DAY1 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DAY1)


@pytest.fixture
def stores(tmp_path: Path, clock: FixedClock, customer_record: Callable[..., dict[str, Any]]) -> Iterator[Stores]:
    opened = open_stores(f"sqlite:///{tmp_path / 'analytics.db'}", clock=clock, ids=CounterIds("a"))
    for customer_id in ("c1", "c2", "c3"):
        opened.customers.upsert_from_record(customer_record(customer_id), "test")
    yield opened
    opened.close()


def turn(stores: Stores, session_id: str, customer_id: str | None, when: datetime, *events: EventRecord,
         **fields: Any) -> TurnRecord:
    fields = {"message": "hi", "reply": "hello", **fields}
    return stores.turns.record_turn(TurnRecord(session_id=session_id, customer_id=customer_id, created_at=when,
                                               **fields), events)


def shown(offer_id: str, segment: str) -> EventRecord:
    return EventRecord(kind="offer_shown", payload={"offer_id": offer_id, "code": offer_id.upper(), "segment": segment,
                                                    "propensity": 0.4, "policy": "thompson"})


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def by_day(rows: list[dict[str, Any]], *columns: str) -> dict[str, tuple[Any, ...]]:
    return {r["day"]: tuple(r[c] for c in columns) for r in rows}


def test_volume_counts_conversations_and_turns_per_utc_day_with_empty_days_as_zero(stores: Stores) -> None:
    a, b = stores.sessions.open_session("c1"), stores.sessions.open_session(None)
    turn(stores, a, "c1", at(20, 0, 0))
    turn(stores, a, "c1", at(20, 23, 59))
    turn(stores, b, None, at(20, 12))
    turn(stores, a, "c1", at(22, 8))

    rows = stores.analytics.volume(date(2026, 11, 20), date(2026, 11, 23))

    assert by_day(rows, "conversations", "turns") == {"2026-11-20": (2, 3), "2026-11-21": (0, 0),
                                                      "2026-11-22": (1, 1), "2026-11-23": (0, 0)}


def test_resolution_counts_a_handed_over_conversation_as_not_resolved(stores: Stores) -> None:
    sessions = [stores.sessions.open_session("c1") for _ in range(4)]
    for s in sessions:
        turn(stores, s, "c1", at(20, 10))
    turn(stores, sessions[0], "c1", at(20, 10, 5), handover=True, verdict="handover")

    total = stores.analytics.resolution_total(date(2026, 11, 20), date(2026, 11, 20))
    daily = stores.analytics.resolution(date(2026, 11, 20), date(2026, 11, 21))

    assert total == [{"start": "2026-11-20", "end": "2026-11-20", "conversations": 4, "handed_over": 1,
                      "unanswered": 0, "reopened": 0, "resolved": 3, "resolution_rate": 0.75}]
    assert by_day(daily, "resolution_rate") == {"2026-11-20": (0.75,), "2026-11-21": (None,)}


def test_an_i_dont_know_ending_and_a_reopened_conversation_are_not_resolved(stores: Stores,
                                                                            clock: FixedClock) -> None:
    """The figure that said "93% resolved" counted these as resolved: only ``answered`` is."""
    answered, dont_know, nothing_found, came_back, new_chat, agent = (
        stores.sessions.open_session(c) for c in ("c1", "c2", None, None, "c3", None))
    turn(stores, answered, "c1", at(20, 9))
    turn(stores, answered, "c1", at(20, 9, 5))  # a follow-up within the quiet window: the same conversation
    turn(stores, dont_know, "c2", at(20, 9), verdict="pass")
    turn(stores, dont_know, "c2", at(20, 9, 1), verdict="no_facts", reply="Sorry, I can't say.")
    turn(stores, nothing_found, None, at(20, 9), verdict="fallback",
         reply="I'm sorry, I don't know that: I couldn't find it in the shop's information. Shall I ask a person?")
    turn(stores, came_back, None, at(20, 9))
    turn(stores, came_back, None, at(20, 15))  # six hours later, in the same session: reopened
    turn(stores, new_chat, "c3", at(20, 9))
    clock.set(at(20, 18))
    turn(stores, stores.sessions.open_session("c3"), "c3", at(20, 18))  # a new session of c3 within a day
    turn(stores, agent, None, at(20, 9))
    turn(stores, agent, None, at(20, 9, 2), author="agent:ana", message="", reply="Here is the answer.")

    (total,) = stores.analytics.resolution_total(date(2026, 11, 20), date(2026, 11, 20))

    assert {k: total[k] for k in ("conversations", "handed_over", "unanswered", "reopened", "resolved")} == {
        "conversations": 7, "handed_over": 1, "unanswered": 2, "reopened": 2, "resolved": 2}
    assert total["resolution_rate"] == round(2 / 7, 4)


def test_a_pause_longer_than_a_day_or_a_new_session_after_a_day_does_not_reopen(stores: Stores,
                                                                                clock: FixedClock) -> None:
    s = stores.sessions.open_session("c1")
    turn(stores, s, "c1", at(20, 9))
    turn(stores, s, "c1", at(21, 10))  # 25 hours later
    clock.set(at(22, 11))
    turn(stores, stores.sessions.open_session("c1"), "c1", at(22, 11))  # 25 hours after that

    rows = stores.analytics.resolution(date(2026, 11, 20), date(2026, 11, 22))

    assert by_day(rows, "conversations", "reopened", "resolved") == {
        "2026-11-20": (0, 0, 0), "2026-11-21": (1, 0, 1), "2026-11-22": (1, 0, 1)}


def test_a_shorter_quiet_window_reopens_sooner(stores: Stores) -> None:
    s = stores.sessions.open_session("c1")
    turn(stores, s, "c1", at(20, 9))
    turn(stores, s, "c1", at(20, 9, 5))
    days = (date(2026, 11, 20), date(2026, 11, 20))

    assert stores.analytics.resolution_total(*days)[0]["reopened"] == 0
    assert stores.analytics.with_quiet(timedelta(minutes=2)).resolution_total(*days)[0]["reopened"] == 1


def test_csat_is_shown_for_assistant_only_and_handed_over_conversations(stores: Stores, clock: FixedClock) -> None:
    rated = []
    for customer_id, handover, score in (("c1", False, 5), ("c2", False, 3), ("c3", True, 1), ("c1", True, 2)):
        s = stores.sessions.open_session(customer_id)
        turn(stores, s, customer_id, at(20, 9), handover=handover)
        rated.append((customer_id, s, score))
    clock.set(at(20, 12))
    for customer_id, s, score in rated:
        stores.ratings.rate(customer_id, s, score, None, "quiet")

    rows = {r["conversations"]: r for r in stores.analytics.csat(date(2026, 11, 20), date(2026, 11, 20))}

    assert {k: (r["ratings"], r["mean"]) for k, r in rows.items()} == {
        "assistant": (2, 4.0), "handover": (2, 1.5), "all": (4, 2.75)}
    assert [rows["all"][f"score_{n}"] for n in range(1, 6)] == [1, 1, 1, 0, 1]
    assert stores.analytics.csat(date(2026, 11, 21), date(2026, 11, 21))[2] == {
        "conversations": "all", "ratings": 0, "score_1": 0, "score_2": 0, "score_3": 0, "score_4": 0, "score_5": 0,
        "mean": None}


def test_handover_reasons_are_counted_from_the_queue(stores: Stores, clock: FixedClock) -> None:
    for customer_id, reason in (("c1", "customer_request"), ("c2", "customer_request"), ("c3", "angry_customer")):
        stores.handovers.create(stores.sessions.open_session(customer_id), customer_id, reason, "summary")

    rows = stores.analytics.handover_reasons(date(2026, 11, 20), date(2026, 11, 20))

    assert rows == [{"reason": "customer_request", "count": 2, "share": 0.6667},
                    {"reason": "angry_customer", "count": 1, "share": 0.3333}]
    assert stores.analytics.handover_reasons(date(2026, 11, 21), date(2026, 11, 22)) == []


def test_feedback_counts_each_turns_latest_thumbs_on_the_turns_day(stores: Stores) -> None:
    s = stores.sessions.open_session("c1")
    changed, liked, _silent = (turn(stores, s, "c1", at(20, h)) for h in (9, 10, 11))
    disliked = turn(stores, s, "c1", at(21, 9))
    for t, rating in ((changed, "up"), (changed, "down"), (liked, "up"), (disliked, "down")):
        stores.events.add(EventRecord(kind="feedback", customer_id="c1", session_id=s, turn_id=t.id,
                                      payload={"rating": rating}))

    rows = stores.analytics.feedback(date(2026, 11, 20), date(2026, 11, 21))

    assert by_day(rows, "turns", "up", "down", "up_rate", "feedback_rate") == {
        "2026-11-20": (3, 1, 1, 0.5, 0.6667), "2026-11-21": (1, 0, 1, 0.0, 1.0)}


def test_fallbacks_and_errors_per_day(stores: Stores) -> None:
    s = stores.sessions.open_session(None)
    for hour, status in ((9, "ok"), (10, "fallback"), (11, "fallback"), (12, "error")):
        turn(stores, s, None, at(20, hour), status=status)

    (row,) = stores.analytics.fallbacks(date(2026, 11, 20), date(2026, 11, 20))

    assert row == {"day": "2026-11-20", "turns": 4, "fallbacks": 2, "errors": 1, "fallback_rate": 0.5}


def test_offer_conversion_per_offer_and_segment_counts_each_showing_once(stores: Stores, clock: FixedClock) -> None:
    s1, s2 = stores.sessions.open_session("c1"), stores.sessions.open_session("c2")
    turn(stores, s1, "c1", at(20, 9), shown("runner15", "gold/running-shoes"))
    turn(stores, s2, "c2", at(20, 9), shown("runner15", "silver/any"))
    turn(stores, s2, "c2", at(20, 10), shown("camp25", "silver/any"))
    clock.set(at(20, 12))
    stores.bandit.record_feedback("c1", "runner15", "clicked")
    stores.bandit.record_feedback("c1", "runner15", "accepted")
    stores.bandit.record_feedback("c1", "runner15", "redeemed")  # the same showing: one conversion

    per_offer = stores.analytics.offer_conversion(date(2026, 11, 20), date(2026, 11, 20))
    per_segment = stores.analytics.segment_conversion(date(2026, 11, 20), date(2026, 11, 20))

    assert per_offer == [
        {"offer_id": "runner15", "shown": 2, "clicked": 1, "accepted": 1, "redeemed": 1, "converted": 1,
         "conversion_rate": 0.5},
        {"offer_id": "camp25", "shown": 1, "clicked": 0, "accepted": 0, "redeemed": 0, "converted": 0,
         "conversion_rate": 0.0}]
    assert [(r["segment"], r["shown"], r["converted"]) for r in per_segment] == [
        ("silver/any", 2, 0), ("gold/running-shoes", 1, 1)]


def test_arm_shares_are_each_offers_share_of_the_days_showings(stores: Stores) -> None:
    s = stores.sessions.open_session("c1")
    for day, offer in ((20, "a"), (20, "a"), (20, "a"), (20, "b"), (21, "b")):
        turn(stores, s, "c1", at(day, 10), shown(offer, "gold/any"))

    rows = stores.analytics.arm_shares(date(2026, 11, 20), date(2026, 11, 21))

    assert rows == [{"day": "2026-11-20", "offer_id": "a", "shown": 3, "share": 0.75},
                    {"day": "2026-11-20", "offer_id": "b", "shown": 1, "share": 0.25},
                    {"day": "2026-11-21", "offer_id": "b", "shown": 1, "share": 1.0}]


def test_the_default_period_is_the_30_days_ending_today(stores: Stores) -> None:
    period = stores.analytics.period()

    assert (period.start, period.end) == (date(2026, 10, 22), date(2026, 11, 20))
    assert len(stores.analytics.volume()) == 30


@pytest.mark.parametrize(("start", "end"), [(date(2026, 11, 21), date(2026, 11, 20)),
                                            (date(2000, 1, 1), date(2026, 11, 20))])
def test_a_reversed_or_endless_period_is_refused(stores: Stores, start: date, end: date) -> None:
    with pytest.raises(ValidationError):
        stores.analytics.volume(start, end)


def test_every_figure_runs_by_name_and_an_unknown_name_is_not_found(stores: Stores) -> None:
    s = stores.sessions.open_session("c1")
    turn(stores, s, "c1", at(20, 10), shown("a", "gold/any"), status="fallback", handover=True)

    results = {name: stores.analytics.run(name, date(2026, 11, 20), date(2026, 11, 20))
               for name in stores.analytics.figures}

    assert all(isinstance(rows, list) for rows in results.values())
    assert results["volume"][0]["turns"] == 1 and results["arm_shares"][0]["share"] == 1.0
    with pytest.raises(NotFoundError):
        stores.analytics.run("revenue")


def test_volume_is_split_by_the_language_each_turn_replied_in(stores: Stores) -> None:
    a, b = stores.sessions.open_session("c1"), stores.sessions.open_session("c2")
    turn(stores, a, "c1", at(20, 9), trace={"language": "zh", "message_language": "zh"})
    turn(stores, a, "c1", at(20, 10), trace={"language": "zh", "message_language": None})
    turn(stores, b, "c2", at(20, 11), trace={"language": "en"})
    turn(stores, b, "c2", at(21, 11))  # a turn logged without a language (an agent's reply, an old turn)

    rows = stores.analytics.volume_by_language(date(2026, 11, 20), date(2026, 11, 21))

    assert {(r["day"], r["language"]): (r["conversations"], r["turns"]) for r in rows} == {
        ("2026-11-20", "en"): (1, 1), ("2026-11-20", "unknown"): (0, 0), ("2026-11-20", "zh"): (1, 2),
        ("2026-11-21", "en"): (0, 0), ("2026-11-21", "unknown"): (1, 1), ("2026-11-21", "zh"): (0, 0)}


def test_resolution_is_split_by_language_with_each_conversations_outcome(stores: Stores) -> None:
    chinese = [stores.sessions.open_session("c1") for _ in range(3)]
    english = stores.sessions.open_session("c2")
    for s in chinese:
        turn(stores, s, "c1", at(20, 9), trace={"language": "zh"})
    turn(stores, chinese[0], "c1", at(20, 9, 5), trace={"language": "zh"}, handover=True, verdict="handover")
    turn(stores, english, "c2", at(20, 9), trace={"language": "en"})

    rows = stores.analytics.resolution_by_language(date(2026, 11, 20), date(2026, 11, 20))

    assert rows == [
        {"language": "zh", "turns": 4, "conversations": 3, "handed_over": 1, "unanswered": 0, "reopened": 0,
         "resolved": 2, "resolution_rate": 0.6667},
        {"language": "en", "turns": 1, "conversations": 1, "handed_over": 0, "unanswered": 0, "reopened": 0,
         "resolved": 1, "resolution_rate": 1.0}]
    assert stores.analytics.resolution_by_language(date(2026, 11, 21), date(2026, 11, 21)) == []
