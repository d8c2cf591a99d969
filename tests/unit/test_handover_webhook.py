"""Issue 16 item 5: agents hear of new hand-overs. A JSON POST (id, reason, created time, link) to the webhook URL
setting, signed with HMAC-SHA256 when a secret is set, sent from a background thread (the turn never waits),
failures logged and retried. Tested against a real HTTP receiver on a free local port."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from assistant.components import Components, build_assistant
from assistant.config.support_settings import SupportSettings
from assistant.domain import DoneEvent, ShopperIdentity
from assistant.llm import FakeChatModel
from assistant.staff.handover_notice import SIGNATURE_HEADER, HandoverNotifier
from assistant.turn.turn_service import AssistantService
from tests.unit.conftest import DEMO_NOW

CREATED = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)


@dataclass
class Receiver:
    """A local HTTP server that records each POST and answers the statuses queued (then 200)."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    delay_s: float = 0.0
    arrived: threading.Event = field(default_factory=threading.Event)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.requests


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if state.delay_s:
                time.sleep(state.delay_s)
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/concierge"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens there


def notifier(url: str, **settings: Any) -> HandoverNotifier:
    return HandoverNotifier(SupportSettings(webhook_url=url, **settings), backoff_s=0.05)


def test_a_notice_is_posted_as_json_with_id_reason_time_and_link(receiver: Receiver) -> None:
    sender = notifier(receiver.url, staff_url="https://support.example.com/")

    assert sender.notify("h-1", "angry_customer", CREATED) is True
    assert sender.flush()

    [request] = receiver.wait_for(1)
    assert request["path"] == "/hooks/concierge" and request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"]) == {
        "event": "handover.created", "id": "h-1", "reason": "angry_customer", "created_at": CREATED.isoformat(),
        "link": "https://support.example.com/staff/?handover=h-1"}
    assert SIGNATURE_HEADER not in request["headers"]  # no secret: unsigned


def test_with_a_secret_the_body_is_signed_with_hmac_sha256(receiver: Receiver) -> None:
    sender = notifier(receiver.url, webhook_secret="hook-secret-1")

    sender.notify("h-2", "customer_request", CREATED)
    sender.flush()

    [request] = receiver.wait_for(1)
    expected = hmac.new(b"hook-secret-1", request["body"], hashlib.sha256).hexdigest()
    assert request["headers"][SIGNATURE_HEADER] == f"sha256={expected}"
    assert request["headers"][SIGNATURE_HEADER] != "sha256=" + hmac.new(
        b"another-secret", request["body"], hashlib.sha256).hexdigest()


def test_a_failed_try_is_logged_and_retried(receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    receiver.statuses = [503, 500]
    sender = notifier(receiver.url, webhook_attempts=3)

    with caplog.at_level(logging.WARNING, logger="assistant.staff.handover_notice"):
        sender.notify("h-3", "tool_failure", CREATED)
        assert sender.flush()

    assert len(receiver.wait_for(3)) == 3 and sender.delivered == 1 and sender.failed == 0
    assert "status 503" in caplog.text and "status 500" in caplog.text
    assert {json.loads(r["body"])["id"] for r in receiver.requests} == {"h-3"}


def test_a_receiver_that_is_down_is_given_up_after_the_tries(caplog: pytest.LogCaptureFixture) -> None:
    sender = notifier(f"http://127.0.0.1:{closed_port()}/hook", webhook_attempts=2, webhook_timeout_s=1)

    with caplog.at_level(logging.WARNING, logger="assistant.staff.handover_notice"):
        sender.notify("h-4", "missing_knowledge", CREATED)
        assert sender.flush()

    assert sender.failed == 1 and sender.delivered == 0
    assert "try 1 of 2 failed" in caplog.text and "gave up after 2 tries" in caplog.text


def test_without_a_url_nothing_is_sent() -> None:
    sender = HandoverNotifier(SupportSettings())

    assert sender.notify("h-5", "customer_request", CREATED) is False and sender.flush(0.1)


def test_notify_returns_at_once_even_when_the_receiver_is_slow(receiver: Receiver) -> None:
    receiver.delay_s = 1.0
    sender = notifier(receiver.url)

    started = time.perf_counter()
    sender.notify("h-6", "customer_request", CREATED)
    took = time.perf_counter() - started

    assert took < 0.1 and receiver.requests == []
    assert sender.flush() and len(receiver.wait_for(1)) == 1


# -- through a real turn ------------------------------------------------------------------------------------------
def test_a_handover_turn_notifies_the_agents_without_waiting_for_the_receiver(
        own_demo_components: Components, demo_offers: list[dict[str, Any]], receiver: Receiver) -> None:
    receiver.delay_s = 1.5
    sender = notifier(receiver.url, webhook_secret="hook-secret-2")
    base = build_assistant(own_demo_components, llm=FakeChatModel(), offers=lambda: demo_offers,
                           now=lambda: DEMO_NOW, rng=np.random.default_rng(1))
    service = AssistantService(replace(base.deps, notifier=sender), own_demo_components.stores)
    shopper = ShopperIdentity("C001")
    session = service.open_session(shopper)

    started = time.perf_counter()
    done = list(service.respond(shopper, session, "I want to talk to a human please"))[-1]
    took = time.perf_counter() - started
    again = list(service.respond(shopper, session, "I want to talk to a human, now"))[-1]

    handover = service.stores.handovers.open_for_session(session)
    assert isinstance(done, DoneEvent) and isinstance(again, DoneEvent) and handover is not None
    assert took < receiver.delay_s  # the reply did not wait for the receiver
    assert sender.flush()
    [request] = receiver.wait_for(1)  # one hand-over, one notice (asking again queues nothing new)
    body = json.loads(request["body"])
    assert body["id"] == handover.id and body["reason"] == handover.reason == "customer_request"
    assert datetime.fromisoformat(body["created_at"]) == handover.created_at
    assert body["link"] == f"/staff/?handover={handover.id}"
    assert request["headers"][SIGNATURE_HEADER] == "sha256=" + hmac.new(
        b"hook-secret-2", request["body"], hashlib.sha256).hexdigest()


def test_the_assistant_uses_the_components_notifier_built_from_the_settings(
        own_demo_components: Components, demo_offers: list[dict[str, Any]]) -> None:
    service = build_assistant(own_demo_components, llm=FakeChatModel(), offers=lambda: demo_offers)

    assert service.deps.notifier is own_demo_components.handover_notifier
    assert service.deps.notifier.settings is own_demo_components.settings.support
