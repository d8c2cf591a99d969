"""A start of the real server (``concierge serve``: bundled model, bundled embeddings, Chroma on disk, SQLite, demo
shop): the REST API answers before the Gradio pages are built (issue 20 item 3). While they are built their paths
answer the "starting" page (503 with ``Retry-After`` and a reload), ``/healthz`` says ``"pages": "starting"``; then
the chat page and the staff views are served, and ``/healthz`` says ``"ready"``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.conftest import free_port, served

pytestmark = [pytest.mark.integration, pytest.mark.model]

STAFF = ("sam", "staff-pass-1234")


def first_health(url: str, timeout: float = 240.0) -> httpx.Response:
    """The first 200 of ``/healthz``, polled every 20 ms from the spawn."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{url}/healthz", timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"/healthz did not answer within {timeout:.0f} s")


@pytest.fixture(scope="module")
def starting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A first start on a fresh data dir (it imports the demo shop; stopped at once, pages built or not), then the
    start under test on it: what the paths answered the moment ``/healthz`` first answered, and the url."""
    data = tmp_path_factory.mktemp("pages-starting")
    env = {"CONCIERGE_APP__DATA_DIR": str(data), "HF_HUB_OFFLINE": "1", "CONCIERGE_TOKEN_SECRET": "starting-secret",
           "CONCIERGE_PROFILES": "", "CONCIERGE_SECURITY__DEMO_SIGN_IN": "true", "ANONYMIZED_TELEMETRY": "False"}
    done = subprocess.run([sys.executable, "-m", "ui.cli.main", "users", "add", STAFF[0], "--role", "agent",
                           "--password-stdin"], input=STAFF[1], text=True, capture_output=True,
                          env={**os.environ, **env}, timeout=120)
    assert done.returncode == 0, done.stderr
    for run in ("first", "second"):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with served([sys.executable, "-m", "ui.cli.main", "serve", "--port", str(port)], data / f"{run}.log",
                    lambda: True, "concierge server", env=env):
            health = first_health(url)
            seen = {"health": health,
                    "pages": {p: httpx.get(f"{url}{p}", timeout=10) for p in ("/", "/?embed=1", "/staff/config")},
                    "widget": httpx.get(f"{url}/widget.js", timeout=10),
                    "search": httpx.get(f"{url}/api/v1/search", params={"q": "returns", "kind": "policies"},
                                        timeout=10)}
            if run == "second":
                yield {"url": url, **seen}


def test_the_moment_the_api_answers_the_pages_are_still_starting_and_say_so(starting: dict[str, Any]) -> None:
    health = starting["health"]
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["knowledge"]["products"] >= 120
    assert health.json()["pages"] == "starting"
    for path, response in starting["pages"].items():
        assert response.status_code == 503, path
        assert response.headers["retry-after"] == "2", path
        assert response.headers["content-type"].startswith("text/html"), path
        assert '<meta http-equiv="refresh"' in response.text, path
        assert "Concierge is starting, this page reloads in a moment" in response.text, path
    assert starting["widget"].status_code == 200
    assert starting["search"].status_code == 200 and starting["search"].json()


def test_the_first_rest_answer_does_not_wait_for_the_pages(starting: dict[str, Any]) -> None:
    url = starting["url"]
    token = httpx.post(f"{url}/api/v1/demo/token", json={"customer_id": "C001"}, timeout=10).json()["token"]
    answer = httpx.post(f"{url}/api/v1/chat", json={"message": "How long do I have to return something?"},
                        headers={"Authorization": f"Bearer {token}"}, timeout=120)
    assert answer.status_code == 200 and answer.text


def wait_pages(url: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = httpx.get(f"{url}/healthz", timeout=10).json()
        if body["pages"] != "starting":
            return body
        time.sleep(0.1)
    raise AssertionError(f"the pages did not open within {timeout:.0f} s")


def test_then_the_chat_page_and_the_staff_views_are_served(starting: dict[str, Any]) -> None:
    url = starting["url"]
    assert wait_pages(url)["pages"] == "ready"

    chat = httpx.get(f"{url}/", timeout=10)
    assert chat.status_code == 200 and "Concierge is starting" not in chat.text
    assert "gradio_config" in chat.text or "window.gradio" in chat.text.lower()
    assert httpx.get(f"{url}/gradio_api/info", timeout=10).status_code == 200
    with httpx.Client(base_url=url, timeout=10) as staff:
        assert staff.post("/api/v1/staff/login", json={"username": STAFF[0], "password": STAFF[1]}).status_code == 200
        page = staff.get("/staff/")
        assert page.status_code == 200 and "Concierge is starting" not in page.text
        assert "Content-Security-Policy" in page.headers  # the staff page's own, as before


def test_a_page_opened_when_healthz_says_ready_is_served_at_once(starting: dict[str, Any]) -> None:
    url = starting["url"]
    wait_pages(url)
    for path in ("/", "/?embed=1"):
        assert httpx.get(f"{url}{path}", timeout=10).status_code == 200, path
