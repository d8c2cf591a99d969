"""The copilot keeps up in a real browser (issue 16, item 7): an agent opens a hand-over, starts writing a reply,
and the shopper's next message, sent through the REST API, appears in the open conversation without a click,
while the reply being written stays as it was. The queue shows a one-line summary and the live chats are a
separate list."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import App, shot, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.browser]

SHOPPER = "C006"
CHATTING = "C007"  # a live chat without a hand-over
FIRST = "I want to talk to a real person about the parcel zeta please"
FOLLOW_UP = "Still waiting here, the parcel zeta was meant to arrive on Monday"


def shopper_says(app: App, token: str, message: str, session_id: str | None = None) -> dict[str, Any]:
    body = {"message": message, "session_id": session_id, "stream": False}
    response = httpx.post(f"{app.url}/api/v1/chat", json=body, headers={"Authorization": f"Bearer {token}"},
                          timeout=180)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_open_conversation_shows_the_shoppers_new_message_by_itself(page: Any, app: App) -> None:
    token = app.shopper_token(SHOPPER)
    first = shopper_says(app, token, FIRST)
    assert first["handover"], first  # the conversation is in the hand-over queue
    session = first["session_id"]
    shopper_says(app, app.shopper_token(CHATTING), "hello")

    sign_in(page, app, "agent")
    page.locator("#copilot-refresh").click()
    choose = page.locator("#copilot-choose input")
    expect(choose).not_to_have_value("")  # expect(), not wait_for_function: the staff page's CSP forbids eval
    if SHOPPER not in choose.input_value():
        choose.click()
        page.get_by_role("option", name=re.compile(SHOPPER)).first.click()
    page.locator("#copilot-open").click()
    conversation = page.locator("#copilot-conversation")
    conversation.get_by_text("parcel zeta please").wait_for()
    row = page.locator("#copilot-queue").get_by_text(re.compile("parcel zeta")).first
    summary = row.inner_text()
    draft = "Hello, I am looking into your parcel now"
    page.locator("#copilot-reply textarea").fill(draft)

    shopper_says(app, token, FOLLOW_UP, session)

    # no click from here on: the page asks every few seconds and draws the conversation again when it changed
    conversation.get_by_text("meant to arrive on Monday").wait_for(timeout=30_000)
    shot(page, "copilot-keeps-up")
    assert page.locator("#copilot-reply textarea").input_value() == draft
    assert len(summary) <= 96 and "\n" not in summary and "Shopper:" not in summary, summary
    assert page.locator("#copilot-live").count() == 1
    live_options = _options(page, "#copilot-live input")
    assert any(CHATTING in o for o in live_options), live_options
    assert all(SHOPPER not in o for o in live_options), live_options  # a hand-over is not a live chat as well
    last_column = page.locator("#copilot-queue th").last.bounding_box()  # "session": on screen, not scrolled off
    assert last_column is not None and last_column["x"] + last_column["width"] <= page.viewport_size["width"]


def _options(page: Any, selector: str) -> list[str]:
    """The labels a dropdown lists (opened, read, closed again)."""
    page.locator(selector).click()
    options = page.get_by_role("option")
    found = [options.nth(i).inner_text() for i in range(options.count())]
    page.keyboard.press("Escape")
    return found
