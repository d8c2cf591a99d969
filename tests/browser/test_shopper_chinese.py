"""A shopper writes Chinese on the English demo shop and sees the answer in Chinese (issue 15): the order's status
as the shop's data says it, written in Chinese, and what was shown first is never swapped for other text."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.browser.conftest import App, shot
from tests.browser.test_shopper import open_chat

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.browser]

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def ask_and_watch(page: Any, question: str, timeout_s: float = 90, quiet_s: float = 3.0) -> tuple[str, list[str]]:
    """Send ``question`` with the Send button; return the final bot message and every distinct text seen on the way
    (the answer is final once it has not changed for ``quiet_s``)."""
    bots = page.locator("[data-testid='bot']")
    before = bots.count()
    page.locator("#concierge-message textarea").fill(question)
    page.locator("#concierge-send").click()
    seen: list[str] = []
    changed = time.monotonic()
    deadline = changed + timeout_s
    while time.monotonic() < deadline:
        if bots.count() > before:
            now = bots.nth(before).inner_text().strip()
            if now and (not seen or seen[-1] != now):
                seen.append(now)
                changed = time.monotonic()
            elif seen and time.monotonic() - changed > quiet_s:
                return seen[-1], seen
        time.sleep(0.05)
    raise AssertionError(f"no settled answer in {timeout_s}s; saw {seen[-3:]}")


def test_a_question_in_chinese_is_answered_in_chinese(page: Any, app: App) -> None:
    open_chat(page, app, "C001")

    final, seen = ask_and_watch(page, "我的订单到哪里了？")

    shot(page, "shopper-chinese")
    assert len(CHINESE.findall(final)) >= 4, final  # the reply is Chinese, not the English fallback
    assert "I'm sorry" not in final and "I don't know" not in final, final
    assert re.search(r"NW-\d+", final), final  # about the shopper's own order, by its id
    for shown in seen[:-1]:  # what came first stays: each text seen is the start of the next
        assert final.startswith(shown.rstrip("…").rstrip()), (shown, final)
