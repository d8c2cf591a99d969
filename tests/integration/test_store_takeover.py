"""Store contract: an agent taking a conversation over (``SessionStore.hold`` / ``release`` / ``find``), and the
turn's own state writes keeping the take-over. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from assistant.errors import ConflictError, NotFoundError
from assistant.store import Stores

pytestmark = pytest.mark.integration
Record = Callable[..., dict[str, Any]]


@pytest.fixture
def session_id(stores: Stores, customer_record: Record) -> str:
    stores.customers.upsert_from_record(customer_record("c1"), "demo")
    return str(stores.sessions.open_session("c1", "web"))


def test_staff_find_any_session_by_id(stores: Stores, session_id: str) -> None:
    found = stores.sessions.find(session_id)

    assert found is not None and found.customer_id == "c1" and stores.sessions.find("nope") is None


def test_hold_records_the_agent_and_another_agent_is_refused(stores: Stores, session_id: str) -> None:
    held = stores.sessions.hold(session_id, "ana")

    with pytest.raises(ConflictError):
        stores.sessions.hold(session_id, "ben")

    assert held.state["taken_over_by"]["agent"] == "ana"
    assert stores.sessions.hold(session_id, "ana").state == held.state  # again: no change


def test_the_turns_state_writes_keep_the_take_over(stores: Stores, session_id: str) -> None:
    stores.sessions.hold(session_id, "ana")

    stores.sessions.set_state("c1", session_id, {"failures": 0, "taken_over_by": None})

    state = stores.sessions.get_session("c1", session_id)
    assert state is not None and state.state["taken_over_by"]["agent"] == "ana" and state.state["failures"] == 0


def test_release_by_the_holder_only(stores: Stores, session_id: str) -> None:
    stores.sessions.set_state("c1", session_id, {"failures": 1})
    stores.sessions.hold(session_id, "ana")

    with pytest.raises(ConflictError):
        stores.sessions.release(session_id, "ben")
    released = stores.sessions.release(session_id, "ana")

    assert released.state == {"failures": 1}
    assert stores.sessions.release(session_id, "ben").state == {"failures": 1}  # nobody holds it: no change


def test_hold_of_an_unknown_session_is_not_found(stores: Stores) -> None:
    with pytest.raises(NotFoundError):
        stores.sessions.hold("nope", "ana")


def test_two_agents_taking_over_at_once_one_wins(stores: Stores, session_id: str) -> None:
    winners: list[str] = []
    refused: list[str] = []
    start = threading.Barrier(2)

    def take(agent: str) -> None:
        start.wait()
        try:
            stores.sessions.hold(session_id, agent)
            winners.append(agent)
        except ConflictError:
            refused.append(agent)

    threads = [threading.Thread(target=take, args=(a,)) for a in ("ana", "ben")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    found = stores.sessions.find(session_id)
    assert len(winners) == 1 and len(refused) == 1
    assert found is not None and found.state["taken_over_by"]["agent"] == winners[0]
