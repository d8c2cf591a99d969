"""The widget's server side (issue 16, item 2): ``/widget.js`` served as a cacheable script, the shopper chat framed
only by this site and ``security.allowed_origins`` while the staff pages stay unframeable, and the shopper chat's
streamed answer readable from an allowed origin only. The browser side is tests/browser/test_widget.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from assistant.components import Components
from assistant.identity import issue_token
from tests.unit.test_secure_defaults import web_app
from ui.web_guards import SecurityHeaders, shopper_frame_policy
from ui.widget_script import WIDGET_FILE, WIDGET_MAX_AGE_S

SHOP = "https://shop.example"
EVIL = "http://127.0.0.1:9999"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Components, FastAPI]]:
    components, app = web_app(tmp_path_factory.mktemp("widget"), {"security": {"allowed_origins": [SHOP]}})
    yield components, app
    components.stores.close()


@pytest.fixture(scope="module")
def client(site: tuple[Components, FastAPI]) -> TestClient:
    return TestClient(site[1])


def shopper_token(components: Components, customer_id: str = "C001") -> str:
    return issue_token(customer_id, components.settings.security.token_secret.get_secret_value())


def test_the_widget_script_is_served_as_a_cacheable_script(client: TestClient) -> None:
    response = client.get("/widget.js")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.content == WIDGET_FILE.read_bytes()
    assert response.headers["cache-control"] == f"public, max-age={WIDGET_MAX_AGE_S}"
    assert response.headers["etag"].startswith('"') and response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"


def test_a_browser_with_the_current_script_gets_a_304(client: TestClient) -> None:
    etag = client.get("/widget.js").headers["etag"]

    again = client.get("/widget.js", headers={"If-None-Match": etag})
    changed = client.get("/widget.js", headers={"If-None-Match": '"an-older-version"'})

    assert again.status_code == 304 and again.content == b""
    assert changed.status_code == 200 and changed.content


def test_the_script_is_readable_by_an_allowed_origin_only(client: TestClient) -> None:
    """The script checks with a HEAD request to itself whether the page's origin may open the chat."""
    allowed = client.head("/widget.js", headers={"Origin": SHOP})
    other = client.head("/widget.js", headers={"Origin": EVIL})

    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == SHOP
    assert "origin" in allowed.headers["vary"].lower()
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers


def test_the_shopper_chat_may_be_framed_by_allowed_origins_only(client: TestClient) -> None:
    chat = client.get("/?embed=1&lang=zh")
    staff = client.get("/staff/login")

    csp = chat.headers["content-security-policy"]
    assert chat.status_code == 200 and csp == f"frame-ancestors 'self' {SHOP}"
    assert EVIL not in csp and "x-frame-options" not in chat.headers
    assert "frame-ancestors 'none'" in staff.headers["content-security-policy"]
    assert staff.headers["x-frame-options"] == "DENY"


def test_without_allowed_origins_only_the_site_itself_may_frame_pages() -> None:
    async def page(_request: object) -> PlainTextResponse:
        return PlainTextResponse("hi")

    app = SecurityHeaders(Starlette(routes=[Route("/", page), Route("/staff/x", page)]))
    client = TestClient(app)

    chat, staff = client.get("/"), client.get("/staff/x")

    assert chat.headers["content-security-policy"] == "frame-ancestors 'self'" == shopper_frame_policy()
    assert chat.headers["x-frame-options"] == "SAMEORIGIN"
    assert staff.headers["x-frame-options"] == "DENY"


def test_a_page_policy_of_its_own_keeps_it_and_gains_the_frame_rule() -> None:
    async def page(_request: object) -> PlainTextResponse:
        return PlainTextResponse("hi", headers={"Content-Security-Policy": "img-src 'self'"})

    client = TestClient(SecurityHeaders(Starlette(routes=[Route("/", page)]), frame_origins=[SHOP + "/"]))

    assert client.get("/").headers["content-security-policy"] == f"img-src 'self'; frame-ancestors 'self' {SHOP}"


def test_the_streamed_chat_answers_an_allowed_origin_with_cors(site: tuple[Components, FastAPI],
                                                               client: TestClient) -> None:
    components, _ = site
    headers = {"Authorization": f"Bearer {shopper_token(components)}", "Content-Type": "application/json"}
    preflight = client.options("/api/v1/chat", headers={
        "Origin": SHOP, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})

    with client.stream("POST", "/api/v1/chat", json={"message": "How long do I have to return something?",
                                                     "stream": True}, headers={**headers, "Origin": SHOP}) as answer:
        body = "".join(answer.iter_text())

    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == SHOP
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
    assert answer.headers["access-control-allow-origin"] == SHOP
    assert "event: done" in body


def test_the_streamed_chat_gives_another_origin_nothing_to_read(client: TestClient) -> None:
    preflight = client.options("/api/v1/chat", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})

    assert preflight.status_code == 403 and preflight.json()["error"] == "CrossOriginRefused"
    assert not [h for h in preflight.headers if h.lower().startswith("access-control-")]
