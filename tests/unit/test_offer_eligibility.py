"""Offer eligibility edge cases: the expiry boundary, the per-shopper cap from events, opt-outs, contradictions."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from assistant.personalization.offer_rules import (
    OfferContext,
    discount,
    ineligible_reason,
    offer_problems,
    redemption_counts,
)
from assistant.records import EventRecord
from assistant.shop.shop_import import load_offers

EXPIRES = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)


def offer(**rules: Any) -> dict[str, Any]:
    eligibility = {"tiers": ["gold"], "categories": [], "min_basket": 0, "first_order_only": False,
                   "starts_at": None, "expires_at": EXPIRES.isoformat(), "max_discount": 20, "per_customer_cap": 2,
                   "requires_marketing_consent": False, **rules}
    return {"id": "o1", "code": "GOLD15", "title": "15% off", "kind": "percent", "value": 15,
            "eligibility": eligibility}


def ctx(**over: Any) -> OfferContext:
    base: dict[str, Any] = {"tier": "gold", "now": EXPIRES - timedelta(days=1)}
    return OfferContext(**{**base, **over})


def used(*events: tuple[str, str, int | None]) -> list[EventRecord]:
    return [EventRecord(kind=kind, id=i, payload={"offer_id": offer_id, "shown_event_id": shown})
            for i, (kind, offer_id, shown) in enumerate(events)]


def test_an_offer_is_valid_until_the_second_before_it_expires() -> None:
    assert ineligible_reason(offer(), ctx(now=EXPIRES - timedelta(seconds=1))) is None
    assert ineligible_reason(offer(), ctx(now=EXPIRES)) == "expired"


def test_an_offer_starts_exactly_at_its_start_time() -> None:
    starts = EXPIRES - timedelta(days=10)

    assert ineligible_reason(offer(starts_at=starts.isoformat()), ctx(now=starts)) is None
    assert ineligible_reason(offer(starts_at=starts.isoformat()), ctx(now=starts - timedelta(seconds=1))) \
        == "not started"


def test_a_time_written_without_a_zone_is_taken_as_utc() -> None:
    naive = offer(expires_at="2026-12-31T23:59:59")

    assert ineligible_reason(naive, ctx(now=EXPIRES)) == "expired"


def test_accepting_and_redeeming_one_showing_is_one_use() -> None:
    events = used(("offer_accepted", "o1", 10), ("offer_redeemed", "o1", 10), ("offer_clicked", "o1", 11))

    assert redemption_counts(events) == {"o1": 1}


def test_the_cap_is_reached_after_as_many_uses_as_it_allows() -> None:
    events = used(("offer_accepted", "o1", 10), ("offer_redeemed", "o1", 12))
    counts = redemption_counts(events)

    assert counts == {"o1": 2}
    assert ineligible_reason(offer(), ctx(redemptions=counts)) == "per-shopper cap reached"
    assert ineligible_reason(offer(), ctx(redemptions=redemption_counts(events[:1]))) is None


def test_opted_out_shoppers_get_no_offers() -> None:
    assert ineligible_reason(offer(), ctx(personalization=False)) == "personalization opted out"
    assert ineligible_reason(offer(requires_marketing_consent=True), ctx(marketing=False)) == "needs marketing consent"
    assert ineligible_reason(offer(requires_marketing_consent=True), ctx(marketing=True)) is None


def test_an_offer_with_contradictory_rules_is_never_eligible() -> None:
    broken = offer(starts_at="2027-01-01T00:00:00Z", expires_at="2026-01-01T00:00:00Z")

    assert offer_problems(broken) == ["starts_at is not before expires_at"]
    assert ineligible_reason(broken, ctx(now=datetime(2026, 6, 1, tzinfo=UTC))) == "contradictory rules"


def test_caps_and_minimums_that_no_one_can_meet_are_contradictions() -> None:
    assert offer_problems(offer(per_customer_cap=0))
    assert offer_problems(offer(min_basket=-5))
    assert offer_problems({**offer(), "kind": "fixed", "value": 0})


def test_the_discount_never_exceeds_the_maximum_discount() -> None:
    assert discount(offer(), 100.0) == 15.0
    assert discount(offer(), 1000.0) == 20.0


def test_an_offers_file_with_a_contradictory_offer_names_it_and_keeps_the_rest(tmp_path: Path) -> None:
    good = {**offer(), "currency": "USD", "description": "d"}
    bad = {**good, "id": "o2", "code": "BAD20", "eligibility": {**good["eligibility"], "per_customer_cap": 0}}
    path = tmp_path / "offers.json"
    path.write_text(json.dumps([good, bad], indent=1), encoding="utf-8")

    offers, errors = load_offers(path)

    assert [o["id"] for o in offers] == ["o1"]
    assert len(errors) == 1 and "per_customer_cap" in str(errors[0])
