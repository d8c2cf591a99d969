"""The chat asks the shopper to rate a conversation that went quiet, and stores the rating (CSAT): the real server
with a quiet window of 3 seconds (``csat.quiet_minutes``), driven in Chromium."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import App, shot
from tests.browser.test_shopper import ask, open_chat
from tests.integration.conftest import free_port, served

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
                lambda: httpx.get(f"{url}/healthz", timeout=2).status_code == 200, "concierge server",
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
