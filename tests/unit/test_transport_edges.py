"""The edges of the web server (issue 14, item 8's transport part): no uploads to the shopper chat, a body limit on
every path, 422 for deeply nested JSON everywhere, failed sign-ins that slow down without locking anyone out, and
uvicorn's header-read and idle timeouts and concurrency limit (a real uvicorn on loopback)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.components import Components
from assistant.config.loading import load_settings
from tests.unit.test_secure_defaults import web_app
from ui.cli.serving import uvicorn_options
from ui.rate_limits import RateLimiter
from ui.staff_auth import build_auth

KEY = {"X-API-Key": "staff-test-key"}
PASSWORD = "agent-pass-1234"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Components, TestClient]]:
    components, app = web_app(tmp_path_factory.mktemp("edges"), {"security": {"demo_sign_in": True}})
    components.stores.staff.add_user("ana", PASSWORD, ["agent"])
    yield components, TestClient(app)
    components.stores.close()


# uploads and body limits ------------------------------------------------------------------------------------
def test_the_shopper_chat_takes_no_uploads(site: tuple[Components, TestClient]) -> None:
    _, client = site
    for path in ("/gradio_api/upload", "/upload", "/gradio_api/component_server", "/gradio_api/queue/join"):
        response = client.post(path, files={"files": ("a.txt", b"hello", "text/plain")})
        assert response.status_code == 415 and response.json()["error"] == "UploadRefused", path


def test_staff_uploads_need_a_signed_in_member_of_staff(site: tuple[Components, TestClient]) -> None:
    _, client = site
    response = client.post("/staff/gradio_api/upload", files={"files": ("a.txt", b"hello", "text/plain")})

    assert response.status_code in (401, 403)


@pytest.mark.parametrize("path", ["/gradio_api/queue/join", "/gradio_api/upload", "/gradio_api/run/chat",
                                  "/staff/gradio_api/queue/join", "/somewhere/else", "/api/v1/chat"])
def test_a_big_body_is_refused_on_every_path(site: tuple[Components, TestClient], path: str) -> None:
    _, client = site
    response = client.post(path, content=b"x" * 2_000_000, headers={"Content-Type": "application/octet-stream"})

    assert response.status_code == 413 and response.json()["error"] == "BodyTooLarge"


def test_a_chat_event_of_ordinary_size_still_reaches_gradio(site: tuple[Components, TestClient]) -> None:
    _, client = site
    response = client.post("/gradio_api/queue/join", json={"data": ["hi" * 20_000], "fn_index": 0,
                                                           "session_hash": "abc"})

    assert response.status_code not in (413, 415, 422)


# deeply nested JSON -----------------------------------------------------------------------------------------
NESTED = b"[" * 10_000 + b"]" * 10_000


@pytest.mark.parametrize("path", ["/api/v1/staff/login", "/api/v1/chat", "/api/v1/admin/offers", "/api/v1/me/consent",
                                  "/api/v1/demo/token", "/gradio_api/queue/join", "/gradio_api/run/chat",
                                  "/staff/gradio_api/queue/join", "/api/v1/copilot/sessions/x/send"])
def test_deeply_nested_json_is_a_422_everywhere(site: tuple[Components, TestClient], path: str) -> None:
    _, client = site
    for body in (NESTED, b'{"a":' * 5_000 + b"1" + b"}" * 5_000):
        response = client.post(path, content=body, headers={"Content-Type": "application/json", **KEY})
        assert response.status_code == 422, (path, response.status_code, response.text[:200])
        assert "nested deeper" in response.json()["detail"]


def test_ordinary_json_still_parses(site: tuple[Components, TestClient]) -> None:
    _, client = site
    response = client.post("/api/v1/demo/token", json={"customer_id": "C001", "extra": [[[[{"a": [1]}]]]]})

    assert response.status_code == 200


# failed sign-ins --------------------------------------------------------------------------------------------
def sign_in_app(components: Components, **security: Any) -> FastAPI:
    settings = load_settings(["test"], env={}, overrides={"security": security})
    limiter = RateLimiter.from_settings(settings.security)
    app = FastAPI()
    app.state.auth = build_auth(settings.security, components.staff_accounts, limiter)
    app.include_router(app.state.auth.router)
    return app


def from_address(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


def test_wrong_passwords_slow_down_and_refuse_one_address_but_never_lock_the_right_password_out(
        site: tuple[Components, TestClient]) -> None:
    components, _ = site
    app = sign_in_app(components, login_rate_per_username="3/minute", login_rate_per_ip="100/minute",
                      login_slowdown_after=2, login_slowdown_max_s=0.4)
    attacker, agent = from_address(app, "203.0.113.7"), from_address(app, "198.51.100.2")
    wrong = {"username": "ana", "password": "not the password"}

    delays, timings = [], []
    for _ in range(3):
        delays.append(app.state.auth.slowdown("ana"))
        started = time.monotonic()
        assert attacker.post("/api/v1/staff/login", json=wrong).status_code == 401
        timings.append(time.monotonic() - started)
    refused = attacker.post("/api/v1/staff/login", json={"username": "ana", "password": PASSWORD})
    started = time.monotonic()
    right = agent.post("/api/v1/staff/login", json={"username": "ana", "password": PASSWORD})
    waited = time.monotonic() - started

    assert delays == [0.0, 0.0, 0.4] and timings[2] >= 0.35  # the third attempt waited (slowdown after two)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert right.status_code == 200 and waited >= 0.35  # slowed down, not locked out


def test_five_wrong_passwords_do_not_lock_the_account_for_everyone(site: tuple[Components, TestClient]) -> None:
    components, _ = site
    app = sign_in_app(components, login_slowdown_max_s=0.05)  # the shipped rates: 5/minute per username and address
    for n in range(8):
        from_address(app, f"192.0.2.{n}").post("/api/v1/staff/login", json={"username": "ana", "password": "nope"})

    assert from_address(app, "198.51.100.9").post(
        "/api/v1/staff/login", json={"username": "ana", "password": PASSWORD}).status_code == 200


def test_many_usernames_from_one_address_are_refused_from_that_address(site: tuple[Components, TestClient]) -> None:
    components, _ = site
    app = sign_in_app(components, login_rate_per_ip="3/minute")
    attacker = from_address(app, "203.0.113.9")
    for name in ("a1", "a2", "a3"):
        attacker.post("/api/v1/staff/login", json={"username": name, "password": "nope"})

    assert attacker.post("/api/v1/staff/login", json={"username": "ana", "password": PASSWORD}).status_code == 429
    assert from_address(app, "198.51.100.3").post(
        "/api/v1/staff/login", json={"username": "ana", "password": PASSWORD}).status_code == 200


# timeouts and the concurrency limit on a real uvicorn -----------------------------------------------------------
async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[int]:
    """``hello`` under uvicorn with ``uvicorn_options`` of the server settings the test is parametrized with."""
    server_settings = getattr(request, "param", {})
    settings = load_settings(["test"], env={}, overrides={"app": {"port": 0}, "server": server_settings})
    options = uvicorn_options(settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    options.pop("host"), options.pop("port")
    server = uvicorn.Server(uvicorn.Config(hello, **options))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(10)


def closed_within(conn: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``conn`` within ``seconds`` (reads until EOF)."""
    conn.settimeout(seconds)
    try:
        while conn.recv(4096):
            pass
        return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


@pytest.mark.parametrize("served", [{"header_timeout_s": 0.5, "timeout_keep_alive_s": 0.5}], indirect=True)
def test_a_trickled_request_head_is_cut_off(served: int) -> None:
    conn = socket.create_connection(("127.0.0.1", served))
    conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    closed = False
    for _ in range(20):  # one header line every 0.2 s: never a whole head
        time.sleep(0.2)
        try:
            conn.sendall(b"X-Slow: 1\r\n")
        except OSError:
            closed = True
            break
    closed = closed or closed_within(conn, 1.0)

    assert closed and time.monotonic() - started < 3.5


@pytest.mark.parametrize("served", [{"header_timeout_s": 0.5, "timeout_keep_alive_s": 0.5}], indirect=True)
def test_a_silent_connection_and_an_idle_keep_alive_are_closed(served: int) -> None:
    silent = socket.create_connection(("127.0.0.1", served))
    kept = socket.create_connection(("127.0.0.1", served))
    kept.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    kept.settimeout(2)
    assert kept.recv(4096).startswith(b"HTTP/1.1 200")

    assert closed_within(silent, 2.0) and closed_within(kept, 2.0)


@pytest.mark.parametrize("served", [{"header_timeout_s": 0.5}], indirect=True)
def test_a_whole_request_is_answered(served: int) -> None:
    conn = socket.create_connection(("127.0.0.1", served))
    conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd")
    conn.settimeout(2)

    assert conn.recv(4096).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("served", [{"max_header_bytes": 2048}], indirect=True)
def test_an_oversized_head_is_refused(served: int) -> None:
    conn = socket.create_connection(("127.0.0.1", served))
    conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000)  # a head still growing past the limit
    time.sleep(0.2)
    with contextlib.suppress(OSError):
        conn.sendall(b"\r\n\r\n")
    conn.settimeout(2)

    assert conn.recv(4096).startswith(b"HTTP/1.1 400")


@pytest.mark.parametrize("served", [{"limit_concurrency": 2, "header_timeout_s": 5}], indirect=True)
def test_past_the_concurrency_limit_requests_get_503(served: int) -> None:
    held = [socket.create_connection(("127.0.0.1", served)) for _ in range(2)]
    time.sleep(0.2)
    conn = socket.create_connection(("127.0.0.1", served))
    conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    conn.settimeout(2)

    assert conn.recv(4096).startswith(b"HTTP/1.1 503")
    for c in held:
        c.close()


def test_uvicorn_gets_the_server_settings() -> None:
    settings = load_settings([], env={}, overrides={"server": {"timeout_keep_alive_s": 3, "limit_concurrency": 50,
                                                               "forwarded_allow_ips": "10.0.0.5"}})
    options = uvicorn_options(settings)

    assert (options["timeout_keep_alive"], options["limit_concurrency"], options["forwarded_allow_ips"]) == (
        3, 50, "10.0.0.5")
    assert options["h11_max_incomplete_event_size"] == 16384 and options["http"].read_timeout_s == 10
