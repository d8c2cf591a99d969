"""Staff sign-in and role checks: login sets an HttpOnly cookie, logout and expiry end the session, and every
staff route answers 401 without a session, 403 for the wrong role and 200 for the right one."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from assistant.components import Components
from assistant.identity import issue_token
from assistant.staff.accounts import StaffAccounts
from assistant.store import FixedClock, session_factory
from assistant.store.staff_accounts import StaffStore
from ui.error_table import install_error_table
from ui.handover_api import build_staff_api
from ui.rate_limits import RateLimiter
from ui.shopper_api import build_api
from ui.staff_auth import COOKIE, EXPIRED, WRONG, StaffAuth, build_auth

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse"
LOOSE = {"chat_shopper": "1000/minute", "chat_ip": "1000/minute", "login_ip": "1000/minute",
         "login_user": "1000/minute"}
_names = itertools.count()


@dataclass
class Staff:
    client: TestClient
    app: FastAPI
    auth: StaffAuth
    clock: FixedClock
    store: StaffStore

    def login(self, username: str, password: str = PASSWORD) -> str:
        response = self.client.post("/api/v1/staff/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return str(response.cookies[COOKIE])

    def form(self, data: dict[str, str], **kwargs: object) -> Response:
        """Post the sign-in form as a browser would: with the CSRF token of the page it was shown on."""
        page = self.client.get("/staff/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None, page.text
        return self.client.post("/staff/login", data={**data, "csrf": csrf.group(1)}, **kwargs)  # type: ignore[arg-type]

    def bearer(self, username: str) -> dict[str, str]:
        token = self.login(username)
        self.client.cookies.clear()
        return {"Authorization": f"Bearer {token}"}


def make_staff(components: Components, rates: dict[str, str] | None = None) -> Staff:
    clock = FixedClock()
    store = StaffStore(session_factory(components.stores.engine), clock, hasher=CHEAP)
    security = components.settings.security
    limiter = RateLimiter({**LOOSE, **(rates or {})}, "memory://", f"t{next(_names)}")
    auth = build_auth(security, StaffAccounts(store), limiter)
    app = install_error_table(FastAPI())
    app.include_router(auth.router)
    app.include_router(build_api(components, auth.require, limiter))
    app.include_router(build_staff_api(security, components.copilot, components.staff_accounts, auth.require))
    return Staff(TestClient(app), app, auth, clock, store)


@pytest.fixture(scope="module")
def accounts(own_demo_components: Components) -> dict[str, str]:
    """role -> username: an agent, a reviewer, an admin."""
    store = StaffStore(session_factory(own_demo_components.stores.engine), FixedClock(), hasher=CHEAP)
    users = {"agent": "ana", "reviewer": "rev", "admin": "root"}
    for role, name in users.items():
        store.add_user(name, PASSWORD, [role])
    return users


@pytest.fixture
def staff(own_demo_components: Components, accounts: dict[str, str]) -> Iterator[Staff]:
    yield make_staff(own_demo_components)


# signing in ---------------------------------------------------------------------------------------------
def test_login_sets_an_httponly_lax_cookie_and_says_who_and_until_when(staff: Staff) -> None:
    response = staff.client.post("/api/v1/staff/login", json={"username": "ana", "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "ana" and body["roles"] == ["agent"] and body["expires_at"].startswith("2025-01-01T20")
    cookie = response.headers["set-cookie"].lower()
    assert f"{COOKIE}=" in cookie and "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert staff.client.get("/api/v1/staff/me").json()["username"] == "ana"


@pytest.mark.parametrize("username, password", [("ana", "wrong horse"), ("nobody", PASSWORD)])
def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(staff: Staff, username: str,
                                                                   password: str) -> None:
    response = staff.client.post("/api/v1/staff/login", json={"username": username, "password": password})

    assert response.status_code == 401 and response.json()["detail"] == WRONG
    assert COOKIE not in response.cookies


def test_login_accepts_a_form_too(staff: Staff) -> None:
    response = staff.client.post("/api/v1/staff/login", data={"username": "ana", "password": PASSWORD})

    assert response.status_code == 200 and COOKIE in response.cookies


def test_login_without_credentials_is_a_422(staff: Staff) -> None:
    response = staff.client.post("/api/v1/staff/login", json={"username": "ana"})

    assert response.status_code == 422 and "password" in response.json()["detail"]


def test_the_session_token_works_as_a_bearer_token(staff: Staff) -> None:
    headers = staff.bearer("ana")

    assert staff.client.get("/api/v1/staff/me", headers=headers).json()["username"] == "ana"


def test_logout_ends_the_session(staff: Staff) -> None:
    token = staff.login("ana")

    staff.client.post("/api/v1/staff/logout")

    staff.client.cookies.clear()
    response = staff.client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json()["detail"] == EXPIRED


def test_an_expired_session_is_a_401_that_says_so(staff: Staff) -> None:
    staff.login("ana")

    staff.clock.advance(hours=8, seconds=1)

    response = staff.client.get("/api/v1/handovers")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_a_session_in_use_stays_alive(staff: Staff) -> None:
    staff.login("ana")

    for _ in range(3):
        staff.clock.advance(hours=6)
        assert staff.client.get("/api/v1/handovers").status_code == 200


def test_changing_the_password_signs_out_everywhere(staff: Staff) -> None:
    staff.store.add_user("pat", PASSWORD, ["agent"])
    staff.login("pat")

    staff.store.set_password("pat", "battery staple")

    assert staff.client.get("/api/v1/handovers").status_code == 401


# the login page --------------------------------------------------------------------------------------------
def test_the_login_page_is_a_form(staff: Staff) -> None:
    page = staff.client.get("/staff/login")

    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert '<form method="post" action="/staff/login">' in page.text and 'type="password"' in page.text


def test_the_login_form_redirects_to_the_staff_views(staff: Staff) -> None:
    response = staff.form({"username": "ana", "password": PASSWORD}, follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"] == "/staff/"
    assert COOKIE in response.cookies


def test_the_login_form_shows_the_error_and_keeps_the_username(staff: Staff) -> None:
    response = staff.form({"username": "ana", "password": "nope nope"}, follow_redirects=False)

    assert response.status_code == 401 and WRONG in response.text and 'value="ana"' in response.text


@pytest.mark.parametrize("target, expected", [("/staff/copilot", "/staff/copilot"), ("//evil.example", "/staff/"),
                                              ("https://evil.example/", "/staff/")])
def test_the_login_form_goes_back_only_to_this_site(staff: Staff, target: str, expected: str) -> None:
    response = staff.form({"username": "ana", "password": PASSWORD, "next": target}, follow_redirects=False)

    assert response.headers["location"] == expected


# failed sign-ins are rate limited ------------------------------------------------------------------------
def test_wrong_passwords_for_one_username_are_rate_limited(own_demo_components: Components,
                                                            accounts: dict[str, str]) -> None:
    staff = make_staff(own_demo_components, {"login_user": "3/minute"})
    for _ in range(3):
        assert staff.client.post("/api/v1/staff/login", json={"username": "rev", "password": "x" * 9}
                                 ).status_code == 401

    blocked = staff.client.post("/api/v1/staff/login", json={"username": "rev", "password": PASSWORD})

    assert blocked.status_code == 429 and "try again in" in blocked.json()["detail"]
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert staff.client.post("/api/v1/staff/login", json={"username": "ana", "password": PASSWORD}
                             ).status_code == 200


def test_wrong_passwords_from_one_address_are_rate_limited(own_demo_components: Components,
                                                            accounts: dict[str, str]) -> None:
    staff = make_staff(own_demo_components, {"login_ip": "2/minute"})
    for name in ("ana", "rev"):
        staff.client.post("/api/v1/staff/login", json={"username": name, "password": "x" * 9})

    blocked = staff.form({"username": "root", "password": PASSWORD})

    assert blocked.status_code == 429 and "Retry-After" in blocked.headers and "too many" in blocked.text


def test_successful_sign_ins_do_not_count(own_demo_components: Components, accounts: dict[str, str]) -> None:
    staff = make_staff(own_demo_components, {"login_user": "2/minute"})

    statuses = [staff.client.post("/api/v1/staff/login", json={"username": "ana", "password": PASSWORD}
                                  ).status_code for _ in range(4)]

    assert statuses == [200] * 4


# roles on every staff route --------------------------------------------------------------------------------
ROUTES = [  # (method, path, role needed)
    ("GET", "/api/v1/handovers", "agent"),
    ("GET", "/api/v1/copy", "agent"),
    ("GET", "/api/v1/customers/C002/export", "admin"),
]
MATRIX = [(method, path, role, who, (200 if role == who or who == "admin" else 403))
          for method, path, role in ROUTES for who in ("agent", "reviewer", "admin")]


@pytest.mark.parametrize("method, path, role, who, status", MATRIX,
                         ids=[f"{p}-{w}" for _, p, _, w, _ in MATRIX])
def test_the_right_role_gets_the_route_and_a_wrong_one_a_403(staff: Staff, accounts: dict[str, str], method: str,
                                                              path: str, role: str, who: str, status: int) -> None:
    response = staff.client.request(method, path, headers=staff.bearer(accounts[who]))

    assert response.status_code == status, response.text
    if status == 403:
        assert f"needs the {role} role" in response.json()["detail"]


@pytest.mark.parametrize("method, path, _role", ROUTES)
def test_without_a_session_or_with_a_shopper_token_staff_routes_are_a_401(staff: Staff, method: str, path: str,
                                                                        _role: str) -> None:
    shopper = {"Authorization": f"Bearer {issue_token('C002', 'test-secret', 600)}"}

    anonymous = staff.client.request(method, path)
    as_shopper = staff.client.request(method, path, headers=shopper)

    assert anonymous.status_code == 401 and "sign in" in anonymous.json()["detail"]
    assert as_shopper.status_code == 401 and as_shopper.json()["detail"] == EXPIRED


def staff_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every staff route of the app, from its OpenAPI description, with made-up ids."""
    prefixes = ("/api/v1/handovers", "/api/v1/copy", "/api/v1/customers")
    return [(method.upper(), path.replace("{handover_id}", "h1").replace("{draft_id}", "d1")
             .replace("{customer_id}", "C002"))
            for path, methods in app.openapi()["paths"].items() if path.startswith(prefixes)
            for method in sorted(methods)]


def test_every_staff_route_refuses_anonymous_and_reviewer_only_staff(staff: Staff, accounts: dict[str, str]) -> None:
    routes = staff_routes(staff.app)
    reviewer = staff.bearer(accounts["reviewer"])

    assert len(routes) >= 9
    for method, path in routes:
        assert staff.client.request(method, path, json={}).status_code == 401, (method, path)
        assert staff.client.request(method, path, json={}, headers=reviewer).status_code == 403, (method, path)


def test_erasure_is_for_admins_only(staff: Staff, accounts: dict[str, str]) -> None:
    as_agent = staff.client.delete("/api/v1/customers/NOPE", headers=staff.bearer(accounts["agent"]))
    as_admin = staff.client.delete("/api/v1/customers/NOPE", headers=staff.bearer(accounts["admin"]))

    assert as_agent.status_code == 403 and as_admin.status_code == 404


# the service key ------------------------------------------------------------------------------------------
def test_the_service_key_acts_as_an_admin(staff: Staff) -> None:
    key = {"X-API-Key": "staff-test-key"}

    assert staff.client.get("/api/v1/customers/C002/export", headers=key).status_code == 200
    assert staff.client.get("/api/v1/staff/me", headers=key).json() == {
        "username": "service", "roles": ["admin"], "expires_at": None}
    assert staff.client.get("/api/v1/handovers", headers={"X-API-Key": "wrong"}).status_code == 401


def test_principal_from_request_reads_the_cookie(staff: Staff) -> None:
    token = staff.login("rev")

    class FakeRequest:
        headers: dict[str, str] = {}
        cookies = {COOKIE: token}

    principal = staff.auth.principal_from_request(FakeRequest())

    assert principal is not None and principal.username == "rev" and principal.has("reviewer")
    FakeRequest.cookies = {COOKIE: "forged"}
    assert staff.auth.principal_from_request(FakeRequest()) is None
    assert staff.auth.principal_from_request(None) is None


def test_build_auth_unpacks_as_router_and_require(own_demo_components: Components) -> None:
    router, require = build_auth(own_demo_components.settings.security, own_demo_components.staff_accounts)

    assert any(getattr(r, "path", "") == "/api/v1/staff/login" for r in router.routes)
    with pytest.raises(ValueError):
        require("owner")
