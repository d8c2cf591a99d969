"""The widget on a shop's own page (issue 16 items 2-3, issue 17 item 5), in a real browser: a page served from another
origin (``http://localhost:<port>``, another site than the server's ``http://127.0.0.1:<port>``) carries the one
``<script src=".../widget.js" data-...>`` tag. Its chat button is a named, keyboard-usable button with a visible
focus ring and text at 4.5:1 or more on the shop's colour; it opens a panel that talks to the REST API only (no
iframe, nothing sticky): a signed-in shopper (``data-token``, signed by the shop's backend) and a guest see the
answer stream in (a reply that names its own sources gets no "Sources:" line repeating them); a message typed while
a reply streams is answered after it, in order; Escape closes the panel from inside it and gives the focus back;
"New conversation" starts a new guest conversation (a new guest token); a guest's conversation follows them to the
shop's next page and becomes theirs when the shop sets their token; what the guest said about their tastes is then
offered to the profile and saved only with "Save to my profile"; axe-core finds no critical or serious violation
with the panel open (desktop and phone). A page from an origin not in ``security.allowed_origins`` gets no button,
cannot frame the chat page and cannot read the streamed API."""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any

import httpx
import pytest

from assistant.identity import issue_token
from tests.browser.axe_check import axe_violations, blocking
from tests.browser.conftest import App, shot
from tests.integration.conftest import free_port, served, serving_pages

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
                lambda: serving_pages(url), "concierge server",
                timeout=300, env=env):
        yield App(url, data)


HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection", "host"}


class Relay:
    """A reverse proxy in front of one or more servers, with no stickiness at all: chat messages go to the
    ``upstreams`` in turn, and so does every other request (on a counter of its own); ``served`` records (method,
    path, upstream index). ``pace_s`` passes a streamed answer on one event at a time with that pause between
    events, as a slow connection would: the bundled model answers in a fraction of a second, so its events would
    otherwise reach the page at once and what the panel shows while an answer streams could not be seen."""

    def __init__(self, upstreams: tuple[str, ...], pace_s: float = 0.0) -> None:
        self.upstreams, self.pace_s = upstreams, pace_s
        self.served: list[tuple[str, str, int]] = []
        self._chats, self._others = count(), count()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def pick(self, method: str, path: str) -> int:
        with self._lock:
            chat = method == "POST" and path.startswith("/api/v1/chat")
            index = next(self._chats if chat else self._others) % len(self.upstreams)
            self.served.append((method, path, index))
            return index

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def forward(self) -> None:
                index = relay.pick(self.command, self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                with httpx.Client(timeout=300) as client, client.stream(
                        self.command, relay.upstreams[index] + self.path, headers=headers, content=body) as got:
                    stream = got.headers.get("content-type", "").startswith("text/event-stream")
                    self.send_response(got.status_code)
                    for name, value in got.headers.multi_items():
                        if name.lower() not in HOP_BY_HOP and not (stream and name.lower() == "content-length"):
                            self.send_header(name, value)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    chunks = got.iter_raw()
                    if stream and relay.pace_s:
                        chunks = (e + b"\n\n" for e in b"".join(got.iter_raw()).split(b"\n\n") if e)
                    for chunk in chunks:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        if stream and relay.pace_s:
                            time.sleep(relay.pace_s)

            do_GET = do_HEAD = do_POST = do_OPTIONS = forward  # noqa: N815 - http.server's names

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> Relay:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def paced(widget_app: App) -> Iterator[App]:
    """The widget's server behind a relay that passes a streamed answer on one event every 0.4 s."""
    with Relay((widget_app.url,), pace_s=0.4) as relay:
        yield App(relay.url, widget_app.data)


def shop_page(site: Site, app: App, path: str, **attributes: str) -> str:
    """Serve the shop page with the widget's tag (``data_color="#..."`` -> ``data-color="#..."``); its URL."""
    tag = " ".join(f'{name.replace("_", "-")}="{value}"' for name, value in attributes.items())
    site.pages[path] = SHOP_PAGE.format(app=app.url, attributes=tag)
    return site.origin + path


def bubble_of(page: Any, name: str = TITLE) -> Any:
    return page.get_by_role("button", name=name)


def widget_state(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("""() => { const root = document.querySelector('#concierge-widget').shadowRoot;
        const b = root.querySelector('.bubble'), s = getComputedStyle(b), r = b.getBoundingClientRect();
        const panel = root.querySelector('.panel');
        return {expanded: b.getAttribute('aria-expanded'), open: !panel.hidden, focused: root.activeElement === b,
                inputFocused: root.activeElement === root.querySelector('textarea'),
                focusVisible: b.matches(':focus-visible'), outline: s.outlineStyle,
                outlineWidth: parseFloat(s.outlineWidth),
                color: s.color, background: s.backgroundColor, left: r.left, right: r.right, width: innerWidth,
                frames: root.querySelectorAll('iframe').length} }"""))


MESSAGES = """() => [...document.querySelector('#concierge-widget').shadowRoot.querySelectorAll('.msg')].map(m => ({
    from: m.dataset.from || 'note', state: m.dataset.state || null, replaced: m.dataset.replaced === 'true',
    text: (m.querySelector('.text') || m).textContent,
    sources: (m.querySelector('.sources') || {}).textContent || ''}))"""


def messages(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate(MESSAGES))


def kept(page: Any, kind: str = "guest") -> dict[str, Any] | None:
    """What the tab keeps of its conversation (``guest``: the guest token; ``session``: a shopper's session id)."""
    found = page.evaluate("kind => Object.keys(sessionStorage).filter(k => k.startsWith('concierge-' + kind))"
                          ".map(k => JSON.parse(sessionStorage.getItem(k)))", kind)
    assert len(found) <= 1, found
    return dict(found[0]) if found else None


def write(page: Any, text: str, key: str = "Enter") -> None:
    box = page.get_by_label("Your message")
    box.fill(text)
    if key == "Enter":
        box.press("Enter")
    else:
        page.get_by_role("button", name="Send").click()


def answer(page: Any, question: str, timeout_s: float = 180) -> tuple[dict[str, Any], list[str]]:
    """Wait for the answer to ``question`` (already sent): the assistant's message right after it, once done; and
    every distinct text it showed while it was still streaming."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        shown = messages(page)
        at = [i for i, m in enumerate(shown) if m["from"] == "shopper" and m["text"] == question]
        if at and at[-1] + 1 < len(shown) and shown[at[-1] + 1]["from"] == "assistant":
            reply = shown[at[-1] + 1]
            if reply["state"] == "streaming" and reply["text"] and (not seen or seen[-1] != reply["text"]):
                seen.append(reply["text"])
            if reply["state"] in ("done", "failed"):
                return reply, seen
        page.wait_for_timeout(30)
    raise AssertionError(f"no answer to {question!r} in {timeout_s}s: {messages(page)}")


def ask(page: Any, question: str, key: str = "Enter") -> tuple[dict[str, Any], list[str]]:
    write(page, question, key)
    return answer(page, question)


def conversation(app: App, session_id: str, bearer: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{app.url}/api/v1/sessions/{session_id}", headers={"Authorization": f"Bearer {bearer}"},
                         timeout=10)
    assert response.status_code == 200, response.text
    return list(response.json()["turns"])


def contrast(fg: str, bg: str) -> float:
    def lum(rgb: str) -> float:
        parts = [int(float(x)) / 255 for x in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((lum(fg), lum(bg)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_a_signed_in_shopper_opens_the_bubble_and_gets_a_streamed_answer(page: Any, paced: App, shop: Site) -> None:
    widget_app = paced
    token = issue_token("C001", SECRET, ttl_s=3600)
    url = shop_page(shop, widget_app, "/signed-in", data_position="bottom-left", data_color=ORANGE,
                    data_title=TITLE, data_lang="en", data_token=token, **{"async": ""})
    page.goto(url, wait_until="domcontentloaded")
    bubble = bubble_of(page)
    bubble.wait_for()
    bubble.focus()
    closed = widget_state(page)

    page.keyboard.press("Enter")  # the keyboard opens it, and the focus goes to the message box
    opened = widget_state(page)
    reply, seen = ask(page, "How long do I have to return something?")
    shot(page, "widget-signed-in")
    session = kept(page, "session")

    assert closed["expanded"] == "false" and not closed["open"]
    assert closed["focusVisible"] and closed["outline"] != "none" and closed["outlineWidth"] >= 2, closed
    assert contrast(closed["color"], closed["background"]) >= 4.5, closed
    assert closed["right"] < closed["width"] / 2  # bottom-left
    assert opened["expanded"] == "true" and opened["open"] and opened["inputFocused"] and opened["frames"] == 0
    assert reply["state"] == "done" and "30 days" in reply["text"]
    quoted = [t.strip() for t in re.split(r"Sources?: ", reply["text"])[-1].rstrip(".").split(";")]
    assert quoted and all(quoted), reply["text"]
    # only the documents the answer quotes, not all found: its own source line names them all, so no "Sources:"
    # line repeats them (one document more would bring the line back)
    assert reply["sources"] == "", (reply["sources"], reply["text"])
    assert len(seen) >= 2 and not reply["replaced"], (seen, reply)  # streamed text, no replacement shown first
    assert all(reply["text"].startswith(s) for s in seen), seen  # the text grew as it came, never rewritten
    assert kept(page) is None and session is not None  # a shopper's conversation is named by its session id
    turns = conversation(widget_app, session["session"], token)
    assert turns[-1]["reply"] == reply["text"]


def test_a_guest_opens_the_bubble_and_gets_a_streamed_answer(page: Any, paced: App, shop: Site) -> None:
    widget_app = paced
    page.goto(shop_page(shop, widget_app, "/guest", data_title=TITLE), wait_until="domcontentloaded")
    bubble_of(page).click()

    reply, seen = ask(page, "How long do I have to return something?", key="Send")
    guest = kept(page)

    shot(page, "widget-guest")
    assert reply["state"] == "done" and "30 days" in reply["text"] and len(seen) >= 2, (reply, seen)
    assert not reply["replaced"] and all(reply["text"].startswith(s) for s in seen), seen
    assert guest is not None and guest["token"].startswith("g1.") and guest["session"]
    assert conversation(widget_app, guest["session"], guest["token"])[-1]["reply"] == reply["text"]


def test_a_message_typed_while_a_reply_streams_is_answered_after_it_in_order(page: Any, paced: App,
                                                                               shop: Site) -> None:
    widget_app = paced
    first, second = "How long do I have to return something?", "How much is express shipping?"
    page.goto(shop_page(shop, widget_app, "/queue", data_title=TITLE), wait_until="domcontentloaded")
    bubble_of(page).click()

    write(page, first)
    page.wait_for_function(MESSAGES.replace("() =>", "() => (") + ").some(m => m.from === 'assistant')")
    write(page, second)  # the first reply is under way: this one waits for it
    waiting = [m for m in messages(page) if m["text"] == second][0]
    one, _ = answer(page, first)
    two, _ = answer(page, second)
    shown = [(m["from"], m["text"]) for m in messages(page)]
    guest = kept(page)

    assert waiting["state"] == "queued", waiting
    assert one["state"] == two["state"] == "done" and one["text"] and two["text"]
    assert shown == [("shopper", first), ("assistant", one["text"]), ("shopper", second), ("assistant", two["text"])]
    assert guest is not None
    turns = conversation(widget_app, guest["session"], guest["token"])
    assert [(t["message"], t["reply"]) for t in turns] == [(first, one["text"]), (second, two["text"])]


#: how a reply names its own sources: a source line ("Source: X." / "来源：《X》。") or a quote's opening
#: ("According to “X”: ..." / "根据《X》：...")
OWN_SOURCES = r"Sources?: |来源：|According to “|根据《"


def sources_sent(response: Any) -> list[list[str]]:
    """The titles of each ``sources`` event of a streamed chat answer, as the API sent them."""
    return [[s["title"] for s in json.loads(block.split("data: ", 1)[1])["sources"]]
            for block in response.text().split("\n\n") if block.startswith("event: sources")]


def whole_reply(page: Any) -> str:
    """Everything the last assistant message shows: its text, its "Sources:" line, its lists."""
    return str(page.evaluate("""() => [...document.querySelector('#concierge-widget').shadowRoot
        .querySelectorAll('.msg[data-from=assistant]')].pop().textContent"""))


@pytest.mark.parametrize("question", ["How long do I have to return something?", "买的东西多久之内可以退货？"])
def test_a_reply_that_names_its_sources_shows_them_once(page: Any, widget_app: App, shop: Site,
                                                       question: str) -> None:
    page.goto(shop_page(shop, widget_app, "/named", data_title=TITLE), wait_until="domcontentloaded")
    bubble_of(page).click()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/chat") and r.request.method == "POST") as got:
        reply, _ = ask(page, question)
    sent = [t for event in sources_sent(got.value) for t in event]
    shown = whole_reply(page)

    shot(page, "widget-named-source")
    assert reply["state"] == "done" and re.search(OWN_SOURCES, reply["text"]), reply
    assert sent and all(t in reply["text"] for t in sent), (sent, reply["text"])  # the reply names its sources
    assert all(shown.count(t) == 1 for t in sent), shown  # once: in the reply's own words, no "Sources:" line
    # (English: "... Source: Returns and refunds."; a Chinese question on the English shop: "根据《...》：...")
    assert reply["sources"] == "", reply


def test_a_product_shown_as_a_card_is_not_listed_again_as_a_source(page: Any, widget_app: App, shop: Site) -> None:
    page.goto(shop_page(shop, widget_app, "/carded", data_title=TITLE), wait_until="domcontentloaded")
    bubble_of(page).click()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/chat") and r.request.method == "POST") as got:
        reply, _ = ask(page, "How much is the Stridewell Tempo 3 Road Running Shoe?")
    sent = [t for event in sources_sent(got.value) for t in event]

    assert reply["state"] == "done" and sent == ["Stridewell Tempo 3 Road Running Shoe"], (sent, reply)
    assert whole_reply(page).count("Stridewell Tempo 3 Road Running Shoe") == 2  # the reply and its card
    assert reply["sources"] == "", reply


def test_an_order_the_reply_names_is_not_listed_again_as_a_source(page: Any, widget_app: App, shop: Site) -> None:
    token = issue_token("C004", SECRET, ttl_s=3600)
    page.goto(shop_page(shop, widget_app, "/named-order", data_title=TITLE, data_token=token),
              wait_until="domcontentloaded")
    bubble_of(page).click()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/chat") and r.request.method == "POST") as got:
        reply, _ = ask(page, "Where is my latest order?")
    sent = [t for event in sources_sent(got.value) for t in event]

    named = re.search(r"NW-\d+", reply["text"])
    assert reply["state"] == "done" and named and sent == [f"Order {named.group(0)}"], (sent, reply)
    assert reply["sources"] == "", reply  # the reply says which order: no "Sources: Order NW-..." under it


def assistant_messages(page: Any) -> list[str]:
    """Everything each assistant message shows (text, lists, "Sources:" line), oldest first."""
    return list(page.evaluate("""() => [...document.querySelector('#concierge-widget').shadowRoot
        .querySelectorAll('.msg[data-from=assistant]')].map(m => m.textContent)"""))


def test_a_source_the_reply_does_not_name_is_listed_and_read_again_on_the_next_page(page: Any, widget_app: App,
                                                                                   shop: Site) -> None:
    token = issue_token("C001", SECRET, ttl_s=3600)
    page.goto(shop_page(shop, widget_app, "/before", data_title=TITLE, data_token=token),
              wait_until="domcontentloaded")
    bubble_of(page).click()
    ask(page, "How much is the Stridewell Tempo 3 Road Running Shoe?")
    order, _ = ask(page, "What is the status of my latest order?")
    first = assistant_messages(page)

    page.goto(shop_page(shop, widget_app, "/after", data_title=TITLE, data_token=token),
              wait_until="domcontentloaded")
    bubble_of(page).click()
    page.wait_for_function(MESSAGES.replace("() =>", "() => (") + ").filter(m => m.from === 'assistant').length >= 2")
    again = assistant_messages(page)

    shot(page, "widget-sources-read-again")
    # the order the reply is about, which its text need not name
    assert order["state"] == "done" and order["sources"].startswith("Sources: Order "), order
    assert again[-2:] == first[-2:]  # each message as it was shown: text, product card, sources line


def test_the_panel_closes_by_keyboard_and_gives_the_focus_back(page: Any, widget_app: App, shop: Site) -> None:
    page.goto(shop_page(shop, widget_app, "/keyboard", data_title=TITLE), wait_until="domcontentloaded")
    bubble_of(page).click()
    page.get_by_label("Your message").type("half a thought")
    in_the_box = widget_state(page)

    page.keyboard.press("Escape")  # from inside the panel, in the message box
    after_escape = widget_state(page)
    page.keyboard.press("Enter")  # the focus is back on the bubble: Enter opens the panel again
    reopened = widget_state(page)
    kept_text = page.get_by_label("Your message").input_value()
    page.get_by_role("button", name="Close chat").click()
    after_close = widget_state(page)

    assert in_the_box["open"] and in_the_box["inputFocused"]
    assert not after_escape["open"] and after_escape["focused"] and after_escape["expanded"] == "false"
    assert reopened["open"] and kept_text == "half a thought"  # closing loses nothing typed
    assert not after_close["open"] and after_close["focused"]
    assert after_close["left"] > after_close["width"] / 2  # bottom-right unless asked otherwise


def test_new_conversation_starts_a_new_guest_conversation(page: Any, widget_app: App, shop: Site) -> None:
    page.goto(shop_page(shop, widget_app, "/clear", data_title=TITLE), wait_until="domcontentloaded")
    bubble_of(page).click()
    ask(page, "Do you ship abroad?")
    before = kept(page)

    page.get_by_role("button", name="New conversation").click()
    cleared = messages(page)
    dropped = kept(page)
    reply, _ = ask(page, "How long do I have to return something?")
    after = kept(page)

    assert before is not None and after is not None and dropped is None
    assert [m["from"] for m in cleared] == ["note"]  # the old messages are gone from the panel
    assert after["token"] != before["token"] and after["session"] != before["session"]
    assert [t["message"] for t in conversation(widget_app, after["session"], after["token"])] == [
        "How long do I have to return something?"]
    assert reply["state"] == "done"


def test_the_page_with_the_widget_open_has_no_serious_violation(page: Any, widget_app: App, shop: Site) -> None:
    token = issue_token("C002", SECRET, ttl_s=3600)
    page.goto(shop_page(shop, widget_app, "/a11y", data_color=ORANGE, data_title=TITLE, data_token=token),
              wait_until="domcontentloaded")
    bubble_of(page).click()
    ask(page, "How much is express shipping?")
    semantics = page.evaluate("""() => { const root = document.querySelector('#concierge-widget').shadowRoot;
        const panel = root.querySelector('.panel'), log = root.querySelector('.log');
        return {role: panel.getAttribute('role'), named: root.getElementById(panel.getAttribute('aria-labelledby'))
                .textContent, log: log.getAttribute('role'), live: log.getAttribute('aria-live'),
                label: root.querySelector('label[for=concierge-input]').textContent} }""")
    page.get_by_label("Your message").focus()
    box = page.evaluate("""() => { const t = document.querySelector('#concierge-widget').shadowRoot
        .querySelector('textarea'), s = getComputedStyle(t);
        return {visible: t.matches(':focus-visible'), outline: s.outlineStyle, width: parseFloat(s.outlineWidth)} }""")

    found = blocking(axe_violations(page))

    shot(page, "widget-a11y")
    assert semantics == {"role": "dialog", "named": TITLE, "log": "log", "live": "polite", "label": "Your message"}
    assert box["visible"] and box["outline"] != "none" and box["width"] >= 2, box
    assert found == []


def test_on_a_phone_the_open_panel_fills_the_screen(browser: Any, widget_app: App, shop: Site) -> None:
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    phone.set_default_timeout(60_000)
    try:
        phone.goto(shop_page(shop, widget_app, "/phone", data_title=TITLE), wait_until="domcontentloaded")
        bubble_of(phone).tap()
        phone.get_by_label("Your message").wait_for()
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

    assert page.get_by_role("button", name="关闭对话").count() == 1
    assert page.get_by_role("button", name="新对话").count() == 1 and page.get_by_label("您的消息").count() == 1
    assert page.locator("#concierge-widget .cw").get_attribute("lang") == "zh"


def test_a_guests_conversation_follows_them_and_joins_their_account(page: Any, widget_app: App, shop: Site) -> None:
    question = "How long do I have to return something?"
    page.goto(shop_page(shop, widget_app, "/first", data_title=TITLE), wait_until="domcontentloaded")
    bubble_of(page).click()
    first, _ = ask(page, question)
    guest = kept(page)

    page.goto(shop_page(shop, widget_app, "/second", data_title=TITLE), wait_until="domcontentloaded")
    bubble_of(page).click()
    page.wait_for_function(MESSAGES.replace("() =>", "() => (") + ").some(m => m.from === 'assistant')")
    earlier = [(m["from"], m["text"]) for m in messages(page)]  # read from the server, not from this tab
    token = issue_token("C004", SECRET, ttl_s=3600)
    page.evaluate("token => window.Concierge.setToken(token)", token)
    then, _ = ask(page, "Thank you")
    session = kept(page, "session")

    shot(page, "widget-guest-joined")
    assert guest is not None and session is not None and kept(page) is None
    assert earlier == [("shopper", question), ("assistant", first["text"])]
    assert session["session"] == guest["session"] and then["state"] == "done"
    turns = conversation(widget_app, guest["session"], token)  # the conversation is the shopper's now
    assert [t["message"] for t in turns] == [question, "Thank you"]
    gone = httpx.get(f"{widget_app.url}/api/v1/sessions/{guest['session']}",
                     headers={"Authorization": f"Bearer {guest['token']}"}, timeout=10)
    assert gone.status_code in (401, 404)


TASTE = "I love camping gear."  # the guest learner takes a category from it (tests/unit/test_guests.py)
OFFER = "#concierge-widget .offer"


def tastes(app: App, token: str) -> set[tuple[str, str]]:
    """The shopper's profile, read through the API."""
    response = httpx.get(f"{app.url}/api/v1/me/preferences", headers={"Authorization": f"Bearer {token}"},
                         timeout=10)
    assert response.status_code == 200, response.text
    return {(p["kind"], p["value"]) for p in response.json()["preferences"]}


def join_with_a_taste(page: Any, app: App, shop: Site, customer: str) -> str:
    """A guest tells the widget a taste, then the shop signs them in and they write again: the offer shows."""
    page.goto(shop_page(shop, app, f"/taste-{customer}", data_title=TITLE), wait_until="domcontentloaded")
    bubble_of(page).click()
    ask(page, TASTE)
    token = issue_token(customer, SECRET, ttl_s=3600)
    page.evaluate("token => window.Concierge.setToken(token)", token)
    ask(page, "How much is express shipping?")
    page.locator(OFFER).wait_for()
    return token


def test_a_guests_taste_is_offered_on_sign_in_and_saved_with_save(page: Any, widget_app: App, shop: Site) -> None:
    customer = "C007"
    before = tastes(widget_app, issue_token(customer, SECRET, ttl_s=3600))
    token = join_with_a_taste(page, widget_app, shop, customer)
    offer = page.locator(OFFER)
    asked = offer.text_content() or ""
    named = page.get_by_role("group", name=asked.split("Save to my profile")[0].strip()).count()  # its own text
    unasked = tastes(widget_app, token)  # shown, not saved
    found = blocking(axe_violations(page))
    shot(page, "widget-guest-tastes")

    page.get_by_role("button", name="Save to my profile").click()
    page.locator("#concierge-widget [data-tastes=saved]").wait_for()
    said = page.locator("#concierge-widget [data-tastes=saved]").text_content()

    assert ("category", "camping") not in before and unasked == before
    assert "you told us: Category: camping" in asked and named == 1, asked
    assert found == []
    assert said is not None and said.startswith("Saved to your profile: ") and "Category: camping" in said
    assert offer.count() == 0  # answered: the buttons are gone
    assert tastes(widget_app, token) == before | {("category", "camping")}


def test_no_thanks_by_keyboard_leaves_the_profile_as_it_was(page: Any, widget_app: App, shop: Site) -> None:
    customer = "C008"
    before = tastes(widget_app, issue_token(customer, SECRET, ttl_s=3600))
    token = join_with_a_taste(page, widget_app, shop, customer)
    box = page.get_by_label("Your message")
    box.focus()

    page.keyboard.press("Shift+Tab")  # from the message box back to the offer's last button
    focused = page.evaluate("() => document.querySelector('#concierge-widget').shadowRoot.activeElement.textContent")
    page.keyboard.press("Enter")
    page.locator("#concierge-widget [data-tastes=not-saved]").wait_for()
    said = page.locator("#concierge-widget [data-tastes=not-saved]").text_content()
    back = page.evaluate("() => document.querySelector('#concierge-widget').shadowRoot.activeElement.id")

    assert focused == "No thanks"
    assert said == "Nothing was saved to your profile." and page.locator(OFFER).count() == 0
    assert back == "concierge-input"  # the focus goes back to the message box
    assert tastes(widget_app, token) == before and ("category", "camping") not in before


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
