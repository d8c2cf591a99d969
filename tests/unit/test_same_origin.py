"""Same-origin staff writes, CORS only for allow-listed origins, a CSRF token on the sign-in form, and the staff
pages' CSP and frame protection (issue 14, items 6 and 2's headers), on the real app through its ASGI interface."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from assistant.components import Components
from assistant.settings import SecuritySettings
from tests.unit.test_secure_defaults import web_app
from ui.staff_auth import COOKIE, build_auth
from ui.web_guards import STAFF_CSP, is_staff_path, json_depth

SHOP = "https://shop.example"
EVIL = "http://127.0.0.1:9999"  # another origin on the same site as http://127.0.0.1:<port>
OWN = "http://testserver"  # the TestClient's host
PASSWORD = "admin-pass-1234"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Components, FastAPI]]:
    components, app = web_app(tmp_path_factory.mktemp("origin"), {"security": {"allowed_origins": [SHOP]}})
    components.stores.staff.add_user("adam", PASSWORD, ["admin"])
    yield components, app
    components.stores.close()


@pytest.fixture
def admin(site: tuple[Components, FastAPI]) -> TestClient:
    """A browser with the admin signed in."""
    client = TestClient(site[1])
    signed_in = client.post("/api/v1/staff/login", json={"username": "adam", "password": PASSWORD})
    assert signed_in.status_code == 200 and COOKIE in client.cookies
    return client


def live_offer(components: Components) -> str:
    from assistant.staff.admin import Admin

    return next(str(o.to_dict()["offer"]["id"]) for o in Admin(components).offers()
                if o.to_dict()["status"] == "live")


def offer_status(components: Components, offer_id: str) -> str:
    from assistant.staff.admin import Admin

    return str(Admin(components).offer(offer_id).to_dict()["status"])


# CORS ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/v1/customers/C005", "/api/v1/admin/offers/x/disable", "/api/v1/chat",
                                  "/gradio_api/queue/join"])
def test_a_foreign_origin_gets_no_cors_preflight(site: tuple[Components, FastAPI], path: str) -> None:
    response = TestClient(site[1]).options(path, headers={
        "Origin": EVIL, "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "content-type"})

    assert response.status_code == 403 and response.json()["error"] == "CrossOriginRefused"
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]


def test_an_allow_listed_origin_gets_cors_for_the_shopper_api_only(site: tuple[Components, FastAPI]) -> None:
    client = TestClient(site[1])
    preflight = client.options("/api/v1/chat", headers={
        "Origin": SHOP, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    call = client.get("/api/v1/demo/customers", headers={"Origin": SHOP})
    staff = client.options("/api/v1/customers/C005",
                           headers={"Origin": SHOP, "Access-Control-Request-Method": "DELETE"})

    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == SHOP
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    assert call.headers["access-control-allow-origin"] == SHOP and "Origin" in call.headers["vary"]
    assert staff.status_code == 403


def test_gradio_adds_no_cors_headers_for_a_foreign_origin(site: tuple[Components, FastAPI]) -> None:
    response = TestClient(site[1]).get("/gradio_api/info", headers={"Origin": "http://localhost:9999"})

    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers


# same-origin writes -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{"Origin": EVIL, "Sec-Fetch-Site": "same-site"},
                                     {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
                                     {"Origin": EVIL}, {"Sec-Fetch-Site": "same-site"}, {"Origin": "null"}])
def test_cross_site_staff_writes_change_nothing(site: tuple[Components, FastAPI], admin: TestClient,
                                                headers: dict[str, str]) -> None:
    components, _ = site
    offer = live_offer(components)

    disable = admin.post(f"/api/v1/admin/offers/{offer}/disable", headers=headers)
    erase = admin.delete("/api/v1/customers/C005", headers=headers)
    form = admin.post("/staff/logout", headers=headers)

    for response in (disable, erase, form):
        assert response.status_code == 403 and response.json()["error"] == "CrossSiteRequest"
    assert offer_status(components, offer) == "live"
    assert components.stores.customers.get("C005") is not None
    assert admin.get("/api/v1/staff/me").status_code == 200  # still signed in: the logout did not happen either


def test_the_staff_pages_own_writes_go_through(site: tuple[Components, FastAPI], admin: TestClient) -> None:
    components, _ = site
    offer = live_offer(components)

    same_origin = admin.post(f"/api/v1/admin/offers/{offer}/disable",
                             headers={"Origin": OWN, "Sec-Fetch-Site": "same-origin"})

    assert same_origin.status_code == 200 and offer_status(components, offer) != "live"


def test_scripts_without_browser_headers_still_use_the_api(site: tuple[Components, FastAPI]) -> None:
    response = TestClient(site[1]).get("/api/v1/admin/offers", headers={"X-API-Key": "staff-test-key"})

    assert response.status_code == 200


def test_shopper_writes_with_a_token_from_an_allowed_origin_pass(site: tuple[Components, FastAPI]) -> None:
    client = TestClient(site[1])
    token = client.post("/api/v1/demo/token", json={"customer_id": "C001"}, headers={"Origin": SHOP})

    assert token.status_code in (200, 404)  # demo sign-in is off here: a 404, but not refused as cross-site


def test_every_route_that_needs_a_staff_role_is_guarded(site: tuple[Components, FastAPI]) -> None:
    """Staff routes declare the staff credentials (cookie, bearer, key) in the OpenAPI document: each must be under
    a path the origin guard treats as staff."""
    _, app = site
    staff_routes = [path for path, operations in app.openapi()["paths"].items()
                    if any("StaffKey" in requirement for op in operations.values()
                           for requirement in op.get("security", []))]

    assert len(staff_routes) > 20 and "/api/v1/customers/{customer_id}" in staff_routes
    assert [p for p in staff_routes if not is_staff_path(p)] == []


# the sign-in form's CSRF token ---------------------------------------------------------------------------------
def form_token(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/login").text)
    assert found is not None
    return found.group(1)


def test_the_sign_in_form_needs_its_csrf_token(site: tuple[Components, FastAPI]) -> None:
    client = TestClient(site[1])
    credentials = {"username": "adam", "password": PASSWORD}

    without = client.post("/staff/login", data=credentials, follow_redirects=False)
    wrong = client.post("/staff/login", data={**credentials, "csrf": "guess"}, follow_redirects=False)
    other_browser = TestClient(site[1]).post("/staff/login", data={**credentials, "csrf": form_token(client)},
                                             follow_redirects=False)
    right = client.post("/staff/login", data={**credentials, "csrf": form_token(client)}, follow_redirects=False)

    assert without.status_code == wrong.status_code == other_browser.status_code == 403
    assert "did not come from this site" in without.text and COOKIE not in without.cookies
    assert right.status_code == 303 and COOKIE in right.cookies


def test_a_sign_in_form_posted_from_another_site_is_refused(site: tuple[Components, FastAPI]) -> None:
    client = TestClient(site[1])
    token = form_token(client)

    response = client.post("/staff/login", data={"username": "adam", "password": PASSWORD, "csrf": token},
                           headers={"Origin": EVIL, "Sec-Fetch-Site": "same-site"}, follow_redirects=False)

    assert response.status_code == 403 and COOKIE not in response.cookies


# the staff pages' headers and cookies ---------------------------------------------------------------------------
def test_staff_pages_send_a_csp_and_frame_protection(site: tuple[Components, FastAPI], admin: TestClient) -> None:
    login = TestClient(site[1]).get("/staff/login")
    page = admin.get("/staff/")
    chat = admin.get("/")

    for response in (login, page):
        assert response.status_code == 200
        csp = response.headers["content-security-policy"]
        assert csp == STAFF_CSP and "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
        assert "form-action 'self'" in csp and "img-src 'self' data: blob:" in csp
        assert response.headers["x-frame-options"] == "DENY"
    assert "x-frame-options" not in chat.headers  # the shopper chat stays embeddable (docs/embedding.md)
    assert chat.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("https", [True, False])
def test_the_session_cookie_is_secure_when_the_site_is_https(site: tuple[Components, FastAPI], https: bool) -> None:
    components, _ = site
    auth = build_auth(SecuritySettings(staff_cookie_secure=https, token_secret=SecretStr("x" * 32)),
                      components.staff_accounts)
    app = FastAPI()
    app.include_router(auth.router)
    client = TestClient(app, base_url="https://testserver")

    cookies = [client.post("/api/v1/staff/login", json={"username": "adam", "password": PASSWORD}
                           ).headers["set-cookie"], client.get("/staff/login").headers["set-cookie"]]

    assert all(("; secure" in c.lower()) is https for c in cookies)


def test_json_depth_skips_strings() -> None:
    nested: Any = "[" * 5 + "]" * 5
    assert json_depth(nested.encode()) == 5
    assert json_depth(b'{"a": "[[[[[[[[", "b": [1, {"c": "\\"]]]]"}]}') == 3
