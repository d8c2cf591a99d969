"""The widget on a shop's own page (issue 16, item 2), in a real browser: a page served from another origin
(``http://localhost:<port>``, another site than the server's ``http://127.0.0.1:<port>``) carries the one
``<script src=".../widget.js" data-...>`` tag. Its chat button is a named, keyboard-usable button with a visible
focus ring and text at 4.5:1 or more on the shop's colour; it opens the chat in a panel where a signed-in shopper
(``data-token``, signed by the shop's backend) and a guest get streamed answers; a guest's conversation follows
them to the shop's next page and becomes theirs when the shop sets their token; axe-core finds no critical or
serious violation with the panel open (desktop and phone). A page from an origin not in ``security.allowed_origins``
gets no button, cannot frame the chat and cannot read the streamed API."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from assistant.identity import issue_token
from tests.browser.axe_check import axe_violations, blocking
from tests.browser.conftest import App, shot
from tests.browser.test_shopper import ask
from tests.integration.conftest import free_port, served

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.browser]

SECRET = "widget-test-secret"
TITLE = "Ask us"
ORANGE = "#f97316"  # white text on it is 2.8:1: the widget must pick dark text

SHOP_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>A shop</title></head>
<body><header><a href="#main">Skip to products</a></header>
<main id="main"><h1>A shop</h1><p>Everything we sell, in one place.</p></main>
<script src="{app}/widget.js" {attributes}></script>
</body></html>"""

FETCH_STREAM = """async ([url, token]) => {
  const started = performance.now();
  const headers = {"Content-Type": "application/json"};
  if (token) headers["Authorization"] = "Bearer " + token;
  try {
    const response = await fetch(url + "/api/v1/chat", {method: "POST", headers,
        body: JSON.stringify({message: "How long do I have to return something?", stream: true})});
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const chunks = [];
    let text = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      const piece = decoder.decode(value, {stream: true});
      chunks.push({at: performance.now() - started, piece});
      text += piece;
    }
    return {status: response.status, type: response.headers.get("content-type"), chunks, text};
  } catch (e) {
    return {blocked: String(e)};
  }
}"""


@dataclass
class Site:
    """A page server on loopback: ``pages`` maps a path to the HTML it serves."""

    origin: str
    pages: dict[str, str] = field(default_factory=dict)


def page_server(host: str) -> Iterator[Site]:
    pages: dict[str, str] = {}
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _handler_for(pages))
    site = Site(f"http://{host}:{server.server_address[1]}", pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def _handler_for(pages: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = pages.get(self.path.split("?")[0], "<!doctype html><title>none</title>").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def shop() -> Iterator[Site]:
    """The shop's pages, on an origin listed in ``security.allowed_origins`` (and another site than the server)."""
    yield from page_server("localhost")


@pytest.fixture(scope="module")
def stranger() -> Iterator[Site]:
    """Another origin, not in ``security.allowed_origins``."""
    yield from page_server("127.0.0.1")


@pytest.fixture(scope="module")
def widget_app(tmp_path_factory: pytest.TempPathFactory, shop: Site) -> Iterator[App]:
    """``concierge serve`` as a shop runs it: the shop's origin allowed, the demo sign-in off, its own secret."""
    data = tmp_path_factory.mktemp("widget-app")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CONCIERGE_APP__DATA_DIR": str(data), "HF_HUB_OFFLINE": "1", "CONCIERGE_PROFILES": "",
           "CONCIERGE_TOKEN_SECRET": SECRET, "CONCIERGE_SECURITY__DEMO_SIGN_IN": "false",
           "CONCIERGE_SECURITY__ALLOWED_ORIGINS": json.dumps([shop.origin])}
    with served([sys.executable, "-m", "ui.cli.main", "serve", "--port", str(port)], data / "server.log",
                lambda: httpx.get(f"{url}/healthz", timeout=2).status_code == 200, "concierge server",
                timeout=300, env=env):
        yield App(url, data)


def shop_page(site: Site, app: App, path: str, **attributes: str) -> str:
    """Serve the shop page with the widget's tag (``data_color="#..."`` -> ``data-color="#..."``); its URL."""
    tag = " ".join(f'{name.replace("_", "-")}="{value}"' for name, value in attributes.items())
    site.pages[path] = SHOP_PAGE.format(app=app.url, attributes=tag)
    return site.origin + path


def bubble_of(page: Any, name: str = TITLE) -> Any:
    return page.get_by_role("button", name=name)


def chat_frame(page: Any) -> Any:
    """The chat in the widget's panel (Playwright's selectors pierce the widget's shadow root)."""
    return page.frame_locator("#concierge-widget iframe")


def widget_state(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("""() => { const root = document.querySelector('#concierge-widget').shadowRoot;
        const b = root.querySelector('.bubble'), s = getComputedStyle(b), r = b.getBoundingClientRect();
        const panel = root.querySelector('.panel');
        return {expanded: b.getAttribute('aria-expanded'), open: !panel.hidden, focused: root.activeElement === b,
                focusVisible: b.matches(':focus-visible'), outline: s.outlineStyle,
                outlineWidth: parseFloat(s.outlineWidth),
                color: s.color, background: s.backgroundColor, left: r.left, right: r.right, width: innerWidth,
                frame: (root.querySelector('iframe') || {}).src || null} }"""))


def contrast(fg: str, bg: str) -> float:
    def lum(rgb: str) -> float:
        parts = [int(float(x)) / 255 for x in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((lum(fg), lum(bg)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_a_signed_in_shopper_opens_the_bubble_and_gets_a_streamed_answer(page: Any, widget_app: App,
                                                                          shop: Site) -> None:
    token = issue_token("C001", SECRET, ttl_s=3600)
    url = shop_page(shop, widget_app, "/signed-in", data_position="bottom-left", data_color=ORANGE,
                    data_title=TITLE, data_lang="en", data_token=token, **{"async": ""})
    page.goto(url, wait_until="domcontentloaded")
    bubble = bubble_of(page)
    bubble.wait_for()
    bubble.focus()
    closed = widget_state(page)

    page.keyboard.press("Enter")  # the keyboard opens it
    frame = chat_frame(page)
    frame.locator("#concierge-status").get_by_text("Signed in as").wait_for()
    opened = widget_state(page)
    status_top = frame.locator("#concierge-status").bounding_box()["y"] - page.locator(
        "#concierge-widget iframe").bounding_box()["y"]
    final, seen = ask(frame, "How long do I have to return something?")
    shot(page, "widget-signed-in")

    assert closed["expanded"] == "false" and not closed["open"] and closed["frame"] is None  # loads on first open
    assert closed["focusVisible"] and closed["outline"] != "none" and closed["outlineWidth"] >= 2, closed
    assert contrast(closed["color"], closed["background"]) >= 4.5, closed
    assert closed["right"] < closed["width"] / 2  # bottom-left
    assert opened["expanded"] == "true" and opened["open"]
    assert opened["frame"].startswith(widget_app.url + "/?") and "embed=1" in opened["frame"]
    assert "token=" in opened["frame"] and "lang=en" in opened["frame"]
    assert status_top < 40, status_top  # embedded: the panel's heading names the chat, the page's title is not shown
    assert "30 days" in final and seen, seen


def test_the_panel_closes_by_keyboard_and_gives_the_focus_back(page: Any, widget_app: App, shop: Site) -> None:
    page.goto(shop_page(shop, widget_app, "/keyboard", data_title=TITLE), wait_until="domcontentloaded")
    bubble = bubble_of(page)
    bubble.click()
    close = page.get_by_role("button", name="Close chat")
    close.focus()

    page.keyboard.press("Escape")
    after_escape = widget_state(page)
    page.keyboard.press("Enter")  # the focus is back on the bubble: Enter opens the panel again
    reopened = widget_state(page)
    close.click()
    after_close = widget_state(page)

    assert not after_escape["open"] and after_escape["focused"] and after_escape["expanded"] == "false"
    assert reopened["open"]
    assert not after_close["open"] and after_close["focused"]
    assert after_close["left"] > after_close["width"] / 2  # bottom-right unless asked otherwise


def test_the_page_with_the_widget_open_has_no_serious_violation(page: Any, widget_app: App, shop: Site) -> None:
    token = issue_token("C002", SECRET, ttl_s=3600)
    page.goto(shop_page(shop, widget_app, "/a11y", data_color=ORANGE, data_title=TITLE, data_token=token),
              wait_until="domcontentloaded")
    bubble_of(page).click()
    frame = chat_frame(page)
    frame.locator("#concierge-status").get_by_text("Signed in as").wait_for()
    ask(frame, "How much is express shipping?")
    chat = next(f for f in page.frames if f.url.startswith(widget_app.url))

    on_the_shop_page = blocking(axe_violations(page))
    in_the_chat = blocking(axe_violations(chat))

    shot(page, "widget-a11y")
    assert on_the_shop_page == []
    assert in_the_chat == []


def test_on_a_phone_the_open_panel_fills_the_screen(browser: Any, widget_app: App, shop: Site) -> None:
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    phone.set_default_timeout(60_000)
    try:
        phone.goto(shop_page(shop, widget_app, "/phone", data_title=TITLE), wait_until="domcontentloaded")
        bubble_of(phone).tap()
        chat_frame(phone).locator("#concierge-status").wait_for()
        panel = phone.locator("#concierge-widget .panel").bounding_box()
        close = phone.get_by_role("button", name="Close chat").bounding_box()

        found = blocking(axe_violations(phone))

        shot(phone, "widget-phone")
        assert panel == {"x": 0, "y": 0, "width": 390, "height": 844}, panel
        assert close is not None and close["width"] >= 40 and close["height"] >= 40  # a target a thumb can hit
        assert not bubble_of(phone).is_visible()  # the panel's close button takes its place
        assert found == []
    finally:
        phone.context.close()


def test_the_widget_speaks_the_shops_language(page: Any, widget_app: App, shop: Site) -> None:
    page.goto(shop_page(shop, widget_app, "/zh", data_lang="zh"), wait_until="domcontentloaded")
    bubble = bubble_of(page, "在线咨询")

    bubble.click()
    chat_frame(page).locator("#concierge-status").get_by_text("未登录").wait_for()

    assert page.get_by_role("button", name="关闭对话").count() == 1
    assert "lang=zh" in widget_state(page)["frame"] and "token=" not in widget_state(page)["frame"]


def test_the_shop_sets_the_token_when_the_shopper_signs_in(page: Any, widget_app: App, shop: Site) -> None:
    page.goto(shop_page(shop, widget_app, "/later", data_title=TITLE), wait_until="domcontentloaded")
    bubble_of(page).click()
    frame = chat_frame(page)
    frame.locator("#concierge-status").get_by_text("Not signed in").wait_for()

    page.evaluate("token => window.Concierge.setToken(token)", issue_token("C003", SECRET, ttl_s=3600))

    frame.locator("#concierge-status").get_by_text("Signed in as").wait_for()
    assert "token=" in widget_state(page)["frame"]


def test_the_allowed_origin_reads_the_streamed_api(page: Any, widget_app: App, shop: Site) -> None:
    page.goto(shop_page(shop, widget_app, "/api", data_title=TITLE), wait_until="domcontentloaded")
    bubble_of(page).wait_for()

    result = page.evaluate(FETCH_STREAM, [widget_app.url, issue_token("C001", SECRET, ttl_s=3600)])

    assert "blocked" not in result, result
    assert result["status"] == 200 and result["type"].startswith("text/event-stream")
    events = [line.split(": ", 1)[1] for line in result["text"].splitlines() if line.startswith("event: ")]
    assert events[0] in ("text", "replace") and events[-1] == "done", events
    assert "30 days" in result["text"]


def chat_shown_in_a_frame(page: Any) -> bool:
    return any(f.locator("#concierge-status").count() for f in page.frames if f != page.main_frame)


def test_another_origin_gets_no_bubble_no_frame_and_no_api(page: Any, widget_app: App, stranger: Site,
                                                           shop: Site) -> None:
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)
    url = shop_page(stranger, widget_app, "/elsewhere", data_title=TITLE)
    framed = (f'<!doctype html><html lang="en"><title>framed</title><main><h1>x</h1>'
              f'<iframe title="chat" src="{widget_app.url}/?embed=1"></iframe></main></html>')
    stranger.pages["/framed"] = shop.pages["/framed"] = framed

    page.goto(url, wait_until="load")
    deadline = time.monotonic() + 10
    while not any("security.allowed_origins" in w for w in warnings) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    bubbles = bubble_of(page).count()
    api = page.evaluate(FETCH_STREAM, [widget_app.url, issue_token("C001", SECRET, ttl_s=3600)])
    page.goto(stranger.origin + "/framed", wait_until="load")
    page.wait_for_timeout(3000)
    framed_elsewhere = chat_shown_in_a_frame(page)
    page.goto(shop.origin + "/framed", wait_until="load")  # the same iframe on the shop's page: the chat loads
    page.frame_locator("iframe").locator("#concierge-status").wait_for()
    framed_by_the_shop = chat_shown_in_a_frame(page)

    assert any("security.allowed_origins" in w and stranger.origin in w for w in warnings), warnings
    assert bubbles == 0
    assert "blocked" in api, api
    assert not framed_elsewhere and framed_by_the_shop


def test_a_guest_opens_the_bubble_and_gets_an_answer(page: Any, widget_app: App, shop: Site) -> None:
    page.goto(shop_page(shop, widget_app, "/guest", data_title=TITLE), wait_until="domcontentloaded")
    bubble_of(page).click()
    frame = chat_frame(page)
    frame.locator("#concierge-status").get_by_text("Not signed in").wait_for()

    final, seen = ask(frame, "How long do I have to return something?")
    api = page.evaluate(FETCH_STREAM, [widget_app.url, None])

    shot(page, "widget-guest")
    assert "30 days" in final and seen, seen
    assert "blocked" not in api and api["status"] == 200, api
    assert "30 days" in api["text"]


def test_a_guests_conversation_follows_them_and_joins_their_account(page: Any, widget_app: App, shop: Site) -> None:
    page.goto(shop_page(shop, widget_app, "/first", data_title=TITLE), wait_until="domcontentloaded")
    bubble_of(page).click()
    ask(chat_frame(page), "How long do I have to return something?")
    kept = page.evaluate("() => Object.keys(sessionStorage).filter(k => k.startsWith('concierge-guest'))")

    page.goto(shop_page(shop, widget_app, "/second", data_title=TITLE), wait_until="domcontentloaded")
    bubble_of(page).click()
    frame = chat_frame(page)
    earlier = frame.locator("[data-testid='bot']").filter(has_text="30 days")
    earlier.wait_for()  # the next page of the shop goes on with the same conversation
    page.evaluate("token => window.Concierge.setToken(token)", issue_token("C004", SECRET, ttl_s=3600))
    frame.locator("#concierge-status").get_by_text("Signed in as").wait_for()
    earlier.wait_for()  # signed in: the conversation is theirs now
    left = page.evaluate("() => Object.keys(sessionStorage).filter(k => k.startsWith('concierge-guest'))")

    shot(page, "widget-guest-joined")
    assert len(kept) == 1 and left == []
    assert "guest=" in widget_state(page)["frame"] and "token=" in widget_state(page)["frame"]

