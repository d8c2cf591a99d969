"""The contextual offer policy: features from the profile, LinUCB with epsilon-greedy exploration and an exact
propensity, its counts in the store, chosen by ``offers.policy``; in simulation it beats per-segment Thompson
sampling where the profile decides, and does not lose badly where nothing does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from assistant.components import Components, build_assistant, build_components
from assistant.config.loading import load_settings
from assistant.domain import ShopperIdentity
from assistant.llm import FakeChatModel
from assistant.personalization.context_simulation import compare_on, make_context_world, make_flat_world
from assistant.personalization.contextual_bandit import (
    ContextualOfferChooser,
    LinearArmStats,
    LinUCBPolicy,
    build_offer_chooser,
    context_features,
    epsilon_greedy,
)
from assistant.personalization.offer_bandit import OfferChooser, record_offer_feedback
from assistant.records import ConsentState, CustomerProfile, OrderSummary, Preference
from assistant.settings import OffersSettings
from assistant.shop.shop_import import demo_shop_path, ingest_shop
from assistant.store import EventRecord, FixedClock, Stores, open_stores
from tests.unit.conftest import DEMO_NOW
from ui.cli.main import app

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def profile(tier: str = "gold", categories: tuple[str, ...] = ("Category One", "Category B", "Category C", "Cat D"),
            orders: tuple[tuple[int, float, str], ...] = ((10, 120.0, "delivered"), (200, 900.0, "cancelled")),
            attributes: dict[str, Any] | None = None) -> CustomerProfile:
    at = NOW - timedelta(days=400)
    prefs = tuple(Preference(i, "c1", "category", c, "explicit", "import", 1.0, 1, at, at)
                  for i, c in enumerate(categories))
    summaries = tuple(OrderSummary(f"o{i}", status, NOW - timedelta(days=days), "USD", total, 1)
                      for i, (days, total, status) in enumerate(orders))
    return CustomerProfile("c1", "A. Shopper", tier, 0, ConsentState(), preferences=prefs, orders=summaries,
                           attributes=attributes or {"language": "zh-CN"})


def test_features_are_tier_first_categories_spend_recency_and_language() -> None:
    features = context_features(profile(), personalized=True, now=NOW)

    assert features == ("bias", "cat=category-b", "cat=category-c", "cat=category-one", "lang=zh", "recency=30d",
                        "spend=mid", "tier=gold")


def test_without_personalization_only_the_tier_is_used() -> None:
    assert context_features(profile(), personalized=False, now=NOW) == ("bias", "tier=gold")
    assert context_features(None, personalized=True) == ("bias", "tier=anonymous")


def test_spend_and_recency_buckets() -> None:
    def of(orders: tuple[tuple[int, float, str], ...]) -> set[str]:
        return {f for f in context_features(profile(orders=orders, attributes={"x": 1}), True, NOW)
                if f.startswith(("spend=", "recency="))}

    assert of(()) == {"spend=none", "recency=never"}
    assert of(((5, 40.0, "delivered"),)) == {"spend=low", "recency=30d"}
    assert of(((60, 600.0, "shipped"),)) == {"spend=high", "recency=90d"}
    assert of(((300, 100.0, "delivered"),)) == {"spend=mid", "recency=365d"}
    assert of(((800, 100.0, "delivered"), (3, 50.0, "cancelled"))) == {"spend=mid", "recency=older"}


def test_epsilon_greedy_logs_the_exact_probability_of_its_choice() -> None:
    rng = np.random.default_rng(0)
    scores = np.array([0.1, 0.3, 0.3, 0.05])  # two best arms tie

    picks = [epsilon_greedy(scores, 0.2, rng) for _ in range(40_000)]

    expected = {0: 0.05, 1: 0.45, 2: 0.45, 3: 0.05}
    for arm, p in expected.items():
        share = sum(1 for a, _ in picks if a == arm) / len(picks)
        assert share == pytest.approx(p, abs=0.01)
        assert all(q == pytest.approx(p) for a, q in picks if a == arm)


def test_linucb_learns_which_offer_suits_which_feature() -> None:
    # 100 showings each; "first" converted for gold shoppers, "second" for silver ones
    stats = {
        "first": LinearArmStats({("bias", "bias"): 100, ("bias", "tier=gold"): 50, ("tier=gold", "tier=gold"): 50,
                                 ("bias", "tier=silver"): 50, ("tier=silver", "tier=silver"): 50},
                                {"bias": 30, "tier=gold": 28, "tier=silver": 2}),
        "second": LinearArmStats({("bias", "bias"): 100, ("bias", "tier=gold"): 50, ("tier=gold", "tier=gold"): 50,
                                  ("bias", "tier=silver"): 50, ("tier=silver", "tier=silver"): 50},
                                 {"bias": 30, "tier=gold": 3, "tier=silver": 27}),
    }
    policy = LinUCBPolicy(alpha=0.1, epsilon=0.1)
    rng = np.random.default_rng(1)

    gold = [policy.choose(["first", "second"], ("bias", "tier=gold"), stats, rng) for _ in range(200)]
    silver = [policy.choose(["first", "second"], ("bias", "tier=silver"), stats, rng) for _ in range(200)]

    assert sum(c.arm == "first" for c in gold) > 170 and sum(c.arm == "second" for c in silver) > 170
    assert {round(c.propensity, 6) for c in gold} <= {0.95, 0.05}
    assert all(c.policy == "linucb" for c in gold)


def test_an_offer_never_shown_gets_the_exploration_bonus() -> None:
    seen = {"seen": LinearArmStats({("bias", "bias"): 400}, {"bias": 8})}  # 2% after 400 showings

    scores = LinUCBPolicy(alpha=0.3).scores(["seen", "new"], ("bias",), seen)

    assert scores[1] > scores[0]


# counts in the store ----------------------------------------------------------------------------------------
@pytest.fixture
def sqlite_stores(tmp_path: Path, customer_record: Any) -> Iterator[Stores]:
    opened = open_stores(f"sqlite:///{tmp_path / 'bandit.db'}", clock=FixedClock())
    opened.customers.upsert_from_record(customer_record("c1"), "test")
    yield opened
    opened.close()


@pytest.fixture
def shop_stores(stores: Stores, customer_record: Any) -> Stores:
    """The shared fixture: SQLite, and PostgreSQL when it is there."""
    stores.customers.upsert_from_record(customer_record("c1"), "test")
    return stores


def show(stores: Stores, offer: str, features: list[str]) -> None:
    stores.bandit.record_shown("gold/any", offer, features)
    stores.events.add(EventRecord(kind="offer_shown", customer_id="c1", payload={
        "offer_id": offer, "code": offer.upper(), "segment": "gold/any", "propensity": 0.5, "policy": "linucb",
        "features": features, "arms": ["first", "second"]}))


EXPECTED = LinearArmStats(
    {("bias", "bias"): 2, ("bias", "tier=gold"): 1, ("tier=gold", "tier=gold"): 1, ("bias", "tier=silver"): 1,
     ("tier=silver", "tier=silver"): 1}, {"bias": 1, "tier=gold": 1})


def two_showings_one_converted(stores: Stores) -> None:
    show(stores, "first", ["bias", "tier=gold"])
    stores.bandit.record_feedback("c1", "first", "accepted")
    show(stores, "first", ["bias", "tier=silver"])
    stores.bandit.record_feedback("c1", "first", "clicked")  # not a conversion


def test_showings_and_conversions_become_linucb_counts(shop_stores: Stores) -> None:
    two_showings_one_converted(shop_stores)

    assert shop_stores.bandit.linear_stats(["first", "second"]) == {"first": EXPECTED}
    assert shop_stores.bandit.stats("gold/any", ["first"])["first"].shown == 2  # Thompson's counts are still kept


def test_linucb_counts_survive_a_restart(sqlite_stores: Stores, tmp_path: Path) -> None:
    two_showings_one_converted(sqlite_stores)

    again = open_stores(f"sqlite:///{tmp_path / 'bandit.db'}")
    try:
        assert again.bandit.linear_stats(["first"]) == {"first": EXPECTED}
    finally:
        again.close()


def test_the_contextual_chooser_reads_the_store_and_logs_features_arms_and_propensity(sqlite_stores: Stores
                                                                                      ) -> None:
    stores = sqlite_stores
    for _ in range(40):
        show(stores, "first", ["bias", "tier=gold"])
        stores.bandit.record_feedback("c1", "first", "accepted")
        show(stores, "second", ["bias", "tier=gold"])
        show(stores, "first", ["bias", "tier=silver"])
        show(stores, "second", ["bias", "tier=silver"])
        stores.bandit.record_feedback("c1", "second", "accepted")
    chooser = ContextualOfferChooser(stores.bandit, LinUCBPolicy(alpha=0.1, epsilon=0.05), np.random.default_rng(2))
    offers = [{"id": "first", "code": "FIRST"}, {"id": "second", "code": "SECOND"}]

    [gold] = chooser.choose("gold/any", offers, ("bias", "tier=gold"))
    [silver] = chooser.choose("silver/any", offers, ("bias", "tier=silver"))

    assert (gold["id"], silver["id"]) == ("first", "second")
    assert gold["bandit"] == {"segment": "gold/any", "propensity": 0.975, "policy": "linucb",
                              "features": ["bias", "tier=gold"], "arms": ["first", "second"]}


def test_the_setting_chooses_the_policy(sqlite_stores: Stores) -> None:
    rng, bandit = np.random.default_rng(0), sqlite_stores.bandit

    assert isinstance(build_offer_chooser(OffersSettings(policy="linucb"), bandit, rng), ContextualOfferChooser)
    assert isinstance(build_offer_chooser(OffersSettings(), bandit, rng), OfferChooser)


# in a turn ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def linucb_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Components]:
    settings = load_settings(["test"], env={}, overrides={
        "app": {"data_dir": str(tmp_path_factory.mktemp("linucb-shop"))},
        "knowledge": {"collection_prefix": f"l{uuid.uuid4().hex[:8]}_"}, "embeddings": {"dimensions": 4096},
        "offers": {"policy": "linucb"}})
    components = build_components(settings)
    reports = ingest_shop(demo_shop_path(), components.knowledge, components.stores.customers,
                          components.stores.offers, shop_profiles=components.stores.shop)
    assert all(r.ok for r in reports)
    yield components
    components.stores.close()


def test_with_offers_policy_linucb_a_turn_logs_the_context_and_feedback_teaches_it(
        linucb_shop: Components, demo_offers: list[dict[str, Any]]) -> None:
    service = build_assistant(linucb_shop, llm=FakeChatModel(), offers=lambda: demo_offers, now=lambda: DEMO_NOW,
                              rng=np.random.default_rng(3))
    shopper = "C004"

    list(service.respond(ShopperIdentity(shopper), None, "Do I have any offers?"))

    shown = service.stores.events.list_for(shopper, ["offer_shown"])[-1].payload
    assert shown["policy"] == "linucb" and 0 < shown["propensity"] <= 1
    assert "bias" in shown["features"] and "tier=platinum" in shown["features"]
    assert shown["offer_id"] in shown["arms"]
    before = service.stores.bandit.linear_stats([shown["offer_id"]])[shown["offer_id"]]
    assert before.together[("bias", "bias")] >= 1
    record_offer_feedback(service.stores, shopper, shown["offer_id"], "accepted")
    after = service.stores.bandit.linear_stats([shown["offer_id"]])[shown["offer_id"]]
    assert {f: after.converted.get(f, 0) - before.converted.get(f, 0) for f in shown["features"]} == \
        dict.fromkeys(shown["features"], 1)


# in simulation -----------------------------------------------------------------------------------------------
def test_where_the_profile_decides_linucb_loses_far_fewer_conversions_than_per_segment_thompson() -> None:
    result = compare_on(make_context_world(7), rounds=5_000, seed=7, draws=100)

    assert result.linucb.regret[-1] * 1.5 < result.thompson.regret[-1], result.ratio
    assert result.linucb.rewards.sum() > result.thompson.rewards.sum()
    assert all(0 < p <= 1 for p in result.linucb.propensities)


def test_where_nothing_about_the_shopper_matters_linucb_does_not_lose_badly() -> None:
    for seed in (3, 7):
        result = compare_on(make_flat_world(seed), rounds=5_000, seed=seed, draws=100)

        assert result.linucb.regret[-1] < 1.25 * result.thompson.regret[-1], (seed, result.ratio)


def test_the_command_prints_both_policies_regret_and_the_ratio_per_world(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "offers", "--rounds", "1000", "--draws", "20",
                                      "--out", str(tmp_path / "regret.png")], env={"CONCIERGE_PROFILES": "test"})

    assert result.exit_code == 0, result.output
    assert "per-segment Thompson sampling vs contextual LinUCB" in result.stdout
    assert result.stdout.count("regret thompson / linucb = ") == 2
    assert "where the profile decides, LinUCB's regret is" in result.stdout
