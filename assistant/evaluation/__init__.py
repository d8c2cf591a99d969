"""Evaluation of the assistant on the demo shop: the golden set (``concierge eval``)."""

from datetime import UTC, datetime

#: "today" in the demo shop: its orders and offers are dated around it, so evaluations are repeatable
DEMO_NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
