"""Real-browser tests: Debian's Chromium (``/usr/bin/chromium``) driven by Playwright's Python package against
the real server (bundled model, bundled embeddings, Chroma on disk, SQLite, demo shop).

Screenshots of every view go to ``test-artifacts/screenshots/`` (not committed) so a person can look at them.
Playwright's own browser download does not work here; CI installs Debian's chromium (``.ci/run``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import free_port, served, serving_pages

CHROMIUM = os.environ.get("CONCIERGE_TEST_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
STAFF = {"agent": ("ada", "agent-pass-1234", ["agent"]), "reviewer": ("rita", "review-pass-1234", ["reviewer"]),
         "admin": ("adam", "admin-pass-1234", ["admin"])}


@dataclass
class App:
    url: str
    data: Path

    def shopper_token(self, customer_id: str = "C001") -> str:
        response = httpx.post(f"{self.url}/api/v1/demo/token", json={"customer_id": customer_id}, timeout=10)
        assert response.status_code == 200, response.text
        return str(response.json()["token"])


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """``concierge serve`` on a fresh data dir with staff accounts created by ``concierge users add``."""
    data = tmp_path_factory.mktemp("browser-app")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CONCIERGE_APP__DATA_DIR": str(data), "HF_HUB_OFFLINE": "1", "CONCIERGE_PROFILES": "",
           "CONCIERGE_TOKEN_SECRET": "browser-secret", "CONCIERGE_SECURITY__DEMO_SIGN_IN": "true"}
    for username, password, roles in STAFF.values():
        role_args = [a for r in roles for a in ("--role", r)]
        done = subprocess.run([sys.executable, "-m", "ui.cli.main", "users", "add", username, *role_args,
                               "--password-stdin"], input=password, text=True, capture_output=True, env=env,
                              timeout=120)
        assert done.returncode == 0, done.stderr
    with served([sys.executable, "-m", "ui.cli.main", "serve", "--port", str(port)], data / "server.log",
                lambda: serving_pages(url), "concierge server",
                timeout=300, env=env):
        yield App(url, data)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread while it is open, which
    would break later tests that call ``asyncio.run``."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium chromium-driver (.ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--headless", "--no-sandbox", "--disable-gpu",
                                          "--disable-background-networking"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        context.close()


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, app: App, role: str) -> None:
    """Open the staff page, get sent to the sign-in form, sign in as the ``role`` account."""
    username, password, _ = STAFF[role]
    page.goto(f"{app.url}/staff/", wait_until="domcontentloaded")
    page.wait_for_url("**/staff/login**")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/")
    page.get_by_text(f"Signed in as {username}").wait_for()
    page.get_by_role("tab").first.wait_for()  # Gradio draws the tabs after the header
