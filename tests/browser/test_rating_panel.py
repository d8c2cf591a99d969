"""The chat asks the shopper to rate a conversation that went quiet, and stores the rating (CSAT): the real server
with a quiet window of 3 seconds (``csat.quiet_minutes``), driven in Chromium. On a phone the question shows where
the shopper looks: right under the conversation, above the preferences, brought into view, overlapping nothing, its
five scores on one line."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS, App, shot
from tests.browser.test_shopper import ask, open_chat
from tests.integration.conftest import free_port, served, serving_pages

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.browser]


@pytest.fixture(scope="module")
def quiet_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    data = tmp_path_factory.mktemp("rating-app")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CONCIERGE_APP__DATA_DIR": str(data), "HF_HUB_OFFLINE": "1", "CONCIERGE_PROFILES": "",
           "CONCIERGE_TOKEN_SECRET": "browser-secret", "CONCIERGE_SECURITY__DEMO_SIGN_IN": "true",
           "CONCIERGE_CSAT__QUIET_MINUTES": "0.05"}
    with served([sys.executable, "-m", "ui.cli.main", "serve", "--port", str(port)], data / "server.log",
                lambda: serving_pages(url), "concierge server",
                timeout=300, env=env):
        yield App(url, data)


def test_a_quiet_conversation_is_rated_in_the_chat(page: Any, quiet_app: App) -> None:
    open_chat(page, quiet_app, "C001")
    panel = page.locator("#concierge-rating")
    ask(page, "How long do I have to return something?")

    expect(page.get_by_role("radio", name="4")).to_be_visible(timeout=30_000)
    expect(panel.get_by_text("How happy are you with this conversation?")).to_be_visible()
    shot(page, "shopper-rating-asked")
    page.get_by_role("radio", name="4").check()
    page.get_by_label("Anything you would like to tell us? (optional)").fill("Clear answer, thanks")
    page.get_by_role("button", name="Send rating").click()

    expect(panel.get_by_text("Thank you for rating this conversation!")).to_be_visible(timeout=15_000)
    shot(page, "shopper-rating-thanks")
    expect(page.get_by_role("button", name="Send rating")).to_be_hidden()
    with sqlite3.connect(quiet_app.data / "concierge.db") as db:
        rows = db.execute("SELECT r.score, r.comment, r.reason, s.customer_id FROM session_ratings r "
                          "JOIN chat_sessions s ON s.id = r.session_id").fetchall()
    assert rows == [(4, "Clear answer, thanks", "quiet", "C001")]


def test_a_guest_rates_their_conversation_in_the_chat(page: Any, quiet_app: App) -> None:
    page.goto(f"{quiet_app.url}/", wait_until="domcontentloaded")
    page.locator("#concierge-status").get_by_text("Not signed in").wait_for()
    ask(page, "How much is express shipping?")

    expect(page.get_by_role("radio", name="2")).to_be_visible(timeout=30_000)
    page.get_by_role("radio", name="2").check()
    page.get_by_role("button", name="Send rating").click()

    expect(page.locator("#concierge-rating").get_by_text("Thank you for rating this conversation!")).to_be_visible(
        timeout=15_000)
    with sqlite3.connect(quiet_app.data / "concierge.db") as db:
        rows = db.execute("SELECT r.score, r.customer_id, s.customer_id FROM session_ratings r "
                          "JOIN chat_sessions s ON s.id = r.session_id WHERE r.score = 2").fetchall()
    assert rows == [(2, None, None)]


def box_of(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not drawn"
    return dict(box)


def test_on_a_phone_the_rating_question_shows_in_view_under_the_conversation(browser: Any, quiet_app: App) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        open_chat(page, quiet_app, "C004")
        ask(page, "How much is express shipping?")
        panel = page.locator("#concierge-rating")

        expect(page.get_by_role("radio", name="4")).to_be_visible(timeout=30_000)
        expect(panel).to_be_in_viewport(ratio=0.99, timeout=10_000)  # all of it, without the shopper scrolling
        page.wait_for_timeout(1500)  # the smooth scrolls settle
        page.screenshot(path=str(SHOTS / "shopper-rating-phone-view.png"))  # what the phone shows
        shot(page, "shopper-rating-phone")  # the whole page
        rating, chat = box_of(page, "#concierge-rating"), box_of(page, "#concierge-chat")
        row, preferences = box_of(page, "#concierge-message-row"), box_of(page, "#concierge-preferences")
        assert rating["y"] >= 0 and rating["y"] + rating["height"] <= 844 + 0.5, rating  # inside the phone's screen
        assert rating["x"] >= 0 and rating["x"] + rating["width"] <= 390, rating  # no sideways overflow
        # under the conversation and its message box, above the preferences: in the page's flow, on top of nothing
        assert rating["y"] >= row["y"] + row["height"] and row["y"] >= chat["y"] + chat["height"], (chat, row, rating)
        assert rating["y"] + rating["height"] <= preferences["y"], (rating, preferences)
        send = page.get_by_role("button", name="Send rating").bounding_box()
        assert send is not None and send["y"] + send["height"] <= 844, send
        # the five scores on one line, 1 to 5 left to right, inside the card, each big enough to tap
        scores = [box_of(page, f"#concierge-rating-score [data-testid='{n}-radio-label']") for n in range(1, 6)]
        assert max(s["y"] for s in scores) - min(s["y"] for s in scores) < 1, scores
        assert all(a["x"] + a["width"] <= b["x"] for a, b in zip(scores, scores[1:], strict=False)), scores
        assert scores[0]["x"] >= rating["x"] and scores[-1]["x"] + scores[-1]["width"] <= rating["x"] + rating["width"]
        assert all(s["width"] >= 44 and s["height"] >= 24 for s in scores), scores
    finally:
        context.close()
