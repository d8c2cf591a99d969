"""Store contract for conversation ratings (CSAT) and the honest resolution figures, on SQLite and PostgreSQL: a
rating per session that only its shopper reaches, replaced when given again, refused outside 1-5, erased with the
shopper; "I don't know" endings and reopened conversations are not resolved; CSAT split by hand-over."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from assistant.errors import NotFoundError, ValidationError
from assistant.privacy.customer_data import erase_customer
from assistant.store import FixedClock, Stores, TurnRecord

pytestmark = pytest.mark.integration


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def shoppers(stores: Stores, customer_record: Any, fixed_clock: FixedClock) -> Stores:
    fixed_clock.set(at(20, 8))
    for customer_id in ("c1", "c2", "c3"):
        stores.customers.upsert_from_record(customer_record(customer_id), "test")
    return stores


def turn(stores: Stores, session: str, customer: str | None, when: datetime, **fields: Any) -> None:
    fields = {"message": "Can I return it?", "reply": "Yes, within 30 days.", **fields}
    stores.turns.record_turn(TurnRecord(session_id=session, customer_id=customer, created_at=when, **fields), [])


def test_a_rating_is_stored_replaced_and_kept_from_other_shoppers(shoppers: Stores, fixed_clock: FixedClock) -> None:
    session = shoppers.sessions.open_session("c1")
    first = shoppers.ratings.rate("c1", session, 2, "took long", "quiet")
    fixed_clock.advance(minutes=5)

    again = shoppers.ratings.rate("c1", session, 4, None, "handover_resolved")

    assert (again.score, again.comment, again.reason, again.created_at) == (4, None, "handover_resolved",
                                                                            first.created_at)
    assert shoppers.ratings.get("c1", session) == again
    assert shoppers.ratings.get("c2", session) is None and shoppers.ratings.get(None, session) is None
    with pytest.raises(NotFoundError):
        shoppers.ratings.rate("c2", session, 1, None, "quiet")
    for score in (0, 6):
        with pytest.raises(ValidationError):
            shoppers.ratings.rate("c1", session, score, None, "quiet")


def test_a_guests_rating_and_the_rating_erased_with_the_customer(shoppers: Stores) -> None:
    guest, customer = shoppers.sessions.open_session(None), shoppers.sessions.open_session("c2")
    shoppers.ratings.rate(None, guest, 5, None, "quiet")
    shoppers.ratings.rate("c2", customer, 1, "call me on 415-555-0134", "quiet")

    stored = shoppers.ratings.get("c2", customer)
    removed = erase_customer(shoppers.engine, shoppers.customers, "c2")

    assert stored is not None and "415-555-0134" not in str(stored.comment)
    assert removed["session_ratings"] == 1 and shoppers.ratings.get("c2", customer) is None
    assert shoppers.ratings.get(None, guest) is not None


def test_resolution_leaves_out_i_dont_know_endings_reopened_and_handed_over(shoppers: Stores,
                                                                            fixed_clock: FixedClock) -> None:
    answered, dont_know, came_back, handed, first = (shoppers.sessions.open_session(c)
                                                      for c in ("c1", None, None, None, "c2"))
    turn(shoppers, answered, "c1", at(20, 9))
    turn(shoppers, dont_know, None, at(20, 9), verdict="no_facts",
         reply="I'm sorry, I don't know that: I couldn't find it in the shop's information.")
    turn(shoppers, came_back, None, at(20, 9))
    turn(shoppers, came_back, None, at(20, 12))
    turn(shoppers, handed, None, at(20, 9), handover=True, verdict="handover")
    turn(shoppers, first, "c2", at(20, 9))
    fixed_clock.set(at(21, 8))
    turn(shoppers, shoppers.sessions.open_session("c2"), "c2", at(21, 8))  # c2 is back within a day

    (total,) = shoppers.analytics.resolution_total(date(2026, 11, 20), date(2026, 11, 20))
    daily = shoppers.analytics.resolution(date(2026, 11, 20), date(2026, 11, 21))

    assert {k: total[k] for k in ("conversations", "handed_over", "unanswered", "reopened", "resolved")} == {
        "conversations": 5, "handed_over": 1, "unanswered": 1, "reopened": 2, "resolved": 1}
    assert [(r["day"], r["conversations"], r["resolved"]) for r in daily] == [("2026-11-20", 5, 1),
                                                                             ("2026-11-21", 1, 1)]
    assert shoppers.analytics.with_quiet(timedelta(hours=4)).resolution_total(
        date(2026, 11, 20), date(2026, 11, 20))[0]["reopened"] == 1  # a 3-hour pause is inside a 4-hour window


def test_csat_is_split_by_whether_a_person_was_involved(shoppers: Stores, fixed_clock: FixedClock) -> None:
    alone, with_agent = shoppers.sessions.open_session("c1"), shoppers.sessions.open_session("c3")
    turn(shoppers, alone, "c1", at(20, 9))
    turn(shoppers, with_agent, "c3", at(20, 9))
    turn(shoppers, with_agent, "c3", at(20, 9, 3), author="agent:ana", message="", reply="Done for you.")
    fixed_clock.set(at(20, 10))
    shoppers.ratings.rate("c1", alone, 5, None, "quiet")
    shoppers.ratings.rate("c3", with_agent, 2, None, "quiet")

    rows = {r["conversations"]: r for r in shoppers.analytics.run("csat", date(2026, 11, 20), date(2026, 11, 20))}

    assert (rows["assistant"]["mean"], rows["assistant"]["score_5"]) == (5.0, 1)
    assert (rows["handover"]["mean"], rows["handover"]["score_2"]) == (2.0, 1)
    assert (rows["all"]["ratings"], rows["all"]["mean"]) == (2, 3.5)
