"""Staff in a real browser: an agent takes a hand-over, edits and sends a reply that appears in the shopper's
page; a reviewer filters the log, opens a trace and exports; the analytics charts draw; the campaign list is there
when the tab opens and its table's headers break only between words; the admin views render."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import App, shot, sign_in
from tests.browser.test_shopper import ask, open_chat

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.browser]


def click(page: Any, elem_id: str) -> None:
    page.locator(f"#{elem_id}").click()


def test_agent_takes_a_handover_and_the_reply_reaches_the_shopper(browser: Any, app: App) -> None:
    shopper = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    agent = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    for p in (shopper, agent):
        p.set_default_timeout(60_000)
    open_chat(shopper, app, "C002")
    first, _ = ask(shopper, "I want to talk to a real person about my order please", require_sources=False)
    assert "person" in first.lower()

    sign_in(agent, app, "agent")
    assert agent.get_by_role("tab", name="Log review").count() == 0  # an agent has no reviewer views
    click(agent, "copilot-refresh")
    choose = agent.locator("#copilot-choose input")
    choose.wait_for()
    # the queue may hold other shoppers' hand-overs too (oldest first): pick C002's from the list
    choose.click()
    agent.get_by_role("option", name=re.compile("C002")).first.click()
    # expect(), not wait_for_function: the staff page's CSP forbids evaluating strings
    expect(choose).to_have_value(re.compile("C002"), timeout=60_000)
    click(agent, "copilot-open")
    agent.locator("#copilot-profile").get_by_text("C002").wait_for()
    click(agent, "copilot-take")
    agent.locator("#copilot-holder").get_by_text("Held by ada").wait_for()
    click(agent, "copilot-suggest")
    expect(agent.locator("#copilot-reply textarea")).not_to_have_value("", timeout=120_000)
    draft = agent.locator("#copilot-reply textarea").input_value()
    edited = "Hi, this is Ada from Northwind. I have your order in front of me and will sort it out today."
    agent.locator("#copilot-reply textarea").fill(edited)
    click(agent, "copilot-send")
    agent.locator("#copilot-sent").get_by_text("edited from the draft").wait_for()
    shot(agent, "agent-copilot")

    deadline = time.monotonic() + 30
    while edited not in shopper.locator("[data-testid='bot']").last.inner_text():
        assert time.monotonic() < deadline, "the agent's reply never reached the shopper's page"
        time.sleep(0.5)
    shot(shopper, "shopper-receives-agent-reply")

    from assistant.store.stores import open_stores

    stores = open_stores(f"sqlite:///{app.data / 'concierge.db'}", upgrade=False)
    try:
        sent = [t for t in stores.review.search(None, limit=50).items if t.author == "agent:ada"]
        assert sent and sent[0].reply == edited
        trace = stores.turns.get_turn(sent[0].id).trace
        assert trace["edited"] is True and trace["draft"] == draft
    finally:
        stores.close()


def test_reviewer_filters_opens_a_trace_and_exports(page: Any, app: App) -> None:
    shopper = page.context.browser.new_context().new_page()
    open_chat(shopper, app, "C003")
    ask(shopper, "How much is express shipping?")

    sign_in(page, app, "reviewer")
    assert page.get_by_role("tab", name="Admin").count() == 0
    page.get_by_role("tab", name="Log review").click()
    page.locator("#review-text input, #review-text textarea").first.fill("express shipping")
    click(page, "review-search")
    page.locator("#review-found").get_by_text("turns match").wait_for()
    click(page, "review-open")
    page.locator("#review-replay").get_by_text("Retriev").first.wait_for()
    page.get_by_label("incorrect").check()
    click(page, "review-save")
    page.locator("#review-saved").get_by_text("incorrect").wait_for()
    shot(page, "reviewer-replay")

    with page.expect_download() as download:
        page.locator("#export-jsonl").click()
    with open(download.value.path(), encoding="utf-8") as exported:
        rows = [json.loads(line) for line in exported if line.strip()]
    assert rows and all("express shipping" in (r["message"] + r["reply"]).lower() for r in rows)
    assert rows[0]["label"] == "incorrect"

    page.get_by_role("tab", name="Analytics").click()
    click(page, "analytics-show")
    page.locator("#analytics-summary").get_by_text("conversations").wait_for()
    charts = page.locator("#analytics-volume img, #analytics-rates img, #analytics-thumbs img")
    expect(charts).to_have_count(3)
    for n in range(3):
        charts.nth(n).scroll_into_view_if_needed()
        expect(charts.nth(n)).to_be_visible()
    drawn = page.evaluate("""() => [...document.querySelectorAll('.staff-chart img')].map(
        i => ({complete: i.complete, w: i.naturalWidth, h: i.naturalHeight, alt: i.alt}))""")
    shot(page, "reviewer-analytics")
    # every chart of the tab is an image the browser decoded (Vega's plots stayed empty under the page's CSP)
    assert len(drawn) == 9 and all(d["complete"] and d["w"] >= 400 and d["h"] >= 200 for d in drawn), drawn
    assert all(d["alt"].startswith("Chart: ") for d in drawn), drawn


def test_admin_sees_collections_and_settings_with_secrets_masked(page: Any, app: App) -> None:
    sign_in(page, app, "admin")
    page.get_by_role("tab", name="Admin").click()
    page.get_by_role("button", name="Collections and counts").click()
    page.get_by_text("policy_documents").wait_for()
    page.get_by_text("Settings (secrets masked)").click()
    page.get_by_role("button", name="Show settings").click()
    page.get_by_text("token_secret").wait_for()
    assert "browser-secret" not in page.content()
    shot(page, "admin")


def create_campaign(app: App, name: str) -> None:
    """``concierge campaign create`` on the running server's data (as a marketer would from the CLI)."""
    env = {**os.environ, "CONCIERGE_APP__DATA_DIR": str(app.data), "HF_HUB_OFFLINE": "1", "CONCIERGE_PROFILES": "",
           "CONCIERGE_TOKEN_SECRET": "browser-secret"}
    done = subprocess.run([sys.executable, "-m", "ui.cli.main", "campaign", "create", name, "--starts",
                           "2026-01-01T00:00:00+00:00", "--ends", "2026-01-15T00:00:00+00:00", "--variant",
                           "id=A,kind=email"], text=True, capture_output=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr


#: the words of each header cell of a table that the browser laid out on more than one line (a word broken)
BROKEN_WORDS = """sel => [...document.querySelectorAll(sel + ' thead th')].flatMap(th => {
    const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT); const broken = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const m of node.textContent.matchAll(/\\S+/g)) {
            const r = document.createRange(); r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
            const lines = new Set([...r.getClientRects()].filter(b => b.width > 0).map(b => Math.round(b.top)));
            if (lines.size > 1) broken.push(m[0]);
        }
    }
    return broken; })"""


def test_the_campaign_list_is_there_when_the_tab_opens_and_no_header_breaks_a_word(page: Any, app: App) -> None:
    create_campaign(app, "Autumn letters")
    sign_in(page, app, "admin")  # an admin has the marketer role
    page.get_by_role("tab", name="Campaigns").click()

    pick = page.locator("#campaign-pick input")
    expect(pick).to_have_value(re.compile("Autumn letters"), timeout=30_000)  # listed as the page loaded
    create_campaign(app, "Winter letters")  # made while the page is open: listed when the tab opens again
    page.get_by_role("tab", name="Analytics").click()
    page.get_by_role("tab", name="Campaigns").click()
    pick.click()
    expect(page.get_by_role("option", name=re.compile("Winter letters"))).to_be_visible(timeout=30_000)
    page.keyboard.press("Escape")
    expect(pick).to_have_value(re.compile("Autumn letters"))  # the campaign chosen stays chosen
    page.locator("#campaign-uplift thead th").first.wait_for()
    shot(page, "staff-campaigns")

    headers = [t.strip() for t in page.locator("#campaign-uplift thead th").all_inner_texts()]
    assert len([h for h in headers if h]) >= 9, headers
    assert page.evaluate(BROKEN_WORDS, "#campaign-uplift") == []
