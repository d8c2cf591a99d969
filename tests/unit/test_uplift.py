"""Measured uplift (assistant/personalization/uplift.py): simulated campaigns with a known true effect.

The world: shoppers are split at random into a holdout and variants; each converts in the window with its
arm's true rate and then spends a lognormal amount (the same distribution in every arm), so the true
effects are known: conversion ``p_arm - p_holdout`` and revenue per shopper ``(p_arm - p_holdout) * E[spend]``.
Purchases outside the window and by shoppers outside the audience are added as noise that must not count.
"""

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.personalization.uplift import HOLDOUT, POOLED, UpliftReport, _bootstrap_means, measure_uplift
from assistant.personalization.uplift_report import UPLIFT_TABLE_HEADERS, format_uplift, uplift_plot, uplift_table_rows

SENT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
UNTIL = SENT + timedelta(days=14)
MU, SIGMA = 3.5, 0.8
MEAN_SPEND = math.exp(MU + SIGMA**2 / 2)


def simulate(shoppers: int, rates: dict[str, float], seed: int, holdout_share: float = 0.2,
             ) -> tuple[list[tuple[str, str]], list[tuple[str, datetime, float]]]:
    """A campaign of ``shoppers`` with true conversion ``rates`` per arm (``holdout`` included)."""
    rng = np.random.default_rng(seed)
    variants = [a for a in rates if a != HOLDOUT]
    in_holdout = rng.random(shoppers) < holdout_share
    variant_index = rng.integers(0, len(variants), size=shoppers)
    arms = [HOLDOUT if h else variants[v] for h, v in zip(in_holdout, variant_index, strict=True)]
    probabilities = np.array([rates[a] for a in arms])
    converts = rng.random(shoppers) < probabilities
    spend = rng.lognormal(MU, SIGMA, size=shoppers)
    offsets = rng.uniform(0, (UNTIL - SENT).total_seconds(), size=shoppers)
    members = [(f"c{i}", arm) for i, arm in enumerate(arms)]
    outcomes = [(f"c{i}", SENT + timedelta(seconds=float(offsets[i])), float(spend[i]))
                for i in np.flatnonzero(converts)]
    # noise that must be ignored: before the send, at the end of the window, and by shoppers outside the audience
    outcomes += [(f"c{i}", SENT - timedelta(days=1), 500.0) for i in range(0, shoppers, 7)]
    outcomes += [(f"c{i}", UNTIL, 500.0) for i in range(0, shoppers, 11)]
    outcomes += [(f"stranger{i}", SENT + timedelta(hours=1), 500.0) for i in range(50)]
    return members, outcomes


def true_effects(rates: dict[str, float], arm: str) -> tuple[float, float]:
    diff = rates[arm] - rates[HOLDOUT]
    return diff, diff * MEAN_SPEND


# ---- recovering a known effect -------------------------------------------------------------------------------

def test_the_intervals_contain_the_true_effect_per_variant_and_pooled() -> None:
    rates = {HOLDOUT: 0.05, "A": 0.07, "B": 0.06}
    members, outcomes = simulate(20_000, rates, seed=11)

    report = measure_uplift(members, outcomes, SENT, UNTIL, seed=3)

    by_arm = {c.arm: c for c in report.comparisons}
    assert set(by_arm) == {"A", "B"}
    for arm in ("A", "B"):
        conversion, revenue = true_effects(rates, arm)
        assert by_arm[arm].conversion_ci.contains(conversion)
        assert by_arm[arm].revenue_ci.contains(revenue)
    pooled_conversion = 0.065 - 0.05  # A and B get equal shares of the treated shoppers
    assert report.pooled.arm == POOLED
    assert report.pooled.conversion_ci.contains(pooled_conversion)
    assert report.pooled.revenue_ci.contains(pooled_conversion * MEAN_SPEND)
    # 20k shoppers are enough to see a two-point effect: A's intervals stay clear of zero
    assert by_arm["A"].conversion_significant and by_arm["A"].revenue_significant
    assert by_arm["A"].conversion_relative is not None and by_arm["A"].conversion_relative_ci is not None
    assert by_arm["A"].conversion_relative_ci.contains(0.07 / 0.05 - 1)
    assert by_arm["A"].revenue_relative_ci is not None and by_arm["A"].revenue_relative_ci.contains(0.07 / 0.05 - 1)


def test_without_a_true_effect_the_intervals_contain_zero() -> None:
    rates = {HOLDOUT: 0.05, "A": 0.05, "B": 0.05}
    members, outcomes = simulate(20_000, rates, seed=12)

    report = measure_uplift(members, outcomes, SENT, UNTIL, seed=3)

    for comparison in [*report.comparisons, report.pooled]:
        assert comparison.conversion_ci.contains(0.0)
        assert comparison.revenue_ci.contains(0.0)


def test_a_small_campaign_gives_wide_intervals_and_says_so() -> None:
    rates = {HOLDOUT: 0.05, "A": 0.07}
    big = measure_uplift(*simulate(20_000, rates, seed=13, holdout_share=0.5), SENT, UNTIL)
    small = measure_uplift(*simulate(60, rates, seed=13, holdout_share=0.5), SENT, UNTIL)

    def width(report: UpliftReport) -> float:
        return report.comparisons[0].conversion_ci.high - report.comparisons[0].conversion_ci.low

    assert width(big) < 0.02
    assert width(small) > 0.15
    assert small.comparisons[0].revenue_ci.high - small.comparisons[0].revenue_ci.low > 5.0
    assert any("rough" in note for note in small.notes)
    assert not any("rough" in note for note in big.notes)


def test_the_intervals_cover_the_true_effect_about_95_percent_of_the_time() -> None:
    rates = {HOLDOUT: 0.05, "A": 0.07}
    conversion, revenue = true_effects(rates, "A")
    repeats = 200
    covered_conversion = covered_revenue = 0
    for seed in range(repeats):
        members, outcomes = simulate(4_000, rates, seed=1000 + seed, holdout_share=0.5)
        c = measure_uplift(members, outcomes, SENT, UNTIL, resamples=1000, seed=seed).comparisons[0]
        covered_conversion += c.conversion_ci.contains(conversion)
        covered_revenue += c.revenue_ci.contains(revenue)

    assert 0.90 <= covered_conversion / repeats <= 0.99
    assert 0.90 <= covered_revenue / repeats <= 0.99


# ---- the statistics against known values ---------------------------------------------------------------------

def test_the_conversion_interval_matches_newcombes_worked_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 vs 48/80, method 10: 0.0524 to 0.3339
    members = [(f"t{i}", "A") for i in range(70)] + [(f"h{i}", HOLDOUT) for i in range(80)]
    outcomes = [(f"t{i}", SENT, 1.0) for i in range(56)] + [(f"h{i}", SENT, 1.0) for i in range(48)]

    c = measure_uplift(members, outcomes, SENT, UNTIL).comparisons[0]

    assert c.conversion_diff == pytest.approx(0.2)
    assert c.conversion_ci.low == pytest.approx(0.0524, abs=1e-4)
    assert c.conversion_ci.high == pytest.approx(0.3339, abs=1e-4)


def test_the_sparse_bootstrap_has_the_distribution_of_the_plain_one() -> None:
    rng = np.random.default_rng(5)
    revenue = np.where(rng.random(3000) < 0.06, rng.lognormal(MU, SIGMA, 3000), 0.0)
    plain_rng = np.random.default_rng(6)
    plain = np.array([revenue[plain_rng.integers(0, len(revenue), len(revenue))].mean() for _ in range(4000)])

    sparse = _bootstrap_means(revenue, 4000, np.random.default_rng(7))

    assert sparse.mean() == pytest.approx(revenue.mean(), rel=0.01)
    assert sparse.std() == pytest.approx(plain.std(), rel=0.06)
    assert np.quantile(sparse, 0.975) == pytest.approx(np.quantile(plain, 0.975), rel=0.02)


# ---- what counts -----------------------------------------------------------------------------------------------

def test_only_members_purchases_inside_the_window_count_and_a_shoppers_purchases_add_up() -> None:
    members = [("a", "A"), ("b", "A"), ("h", HOLDOUT), ("g", HOLDOUT)]
    outcomes = [
        ("a", SENT, 10.0),  # the window's start counts
        ("a", SENT + timedelta(days=1), 5.0),  # a second purchase adds to the same converter
        ("b", UNTIL, 99.0),  # the window's end does not
        ("h", SENT - timedelta(seconds=1), 99.0),  # before the send does not
        ("g", (SENT + timedelta(hours=2)).replace(tzinfo=None), 4.0),  # naive times are UTC
        ("x", SENT, 99.0),  # not in the audience
    ]

    report = measure_uplift(members, outcomes, SENT, UNTIL)

    treated, holdout = report.comparisons[0].treated, report.holdout
    assert (treated.shoppers, treated.converters, treated.revenue) == (2, 1, 15.0)
    assert treated.revenue_per_shopper == 7.5
    assert (holdout.shoppers, holdout.converters, holdout.revenue_per_shopper) == (2, 1, 2.0)
    assert (report.purchases_counted, report.purchases_ignored) == (3, 3)


def test_the_same_seed_gives_the_same_report_and_adding_a_variant_leaves_the_others_alone() -> None:
    members, outcomes = simulate(3_000, {HOLDOUT: 0.05, "A": 0.07}, seed=21)
    first = measure_uplift(members, outcomes, SENT, UNTIL, seed=9)
    again = measure_uplift(members, outcomes, SENT, UNTIL, seed=9)
    extra = members + [(f"z{i}", "Z") for i in range(100)]
    with_extra = measure_uplift(extra, outcomes, SENT, UNTIL, seed=9)

    assert first.to_dict() == again.to_dict()
    assert with_extra.comparisons[0].arm == "A"
    assert with_extra.comparisons[0].revenue_ci == first.comparisons[0].revenue_ci


def test_a_holdout_without_converters_gives_no_relative_uplift_but_still_an_interval() -> None:
    members = [(f"t{i}", "A") for i in range(50)] + [(f"h{i}", HOLDOUT) for i in range(50)]
    outcomes = [(f"t{i}", SENT, 20.0) for i in range(5)]

    c = measure_uplift(members, outcomes, SENT, UNTIL).comparisons[0]

    assert c.conversion_relative is None and c.conversion_relative_ci is None
    assert c.revenue_relative is None and c.revenue_relative_ci is None
    assert c.conversion_ci.low > -1.0 and c.conversion_ci.high < 1.0
    assert c.conversion_ci.contains(0.1)


# ---- errors a person can act on --------------------------------------------------------------------------------

@pytest.mark.parametrize(("members", "kwargs", "message"), [
    ([("a", "A"), ("b", "B")], {}, "no holdout"),
    ([("a", HOLDOUT), ("b", HOLDOUT)], {}, "no treated arm"),
    ([("a", HOLDOUT), ("b", "A")], {"arms": ["A", "B"]}, "arm 'B' is empty"),
    ([], {}, "no members"),
    ([("a", HOLDOUT), ("a", "A")], {}, "in two arms"),
    ([("a", HOLDOUT), ("b", "")], {}, "must be non-empty"),
    ([("a", HOLDOUT), ("b", POOLED)], {}, "pooled comparison"),
    ([("a", HOLDOUT), ("b", "A")], {"confidence": 1.0}, "confidence"),
    ([("a", HOLDOUT), ("b", "A")], {"resamples": 10}, "resamples"),
    ([("a", HOLDOUT), ("b", "A")], {"until": SENT}, "window is empty"),
])
def test_unmeasurable_campaigns_raise_a_clear_error(members: list[tuple[str, str]], kwargs: dict[str, Any],
                                                   message: str) -> None:
    options = dict(kwargs)
    until = options.pop("until", UNTIL)
    with pytest.raises(ValueError, match=message):
        measure_uplift(members, [], SENT, until, **options)


def test_a_revenue_that_is_not_a_number_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a number"):
        measure_uplift([("a", HOLDOUT), ("b", "A")], [("a", SENT, float("nan"))], SENT, UNTIL)


def test_a_repeated_identical_membership_counts_once() -> None:
    report = measure_uplift([("a", HOLDOUT), ("b", "A"), ("b", "A")], [], SENT, UNTIL)
    assert report.comparisons[0].treated.shoppers == 1


# ---- presentation ------------------------------------------------------------------------------------------------

def test_the_report_serialises_and_renders_as_rows_text_and_a_png(tmp_path: Path) -> None:
    members, outcomes = simulate(5_000, {HOLDOUT: 0.05, "A": 0.08, "B": 0.05}, seed=31)
    report = measure_uplift(members, outcomes, SENT, UNTIL)

    data = json.loads(json.dumps(report.to_dict()))
    rows = uplift_table_rows(report)
    text = format_uplift(report)
    png = uplift_plot(report, tmp_path / "plots" / "uplift.png")

    assert [a["arm"] for a in data["arms"]] == [HOLDOUT, "A", "B"]
    assert data["pooled"]["arm"] == POOLED and "conversion_significant" in data["comparisons"][0]
    assert [r[0] for r in rows] == [HOLDOUT, "A", "B", POOLED]
    assert all(len(r) == len(UPLIFT_TABLE_HEADERS) for r in rows)
    assert str(rows[1][4]).endswith("*")  # A's eight against five percent over 5k shoppers excludes zero
    assert "A" in text and "revenue uplift" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
