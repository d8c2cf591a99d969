"""Store contract, staff: accounts with argon2 hashes and roles, sessions stored by the SHA-256 of their token,
expiry, sign-out, and what removing an account or changing its password does. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import threading

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select

from assistant.errors import ConflictError, StoreError
from assistant.store import FixedClock, Stores, session_factory
from assistant.store import models as m
from assistant.store.staff_accounts import StaffStore

pytestmark = pytest.mark.integration

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def staff(store_engine: Engine, fixed_clock: FixedClock) -> StaffStore:
    return StaffStore(session_factory(store_engine), fixed_clock, hasher=CHEAP)


def test_the_factory_store_signs_in_with_the_default_argon2_parameters(stores: Stores) -> None:
    stores.staff.add_user("ana", "correct horse", ["agent", "reviewer"])

    account = stores.staff.verify_password("ana", "correct horse")

    assert account is not None and account.roles == {"agent", "reviewer"}
    assert stores.staff.verify_password("ana", "wrong horse") is None


def test_accounts_are_listed_by_username_and_unique(staff: StaffStore) -> None:
    staff.add_user("zoe", "correct horse", ["admin"])
    staff.add_user("ana", "correct horse", ["agent"])

    with pytest.raises(ConflictError):
        staff.add_user("ANA", "correct horse", ["agent"])
    assert [a.username for a in staff.list_users()] == ["ana", "zoe"]


def test_two_replicas_adding_the_same_username_make_one_account(store_engine: Engine,
                                                                 fixed_clock: FixedClock) -> None:
    replicas = [StaffStore(session_factory(store_engine), fixed_clock, hasher=CHEAP) for _ in range(4)]
    outcomes: list[str] = []

    def add(store: StaffStore) -> None:
        try:
            store.add_user("ana", "correct horse", ["agent"])
            outcomes.append("added")
        except (ConflictError, StoreError):
            outcomes.append("refused")

    threads = [threading.Thread(target=add, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("added") == 1 and len(replicas[0].list_users()) == 1


def test_sessions_are_kept_by_hash_and_expire(staff: StaffStore, fixed_clock: FixedClock,
                                              store_engine: Engine) -> None:
    staff.add_user("ana", "correct horse", ["agent"])
    token = staff.create_session("ana", ttl_s=600)

    with session_factory(store_engine)() as session:
        ids = list(session.scalars(select(m.StaffSessionRow.id)))
    assert ids == [hashlib.sha256(token.encode()).hexdigest()]
    assert staff.principal_for_token(token) is not None

    fixed_clock.advance(seconds=600)
    assert staff.principal_for_token(token) is None and staff.count_sessions() == 0


def test_sign_out_purge_and_sliding_expiry(staff: StaffStore, fixed_clock: FixedClock) -> None:
    staff.add_user("ana", "correct horse", ["agent"])
    used, idle, signed_out = (staff.create_session("ana", 600) for _ in range(3))

    assert staff.delete_session(signed_out) is True
    fixed_clock.advance(seconds=500)
    assert staff.principal_for_token(used, ttl_s=600) is not None
    fixed_clock.advance(seconds=200)

    assert staff.purge_expired() == 1
    assert staff.principal_for_token(used) is not None and staff.principal_for_token(idle) is None


def test_removing_an_account_or_changing_its_password_ends_its_sessions(staff: StaffStore) -> None:
    staff.add_user("ana", "correct horse", ["agent"])
    staff.add_user("ben", "correct horse", ["agent"])
    ana, ben = staff.create_session("ana", 600), staff.create_session("ben", 600)

    staff.remove_user("ana")
    staff.set_password("ben", "battery staple")

    assert staff.principal_for_token(ana) is None and staff.principal_for_token(ben) is None
    assert staff.count_sessions() == 0
    assert staff.verify_password("ben", "battery staple") is not None
