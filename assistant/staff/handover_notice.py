"""Agents hear of a new hand-over: a JSON POST to ``support.webhook_url``, sent from a background thread.

The turn that hands over only puts the notice on a queue (:meth:`HandoverNotifier.notify` returns at once); one
daemon thread posts it, retrying a few times (``support.webhook_attempts``, waiting 0.5 s, 1 s, 2 s ... between
tries) and logging every failure, so a slow or broken receiver never delays a reply. The body holds no shopper
text: ``{"event": "handover.created", "id", "reason", "created_at", "link"}``. With ``support.webhook_secret`` the
header ``X-Concierge-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` lets the receiver check it came from us.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.config.support_settings import SupportSettings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Concierge-Signature"
EVENT = "handover.created"


def sign(body: bytes, secret: str) -> str:
    """The signature header's value for ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def handover_link(staff_url: str, handover_id: str) -> str:
    """Where an agent opens the hand-over: the copilot on the staff page, chosen by ``?handover=``."""
    return f"{staff_url}/staff/?handover={handover_id}"


def notice_body(handover_id: str, reason: str, created_at: datetime, staff_url: str) -> bytes:
    """The JSON body of one notice (identifiers and times only: no shopper text leaves the server)."""
    payload = {"event": EVENT, "id": handover_id, "reason": reason, "created_at": created_at.isoformat(),
               "link": handover_link(staff_url, handover_id)}
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


Post = Callable[[str, bytes, Mapping[str, str], float], int]


def post_json(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
    """POST ``body``; the HTTP status (an error status is returned, not raised; a network error raises)."""
    request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only (settings)
            return int(response.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


class HandoverNotifier:
    """Posts hand-over notices in the background. ``post`` sends one try (tests may pass another sender);
    ``backoff_s`` is the first wait between tries (doubling)."""

    def __init__(self, settings: SupportSettings, post: Post = post_json, backoff_s: float = 0.5) -> None:
        self.settings = settings
        self._post = post
        self._backoff_s = backoff_s
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.delivered = 0
        self.failed = 0

    @property
    def enabled(self) -> bool:
        return bool(self.settings.webhook_url)

    def notify(self, handover_id: str, reason: str, created_at: datetime) -> bool:
        """Queue a notice of a new hand-over; returns at once (False: no webhook is set)."""
        if not self.enabled:
            return False
        self._queue.put(notice_body(handover_id, reason, created_at, self.settings.staff_url))
        self._start()
        return True

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="handover-webhook", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            body = self._queue.get()
            try:
                if body is None:
                    return
                self._deliver(body)
            except Exception:  # never let one notice end the thread
                log.exception("the hand-over webhook failed unexpectedly")
            finally:
                self._queue.task_done()

    def _deliver(self, body: bytes) -> bool:
        s = self.settings
        headers = {"Content-Type": "application/json", "User-Agent": "concierge-handover-webhook"}
        secret = s.webhook_secret.get_secret_value()
        if secret:
            headers[SIGNATURE_HEADER] = sign(body, secret)
        wait = self._backoff_s
        for attempt in range(1, s.webhook_attempts + 1):
            try:
                status = self._post(s.webhook_url, body, headers, s.webhook_timeout_s)
                problem = None if 200 <= status < 300 else f"status {status}"
            except (OSError, ValueError) as e:  # refused, timed out, bad address
                problem = f"{type(e).__name__}: {e}"
            if problem is None:
                self.delivered += 1
                return True
            log.warning("hand-over webhook try %d of %d failed: %s", attempt, s.webhook_attempts, problem)
            if attempt < s.webhook_attempts:
                time.sleep(wait)
                wait *= 2
        self.failed += 1
        log.error("hand-over webhook gave up after %d tries", s.webhook_attempts)
        return False

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued notice was delivered or given up (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        """Stop the thread after the notices already queued."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=30)
