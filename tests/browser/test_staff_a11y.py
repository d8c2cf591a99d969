"""The staff pages are accessible (issue 16, item 8): axe-core (from the npm registry) finds no critical or serious
violation on the sign-in page nor on any tab of the staff page an admin sees, each audited with its content drawn
(a hand-over open in the copilot, turns found and replayed, the analytics plotted, the admin's panels open); the
page has one top-level heading and the keyboard focus shows. The copilot's conversation keeps its first message
clear of the chat's toolbar (item 7): the boxes the browser draws do not meet, for the first message nor for the
area the messages scroll in."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.axe_check import axe_violations, blocking
from tests.browser.conftest import App, shot, sign_in
from tests.browser.test_copilot_live import shopper_says

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.browser]

SHOPPER = "C011"
ASKS_FOR_A_PERSON = "I want to talk to a real person about my parcel please"
#: the tabs every admin has (a tab added later is audited too: the test goes through every tab the page shows)
ADMIN_TABS = ("Copilot", "Log review", "Analytics", "Admin")


@pytest.fixture(scope="module")
def handover(app: App) -> str:
    """A shopper's conversation in the hand-over queue (its session id): the copilot has something to show."""
    said = shopper_says(app, app.shopper_token(SHOPPER), ASKS_FOR_A_PERSON)
    assert said["handover"], said
    return str(said["session_id"])


def settle(page: Any) -> None:
    """Audit the page as it settles, not while Gradio still draws (the copilot's timers keep polling, so the
    network is never quite idle: a short wait is enough then)."""
    with contextlib.suppress(Exception):
        page.wait_for_load_state("networkidle", timeout=5_000)
    page.wait_for_timeout(500)


def open_handover(page: Any) -> None:
    """In the copilot: list the queue, choose the test shopper's hand-over and open it."""
    page.locator("#copilot-refresh").click()
    choose = page.locator("#copilot-choose input")
    choose.click()
    page.get_by_role("option", name=re.compile(SHOPPER)).first.click()
    expect(choose).to_have_value(re.compile(SHOPPER), timeout=60_000)
    page.locator("#copilot-open").click()
    page.locator("#copilot-profile").get_by_text(SHOPPER).wait_for()
    page.locator("#copilot-conversation [data-testid='user']").first.wait_for()


def fill_copilot(page: Any) -> None:
    open_handover(page)
    page.get_by_text("Marketing copy waiting for review").click()
    page.locator("#copy-refresh").click()


def fill_log_review(page: Any) -> None:
    page.locator("#review-search").click()
    page.locator("#review-found").get_by_text("turns match").wait_for()
    page.locator("#review-open").click()
    page.locator("#review-replay").get_by_text("Turn").first.wait_for()


def fill_analytics(page: Any) -> None:
    page.locator("#analytics-show").click()
    page.locator("#analytics-summary").get_by_text("conversations").first.wait_for()
    page.wait_for_timeout(2000)  # the plots draw


def fill_admin(page: Any) -> None:
    page.get_by_role("button", name="Collections and counts").click()
    page.get_by_text("policy_documents").first.wait_for()
    page.get_by_text("Offers", exact=True).click()
    page.get_by_role("button", name="Load offers").click()
    page.get_by_text("Settings (secrets masked)").click()
    page.get_by_role("button", name="Show settings").click()
    page.get_by_text("token_secret").first.wait_for()


#: what each tab shows once used (a tab not named here is audited as it opens)
FILL: dict[str, Callable[[Any], None]] = {"Copilot": fill_copilot, "Log review": fill_log_review,
                                          "Analytics": fill_analytics, "Admin": fill_admin}


def test_the_sign_in_page_has_no_serious_violation(page: Any, app: App) -> None:
    page.goto(f"{app.url}/staff/login", wait_until="domcontentloaded")
    page.locator("input[name=username]").wait_for()

    found = blocking(axe_violations(page))

    shot(page, "a11y-staff-sign-in")
    assert found == []
    assert page.get_by_role("heading", level=1).count() == 1
    assert page.get_by_label("Username").count() == 1 and page.get_by_label("Password").count() == 1


def test_every_staff_tab_an_admin_sees_has_no_serious_violation(page: Any, app: App, handover: str) -> None:
    sign_in(page, app, "admin")
    for name in ADMIN_TABS:  # Gradio draws the tabs after the header: wait for them before listing
        page.get_by_role("tab", name=name, exact=True).wait_for()
    tabs = [t.inner_text().strip() for t in page.get_by_role("tab").all()]
    assert set(ADMIN_TABS) <= set(tabs), tabs

    found: dict[str, list[str]] = {}
    for name in tabs:
        page.get_by_role("tab", name=name, exact=True).click()
        FILL.get(name, lambda _: None)(page)
        settle(page)
        violations = axe_violations(page)
        found[name] = blocking(violations)
        slug = "a11y-staff-" + re.sub(r"\W+", "-", name.lower())
        shot(page, slug).with_suffix(".json").write_text(json.dumps(violations, indent=1), encoding="utf-8")

    assert found == {name: [] for name in tabs}, "\n".join(f"{n}: {v}" for n, f in found.items() for v in f)


def test_the_staff_page_has_one_top_level_heading_and_the_keyboard_focus_shows(page: Any, app: App) -> None:
    sign_in(page, app, "agent")
    page.locator("#copilot-refresh").focus()

    page.keyboard.press("Tab")  # to the next control and back: the focus came from the keyboard
    page.keyboard.press("Shift+Tab")
    page.wait_for_timeout(1000)  # the theme's transition brings the ring's colour in
    ring = page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
        return {id: e.id, style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor} }""")

    assert page.get_by_role("heading", level=1).count() == 1
    assert ring["id"] == "copilot-refresh"
    assert ring["style"] != "none" and ring["width"] >= 2 and ring["color"] == "rgb(29, 78, 216)", ring


def boxes_meet(a: dict[str, float], b: dict[str, float]) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def test_the_conversation_toolbar_covers_no_message(page: Any, app: App, handover: str) -> None:
    sign_in(page, app, "agent")
    open_handover(page)
    chat = page.locator("#copilot-conversation")
    first = chat.locator("[data-testid='user']").first
    messages = chat.locator(".bubble-wrap")  # the scrolling area of the messages
    toolbar = chat.locator(".icon-button-wrapper.top-panel")
    toolbar.wait_for()

    tools, area, message = toolbar.bounding_box(), messages.bounding_box(), first.bounding_box()
    shot(page, "copilot-toolbar")
    # the control: with the room above the messages taken away (Gradio's own layout), the toolbar floats over the
    # messages' area, where a scrolled conversation passes under it
    page.add_style_tag(content="#copilot-conversation .bubble-wrap{margin-top:0 !important;height:100% !important}")
    page.wait_for_timeout(300)
    unstyled = messages.bounding_box()

    assert not boxes_meet(tools, message), (tools, message)
    assert not boxes_meet(tools, area), (tools, area)  # nor any message scrolled up to the top
    assert boxes_meet(toolbar.bounding_box(), unstyled), (toolbar.bounding_box(), unstyled)


def test_an_admin_chooses_files_with_a_named_button_and_imports_them(page: Any, app: App, tmp_path: Any) -> None:
    care = tmp_path / "gift-wrapping.md"
    care.write_text("# Gift wrapping\n\nEvery order can be gift wrapped at checkout for a small fee.\n",
                    encoding="utf-8")
    sign_in(page, app, "admin")
    page.get_by_role("tab", name="Admin").click()

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name=re.compile("^Choose knowledge files")).click()
    chooser.value.set_files(str(care))
    page.locator("#admin-chosen").get_by_text("gift-wrapping.md").wait_for()
    page.get_by_label("policies").check()
    page.locator("#admin-upload").click()

    expect(page.locator("#admin-summary")).to_contain_text(re.compile(r"1 file\(s\): [1-9]\d* added"),
                                                             timeout=120_000)
