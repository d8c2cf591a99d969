"""A shopper asks a question in the chat and sees the streamed answer with its source, on a page that is the
shop's: no Gradio footer, the shopper named by first name, a phone layout without overlaps, and personalization
turned off and on in the panel."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import App, shot

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.browser]

BOX = "Ask about products, your orders, or our policies"


def open_chat(page: Any, app: App, customer_id: str = "C001") -> None:
    page.goto(f"{app.url}/?token={app.shopper_token(customer_id)}", wait_until="domcontentloaded")
    page.locator("#concierge-status").get_by_text("Signed in as").wait_for()


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


def test_the_page_is_the_shops_not_a_developers(page: Any, app: App) -> None:
    open_chat(page, app)
    ask(page, "How much is express shipping?")

    shot(page, "shopper-page-desktop")
    for gone in ("Use via API", "Built with Gradio", "Settings"):
        assert page.get_by_text(gone).count() == 0, gone
    assert page.locator("footer").count() == 0
    assert page.get_by_role("button", name="Share").count() == 0  # the chat's share-to-Hugging-Face button


def test_the_shopper_is_named_and_the_picker_shows_who_is_signed_in(page: Any, app: App) -> None:
    picker = page.get_by_label("Demo sign-in")
    page.goto(f"{app.url}/", wait_until="domcontentloaded")
    page.locator("#concierge-status").get_by_text("Not signed in").wait_for()
    assert picker.input_value() == ""  # nobody is shown while signed out

    open_chat(page, app, "C003")
    assert page.locator("#concierge-status").inner_text().strip() == "Signed in as Priya"
    assert picker.input_value() == "Priya Natarajan (silver)"

    picker.click()
    page.get_by_role("option", name="Maya Chen (gold)").click()
    page.get_by_role("button", name="Sign in").click()
    page.locator("#concierge-status").get_by_text("Signed in as Maya").wait_for()
    assert picker.input_value() == "Maya Chen (gold)"


def boxes_overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (a["x"] < b["x"] + b["width"] - 1 and b["x"] < a["x"] + a["width"] - 1
            and a["y"] < b["y"] + b["height"] - 1 and b["y"] < a["y"] + a["height"] - 1)


def test_on_a_phone_nothing_overlaps(browser: Any, app: App) -> None:
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    phone.set_default_timeout(60_000)
    try:
        open_chat(phone, app)
        ask(phone, "How much is express shipping?")

        shot(phone, "shopper-page-phone")
        top_message = phone.locator("[data-testid='user']").first.bounding_box()
        chat_furniture = [phone.locator(f"#concierge-chat {sel}").nth(i).bounding_box()
                          for sel in ("label", "[data-testid='block-label']", ".icon-button-wrapper.top-panel")
                          for i in range(phone.locator(f"#concierge-chat {sel}").count())]
        box = phone.get_by_role("textbox", name="Your message").bounding_box()
        send = phone.get_by_role("button", name="Send").bounding_box()
        width = phone.evaluate("() => document.documentElement.scrollWidth")

        assert [b for b in chat_furniture if b and boxes_overlap(b, top_message)] == []
        assert not boxes_overlap(box, send) and send["x"] + send["width"] <= 390 and width <= 390
    finally:
        phone.context.close()


def test_the_shopper_turns_personalization_off_and_on_in_the_panel(page: Any, app: App) -> None:
    token = app.shopper_token("C004")
    page.goto(f"{app.url}/?token={token}", wait_until="domcontentloaded")
    page.locator("#concierge-status").get_by_text("Signed in as Lucas").wait_for()
    page.get_by_text("What we think you like").click()
    switch = page.get_by_label("Personalize my answers, recommendations and offers")
    expect(switch).to_be_enabled()
    expect(switch).to_be_checked()

    switch.uncheck()
    expect(switch).not_to_be_checked()
    off = consents(app, token)
    switch.check()
    expect(switch).to_be_checked()

    assert off[-1] == (False, "chat")
    deadline = time.monotonic() + 10
    while consents(app, token)[-1] != (True, "chat"):
        assert time.monotonic() < deadline, consents(app, token)
        time.sleep(0.2)


def consents(app: App, token: str) -> list[tuple[bool, str]]:
    """The shopper's personalization consent changes, oldest first, from their own export."""
    import httpx

    deadline = time.monotonic() + 10
    while True:
        rows = httpx.get(f"{app.url}/api/v1/me/export", headers={"Authorization": f"Bearer {token}"},
                         timeout=10).json()["tables"]["consents"]
        found = [(bool(r["granted"]), str(r["source"])) for r in rows if r["kind"] == "personalization"]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)
