"""The shopper chat and the sign-in are accessible: axe-core (from the npm registry) finds no critical or serious
violation on the shopper page (signed out with the demo sign-in, signed in after an answer, the preferences panel
open, on a phone, in Chinese) nor on the staff sign-in form; the message box has a name, the page a top-level
heading, and the keyboard focus shows."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from tests.browser.axe_check import axe_violations, blocking
from tests.browser.conftest import App, shot
from tests.browser.test_shopper import ask, open_chat

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.browser]


def open_signed_out(page: Any, app: App, query: str = "") -> None:
    page.goto(f"{app.url}/{query}", wait_until="domcontentloaded")
    page.locator("#concierge-status").get_by_text("Not signed in").or_(
        page.locator("#concierge-status").get_by_text("未登录")).wait_for()
    # audit the page as it settles, not while Gradio is still loading its parts (one that keeps a connection open
    # is audited as it is)
    with contextlib.suppress(Exception):
        page.wait_for_load_state("networkidle", timeout=15_000)


def test_the_signed_out_page_with_the_demo_sign_in_has_no_serious_violation(page: Any, app: App) -> None:
    open_signed_out(page, app)

    found = blocking(axe_violations(page))

    shot(page, "a11y-signed-out")
    assert found == []


def test_the_chat_after_an_answer_with_the_panel_open_has_no_serious_violation(page: Any, app: App) -> None:
    open_chat(page, app, "C001")
    ask(page, "How much is express shipping?")
    page.get_by_text("What we think you like").click()
    page.get_by_label("Personalize my answers, recommendations and offers").wait_for()

    found = blocking(axe_violations(page))

    shot(page, "a11y-signed-in")
    assert found == []


def test_the_phone_layout_has_no_serious_violation(browser: Any, app: App) -> None:
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    phone.set_default_timeout(60_000)
    try:
        open_chat(phone, app, "C001")
        ask(phone, "How much is express shipping?")

        found = blocking(axe_violations(phone))

        shot(phone, "a11y-phone")
        assert found == []
    finally:
        phone.context.close()


def test_the_chinese_page_has_no_serious_violation(page: Any, app: App) -> None:
    open_signed_out(page, app, "?lang=zh")

    assert blocking(axe_violations(page)) == []


def test_the_staff_sign_in_form_has_no_serious_violation(page: Any, app: App) -> None:
    page.goto(f"{app.url}/staff/login", wait_until="domcontentloaded")
    page.locator("input[name=username]").wait_for()

    found = blocking(axe_violations(page))

    shot(page, "a11y-staff-sign-in")
    assert found == []


def test_the_message_box_and_buttons_have_names_and_the_page_a_heading(page: Any, app: App) -> None:
    open_chat(page, app, "C001")
    ask(page, "How much is express shipping?")

    box = page.get_by_role("textbox", name="Your message")
    unnamed = page.evaluate("""() => [...document.querySelectorAll('button')]
        .filter(b => b.offsetParent !== null && !(b.getAttribute('aria-label') || b.innerText || b.title || '').trim())
        .map(b => b.outerHTML.slice(0, 120))""")

    assert box.count() == 1 and page.get_by_role("textbox", name="Textbox").count() == 0
    assert unnamed == []
    assert page.get_by_role("heading", level=1).count() == 1
    assert page.get_by_role("button", name="Send").count() == 1


def test_the_keyboard_focus_shows(page: Any, app: App) -> None:
    open_chat(page, app, "C001")
    page.get_by_role("textbox", name="Your message").focus()

    page.keyboard.press("Tab")  # from the message box to the Send button
    page.wait_for_timeout(1000)  # the button's transition (Gradio's theme) brings the ring's colour in
    ring = page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
        return {text: e.innerText, style: s.outlineStyle, width: parseFloat(s.outlineWidth),
                color: s.outlineColor} }""")

    assert ring["text"].strip() == "Send"
    assert ring["style"] != "none" and ring["width"] >= 2 and ring["color"] == "rgb(29, 78, 216)", ring
