"""Store contract for campaigns, on SQLite and PostgreSQL: a campaign kept as defined, members drawn once with their
arm, copy recorded for treated members only, a send recorded once and never for the holdout, members erased with
their shopper (and exported with their data), and with their campaign."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from assistant.errors import ConflictError, NotFoundError, ValidationError
from assistant.privacy.customer_data import erase_customer, export_customer
from assistant.store import FixedClock, Stores

pytestmark = pytest.mark.integration

START = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.fixture
def shoppers(stores: Stores, customer_record: Any, fixed_clock: FixedClock) -> Stores:
    fixed_clock.set(START)
    for customer_id in ("c1", "c2", "c3"):
        stores.customers.upsert_from_record(customer_record(customer_id), "test")
    return stores


def campaign(stores: Stores, campaign_id: str = "k1") -> str:
    return stores.campaigns.create(
        name="Winter", rules={"tiers": ["gold"]}, variants=[{"id": "A", "top_p": 0.8}, {"id": "B"}],
        holdout_share=0.2, seed=7, starts_at=START, ends_at=START + timedelta(days=7), created_by="mara",
        campaign_id=campaign_id).id


def test_a_campaign_is_kept_as_defined(shoppers: Stores) -> None:
    campaign(shoppers)

    got = shoppers.campaigns.require("k1")

    assert got.rules == {"tiers": ["gold"]} and got.variant_ids == ("A", "B") and got.variants[0]["top_p"] == 0.8
    assert (got.holdout_share, got.seed, got.starts_at, got.created_by) == (0.2, 7, START, "mara")
    assert [c.id for c in shoppers.campaigns.all()] == ["k1"]
    with pytest.raises(ConflictError):
        campaign(shoppers)
    with pytest.raises(NotFoundError):
        shoppers.campaigns.require("nope")


@pytest.mark.parametrize("fields", [{"holdout_share": 1.0}, {"ends_at": START}])
def test_a_holdout_of_everyone_or_an_empty_window_is_refused(shoppers: Stores, fields: dict[str, Any]) -> None:
    base: dict[str, Any] = {"name": "x", "rules": {}, "variants": [{"id": "A"}], "holdout_share": 0.1, "seed": 0,
                            "starts_at": START, "ends_at": START + timedelta(days=1), "created_by": "m"}

    with pytest.raises(ValidationError):
        shoppers.campaigns.create(**{**base, **fields})


def test_members_are_drawn_once_with_their_arm(shoppers: Stores, fixed_clock: FixedClock) -> None:
    campaign(shoppers)

    count = shoppers.campaigns.assign("k1", [("c1", "holdout"), ("c2", "A"), ("c3", "B")])

    assert count == 3
    members = shoppers.campaigns.members("k1")
    assert [(m.customer_id, m.arm, m.assigned_at) for m in members] == [
        ("c1", "holdout", START), ("c2", "A", START), ("c3", "B", START)]
    with pytest.raises(ConflictError):
        shoppers.campaigns.assign("k1", [("c1", "A")])
    campaign(shoppers, "k2")
    with pytest.raises(ValidationError):
        shoppers.campaigns.assign("k2", [("c1", "C")])
    assert shoppers.campaigns.members("k2") == []


def test_copy_and_sends_are_recorded_for_treated_members_only_and_once(shoppers: Stores,
                                                                      fixed_clock: FixedClock) -> None:
    campaign(shoppers)
    shoppers.campaigns.assign("k1", [("c1", "holdout"), ("c2", "A"), ("c3", "B")])
    drafts = {c: shoppers.copy.add(kind="email", text="Hi", facts={}, verdict={}, customer_id=c).id
              for c in ("c1", "c2", "c3")}

    recorded = shoppers.campaigns.set_drafts("k1", drafts)
    fixed_clock.advance(hours=1)
    first = shoppers.campaigns.mark_sent("k1", ["c1", "c2"])
    fixed_clock.advance(hours=1)
    second = shoppers.campaigns.mark_sent("k1", ["c2", "c3"])

    by_id = {m.customer_id: m for m in shoppers.campaigns.members("k1")}
    assert (recorded, first, second) == (2, 1, 1)
    assert by_id["c1"].draft_id is None and by_id["c1"].sent_at is None
    assert by_id["c2"].draft_id == drafts["c2"] and by_id["c2"].sent_at == START + timedelta(hours=1)
    assert by_id["c3"].sent_at == START + timedelta(hours=2)


def test_members_are_exported_and_erased_with_their_shopper(shoppers: Stores) -> None:
    campaign(shoppers)
    shoppers.campaigns.assign("k1", [("c1", "holdout"), ("c2", "A")])

    exported = export_customer(shoppers.engine, "c1")
    removed = erase_customer(shoppers.engine, shoppers.customers, "c1")

    assert [r["arm"] for r in exported["tables"]["campaign_members"]] == ["holdout"]
    assert removed["campaign_members"] == 1
    assert [m.customer_id for m in shoppers.campaigns.members("k1")] == ["c2"]


def test_a_deleted_campaign_takes_its_members(shoppers: Stores) -> None:
    campaign(shoppers)
    shoppers.campaigns.assign("k1", [("c1", "A"), ("c2", "B")])

    assert shoppers.campaigns.delete("k1") and not shoppers.campaigns.delete("k1")

    assert shoppers.campaigns.members("k1") == [] and shoppers.campaigns.get("k1") is None
