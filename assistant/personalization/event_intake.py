"""Shop events in: a file (``concierge import events``) or a signed request from the shop's backend
(``POST /api/v1/events``), applied to the profiles by :class:`EventLearner`. Purchases are also kept, once per
event id (``assistant.store.purchase_events``), for a campaign's uplift and the purchase signals; other events are
not stored: they change the profiles, and the shop's own event export is what ``concierge profiles build`` reads.

A request is signed with the shop's shared secret (``security.token_secret``): the header
``X-Concierge-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` and
``X-Concierge-Timestamp: <unix seconds>``. A timestamp more than ``MAX_SKEW_S`` (5 minutes) from now is a
replay (or a wrong clock) and is refused, and so is a signature already used within that window (kept in
memory per process), so a captured request cannot be sent again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import AuthError, ValidationError
from assistant.personalization.event_learning import EventLearner, EventOutcome
from assistant.personalization.preference_learning import PreferenceLearner
from assistant.store.purchase_events import PurchaseEvent
from knowledge.event_records import ShopEvent, check_event, count_lines, read_events
from knowledge.importing import ImportReport, RecordError

if TYPE_CHECKING:
    from assistant.components import Components

MAX_SKEW_S = 300
MAX_EVENTS_PER_REQUEST = 500
SIGNATURE_HEADER = "X-Concierge-Signature"
TIMESTAMP_HEADER = "X-Concierge-Timestamp"


def sign(body: bytes, timestamp: int, secret: str) -> str:
    """The signature header's value for ``body`` sent at ``timestamp`` (what the shop's backend computes)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class SignatureCheck:
    """Checks a request's signature and timestamp, remembering used signatures for ``MAX_SKEW_S``."""

    def __init__(self, secret: Callable[[], str], now: Callable[[], float] = time.time) -> None:
        self._secret, self._now = secret, now
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    def verify(self, body: bytes, timestamp: str | None, signature: str | None) -> None:
        """Raise AuthError (401) unless the body is signed with the shop's secret within the last 5 minutes
        and this signature was not used before."""
        secret = self._secret()
        if not secret.strip():
            raise AuthError("no token secret: every event request is refused")
        if not timestamp or not signature:
            raise AuthError("event request without signature",
                            user_message=f"Sign the request: {SIGNATURE_HEADER} and {TIMESTAMP_HEADER} headers "
                                         "(see docs/formats.md, Shop events).")
        try:
            sent = int(timestamp.strip())
        except ValueError as e:
            raise AuthError("bad event timestamp", user_message=f"{TIMESTAMP_HEADER} must be Unix seconds.") from e
        now = self._now()
        if abs(now - sent) > MAX_SKEW_S:
            raise AuthError("event request timestamp outside the 5-minute window", user_message=(
                f"The request was signed {now - sent:.0f} s from now; more than {MAX_SKEW_S} s apart is refused "
                "as a replay. Sign each request when it is sent (and keep the clock in time)."))
        if not hmac.compare_digest(sign(body, sent, secret), signature.strip()):
            raise AuthError("event request signature does not match", user_message=(
                "The signature does not match: HMAC-SHA256 of '<timestamp>.<body>' with the shared secret, "
                "as 'sha256=<hex>'."))
        with self._lock:
            self._used = {s: t for s, t in self._used.items() if t > now}
            if signature.strip() in self._used:
                raise AuthError("event request replayed", user_message="This signed request was already received.")
            self._used[signature.strip()] = now + 2 * MAX_SKEW_S


@dataclass(frozen=True)
class EventBatchResult:
    """What a request did: events applied, preferences learned, purchases recorded (new event ids only), and each
    bad record with its number."""

    received: int
    applied: int
    learned: int
    refused: int
    errors: tuple[tuple[int, str], ...]
    purchases_recorded: int = 0

    def to_dict(self) -> dict[str, object]:
        return {"received": self.received, "applied": self.applied, "failed": len(self.errors),
                "preferences_learned": self.learned, "preferences_refused": self.refused,
                "purchases_recorded": self.purchases_recorded,
                "errors": [{"record": n, "message": m} for n, m in self.errors]}


def parse_body(body: bytes) -> list[dict[str, object] | str]:
    """The records of a request body: ``{"events": [...]}``, a JSON array, one event object, or JSON Lines;
    a record that is not an object is its problem (a string). ValidationError (422) for an unreadable body."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValidationError("event body is not UTF-8", user_message="Send the events as UTF-8 JSON.") from e
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) < 2:
            raise ValidationError("event body is not JSON", user_message=(
                'Send {"events": [...]} as JSON, or one event per line (JSON Lines).')) from None
        value = []
        for line in lines:
            try:
                value.append(json.loads(line))
            except json.JSONDecodeError as e:
                value.append(f"invalid JSON: {e.msg} (column {e.colno})")
    if isinstance(value, dict):
        value = value.get("events", [value])
    if not isinstance(value, list) or not value:
        raise ValidationError("no events in the body", user_message='Send {"events": [...]} with at least one event.')
    if len(value) > MAX_EVENTS_PER_REQUEST:
        raise ValidationError("too many events", user_message=f"At most {MAX_EVENTS_PER_REQUEST} events per request.")
    return [v if isinstance(v, dict | str) else f"expected a JSON object, got {type(v).__name__}" for v in value]


class EventIntake:
    """The service behind ``POST /api/v1/events`` and ``concierge import events``."""

    def __init__(self, learner: EventLearner, signatures: SignatureCheck) -> None:
        self.learner, self.signatures = learner, signatures

    def receive(self, body: bytes, timestamp: str | None, signature: str | None) -> EventBatchResult:
        """A signed request's events applied; bad records (numbered from 1) reported, the rest applied.
        AuthError for a bad signature or a replay; ValidationError when no record is a valid event."""
        self.signatures.verify(body, timestamp, signature)
        records = parse_body(body)
        errors: list[tuple[int, str]] = []
        events: list[ShopEvent] = []
        seen: set[str] = set()
        for number, record in enumerate(records, start=1):
            checked = check_event(record, number) if isinstance(record, dict) else record
            if isinstance(checked, str) or checked.id in seen:
                errors.append((number, checked if isinstance(checked, str) else f"duplicate id {checked.id!r}"))
                continue
            seen.add(checked.id)
            events.append(checked)
        outcome = self.learner.apply(events)
        errors += [(event.line, message) for event, message in outcome.failed]
        if not outcome.applied:
            details = "; ".join(f"record {n}: {m}" for n, m in sorted(errors)[:10])
            raise ValidationError(f"no event could be applied: {details}", user_message=f"No valid event: {details}")
        return EventBatchResult(len(records), outcome.applied, outcome.learned, outcome.refused,
                                tuple(sorted(errors)), outcome.purchases_recorded)

    def import_file(self, path: Path, progress: Callable[[int, int], None] | None = None,
                    batch: int = 500) -> tuple[ImportReport, EventOutcome]:
        """Every event of a JSONL or CSV file applied; each bad record reported with its file and line."""
        report = ImportReport("events")
        outcome = EventOutcome()
        if not path.is_file():
            report.fail(RecordError(str(path), None, "no such file"), whole_file=True)
            return report, outcome
        total = max(count_lines(path), 1)
        pending: list[ShopEvent] = []

        def flush(done: int) -> None:
            before = len(outcome.failed)
            self.learner.apply(pending, outcome)
            for event, message in outcome.failed[before:]:
                report.fail(RecordError(str(path), event.line, message))
            pending.clear()
            if progress is not None:
                progress(min(done, total), total)

        last = 0
        for item in read_events(path):
            if isinstance(item, RecordError):
                report.fail(item, whole_file=item.line is None)
                continue
            pending.append(item)
            last = item.line
            if len(pending) >= batch:
                flush(last)
        flush(total)
        report.imported = outcome.applied
        return report, outcome


def build_event_intake(components: Components, now: Callable[[], float] = time.time) -> EventIntake:
    """The intake over the components' profile store and catalogue (read again after each import)."""
    settings = components.settings
    customers = components.stores.customers
    learner = PreferenceLearner(customers, lambda: datetime.fromtimestamp(now(), UTC), settings.profile)

    def lookup(product_id: str) -> tuple[str | None, str | None]:
        product = components.catalog.get().get(product_id) or {}
        return product.get("category"), product.get("brand")

    purchases = components.stores.purchase_events

    def record(bought: Sequence[ShopEvent]) -> int:
        return purchases.add([PurchaseEvent(e.id, e.customer_id, e.at, e.product_id or "", e.quantity, e.price,
                                            e.currency, e.order_id) for e in bought])

    events = EventLearner(learner, customers.exists, lookup, lambda: components.catalog.get().vocabulary, record)
    return EventIntake(events, SignatureCheck(lambda: settings.security.token_secret.get_secret_value(), now))
