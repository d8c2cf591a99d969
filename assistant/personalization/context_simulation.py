"""Worlds where a shopper's profile decides which offer they take, for ``concierge simulate offers``.

The per-segment world of ``offer_simulation`` gives every ``tier/main-category`` segment its own rates, so
the segment is the whole context. Here shoppers carry the contextual policy's features
(``assistant.personalization.contextual_bandit``): a tier, up to two category preferences, a spend and a
recency bucket and a language. Two worlds:

- ``context``: each offer's conversion rate is a base rate plus a weight for each feature the shopper has
  (one offer for category preferences, one for big spenders, one for lapsed shoppers, one for a language,
  ...), so shoppers of one segment want different offers; the per-segment sampler cannot see why;
- ``flat``: the rates do not depend on the shopper at all (the context is noise).

Both policies meet the same shoppers and the same luck (one uniform number per round and offer decides
every conversion), so the difference in regret is theirs. Regret is expected regret against the best offer
for each shopper: ``sum_t max_k rate[t, k] - rate[t, a_t]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.personalization.contextual_bandit import BIAS, epsilon_greedy, linucb_scores
from assistant.personalization.offer_bandit import ThompsonPolicy

if TYPE_CHECKING:
    import numpy as np

TIERS = ("standard", "silver", "gold", "platinum")
TIER_SHARES = (0.45, 0.3, 0.17, 0.08)
CATEGORIES = ("category-a", "category-b", "category-c", "category-d")
SPEND = (("none", 0.15), ("low", 0.35), ("mid", 0.3), ("high", 0.2))
RECENCY = (("30d", 0.3), ("90d", 0.25), ("365d", 0.25), ("older", 0.2))
LANGUAGES = (("en", 0.7), ("zh", 0.3))
OFFERS = ("a15", "b20", "c10", "shipfree", "tier2x", "winback")
#: the context world: offer -> (base rate, {feature: added rate})
CONTEXT_RATES: dict[str, tuple[float, dict[str, float]]] = {
    "a15": (0.02, {"cat=category-a": 0.08}),
    "b20": (0.015, {"cat=category-b": 0.05, "spend=high": 0.07, "spend=mid": 0.03}),
    "c10": (0.02, {"cat=category-c": 0.06, "lang=zh": 0.05}),
    "shipfree": (0.03, {"spend=none": 0.06, "spend=low": 0.03}),
    "tier2x": (0.015, {"tier=gold": 0.06, "tier=platinum": 0.07}),
    "winback": (0.01, {"recency=older": 0.1, "recency=365d": 0.05}),
}
FLAT_RATES = (0.04, 0.05, 0.035, 0.07, 0.03, 0.045)


def feature_names() -> tuple[str, ...]:
    """Every feature a simulated shopper can have, in ``contextual_bandit.context_features``' vocabulary."""
    names = [BIAS, *(f"tier={t}" for t in TIERS), *(f"cat={c}" for c in CATEGORIES),
             *(f"spend={s}" for s, _ in SPEND), "recency=never", *(f"recency={r}" for r, _ in RECENCY),
             *(f"lang={lang}" for lang, _ in LANGUAGES)]
    return tuple(sorted(names))


@dataclass(frozen=True)
class Shoppers:
    x: np.ndarray  # (n, d) binary features over ``names``
    segments: np.ndarray  # (n,) index into segment_names: tier/main category, as the per-segment sampler sees it
    names: tuple[str, ...]
    segment_names: tuple[str, ...]


def sample_shoppers(n: int, rng: np.random.Generator) -> Shoppers:
    """``n`` shoppers: tier by share, a main category (or none, 15%), a second one for 40% of those with one,
    spend, recency (``never`` without spend) and language."""
    import numpy as np

    names = feature_names()
    at = {f: k for k, f in enumerate(names)}
    segment_names = tuple(f"{t}/{c}" for t in TIERS for c in (*CATEGORIES, "any"))
    x = np.zeros((n, len(names)))
    segments = np.zeros(n, dtype=int)
    tiers = rng.choice(len(TIERS), size=n, p=TIER_SHARES)
    mains = rng.choice(len(CATEGORIES) + 1, size=n, p=[0.85 / len(CATEGORIES)] * len(CATEGORIES) + [0.15])
    seconds = np.where(rng.random(n) < 0.4, (mains + rng.integers(1, len(CATEGORIES), size=n)) % len(CATEGORIES), -1)
    spend = rng.choice(len(SPEND), size=n, p=[p for _, p in SPEND])
    recency = rng.choice(len(RECENCY), size=n, p=[p for _, p in RECENCY])
    language = rng.choice(len(LANGUAGES), size=n, p=[p for _, p in LANGUAGES])
    for t in range(n):
        on = [BIAS, f"tier={TIERS[tiers[t]]}", f"spend={SPEND[spend[t]][0]}",
              "recency=never" if spend[t] == 0 else f"recency={RECENCY[recency[t]][0]}",
              f"lang={LANGUAGES[language[t]][0]}"]
        if mains[t] < len(CATEGORIES):
            on.append(f"cat={CATEGORIES[mains[t]]}")
            if seconds[t] >= 0:
                on.append(f"cat={CATEGORIES[seconds[t]]}")
        x[t, [at[f] for f in on]] = 1.0
        segments[t] = tiers[t] * (len(CATEGORIES) + 1) + mains[t]
    return Shoppers(x, segments, names, segment_names)


@dataclass(frozen=True)
class ContextWorld:
    name: str
    offers: tuple[str, ...]
    base: np.ndarray  # (K,)
    weights: np.ndarray  # (K, d) over feature_names()

    def rates(self, x: np.ndarray) -> np.ndarray:
        """Each shopper's conversion rate for each offer: (n, K)."""
        import numpy as np

        return np.asarray(np.clip(self.base + x @ self.weights.T, 0.005, 0.6))


def make_context_world(seed: int = 7) -> ContextWorld:
    """Rates from ``CONTEXT_RATES``, each weight jittered a little (seeded)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    at = {f: k for k, f in enumerate(feature_names())}
    weights = np.zeros((len(OFFERS), len(at)))
    for k, offer in enumerate(OFFERS):
        for feature, w in CONTEXT_RATES[offer][1].items():
            weights[k, at[feature]] = w
    weights += np.where(weights != 0, rng.normal(0, 0.005, weights.shape), 0.0)
    base = np.array([CONTEXT_RATES[o][0] for o in OFFERS])
    return ContextWorld("context", OFFERS, base, weights)


def make_flat_world(seed: int = 7) -> ContextWorld:
    """The same offers, one rate each for everybody."""
    import numpy as np

    rng = np.random.default_rng(seed)
    base = np.clip(np.array(FLAT_RATES) + rng.normal(0, 0.003, len(FLAT_RATES)), 0.005, 0.6)
    return ContextWorld("flat", OFFERS, base, np.zeros((len(OFFERS), len(feature_names()))))


@dataclass
class RowRun:
    """One policy's run over per-round rates: what it chose, the conversions, the logged propensities."""

    name: str
    actions: np.ndarray
    rewards: np.ndarray
    propensities: np.ndarray
    regret: np.ndarray  # cumulative expected regret after each round


def finish_rows(name: str, rates: np.ndarray, actions: np.ndarray, rewards: np.ndarray, propensities: np.ndarray
                ) -> RowRun:
    import numpy as np

    chosen = rates[np.arange(len(actions)), actions]
    return RowRun(name, actions, rewards, propensities, np.cumsum(rates.max(axis=1) - chosen))


def run_thompson_rows(segments: np.ndarray, n_segments: int, rates: np.ndarray, uniforms: np.ndarray,
                      rng: np.random.Generator, draws: int = 200) -> tuple[RowRun, np.ndarray]:
    """Per-segment Thompson sampling (the production policy) over per-round rates (n, K); returns the run
    and its final posterior means per segment and offer."""
    import numpy as np

    policy = ThompsonPolicy(draws)
    n_arm = rates.shape[1]
    alpha, beta = np.ones((n_segments, n_arm)), np.ones((n_segments, n_arm))
    arms = [str(k) for k in range(n_arm)]
    n = len(segments)
    actions, rewards, propensities = np.zeros(n, dtype=int), np.zeros(n), np.zeros(n)
    for t, s in enumerate(segments):
        choice = policy.choose_from(arms, alpha[s], beta[s], rng)
        a = int(choice.arm)
        r = float(uniforms[t, a] < rates[t, a])
        alpha[s, a] += r
        beta[s, a] += 1.0 - r
        actions[t], rewards[t], propensities[t] = a, r, choice.propensity
    return finish_rows("thompson", rates, actions, rewards, propensities), alpha / (alpha + beta)


def run_linucb_rows(x: np.ndarray, rates: np.ndarray, uniforms: np.ndarray, rng: np.random.Generator,
                    alpha: float = 0.3, epsilon: float = 0.05, ridge: float = 1.0) -> RowRun:
    """Disjoint LinUCB with epsilon-greedy exploration (the production policy's arithmetic, with ``A^-1``
    kept by Sherman-Morrison updates instead of read from counts)."""
    import numpy as np

    n, n_arm = rates.shape
    d = x.shape[1]
    a_inv = np.tile(np.eye(d) / ridge, (n_arm, 1, 1))
    b = np.zeros((n_arm, d))
    actions, rewards, propensities = np.zeros(n, dtype=int), np.zeros(n), np.zeros(n)
    for t in range(n):
        xt = x[t]
        a, p = epsilon_greedy(linucb_scores(a_inv, b, xt, alpha), epsilon, rng)
        r = float(uniforms[t, a] < rates[t, a])
        ax = a_inv[a] @ xt
        a_inv[a] -= np.outer(ax, ax) / (1.0 + xt @ ax)
        b[a] += r * xt
        actions[t], rewards[t], propensities[t] = a, r, p
    return finish_rows("linucb", rates, actions, rewards, propensities)


@dataclass(frozen=True)
class Comparison:
    """Thompson vs LinUCB on one world."""

    world: str
    decides: str  # what decides acceptance there, in words
    thompson: RowRun
    linucb: RowRun

    @property
    def ratio(self) -> float:
        """Thompson's regret over LinUCB's: above 1, LinUCB lost fewer conversions."""
        return float(self.thompson.regret[-1] / max(self.linucb.regret[-1], 1e-9))


def compare_on(world: ContextWorld, rounds: int, seed: int, draws: int = 200, alpha: float = 0.3,
               epsilon: float = 0.05) -> Comparison:
    """Both policies on the same ``rounds`` shoppers of ``world`` and the same luck."""
    import numpy as np

    rng = np.random.default_rng(seed + 11)
    shoppers = sample_shoppers(rounds, rng)
    rates = world.rates(shoppers.x)
    uniforms = rng.random(rates.shape)
    thompson, _ = run_thompson_rows(shoppers.segments, len(shoppers.segment_names), rates, uniforms,
                                    np.random.default_rng(seed + 12), draws)
    linucb = run_linucb_rows(shoppers.x, rates, uniforms, np.random.default_rng(seed + 13), alpha, epsilon)
    decides = "tier, categories, spend, recency, language" if world.weights.any() else "nothing (one rate per offer)"
    return Comparison(world.name, decides, thompson, linucb)


def format_comparisons(comparisons: list[Comparison], rounds: int) -> str:
    lines = [f"per-segment Thompson sampling vs contextual LinUCB, {rounds:,} shoppers per world",
             f"{'world':<9}{'acceptance depends on':<44}{'policy':<10}{'conversions':>12}{'regret':>9}"]
    for c in comparisons:
        for n, run in enumerate((c.thompson, c.linucb)):
            lines.append(f"{c.world if n == 0 else '':<9}{c.decides if n == 0 else '':<44}{run.name:<10}"
                         f"{int(run.rewards.sum()):>12,}{run.regret[-1]:>9.1f}")
        lines.append(f"{'':<53}regret thompson / linucb = {c.ratio:.2f}")
    return "\n".join(lines)
