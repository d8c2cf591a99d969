"""StaffStore: argon2 password hashes, roles, sessions stored as SHA-256 of their token, expiry on a fixed clock."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from assistant.errors import ConflictError, NotFoundError, ValidationError
from assistant.store import FixedClock, build_engine, migrate, session_factory
from assistant.store import models as m
from assistant.store.staff_accounts import StaffStore

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def store(tmp_path: Path, clock: FixedClock) -> Iterator[StaffStore]:
    engine = build_engine(f"sqlite:///{tmp_path / 'staff.db'}")
    migrate(engine)
    yield StaffStore(session_factory(engine), clock, hasher=CHEAP)
    engine.dispose()


def rows(store: StaffStore, model: type) -> list:
    with store._sessions() as session:
        return list(session.scalars(select(model)))


def test_a_right_password_signs_in_and_a_wrong_one_or_an_unknown_user_does_not(store: StaffStore) -> None:
    store.add_user("ana", "correct horse", ["agent"])

    assert store.verify_password("ana", "correct horse") is not None
    assert store.verify_password("ana", "wrong horse!") is None
    assert store.verify_password("nobody", "correct horse") is None


def test_only_an_argon2_hash_of_the_password_is_stored(store: StaffStore) -> None:
    store.add_user("ana", "correct horse", ["agent"])

    [row] = rows(store, m.StaffUserRow)

    assert row.password_hash.startswith("$argon2id$") and "correct horse" not in row.password_hash


def test_usernames_are_case_insensitive_and_unique(store: StaffStore) -> None:
    store.add_user("Ana", "correct horse", ["agent"])

    with pytest.raises(ConflictError):
        store.add_user("ana", "another one", ["reviewer"])
    account = store.verify_password("ANA", "correct horse")
    assert account is not None and account.username == "ana"


@pytest.mark.parametrize("username, password, roles", [
    ("ana", "short", ["agent"]),
    ("ana", "correct horse", []),
    ("ana", "correct horse", ["owner"]),
    ("has space", "correct horse", ["agent"]),
    ("", "correct horse", ["agent"]),
])
def test_bad_accounts_are_refused_with_a_message(store: StaffStore, username: str, password: str,
                                                 roles: list[str]) -> None:
    with pytest.raises(ValidationError) as refused:
        store.add_user(username, password, roles)

    assert refused.value.user_message
    assert store.list_users() == []


def test_roles_are_kept_and_admin_has_every_role(store: StaffStore) -> None:
    store.add_user("rev", "correct horse", ["reviewer", "agent"])
    store.add_user("root", "correct horse", ["admin"])

    by_name = {a.username: a for a in store.list_users()}

    assert by_name["rev"].roles == {"agent", "reviewer"}
    assert by_name["root"].principal.has("reviewer") and by_name["root"].principal.has("agent")
    assert not by_name["rev"].principal.has("admin")


def test_a_session_is_stored_as_the_sha256_of_its_token(store: StaffStore) -> None:
    store.add_user("ana", "correct horse", ["agent"])

    token = store.create_session("ana", ttl_s=3600)

    [row] = rows(store, m.StaffSessionRow)
    assert row.id == hashlib.sha256(token.encode()).hexdigest() and token not in row.id
    principal = store.principal_for_token(token)
    assert principal is not None and principal.username == "ana" and principal.roles == {"agent"}


def test_an_expired_session_signs_nobody_in_and_is_deleted(store: StaffStore, clock: FixedClock) -> None:
    store.add_user("ana", "correct horse", ["agent"])
    token = store.create_session("ana", ttl_s=3600)

    clock.advance(seconds=3600)

    assert store.principal_for_token(token) is None
    assert rows(store, m.StaffSessionRow) == []


def test_use_slides_the_expiry_forward(store: StaffStore, clock: FixedClock) -> None:
    store.add_user("ana", "correct horse", ["agent"])
    token = store.create_session("ana", ttl_s=3600)

    clock.advance(minutes=50)
    assert store.principal_for_token(token, ttl_s=3600) is not None
    clock.advance(minutes=50)

    assert store.principal_for_token(token, ttl_s=3600) is not None
    clock.advance(minutes=61)
    assert store.principal_for_token(token, ttl_s=3600) is None


def test_unknown_tokens_sign_nobody_in(store: StaffStore) -> None:
    store.add_user("ana", "correct horse", ["agent"])
    store.create_session("ana", ttl_s=3600)

    assert store.principal_for_token("not-a-token") is None
    assert store.principal_for_token("") is None


def test_signing_out_ends_only_that_session(store: StaffStore) -> None:
    store.add_user("ana", "correct horse", ["agent"])
    laptop, phone = store.create_session("ana", 3600), store.create_session("ana", 3600)

    assert store.delete_session(laptop) is True

    assert store.principal_for_token(laptop) is None and store.principal_for_token(phone) is not None
    assert store.delete_session(laptop) is False


def test_purge_removes_expired_sessions_only(store: StaffStore, clock: FixedClock) -> None:
    store.add_user("ana", "correct horse", ["agent"])
    store.create_session("ana", 60)
    store.create_session("ana", 60)
    kept = store.create_session("ana", 7200)

    clock.advance(seconds=61)

    assert store.purge_expired() == 2
    assert store.count_sessions("ana") == 1 and store.principal_for_token(kept) is not None


def test_a_new_password_ends_every_session_and_replaces_the_old_one(store: StaffStore) -> None:
    store.add_user("ana", "correct horse", ["agent"])
    token = store.create_session("ana", 3600)

    store.set_password("ana", "battery staple")

    assert store.principal_for_token(token) is None
    assert store.verify_password("ana", "correct horse") is None
    assert store.verify_password("ana", "battery staple") is not None
    with pytest.raises(NotFoundError):
        store.set_password("nobody", "battery staple")


def test_removing_an_account_ends_its_sessions(store: StaffStore) -> None:
    store.add_user("ana", "correct horse", ["agent"])
    token = store.create_session("ana", 3600)

    assert store.remove_user("ANA") is True

    assert store.principal_for_token(token) is None and rows(store, m.StaffSessionRow) == []
    assert store.get_user("ana") is None and store.remove_user("ana") is False


def test_a_hash_with_old_parameters_is_rehashed_on_sign_in(tmp_path: Path, clock: FixedClock) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'rehash.db'}")
    migrate(engine)
    StaffStore(session_factory(engine), clock, hasher=CHEAP).add_user("ana", "correct horse", ["agent"])
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    store = StaffStore(session_factory(engine), clock, hasher=stronger)
    before = rows(store, m.StaffUserRow)[0].password_hash

    assert store.verify_password("ana", "correct horse") is not None

    after = rows(store, m.StaffUserRow)[0].password_hash
    assert after != before and not stronger.check_needs_rehash(after)
    assert store.verify_password("ana", "correct horse") is not None
    engine.dispose()


def test_a_disabled_account_cannot_sign_in_and_its_sessions_stop(store: StaffStore, clock: FixedClock) -> None:
    store.add_user("ana", "correct horse", ["agent"])
    token = store.create_session("ana", 3600)

    with store._sessions.begin() as session:
        session.execute(update(m.StaffUserRow).values(disabled_at=clock.now()))

    assert store.verify_password("ana", "correct horse") is None
    assert store.principal_for_token(token) is None
    with pytest.raises(NotFoundError):
        store.create_session("ana", 3600)


def test_roles_can_be_replaced(store: StaffStore) -> None:
    store.add_user("ana", "correct horse", ["agent"])

    account = store.set_roles("ana", ["reviewer"])

    assert account.roles == {"reviewer"}
    with pytest.raises(ValidationError):
        store.set_roles("ana", ["boss"])
