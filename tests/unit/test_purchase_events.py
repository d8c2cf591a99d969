"""Purchases the shop reports only as events count: a campaign's measured uplift and the purchase signals see them,
each purchase once (a re-sent event, or an event that is a line of an imported order, adds nothing), and storing
them tells the other processes that purchases changed. On a temp SQLite store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.config.loading import load_settings
from assistant.personalization.campaign_service import Campaigns
from assistant.personalization.copywriter import CopyWriter
from assistant.store import FixedClock, Stores, open_stores, session_factory
from assistant.store.data_versions import DataVersionStore
from assistant.store.purchase_events import PurchaseEvent, purchases
from assistant.store.purchases import PurchaseStore

SENT = datetime(2026, 12, 1, 9, tzinfo=UTC)
SHOPPERS = [f"s{i:02}" for i in range(20)]


@pytest.fixture
def stores(tmp_path: Path, customer_record: Callable[..., dict[str, Any]]) -> Iterator[Stores]:
    """Twenty shoppers without orders, but s01 with one order n1 (50.00) two days after the send."""
    clock = FixedClock(SENT)
    opened = open_stores(f"sqlite:///{tmp_path / 'p.db'}", clock=clock)
    for customer_id in SHOPPERS:
        orders = [{"id": "n1", "status": "delivered", "placed_at": "2026-12-03T10:00:00Z", "total": 50.0,
                   "items": [{"product_id": "p9", "name": "P", "quantity": 1, "unit_price": 50.0}]}]
        opened.customers.upsert_from_record(customer_record(
            customer_id, consent={"personalization": True, "marketing": True},
            orders=orders if customer_id == "s01" else []), "test")
    try:
        yield opened
    finally:
        opened.close()


def bought(event_id: str, customer_id: str, days: float = 1.0, price: float | None = 20.0, quantity: int = 2,
           order_id: str | None = None) -> PurchaseEvent:
    return PurchaseEvent(event_id, customer_id, SENT + timedelta(days=days), "p1", quantity, price, "USD", order_id)


def _no_writer() -> CopyWriter:
    raise AssertionError("no copy is written in this test")


def sent_campaign(stores: Stores) -> dict[str, str]:
    """A sent campaign ``k`` over every shopper, half in the holdout; customer -> arm."""
    stores.campaigns.create(name="k", rules={}, variants=[{"id": "A"}], holdout_share=0.5, seed=3, starts_at=SENT,
                            ends_at=SENT + timedelta(days=9), created_by="m", campaign_id="k")
    arms = {c: ("holdout" if i % 2 else "A") for i, c in enumerate(SHOPPERS)}
    stores.campaigns.assign("k", list(arms.items()))
    stores.campaigns.mark_sent("k", [c for c, arm in arms.items() if arm == "A"])
    return arms


def test_a_campaign_whose_purchases_arrive_only_as_events_reports_them_once(stores: Stores) -> None:
    arms = sent_campaign(stores)
    events = [bought(f"e-{c}", c) for c in SHOPPERS[:8]]  # s00..s07 buy 2 x 20.00 a day after the send
    events += [bought("web-a", "s10", price=10.0, quantity=1, order_id="web-9"),  # two lines of one order
               bought("web-b", "s10", price=15.0, quantity=1, order_id="web-9"),
               bought("dup-n1", "s01", price=50.0, quantity=1, order_id="n1"),  # a line of the imported order n1
               bought("early", "s12", days=-1),  # before the send: not in the window
               bought("free", "s14", price=None)]  # no price: converts, no revenue
    assert stores.purchase_events.add(events) == len(events)
    assert stores.purchase_events.add(events) == 0  # a re-import adds nothing
    service = Campaigns(stores, load_settings(["test"], env={}), _no_writer, "concierge-scripted",
                        now=lambda: SENT + timedelta(days=5))

    report = service.uplift("k", resamples=200)

    revenue = dict.fromkeys(SHOPPERS, 0.0)
    for c in SHOPPERS[:8]:
        revenue[c] += 40.0
    revenue["s01"] += 50.0  # its order counts, the event naming the order does not count again
    revenue["s10"] += 25.0
    converters = {*SHOPPERS[:8], "s10", "s14"}
    by_arm = {a.arm: a for a in report.arms}
    for arm in ("holdout", "A"):
        members = [c for c, a in arms.items() if a == arm]
        assert by_arm[arm].converters == sum(1 for c in members if c in converters)
        assert by_arm[arm].revenue == pytest.approx(sum(revenue[c] for c in members))
    assert report.purchases_counted == 8 + 1 + 1 + 1  # eight events, the web-9 order once, n1 once, s14
    assert report.purchases_ignored == 1  # the purchase before the send
    assert any("1 purchase event(s) in the window have no price" in n for n in report.notes)


def test_events_of_one_order_are_one_purchase_and_a_line_of_a_stored_order_is_left_to_it(stores: Stores) -> None:
    stores.purchase_events.add([bought("a", "s02", order_id="o7"), bought("b", "s02", days=2, order_id="o7"),
                                bought("c", "s02"), bought("d", "s01", order_id="n1")])

    kept = stores.purchase_events.for_customers(["s01", "s02"])

    assert [e.id for e in kept] == ["a", "c", "b"]
    assert sorted(purchases(kept)) == [("s02", SENT + timedelta(days=1), 40.0), ("s02", SENT + timedelta(days=1), 80.0)]
    assert [e.id for e in stores.purchase_events.for_customers(["s01"], all_events=True)] == ["d"]


def test_purchase_events_feed_the_purchase_signals_and_count_the_purchases_version(stores: Stores) -> None:
    versions = DataVersionStore(session_factory(stores.engine))
    before = versions.versions().get("purchases", 0)

    stores.purchase_events.add([bought("x", "s03", order_id="w1"), bought("y", "s01", order_id="n1")])
    after = versions.versions().get("purchases", 0)
    stores.purchase_events.add([bought("x", "s03", order_id="w1")])  # known already: nothing written

    lines = PurchaseStore(session_factory(stores.engine)).lines()
    assert after == before + 1 and versions.versions().get("purchases", 0) == after
    assert [(line.customer_id, line.order_id, line.product_id) for line in lines] == [
        ("s03", "w1", "p1"), ("s01", "n1", "p9")]  # the event naming n1 is n1's line, read from the order
