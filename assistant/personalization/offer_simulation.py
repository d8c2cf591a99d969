"""``concierge simulate offers``: the offer bandit against baselines on a world with known conversion rates.

The world: shopper segments (tier x main category, as in
``assistant.personalization.offer_bandit.segment_of``) arrive with
fixed probabilities; every offer has a hidden conversion rate per segment. Each round one shopper
arrives, a policy shows one offer, and the shopper converts with that offer's rate. All policies see the
same shoppers in the same order, so differences in regret are the policies'.

- ``thompson``: the production policy (``ThompsonPolicy``, Beta posteriors per segment and offer, the
  propensity of each choice estimated from 200 posterior draws).
- ``linucb``: the contextual policy (``contextual_bandit``: LinUCB over bias, tier and category, epsilon-greedy),
  which here sees exactly the segment, so it shows what context costs where the segment is all there is.
- ``uniform``: an offer at random (propensity ``1/K``); its log is the data for off-policy evaluation.
- ``best fixed``: the one offer with the best average rate over all segments, known in advance (an
  oracle no real shop has, but blind to segments).

Regret is expected regret against the best offer *for each shopper's segment*:
``sum_t max_k rate[s_t, k] - rate[s_t, a_t]``.

Off-policy evaluation estimates, from the uniform run's log alone, the value (conversion rate) of a
candidate policy: greedy on the rates the Thompson run learned (its posterior means). Inverse propensity
scoring (IPS) reweights the logged rewards of rounds where the log agrees with the candidate; doubly
robust (DR) adds a reward model (per segment and offer mean, cross-fitted on two halves of the log) and
corrects it with the same weights. Both are compared with the true value, computed from the hidden rates.

Then Thompson and LinUCB meet two more worlds (``context_simulation``): one where the shopper's profile
features decide which offer converts, one where nothing does; the report gives each one's conversions and
regret and the ratio of their regrets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.personalization.context_simulation import (
    Comparison,
    compare_on,
    format_comparisons,
    make_context_world,
    make_flat_world,
    run_linucb_rows,
    run_thompson_rows,
)
from assistant.personalization.contextual_bandit import BIAS

if TYPE_CHECKING:
    import numpy as np

TIERS = ("standard", "silver", "gold", "platinum")
# a made-up shop (no real shop's categories or offers): three categories, an offer for each, two for everyone
CATEGORIES = ("category-a", "category-b", "category-c")
OFFERS = ("a15", "b20", "c10", "shipfree", "tier2x")
CHECKPOINTS = (100, 1_000, 5_000, 10_000)


@dataclass(frozen=True)
class World:
    segments: tuple[str, ...]
    offers: tuple[str, ...]
    weights: np.ndarray  # probability of each segment
    rates: np.ndarray  # (segments, offers): the hidden conversion rates

    def value(self, policy: np.ndarray) -> float:
        """True conversion rate of a policy given as one offer index per segment."""
        import numpy as np

        return float(np.sum(self.weights * self.rates[np.arange(len(self.segments)), policy]))


def make_world(seed: int = 7) -> World:
    """A shop whose best offer depends on the segment: category A's shoppers like A15, gold B shoppers B20, ..."""
    import numpy as np

    rng = np.random.default_rng(seed)
    segments = tuple(f"{t}/{c}" for t in TIERS for c in CATEGORIES)
    rates = np.zeros((len(segments), len(OFFERS)))
    for i, (tier, category) in enumerate((t, c) for t in TIERS for c in CATEGORIES):
        high = tier in ("gold", "platinum")
        rates[i] = [
            0.11 if category == "category-a" else 0.03,  # a15
            (0.14 if high else 0.06) if category == "category-b" else 0.02,  # b20
            0.10 if category == "category-c" else 0.025,  # c10
            0.075 if tier == "standard" else 0.035,  # shipfree
            0.065 if high else 0.02,  # tier2x
        ]
    rates = np.clip(rates + rng.normal(0, 0.008, rates.shape), 0.005, 0.5)
    weights = rng.dirichlet(np.full(len(segments), 4.0))
    return World(segments, OFFERS, weights, rates)


@dataclass
class Run:
    name: str
    segments: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    propensities: np.ndarray
    regret: np.ndarray  # cumulative expected regret after each round


@dataclass(frozen=True)
class Estimate:
    name: str
    value: float
    stderr: float
    truth: float

    @property
    def error(self) -> float:
        return self.value - self.truth


@dataclass
class SimulationResult:
    world: World
    rounds: int
    seed: int
    runs: dict[str, Run] = field(default_factory=dict)
    best_fixed: str = ""
    candidate: dict[str, str] = field(default_factory=dict)  # segment -> offer of the evaluated policy
    estimates: list[Estimate] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)  # Thompson vs LinUCB on the context worlds


def _finish(name: str, world: World, segments: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
            propensities: np.ndarray) -> Run:
    import numpy as np

    best = world.rates.max(axis=1)[segments]
    regret = np.cumsum(best - world.rates[segments, actions])
    return Run(name, segments, actions, rewards, propensities, regret)


def run_thompson(world: World, segments: np.ndarray, uniforms: np.ndarray, rng: np.random.Generator,
                 draws: int = 200) -> tuple[Run, np.ndarray]:
    """The production policy, round by round; returns the run and its final posterior means."""
    rows, means = run_thompson_rows(segments, len(world.segments), world.rates[segments], uniforms, rng, draws)
    return _finish("thompson", world, segments, rows.actions, rows.rewards, rows.propensities), means


def segment_features(world: World) -> np.ndarray:
    """Each segment of the per-segment world as the contextual policy sees it: bias, tier and category."""
    import numpy as np

    names = sorted({BIAS, *(f"tier={s.split('/')[0]}" for s in world.segments),
                    *(f"cat={s.split('/')[1]}" for s in world.segments)})
    x = np.zeros((len(world.segments), len(names)))
    for i, segment in enumerate(world.segments):
        tier, category = segment.split("/")
        x[i, [names.index(BIAS), names.index(f"tier={tier}"), names.index(f"cat={category}")]] = 1.0
    return x


def run_linucb(world: World, segments: np.ndarray, uniforms: np.ndarray, rng: np.random.Generator,
               alpha: float = 0.3, epsilon: float = 0.05) -> Run:
    """The contextual policy on the per-segment world (where the segment is all the context there is)."""
    rows = run_linucb_rows(segment_features(world)[segments], world.rates[segments], uniforms, rng, alpha, epsilon)
    return _finish("linucb", world, segments, rows.actions, rows.rewards, rows.propensities)


def run_fixed(name: str, world: World, segments: np.ndarray, uniforms: np.ndarray, actions: np.ndarray,
              propensity: float) -> Run:
    import numpy as np

    rows = np.arange(len(segments))
    rewards = (uniforms[rows, actions] < world.rates[segments, actions]).astype(float)
    return _finish(name, world, segments, actions, rewards, np.full(len(segments), propensity))


def _reward_model(segments: np.ndarray, actions: np.ndarray, rewards: np.ndarray, shape: tuple[int, int]
                  ) -> np.ndarray:
    """Per (segment, offer) mean reward with a Beta(1, 1) prior."""
    import numpy as np

    hits, counts = np.zeros(shape), np.zeros(shape)
    np.add.at(hits, (segments, actions), rewards)
    np.add.at(counts, (segments, actions), 1.0)
    return (hits + 1.0) / (counts + 2.0)


def off_policy_estimates(world: World, log: Run, policy: np.ndarray) -> list[Estimate]:
    """IPS and doubly robust estimates of ``policy``'s value from ``log``, each with its standard error and
    the true value."""
    import numpy as np

    s, a, r, p = log.segments, log.actions, log.rewards, log.propensities
    n = len(s)
    match = (a == policy[s]).astype(float)
    ips = match * r / p
    # the reward model of each half is fitted on the other half (cross-fitting), so DR stays unbiased
    halves = np.arange(n) % 2
    q = np.zeros((n, 2))  # q(s, a_logged), q(s, policy(s))
    for half in (0, 1):
        fit, use = halves != half, halves == half
        model = _reward_model(s[fit], a[fit], r[fit], world.rates.shape)
        q[use, 0] = model[s[use], a[use]]
        q[use, 1] = model[s[use], policy[s[use]]]
    dr = q[:, 1] + match * (r - q[:, 0]) / p
    truth = world.value(policy)
    return [Estimate(name, float(v.mean()), float(v.std(ddof=1) / np.sqrt(n)), truth)
            for name, v in (("IPS", ips), ("DR", dr))]


def simulate_offers(rounds: int = 10_000, seed: int = 7, draws: int = 200, alpha: float = 0.3,
                    epsilon: float = 0.05, worlds: bool = True) -> SimulationResult:
    """Run the policies on the same shoppers, evaluate the learned greedy policy off-policy, and (``worlds``)
    compare Thompson and LinUCB where the profile decides and where nothing does."""
    import numpy as np

    world = make_world(seed)
    rng = np.random.default_rng(seed + 1)
    segments = rng.choice(len(world.segments), size=rounds, p=world.weights)
    uniforms = rng.random((rounds, len(world.offers)))
    result = SimulationResult(world, rounds, seed)
    thompson, learned = run_thompson(world, segments, uniforms, np.random.default_rng(seed + 2), draws)
    # the uniform run draws its own conversions: its log must be independent of what Thompson learned,
    # or the evaluation of the learned policy would reuse the luck it was fitted to
    uniform_rng = np.random.default_rng(seed + 3)
    random_actions = uniform_rng.integers(len(world.offers), size=rounds)
    uniform = run_fixed("uniform random", world, segments, uniform_rng.random((rounds, len(world.offers))),
                        random_actions, 1.0 / len(world.offers))
    best = int(np.argmax(world.weights @ world.rates))
    fixed = run_fixed("best fixed offer", world, segments, uniforms, np.full(rounds, best), 1.0)
    linucb = run_linucb(world, segments, uniforms, np.random.default_rng(seed + 4), alpha, epsilon)
    result.runs = {run.name: run for run in (thompson, linucb, uniform, fixed)}
    result.best_fixed = world.offers[best]
    candidate = learned.argmax(axis=1)
    result.candidate = {seg: world.offers[k] for seg, k in zip(world.segments, candidate, strict=True)}
    result.estimates = off_policy_estimates(world, uniform, candidate)
    if worlds:
        result.comparisons = [compare_on(w, rounds, seed, draws, alpha, epsilon)
                              for w in (make_context_world(seed), make_flat_world(seed))]
    return result


def format_report(result: SimulationResult) -> str:
    """The regret table and the off-policy estimates, as printed by the command."""
    marks = [c for c in CHECKPOINTS if c <= result.rounds] or [result.rounds]
    if marks[-1] != result.rounds:
        marks.append(result.rounds)
    name_width = max(len(n) for n in result.runs) + 2
    lines = [f"offer policies on {len(result.world.segments)} segments x {len(result.world.offers)} offers, "
             f"{result.rounds:,} rounds, seed {result.seed}",
             "", "cumulative regret (expected conversions lost against the best offer per segment)",
             "policy".ljust(name_width) + "".join(f"{m:>10,}" for m in marks) + "  conversions"]
    for run in result.runs.values():
        lines.append(run.name.ljust(name_width) + "".join(f"{run.regret[m - 1]:>10.1f}" for m in marks)
                     + f"  {int(run.rewards.sum()):>11,}")
    lines.append(f"(best fixed offer: {result.best_fixed})")
    lines += ["", "off-policy evaluation of the greedy policy on the Thompson run's learned rates,",
              f"from the uniform-random log ({result.rounds:,} rounds):",
              f"{'estimator':<22}{'estimate':>10}{'stderr':>9}{'truth':>9}{'error':>9}"]
    for e in result.estimates:
        lines.append(f"{e.name:<22}{e.value:>10.4f}{e.stderr:>9.4f}{e.truth:>9.4f}{e.error:>+9.4f}")
    if result.comparisons:
        lines += ["", format_comparisons(result.comparisons, result.rounds)]
    return "\n".join(lines)


def plot_regret(result: SimulationResult, path: Path) -> Path:
    """Cumulative regret of each policy per round, as a PNG (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    try:
        for run in result.runs.values():
            ax.plot(range(1, result.rounds + 1), run.regret, label=run.name)
        ax.set_xlabel("round")
        ax.set_ylabel("cumulative expected regret (conversions)")
        ax.set_title(f"Offer policies: {len(result.world.segments)} segments x {len(result.world.offers)} offers, "
                     f"seed {result.seed}")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)
    return path
