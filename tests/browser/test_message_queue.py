"""No lost message: what a shopper sends while an answer is on its way shows at once, the box is free again, and
every message is answered after the one before it, in order, each turn stored; Enter and the Send button alike."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.browser.conftest import App, shot
from tests.browser.test_shopper import open_chat

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.browser]

PENDING = "…"
QUESTIONS = ["How long do I have to return something?", "How much is express shipping?", "Do you ship to Canada?"]


def chat_messages(page: Any) -> list[tuple[str, str]]:
    """(role, text) of every message in the chat, top to bottom."""
    found = page.locator("#concierge-chat [data-testid='user'], #concierge-chat [data-testid='bot']")
    return [(found.nth(i).get_attribute("data-testid"), found.nth(i).inner_text().strip())
            for i in range(found.count())]


def test_messages_sent_while_an_answer_streams_are_answered_in_order(page: Any, app: App) -> None:
    open_chat(page, app, "C005")
    box = page.get_by_role("textbox", name="Your message")

    box.fill(QUESTIONS[0])
    box.press("Enter")
    page.locator("#concierge-chat [data-testid='bot']").first.wait_for()  # its answer is on its way
    taken: list[str] = []
    for question, how in ((QUESTIONS[1], "enter"), (QUESTIONS[2], "button")):
        box.fill(question)
        if how == "enter":
            box.press("Enter")
        else:
            page.get_by_role("button", name="Send").click()
        page.locator("#concierge-chat [data-testid='user']").get_by_text(question).wait_for(timeout=3_000)
        taken.append(box.input_value())
    mid_answer = chat_messages(page)

    deadline = time.monotonic() + 240
    while True:
        shown = chat_messages(page)
        answers = [text for role, text in shown if role == "bot"]
        if len(answers) == 3 and all(a and a != PENDING for a in answers):
            break
        assert time.monotonic() < deadline, f"not every message was answered: {shown}"
        time.sleep(0.5)
    time.sleep(1.0)
    shown = chat_messages(page)
    shot(page, "shopper-queued-messages")

    assert taken == ["", ""]  # the box is free again at once: nothing waits in it, nothing is lost
    assert [text for role, text in mid_answer if role == "user"] == QUESTIONS
    assert [role for role, _ in shown] == ["user", "bot"] * 3
    assert [text for role, text in shown if role == "user"] == QUESTIONS
    assert "30 days" in shown[1][1] and "$14.99" in shown[3][1], shown  # each answer under its own question
    assert stored_messages(app, "C005")[-3:] == QUESTIONS


def test_the_chat_shows_at_once_that_an_answer_is_coming(page: Any, app: App) -> None:
    open_chat(page, app, "C006")
    box = page.get_by_role("textbox", name="Your message")

    box.fill("Do you ship to Canada?")
    started = time.monotonic()
    box.press("Enter")
    page.locator("#concierge-chat [data-testid='user']").get_by_text("Do you ship to Canada?").wait_for()
    page.locator("#concierge-chat [data-testid='bot']").first.wait_for()
    shown_after = time.monotonic() - started

    assert shown_after < 3.0, shown_after  # the message and the answer's place show before any answer is ready
    assert box.input_value() == ""


def stored_messages(app: App, customer_id: str) -> list[str]:
    """The shopper's stored turns' messages, oldest first."""
    from assistant.store.stores import open_stores

    stores = open_stores(f"sqlite:///{app.data / 'concierge.db'}", upgrade=False)
    try:
        turns = [t for t in stores.turns.recent(limit=200) if t.customer_id == customer_id]
        return [t.message for t in sorted(turns, key=lambda t: (t.created_at is None, t.created_at))]
    finally:
        stores.close()
