"""Measured uplift of a campaign: treated arms against the holdout, with confidence intervals.

A campaign splits its audience into arms: ``holdout`` (gets nothing) and one arm per copy/offer variant.
After the send, every shopper either bought in the measurement window ``[since, until)`` or not. Because
the split was random, the holdout's figures are what the treated shoppers would have done without the
campaign, and the difference is the campaign's effect, up to chance. The intervals say how large chance is:

- **Conversion** (share of shoppers with at least one purchase in the window): the difference treated minus
  holdout with Newcombe's hybrid score interval (his method 10, built from the two Wilson intervals). It
  keeps its coverage with few converters and never leaves [-1, 1], where the textbook normal interval
  collapses to a point at zero conversions. The relative uplift (risk ratio minus one) has Katz's log
  interval; it is None when either arm has no converter.
- **Revenue per shopper** (all purchases in the window, divided by all shoppers in the arm, buyers or not):
  the difference of means with a percentile bootstrap interval, both arms resampled on their own.
  Revenue is zero for most shoppers and skewed for the rest, where a normal interval is least trustworthy
  on small arms. The bootstrap is exact but cheap: a resample of ``n`` shoppers of whom ``k`` spent
  something lands ``Binomial(n, k/n)`` draws on the spenders, so only those draws are made.

Every variant is compared with the holdout, and so are all treated arms pooled (is the campaign as a whole
worth sending?). Several variants mean several intervals: at 95 % one in twenty excludes zero by chance,
so a single "winner" among many variants wants a second campaign to confirm it.

Pure computation over plain tuples, no store access, so the campaign code feeds it whatever query it has
and the simulation test feeds it a world with a known effect (``tests/unit/test_uplift.py``).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from statistics import NormalDist
from typing import Any

import numpy as np

HOLDOUT = "holdout"
POOLED = "all treated"
DRAWS_PER_CHUNK = 4_000_000  # bounds the bootstrap's memory (8 bytes a draw) on large campaigns
MIN_CONVERTERS_FOR_TRUST = 10  # below this per arm the report carries a note that intervals are rough

CONVERSION_METHOD = "difference of proportions, Newcombe hybrid score (Wilson) interval"
REVENUE_METHOD = "difference of means, percentile bootstrap"


@dataclass(frozen=True)
class UpliftInterval:
    """A two-sided confidence interval ``[low, high]``."""

    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    @property
    def excludes_zero(self) -> bool:
        return not self.contains(0.0)

    def to_dict(self) -> dict[str, float]:
        return {"low": self.low, "high": self.high}


@dataclass(frozen=True)
class UpliftArm:
    """What one arm did in the window. ``conversion_ci`` is the Wilson interval of its own rate."""

    arm: str
    shoppers: int
    converters: int
    conversion_rate: float
    conversion_ci: UpliftInterval
    revenue: float
    revenue_per_shopper: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class UpliftComparison:
    """One treated arm (or all of them pooled) minus the holdout.

    Differences are absolute (conversion as a fraction, 0.02 = two percentage points; revenue in the shop's
    currency per shopper); relative uplifts are ``treated / holdout - 1`` and None where the holdout's
    figure is zero (or, for conversion, either arm has no converter), because a ratio to nothing is no figure.
    """

    arm: str
    treated: UpliftArm
    holdout: UpliftArm
    conversion_diff: float
    conversion_ci: UpliftInterval
    conversion_relative: float | None
    conversion_relative_ci: UpliftInterval | None
    revenue_diff: float
    revenue_ci: UpliftInterval
    revenue_relative: float | None
    revenue_relative_ci: UpliftInterval | None

    @property
    def conversion_significant(self) -> bool:
        return self.conversion_ci.excludes_zero

    @property
    def revenue_significant(self) -> bool:
        return self.revenue_ci.excludes_zero

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["conversion_significant"] = self.conversion_significant
        data["revenue_significant"] = self.revenue_significant
        return data


@dataclass(frozen=True)
class UpliftReport:
    """Per arm figures, each variant against the holdout, and all treated arms pooled against it."""

    since: datetime
    until: datetime
    confidence: float
    resamples: int
    seed: int
    arms: list[UpliftArm]  # holdout first, then the variants in name order
    comparisons: list[UpliftComparison]  # one per variant
    pooled: UpliftComparison
    purchases_counted: int  # purchases by audience members inside the window
    purchases_ignored: int  # purchases outside the window or by shoppers who were not in the audience
    notes: list[str] = field(default_factory=list)
    conversion_method: str = CONVERSION_METHOD
    revenue_method: str = REVENUE_METHOD

    @property
    def holdout(self) -> UpliftArm:
        return self.arms[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(), "until": self.until.isoformat(), "confidence": self.confidence,
            "resamples": self.resamples, "seed": self.seed,
            "arms": [a.to_dict() for a in self.arms],
            "comparisons": [c.to_dict() for c in self.comparisons],
            "pooled": self.pooled.to_dict(),
            "purchases_counted": self.purchases_counted, "purchases_ignored": self.purchases_ignored,
            "notes": list(self.notes),
            "conversion_method": self.conversion_method, "revenue_method": self.revenue_method,
        }


def measure_uplift(
    members: Sequence[tuple[str, str]],
    outcomes: Sequence[tuple[str, datetime, float]],
    since: datetime,
    until: datetime,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
    arms: Sequence[str] | None = None,
) -> UpliftReport:
    """Conversion and revenue per shopper of each arm, and each variant and all pooled against the holdout.

    ``members`` are ``(customer_id, arm)`` pairs, arm ``"holdout"`` or a variant id; ``outcomes`` are
    purchases ``(customer_id, time, revenue)``. Only purchases by members with ``since <= time < until``
    count (naive times are taken as UTC, as the store keeps them). ``arms``, when given, names the variants
    the campaign has, so that one nobody was assigned to is an error instead of silently missing.
    The bootstrap is seeded per arm name, so a report is reproducible and one variant's interval does not
    move when another variant is added.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    if resamples < 100:
        raise ValueError(f"resamples must be at least 100 for a percentile interval, got {resamples}")
    start, end = _utc(since), _utc(until)
    if start >= end:
        raise ValueError(f"the window is empty: since ({since.isoformat()}) must be before until "
                         f"({until.isoformat()})")
    arm_of = _arm_of(members)
    members_per_arm: dict[str, list[str]] = {}
    for customer_id, arm in arm_of.items():
        members_per_arm.setdefault(arm, []).append(customer_id)
    for expected in arms or ():
        if expected != HOLDOUT and expected not in members_per_arm:
            raise ValueError(f"arm {expected!r} is empty: no shopper was assigned to it, so it cannot be measured")
    if HOLDOUT not in members_per_arm:
        raise ValueError(f"no holdout: no member is in arm {HOLDOUT!r}, so there is nothing to compare with "
                         "(create the campaign with a holdout share above zero)")
    variants = sorted(a for a in members_per_arm if a != HOLDOUT)
    if not variants:
        raise ValueError("no treated arm: every member is in the holdout, so there is no effect to measure")

    spent: dict[str, float] = {}
    counted = ignored = 0
    for customer_id, at, revenue in outcomes:
        if not math.isfinite(revenue):
            raise ValueError(f"purchase by {customer_id!r} at {at.isoformat()} has revenue {revenue}, not a number")
        if customer_id in arm_of and start <= _utc(at) < end:
            spent[customer_id] = spent.get(customer_id, 0.0) + float(revenue)
            counted += 1
        else:
            ignored += 1

    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    revenues = {arm: np.array([spent.get(c, 0.0) for c in ids], dtype=float) for arm, ids in members_per_arm.items()}
    converted = {arm: sum(1 for c in ids if c in spent) for arm, ids in members_per_arm.items()}
    stats = {arm: _arm_stats(arm, converted[arm], revenues[arm], z) for arm in members_per_arm}
    holdout = stats[HOLDOUT]

    comparisons = [_compare(stats[v], revenues[v], holdout, revenues[HOLDOUT], z, confidence, resamples, seed)
                   for v in variants]
    pooled_revenue = np.concatenate([revenues[v] for v in variants])
    pooled_stats = _arm_stats(POOLED, sum(converted[v] for v in variants), pooled_revenue, z)
    pooled = _compare(pooled_stats, pooled_revenue, holdout, revenues[HOLDOUT], z, confidence, resamples, seed)

    notes = [f"arm {a.arm!r} has {a.converters} converter(s) (under {MIN_CONVERTERS_FOR_TRUST}): its intervals "
             "are rough; wait for more purchases or a larger audience"
             for a in [holdout, *(stats[v] for v in variants)] if a.converters < MIN_CONVERTERS_FOR_TRUST]
    if len(variants) > 1:
        notes.append(f"{len(variants)} variants are each compared with the holdout at {confidence:.0%}: about one "
                     f"in {round(1 / (1 - confidence))} such intervals excludes zero by chance alone")
    return UpliftReport(since=start, until=end, confidence=confidence, resamples=resamples, seed=seed,
                        arms=[holdout, *(stats[v] for v in variants)], comparisons=comparisons, pooled=pooled,
                        purchases_counted=counted, purchases_ignored=ignored, notes=notes)


def _utc(at: datetime) -> datetime:
    """An aware time in UTC; a naive one is taken to be UTC already (as the store keeps times)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _arm_of(members: Sequence[tuple[str, str]]) -> dict[str, str]:
    """customer -> arm; a shopper in two arms would be counted twice and contaminate both, so it is an error."""
    if not members:
        raise ValueError("the campaign has no members: nothing to measure")
    arm_of: dict[str, str] = {}
    for customer_id, arm in members:
        if not arm or arm == POOLED:
            raise ValueError(f"member {customer_id!r} has arm name {arm!r}: it must be non-empty and not "
                             f"{POOLED!r} (the name of the pooled comparison)")
        previous = arm_of.setdefault(customer_id, arm)
        if previous != arm:
            raise ValueError(f"shopper {customer_id!r} is in two arms ({previous!r} and {arm!r}); "
                             "every member must be in exactly one")
    return arm_of


def _wilson(successes: int, n: int, z: float) -> UpliftInterval:
    """Wilson score interval of a proportion: sensible at 0 and n successes, unlike the normal one."""
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return UpliftInterval(max(0.0, centre - half), min(1.0, centre + half))


def _arm_stats(arm: str, converters: int, revenue: np.ndarray, z: float) -> UpliftArm:
    n = len(revenue)
    total = float(revenue.sum())
    return UpliftArm(arm=arm, shoppers=n, converters=converters, conversion_rate=converters / n,
                    conversion_ci=_wilson(converters, n, z), revenue=total, revenue_per_shopper=total / n)


def _newcombe(treated: UpliftArm, holdout: UpliftArm) -> UpliftInterval:
    """Newcombe's hybrid score interval for ``p_treated - p_holdout`` from the two Wilson intervals."""
    p1, p2 = treated.conversion_rate, holdout.conversion_rate
    l1, u1 = treated.conversion_ci.low, treated.conversion_ci.high
    l2, u2 = holdout.conversion_ci.low, holdout.conversion_ci.high
    diff = p1 - p2
    return UpliftInterval(diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
                    diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def _relative_conversion(treated: UpliftArm, holdout: UpliftArm, z: float
                         ) -> tuple[float | None, UpliftInterval | None]:
    """Risk ratio minus one with Katz's log interval; None when either arm has no converter."""
    x1, n1, x2, n2 = treated.converters, treated.shoppers, holdout.converters, holdout.shoppers
    if x1 == 0 or x2 == 0:
        return (None if x2 == 0 else -1.0), None
    ratio = (x1 / n1) / (x2 / n2)
    se = math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
    return ratio - 1, UpliftInterval(ratio * math.exp(-z * se) - 1, ratio * math.exp(z * se) - 1)


def _bootstrap_means(revenue: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``resamples`` bootstrap resamples of ``revenue``, drawing only the resample's non-zero part.

    A resample of ``n`` values from ``n`` of which ``k`` are non-zero has ``Binomial(n, k/n)`` non-zero
    draws, each uniform over those ``k``: the same distribution as the full resample at ``k/n`` of the cost.
    """
    n = len(revenue)
    nonzero = revenue[revenue != 0.0]
    if len(nonzero) == 0:
        return np.zeros(resamples)
    hits = rng.binomial(n, len(nonzero) / n, size=resamples)
    sums = np.empty(resamples)
    # in chunks of about DRAWS_PER_CHUNK draws, so a million-shopper campaign does not hold 10^8 draws at once
    step = max(1, DRAWS_PER_CHUNK // max(1, len(nonzero)))
    for start in range(0, resamples, step):
        chunk = hits[start:start + step]
        draws = nonzero[rng.integers(0, len(nonzero), size=int(chunk.sum()))]
        sums[start:start + len(chunk)] = np.bincount(np.repeat(np.arange(len(chunk)), chunk), weights=draws,
                                                     minlength=len(chunk))
    return sums / n


def _compare(treated: UpliftArm, treated_revenue: np.ndarray, holdout: UpliftArm, holdout_revenue: np.ndarray,
             z: float, confidence: float, resamples: int, seed: int) -> UpliftComparison:
    # seeded by the arm's name (crc32 is stable across runs, unlike hash()), so each interval is reproducible
    rng = np.random.default_rng([seed, zlib.crc32(treated.arm.encode("utf-8"))])
    treated_means = _bootstrap_means(treated_revenue, resamples, rng)
    holdout_means = _bootstrap_means(holdout_revenue, resamples, rng)
    tail = (1 - confidence) / 2
    low, high = np.quantile(treated_means - holdout_means, [tail, 1 - tail])
    revenue_relative: float | None = None
    revenue_relative_ci: UpliftInterval | None = None
    if holdout.revenue_per_shopper > 0:
        revenue_relative = treated.revenue_per_shopper / holdout.revenue_per_shopper - 1
        if bool(np.all(holdout_means > 0)):
            rel_low, rel_high = np.quantile(treated_means / holdout_means - 1, [tail, 1 - tail])
            revenue_relative_ci = UpliftInterval(float(rel_low), float(rel_high))
    conversion_relative, conversion_relative_ci = _relative_conversion(treated, holdout, z)
    return UpliftComparison(
        arm=treated.arm, treated=treated, holdout=holdout,
        conversion_diff=treated.conversion_rate - holdout.conversion_rate,
        conversion_ci=_newcombe(treated, holdout),
        conversion_relative=conversion_relative, conversion_relative_ci=conversion_relative_ci,
        revenue_diff=treated.revenue_per_shopper - holdout.revenue_per_shopper,
        revenue_ci=UpliftInterval(float(low), float(high)),
        revenue_relative=revenue_relative, revenue_relative_ci=revenue_relative_ci,
    )
