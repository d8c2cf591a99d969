"""Store contract, issue 16 item 5: a hand-over's contact (the e-mail address a shopper gave when nobody was
there, with what they were told it is for), erased with the customer, and who counts as a signed-in agent.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from assistant.errors import ConflictError, ValidationError
from assistant.privacy.customer_data import erase_customer
from assistant.store import FixedClock, Stores, session_factory, store_metadata
from assistant.store.staff_accounts import StaffStore

pytestmark = pytest.mark.integration

Record = Callable[..., dict[str, Any]]
ADDRESS = "reply.me@example.net"
PURPOSE = "We use it only to reply to this conversation, and it is deleted with your data."
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def shopper(stores: Stores, customer_record: Record) -> str:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    return "c1"


def test_the_address_is_kept_with_its_consent_on_a_handover_that_asked(stores: Stores, shopper: str,
                                                                         fixed_clock: FixedClock) -> None:
    asked = stores.handovers.create(stores.sessions.open_session(shopper), shopper, "customer_request", "s",
                                    "t1", ask_contact=True)
    fixed_clock.advance(minutes=2)

    kept = stores.handovers.set_contact(asked.id, f"  {ADDRESS} ", PURPOSE)

    again = stores.handovers.get(asked.id)
    assert asked.contact_asked_at is not None and asked.contact_email is None
    assert again == kept and again.contact_email == ADDRESS and again.contact_consent == PURPOSE
    assert again.contact_at == fixed_clock.now()


def test_no_address_without_the_question_nor_after_resolution(stores: Stores, shopper: str) -> None:
    unasked = stores.handovers.create(stores.sessions.open_session(shopper), shopper, "customer_request", "s")
    asked = stores.handovers.create(stores.sessions.open_session(shopper), shopper, "angry_customer", "s",
                                    ask_contact=True)
    stores.handovers.resolve(asked.id, "ana")

    with pytest.raises(ConflictError):
        stores.handovers.set_contact(unasked.id, ADDRESS, PURPOSE)
    with pytest.raises(ConflictError):
        stores.handovers.set_contact(asked.id, ADDRESS, PURPOSE)
    assert stores.handovers.get(unasked.id).contact_email is None  # type: ignore[union-attr]


def test_asking_later_marks_the_handover_once(stores: Stores, shopper: str, fixed_clock: FixedClock) -> None:
    handover = stores.handovers.create(stores.sessions.open_session(shopper), shopper, "customer_request", "s")
    first = stores.handovers.ask_contact(handover.id)
    fixed_clock.advance(hours=1)

    assert stores.handovers.ask_contact(handover.id).contact_asked_at == first.contact_asked_at is not None


@pytest.mark.parametrize("bad", ["not an address", "a@b", "x" * 320 + "@example.com"])
def test_something_that_is_no_address_is_refused(stores: Stores, shopper: str, bad: str) -> None:
    handover = stores.handovers.create(stores.sessions.open_session(shopper), shopper, "customer_request", "s",
                                       ask_contact=True)

    with pytest.raises(ValidationError):
        stores.handovers.set_contact(handover.id, bad, PURPOSE)


def test_the_address_is_not_redacted_but_the_summary_is(stores: Stores, shopper: str) -> None:
    handover = stores.handovers.create(stores.sessions.open_session(shopper), shopper, "customer_request",
                                       f"wrote {ADDRESS}", ask_contact=True)

    kept = stores.handovers.set_contact(handover.id, ADDRESS, PURPOSE)

    assert kept.contact_email == ADDRESS and ADDRESS not in kept.summary and "[EMAIL]" in kept.summary


def test_erasing_the_customer_erases_the_contact(stores: Stores, shopper: str) -> None:
    handover = stores.handovers.create(stores.sessions.open_session(shopper), shopper, "customer_request", "s",
                                       ask_contact=True)
    stores.handovers.set_contact(handover.id, ADDRESS, PURPOSE)

    removed = erase_customer(stores.engine, stores.customers, shopper)

    assert removed["handovers"] == 1 and stores.handovers.get(handover.id) is None
    with stores.engine.connect() as connection:
        everything = json.dumps([[dict(r._mapping) for r in connection.execute(select(t))]
                                 for t in store_metadata().sorted_tables], default=str)
    assert ADDRESS not in everything


def test_only_live_recently_used_agent_sessions_count(store_engine: Any, fixed_clock: FixedClock) -> None:
    staff = StaffStore(session_factory(store_engine), fixed_clock, hasher=CHEAP)
    for name, role in (("ana", "agent"), ("adam", "admin"), ("rita", "reviewer")):
        staff.add_user(name, "correct horse", [role])
    since = fixed_clock.now() - timedelta(minutes=30)
    assert staff.agents_active_since(since) == 0

    staff.create_session("rita", 3600)
    assert staff.agents_active_since(since) == 0  # a reviewer answers no hand-over
    staff.create_session("ana", 3600)
    staff.create_session("ana", 3600)  # two tabs: one agent
    assert staff.agents_active_since(since) == 1
    staff.create_session("adam", 600)
    assert staff.agents_active_since(since) == 2

    fixed_clock.advance(minutes=20)  # adam's session expired; ana's is live but idle for 20 minutes
    assert staff.agents_active_since(fixed_clock.now() - timedelta(minutes=30)) == 1
    assert staff.agents_active_since(fixed_clock.now() - timedelta(minutes=10)) == 0
