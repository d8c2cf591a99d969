"""Rate limits (memory storage): the limiter itself, chat per shopper and per address (REST: 429 with Retry-After;
web chat: a friendly line), and the request body limit (413)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.components import Components
from assistant.config.loading import load_settings
from assistant.errors import ConfigError
from assistant.identity import issue_token
from ui.error_table import install_error_table
from ui.rate_limits import BodySizeLimit, RateLimiter
from ui.shopper_api import build_api

_prefixes = itertools.count()
LOOSE = {"chat_shopper": "1000/minute", "chat_ip": "1000/minute", "login_ip": "1000/minute",
         "login_user": "1000/minute"}


def limiter(**rates: str) -> RateLimiter:
    return RateLimiter({**LOOSE, **rates}, "memory://", f"unit{next(_prefixes)}")


# the limiter ----------------------------------------------------------------------------------------------
def test_hits_past_the_rate_are_refused_with_the_seconds_to_wait() -> None:
    limits = limiter(chat_shopper="3/minute")

    results = [limits.hit("chat_shopper", "C001") for _ in range(5)]

    assert results[:3] == [None, None, None]
    assert all(wait is not None and 1 <= wait <= 60 for wait in results[3:])


def test_keys_and_scopes_are_counted_apart() -> None:
    limits = limiter(chat_shopper="1/minute", chat_ip="1/minute")
    limits.hit("chat_shopper", "C001")

    assert limits.hit("chat_shopper", "C001") is not None
    assert limits.hit("chat_shopper", "C002") is None
    assert limits.hit("chat_ip", "C001") is None


def test_check_does_not_count() -> None:
    limits = limiter(login_user="1/minute")

    assert [limits.check("login_user", "ana") for _ in range(3)] == [None, None, None]
    assert limits.hit("login_user", "ana") is None and limits.check("login_user", "ana") is not None


def test_the_window_moves_on() -> None:
    limits = limiter(chat_shopper="1/second")
    limits.hit("chat_shopper", "C001")
    assert limits.hit("chat_shopper", "C001") == 1

    time.sleep(1.1)

    assert limits.hit("chat_shopper", "C001") is None


def test_several_rates_apply_together() -> None:
    limits = limiter(chat_shopper="5/hour;2/minute")

    assert [limits.hit("chat_shopper", "C001") is None for _ in range(3)] == [True, True, False]


def test_an_unreachable_storage_lets_requests_through() -> None:
    limits = RateLimiter({"chat_shopper": "1/minute"}, "redis://127.0.0.1:1", "down")

    assert [limits.hit("chat_shopper", "C001") for _ in range(3)] == [None, None, None]


def test_bad_rates_and_storages_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        RateLimiter({"chat_shopper": "twenty a minute"})
    with pytest.raises(ConfigError):
        RateLimiter({"chat_shopper": "1/minute"}, "nosuch://x")
    with pytest.raises(ConfigError) as bad:
        load_settings(["test"], env={}, overrides={"security": {"chat_rate_per_ip": "lots"}})
    assert "chat_rate_per_ip" in str(bad.value)


def test_defaults_come_from_the_settings() -> None:
    security = load_settings([], env={}).security

    assert (security.rate_limit_storage, security.chat_rate_per_shopper, security.chat_rate_per_ip,
            security.login_rate_per_username, security.max_request_bytes) == (
        "memory://", "20/minute", "60/minute", "5/minute", 65536)
    assert RateLimiter.from_settings(security).storage_uri == "memory://"


# chat over REST -----------------------------------------------------------------------------------------
def bearer(customer_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(customer_id, 'test-secret', 600)}"}


@pytest.fixture
def chat_client(own_demo_components: Components) -> Iterator[TestClient]:
    app = install_error_table(FastAPI())
    app.include_router(build_api(own_demo_components, limiter=limiter(chat_shopper="2/minute", chat_ip="3/minute")))
    yield TestClient(app)


def test_a_shopper_past_the_chat_rate_gets_a_429_with_retry_after(chat_client: TestClient) -> None:
    ok = [chat_client.post("/api/v1/chat", json={"message": "Hello"}, headers=bearer("C001")).status_code
          for _ in range(2)]

    refused = chat_client.post("/api/v1/chat", json={"message": "Hello"}, headers=bearer("C001"))

    assert ok == [200, 200]
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["detail"].startswith("too many messages: try again in")


def test_one_address_past_the_chat_rate_is_refused_whoever_the_shopper(chat_client: TestClient) -> None:
    statuses = [chat_client.post("/api/v1/chat", json={"message": "Hello"}, headers=bearer(c)).status_code
                for c in ("C002", "C003", "C004", "C005")]

    assert statuses == [200, 200, 200, 429]


def test_a_refused_request_does_not_run_a_turn(chat_client: TestClient, own_demo_components: Components) -> None:
    for _ in range(2):
        chat_client.post("/api/v1/chat", json={"message": "Hello"}, headers=bearer("C006"))
    before = len(own_demo_components.stores.sessions.sessions_for("C006"))

    refused = chat_client.post("/api/v1/chat", json={"message": "Hello"}, headers=bearer("C006"))

    assert refused.status_code == 429
    assert len(own_demo_components.stores.sessions.sessions_for("C006")) == before


# the web chat -------------------------------------------------------------------------------------------
class FakeClient:
    host = "10.1.2.3"


class FakeRequest:
    client = FakeClient()


def web_chat(components: Components, limits: RateLimiter) -> Any:
    from ui.chat_page import build_chat_ui

    blocks = build_chat_ui(components, limits)
    return next(f.fn for f in blocks.fns.values() if f.api_name == "chat")


def test_the_web_chat_answers_a_friendly_line_past_the_rate(own_demo_components: Components) -> None:
    respond = web_chat(own_demo_components, limiter(chat_shopper="1/minute"))
    token = issue_token("C007", "test-secret", 600)
    list(respond("Hello", [], token, None, [], FakeRequest()))

    *_, (history, box, _session, _turns) = list(respond("Hello again", [], token, None, [], FakeRequest()))

    assert "faster than I can answer" in history[-1]["content"] and "seconds" in history[-1]["content"]
    assert box == "Hello again"  # the message stays in the box to send again


# the body limit -------------------------------------------------------------------------------------------
@pytest.fixture
def small_body_app() -> TestClient:
    app = FastAPI()

    @app.post("/api/v1/echo")
    def echo(body: dict[str, Any]) -> dict[str, int]:
        return {"size": len(str(body))}

    @app.post("/elsewhere")
    def elsewhere(body: dict[str, Any]) -> dict[str, int]:
        return {"size": len(str(body))}

    app.add_middleware(BodySizeLimit, max_bytes=1024)
    return TestClient(app)


def test_a_body_over_the_limit_is_a_413(small_body_app: TestClient) -> None:
    refused = small_body_app.post("/api/v1/echo", json={"message": "x" * 2000})

    assert refused.status_code == 413 and refused.json()["detail"] == "request body too large: at most 1024 bytes"
    assert small_body_app.post("/api/v1/echo", json={"message": "x" * 100}).status_code == 200


def test_a_chunked_body_over_the_limit_is_a_413_too(small_body_app: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"message": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}'

    refused = small_body_app.post("/api/v1/echo", content=chunks(), headers={"Content-Type": "application/json"})

    assert refused.status_code == 413


def test_paths_outside_the_api_are_limited_too(small_body_app: TestClient) -> None:
    """Every path (Gradio's queue and upload routes included) has a body limit."""
    assert small_body_app.post("/elsewhere", json={"message": "x" * 2000}).status_code == 413
    assert small_body_app.post("/elsewhere", json={"message": "x" * 100}).status_code == 200
