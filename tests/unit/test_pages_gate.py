"""The Gradio pages are built after the REST API answers (``ui.pages_gate``, issue 20 item 3): while they are built
their paths answer a "starting" page (503, ``Retry-After``, a reload), ``/healthz`` says so and the API answers;
then the pages answer as before. The app is the real one (``create_app`` on the test profile's fakes, the real
Gradio pages); only the moment the page build finishes is held back, so the window can be looked at."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

import ui.server
from assistant.components import Components, build_components
from assistant.config.loading import load_settings
from ui.pages_gate import RETRY_AFTER_S, PagesGate, pages_app


def components_at(data: Path) -> Components:
    return build_components(load_settings(["test"], env={}, overrides={
        "app": {"data_dir": str(data), "load_demo": True}, "security": {"demo_sign_in": True},
        "knowledge": {"collection_prefix": f"g{uuid.uuid4().hex[:8]}_"}, "embeddings": {"dimensions": 1024}}))


def assert_starting_page(response: Any) -> None:
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(RETRY_AFTER_S)
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert f'<meta http-equiv="refresh" content="{RETRY_AFTER_S}">' in response.text
    assert "Concierge is starting, this page reloads in a moment" in response.text


@pytest.fixture
def held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, threading.Event]]:
    """The app as ``concierge serve`` builds it, its page build waiting for the event."""
    release = threading.Event()
    real = ui.server.build_pages

    def build_when_released(*args: Any) -> FastAPI:
        assert release.wait(60), "the test never released the page build"
        return real(*args)

    monkeypatch.setattr(ui.server, "build_pages", build_when_released)
    components = components_at(tmp_path)
    try:
        with TestClient(ui.server.create_app(components, pages_in_background=True)) as client:  # runs the lifespan
            yield client, release
    finally:
        release.set()
        components.stores.close()


def wait_ready(client: TestClient) -> dict[str, Any]:
    for _ in range(600):
        body: dict[str, Any] = client.get("/healthz").json()
        if body["pages"] == "ready":
            return body
        threading.Event().wait(0.05)
    raise AssertionError("the pages never opened")


def test_while_the_pages_are_built_their_paths_answer_the_starting_page_and_the_api_answers(
        held: tuple[TestClient, threading.Event]) -> None:
    client, release = held

    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok" and health.json()["pages"] == "starting"
    for path in ("/", "/?embed=1", "/staff/config", "/gradio_api/info"):
        assert_starting_page(client.get(path))
    head = client.head("/")
    assert head.status_code == 503 and head.headers["retry-after"] == str(RETRY_AFTER_S) and head.content == b""
    assert client.post("/gradio_api/queue/join", json={}).status_code == 503
    # what the pages do not own answers already: the widget, the API, the staff sign-in
    assert client.get("/widget.js").status_code == 200
    assert client.get("/api/v1/search", params={"q": "shipping", "kind": "policies"}).status_code == 200
    assert client.post("/api/v1/demo/token", json={"customer_id": "C001"}).status_code == 200
    assert client.get("/staff/login").status_code == 200
    assert client.get("/api/v1/nowhere").status_code == 404  # the API's own 404, not the starting page

    release.set()
    assert wait_ready(client)["pages"] == "ready"
    page = client.get("/")
    assert page.status_code == 200 and "gradio" in page.text.lower() and "Concierge is starting" not in page.text
    assert "retry-after" not in page.headers
    info = client.get("/gradio_api/info")
    assert info.status_code == 200, info.text


def test_built_at_once_the_pages_answer_without_a_lifespan_as_before(tmp_path: Path) -> None:
    components = components_at(tmp_path)
    try:
        client = TestClient(ui.server.create_app(components))  # no lifespan run: in-process tests
        assert client.get("/healthz").json()["pages"] == "ready"
        page = client.get("/")
        assert page.status_code == 200 and "Concierge is starting" not in page.text
    finally:
        components.stores.close()


# the gate on its own: a failed build, the callbacks ---------------------------------------------------------------

def gated(gate: PagesGate) -> FastAPI:
    api = FastAPI(lifespan=gate.lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    api.mount("/", gate)
    return api


def test_a_failed_build_answers_503_without_a_reload_and_never_announces_the_pages() -> None:
    gate = PagesGate()
    announced: list[str] = []
    gate.when_open(lambda: announced.append("open"))

    def broken() -> FastAPI:
        raise RuntimeError("no theme")

    gate.build_in_background(broken)
    with TestClient(gated(gate)) as client:
        for _ in range(200):
            if gate.state != "starting":
                break
            threading.Event().wait(0.02)
        response = client.get("/")

    assert gate.state == "failed" and gate.failure == "RuntimeError: no theme"
    assert response.status_code == 503 and "retry-after" not in response.headers
    assert "refresh" not in response.text and "unavailable" in response.text
    assert announced == []


def test_the_pages_open_on_the_event_loop_and_announce_once() -> None:
    gate = PagesGate()
    release = threading.Event()
    announced: list[str] = []

    def build() -> FastAPI:
        release.wait(10)
        pages = pages_app()
        pages.add_api_route("/{rest:path}", lambda: PlainTextResponse("the pages"))
        return pages

    gate.build_in_background(build)
    with TestClient(gated(gate)) as client:
        gate.when_open(lambda: announced.append("first"))
        assert client.get("/anything").status_code == 503
        release.set()
        for _ in range(200):
            if gate.state == "ready":
                break
            threading.Event().wait(0.02)
        gate.when_open(lambda: announced.append("second"))  # already open: at once
        assert client.get("/anything").text == "the pages"
        assert client.get("/docs").text == "the pages"  # the pages' app has no docs routes of its own

    assert announced == ["first", "second"]
    assert gate.opened_after_s is not None and gate.opened_after_s > 0
