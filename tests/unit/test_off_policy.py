"""Off-policy evaluation: IPS, SNIPS and doubly robust estimates with bootstrap intervals cover a target
policy's true value on a simulated log with known propensities; on the shop's own log (the store's
``offer_shown`` events and their feedback) the evaluation names the policy that would have done better."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from assistant.components import Components
from assistant.personalization.context_simulation import OFFERS, make_context_world, sample_shoppers
from assistant.personalization.off_policy import (
    Interval,
    LogData,
    LogEvaluation,
    LoggedOffer,
    bootstrap,
    cross_fitted,
    evaluate_log,
    format_evaluation,
    linucb_probabilities,
    logged_offer,
    thompson_probabilities,
)
from assistant.store import EventRecord, FixedClock, Stores, open_stores
from ui.cli.main import app
from ui.error_table import install_error_table
from ui.shopper_api import build_api

SEED = 20


def target_rule(x: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """A fixed policy: category A shoppers get a15, big spenders b20, lapsed ones winback, the rest shipfree."""
    at = {n: k for k, n in enumerate(names)}
    offer = np.full(len(x), OFFERS.index("shipfree"))
    offer[x[:, at["recency=older"]] == 1] = OFFERS.index("winback")
    offer[x[:, at["spend=high"]] == 1] = OFFERS.index("b20")
    offer[x[:, at["cat=category-a"]] == 1] = OFFERS.index("a15")
    return offer


def simulated_log(rounds: int, seed: int) -> tuple[LogData, np.ndarray]:
    """A log of the context world written by a known policy: epsilon-greedy (0.4) around tier2x for gold and
    platinum shoppers and c10 for the others, over offers of which each is eligible 80% of the time (the
    shown one always). Returns the log and each round's true conversion rates."""
    rng = np.random.default_rng(seed)
    world = make_context_world(seed)
    shoppers = sample_shoppers(rounds, rng)
    rates = world.rates(shoppers.x)
    at = {n: k for k, n in enumerate(shoppers.names)}
    high = (shoppers.x[:, at["tier=gold"]] + shoppers.x[:, at["tier=platinum"]]) > 0
    favourite = np.where(high, OFFERS.index("tier2x"), OFFERS.index("c10"))
    eligible = rng.random(rates.shape) < 0.8
    eligible[np.arange(rounds), favourite] = True
    eligible[np.arange(rounds), target_rule(shoppers.x, shoppers.names)] = True  # the target's pick is eligible
    counts = eligible.sum(axis=1)
    explore = rng.random(rounds) < 0.4
    random_pick = np.array([rng.choice(np.flatnonzero(row)) for row in eligible])
    actions = np.where(explore, random_pick, favourite)
    propensities = 0.4 / counts + np.where(actions == favourite, 0.6, 0.0)
    rewards = (rng.random(rounds) < rates[np.arange(rounds), actions]).astype(float)
    data = LogData(shoppers.x, eligible, actions, propensities, rewards, shoppers.segments, OFFERS, shoppers.names,
                   shoppers.segment_names)
    return data, rates


def true_value(seed: int, shoppers_n: int = 400_000) -> float:
    """The target's conversion rate by Monte Carlo over fresh shoppers of the same world."""
    shoppers = sample_shoppers(shoppers_n, np.random.default_rng(seed + 1_000))
    rates = make_context_world(seed).rates(shoppers.x)
    return float(rates[np.arange(shoppers_n), target_rule(shoppers.x, shoppers.names)].mean())


def rule_probabilities(fit: LogData, use: LogData) -> np.ndarray:
    """The fixed target as choice probabilities (it learns nothing from ``fit``)."""
    pi = np.zeros(use.eligible.shape)
    pi[np.arange(len(use)), target_rule(use.x, use.names)] = 1.0
    return pi


def test_ips_snips_and_dr_intervals_cover_the_true_value_of_a_target_policy() -> None:
    data, _ = simulated_log(20_000, SEED)

    result = bootstrap(data, {"rule": cross_fitted(data, rule_probabilities)}, np.random.default_rng(SEED),
                       resamples=400)["rule"]

    truth = true_value(SEED)
    assert abs(truth - data.rewards.mean()) > 0.02  # the target differs from the logging policy: reweighting matters
    for name in ("IPS", "SNIPS", "DR"):
        assert truth in result[name], (name, result[name], truth)
        assert result[name].high - result[name].low < 0.03, (name, result[name])
    assert result["DR"].high - result["DR"].low <= result["IPS"].high - result["IPS"].low


def offers_from(data: LogData, policy: str = "epsilon") -> list[LoggedOffer]:
    return [LoggedOffer(t, data.arms[data.actions[t]], float(data.propensities[t]), policy,
                        data.segment_names[data.segments[t]],
                        tuple(n for n, on in zip(data.names, data.x[t], strict=True) if on),
                        tuple(a for a, ok in zip(data.arms, data.eligible[t], strict=True) if ok),
                        float(data.rewards[t])) for t in range(len(data))]


def test_on_a_log_with_room_to_improve_the_contextual_policy_would_have_done_better() -> None:
    data, rates = simulated_log(20_000, SEED + 1)
    logged_truth = rates[np.arange(len(data)), data.actions].mean()

    result = evaluate_log(offers_from(data), alpha=0.3, epsilon=0.05, seed=1, resamples=200)

    assert result.rounds == 20_000 and result.skipped == 0 and result.logging_policies == {"epsilon": 20_000}
    assert result.logged.low <= logged_truth <= result.logged.high
    assert result.best == "linucb"
    assert result.policies["linucb"]["DR uplift"].low > 0
    assert result.policies["uniform"]["DR uplift"].high < 0  # showing offers at random would have done worse
    for name, target in (("linucb", lambda fit, use: linucb_probabilities(fit, use, 0.3, 0.05)),
                         ("thompson", lambda fit, use: thompson_probabilities(fit, use, np.random.default_rng(0)))):
        pi, _ = cross_fitted(data, target)  # what the frozen policy would have shown, from the other half
        truth = float((pi * rates).sum(axis=1).mean())
        assert truth in result.policies[name]["DR"], (name, truth, result.policies[name]["DR"])
    assert "linucb would have done better than the logged policy" in format_evaluation(result)


def test_the_verdict_warns_when_the_log_seldom_shows_what_the_best_policy_would_choose() -> None:
    row = {"IPS": Interval(0.1, 0.05, 0.15), "SNIPS": Interval(0.2, 0.1, 0.3), "DR": Interval(0.3, 0.25, 0.35),
           "DR uplift": Interval(0.1, 0.05, 0.15)}

    few = LogEvaluation(1_000, 0, Interval(0.2, 0.18, 0.22), {"linucb": row}, {"uniform": 1_000}, {"linucb": 40.0})
    enough = replace(few, effective={"linucb": 400.0})

    assert few.verdict().startswith("linucb would have done better than the logged policy: +0.1000")
    assert "Caution: the log seldom shows what linucb would have chosen (effective sample 40 of 1,000)" in \
        few.verdict()
    assert "Caution" not in enough.verdict()


def test_a_logged_offer_without_propensity_or_eligible_offers_is_not_usable() -> None:
    shown = {"offer_id": "o1", "code": "C1", "segment": "gold/any", "propensity": 0.25, "policy": "thompson",
             "features": ["bias", "tier=gold"], "arms": ["o1", "o2"]}

    assert logged_offer(1, shown, converted=True).usable
    assert logged_offer(1, shown, converted=True).reward == 1.0
    assert not logged_offer(2, {**shown, "arms": None}, converted=False).usable  # older logs
    assert not logged_offer(3, {**shown, "propensity": None}, converted=False).usable
    assert not logged_offer(4, {**shown, "offer_id": "o9"}, converted=False).usable


def test_too_short_a_log_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="at least 20 are needed"):
        evaluate_log([logged_offer(1, {"offer_id": "o1", "propensity": 0.5, "arms": ["o1", "o2"]}, False)])


# the shop's own log, from the store ---------------------------------------------------------------------
@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"CONCIERGE_PROFILES": "test", "CONCIERGE_APP__DATA_DIR": str(tmp_path / "data"),
            "CONCIERGE_KNOWLEDGE__COLLECTION_PREFIX": f"c{uuid.uuid4().hex[:8]}_"}


@pytest.fixture
def shop_stores(env: dict[str, str], customer_record: Any) -> Iterator[Stores]:
    Path(env["CONCIERGE_APP__DATA_DIR"]).mkdir(parents=True)
    stores = open_stores(f"sqlite:///{env['CONCIERGE_APP__DATA_DIR']}/concierge.db", clock=FixedClock())
    for customer in ("c1", "c2"):
        stores.customers.upsert_from_record(customer_record(customer), "test")
    yield stores
    stores.close()


def log_showing(stores: Stores, customer: str, offer: str, features: list[str], propensity: float,
                converted: bool) -> None:
    stores.events.add(EventRecord(kind="offer_shown", customer_id=customer, payload={
        "offer_id": offer, "code": offer.upper(), "segment": "gold/any", "propensity": propensity,
        "policy": "uniform", "features": features, "arms": ["first", "second"]}))
    if converted:
        stores.bandit.record_feedback(customer, offer, "accepted")


def test_the_store_gives_every_showing_with_its_propensity_and_conversion(shop_stores: Stores) -> None:
    log_showing(shop_stores, "c1", "first", ["bias", "tier=gold"], 0.5, converted=True)
    log_showing(shop_stores, "c2", "second", ["bias", "tier=silver"], 0.5, converted=False)
    shop_stores.bandit.record_feedback("c2", "second", "clicked")  # a click is not a conversion

    logged = shop_stores.bandit.logged_offers()

    assert [(o.offer_id, o.propensity, o.reward, o.features) for o in logged] == [
        ("first", 0.5, 1.0, ("bias", "tier=gold")), ("second", 0.5, 0.0, ("bias", "tier=silver"))]
    assert all(o.usable and o.policy == "uniform" for o in logged)


def test_the_command_evaluates_the_shops_own_log(shop_stores: Stores, env: dict[str, str]) -> None:
    # uniform logging; "first" converts for gold shoppers, "second" for silver ones: a contextual policy wins
    rng = np.random.default_rng(4)
    for _ in range(300):
        customer, tier = ("c1", "tier=gold") if rng.random() < 0.5 else ("c2", "tier=silver")
        offer = "first" if rng.random() < 0.5 else "second"
        good = (offer == "first") == (tier == "tier=gold")
        log_showing(shop_stores, customer, offer, ["bias", tier], 0.5, converted=rng.random() < (0.5 if good else 0.05))

    result = CliRunner().invoke(app, ["simulate", "offers", "--from-logs", "--resamples", "100"], env=env)

    assert result.exit_code == 0, result.output
    assert "off-policy evaluation on 300 logged showings (uniform 300" in result.stdout
    assert "linucb would have done better than the logged policy" in result.stdout


def test_the_command_says_why_it_cannot_evaluate_an_empty_log(shop_stores: Stores, env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["simulate", "offers", "--from-logs"], env=env)

    assert result.exit_code == 1
    assert "cannot evaluate: 0 logged showings" in result.stderr


# REST --------------------------------------------------------------------------------------------------------
def test_reviewers_get_the_evaluation_over_rest(own_demo_components: Components) -> None:
    app = install_error_table(FastAPI())
    app.include_router(build_api(own_demo_components))
    client = TestClient(app)
    stores = own_demo_components.stores

    empty = client.get("/api/v1/offers/evaluation", headers={"X-API-Key": "staff-test-key"})
    rng = np.random.default_rng(5)
    for _ in range(200):
        customer, tier = ("C001", "tier=gold") if rng.random() < 0.5 else ("C003", "tier=silver")
        offer = "first" if rng.random() < 0.5 else "second"
        good = (offer == "first") == (tier == "tier=gold")
        log_showing(stores, customer, offer, ["bias", tier], 0.5, converted=rng.random() < (0.5 if good else 0.05))
    answer = client.get("/api/v1/offers/evaluation", params={"resamples": 100},
                        headers={"X-API-Key": "staff-test-key"})
    anonymous = client.get("/api/v1/offers/evaluation")

    assert empty.status_code == 200 and empty.json()["ready"] is False
    assert "at least 20 are needed" in empty.json()["verdict"]
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ready"] and body["rounds"] == 200 and set(body["policies"]) == {"thompson", "linucb", "uniform"}
    assert body["best"] == "linucb" and body["policies"]["linucb"]["dr_uplift"]["low"] > 0
    assert body["verdict"].startswith("linucb would have done better")
    assert anonymous.status_code == 401
