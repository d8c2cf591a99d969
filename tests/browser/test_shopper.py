"""A shopper asks a question in the chat and sees the streamed answer with its source."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.browser.conftest import App, shot

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.browser]

BOX = "Ask about products, your orders, or our policies"


def open_chat(page: Any, app: App, customer_id: str = "C001") -> None:
    page.goto(f"{app.url}/?token={app.shopper_token(customer_id)}", wait_until="domcontentloaded")
    page.get_by_text(f"Signed in as {customer_id}").wait_for()


def ask(page: Any, question: str, timeout_s: float = 90, require_sources: bool = True) -> tuple[str, list[str]]:
    """Send ``question``; return the final bot message text and every distinct text seen while it streamed."""
    bots = page.locator("[data-testid='bot']")
    before = bots.count()
    page.get_by_placeholder(BOX).fill(question)
    page.get_by_placeholder(BOX).press("Enter")
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if bots.count() > before:
            text = bots.nth(before).inner_text()
            if text and (not seen or seen[-1] != text):
                seen.append(text)
            done = ("Source:" in text or "Sources:" in text) if require_sources else bool(text)
            if done and page.get_by_placeholder(BOX).input_value() == "":
                time.sleep(1.0)  # let the final render land
                final = bots.nth(before).inner_text()
                if final != seen[-1]:
                    seen.append(final)
                return final, seen
        time.sleep(0.05)
    raise AssertionError(f"no answer with sources in {timeout_s}s; saw {seen[-3:]}")


def test_shopper_sees_a_streamed_answer_with_its_source(page: Any, app: App) -> None:
    open_chat(page, app)

    final, seen = ask(page, "How long do I have to return something?")

    shot(page, "shopper-chat")
    assert "30 days" in final
    source = final.lower().replace("sources:", "source:").split("source:")[1]
    assert "returns" in source and ".md" not in source, final  # the document's title, never its file name
    assert seen and seen[0] != "", seen
