"""Off-policy evaluation of offer policies on a log: what would another policy have converted?

A log round is one showing: the shopper's features, the eligible offers, the offer shown, the probability the
logging policy gave it (its *propensity*, logged with every ``offer_shown`` event) and the reward (1 if that
showing was accepted or redeemed). For a target policy ``pi`` the estimators of its conversion rate are

- **IPS** (inverse propensity scoring): ``mean(w * r)`` with ``w = pi(a | x) / p``;
- **SNIPS** (self-normalised IPS): ``sum(w * r) / sum(w)``, a little biased, much less variable;
- **DR** (doubly robust): ``mean(sum_k pi(k | x) q(x, k) + w * (r - q(x, a)))`` with a reward model ``q``
  (per offer, a ridge regression of the reward on the features, clipped to [0, 1]); unbiased when either the
  propensities or the model are right.

The reward model and the target policies are *cross-fitted*: the log is split in two halves (alternate
rounds), and each half is scored with what was fitted on the other, so no round judges a model it taught.
Confidence intervals are percentile bootstrap intervals (rounds resampled with replacement; models fixed).

On the shop's own log (:func:`evaluate_log`) the targets are the policies ``offers.policy`` can name, each
frozen at what it would have learned from the other half: ``thompson`` (its choice probabilities from the
Beta posteriors per segment, by Monte Carlo), ``linucb`` (epsilon-greedy on its scores), ``uniform``. Each is
compared with the logged policy's own conversion rate: the DR difference and its interval say whether it
would have done better.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

ESTIMATORS = ("IPS", "SNIPS", "DR")
#: below this share of the rounds as effective sample size, the verdict warns that IPS has little to go on
FEW_EFFECTIVE = 0.1


@dataclass(frozen=True)
class LoggedOffer:
    """One logged showing of an offer (from an ``offer_shown`` event and the feedback on it)."""

    event_id: int
    offer_id: str
    propensity: float | None
    policy: str | None
    segment: str
    features: tuple[str, ...]
    arms: tuple[str, ...]  # the eligible offers; empty in logs written before they were logged
    reward: float
    shown_at: datetime | None = None

    @property
    def usable(self) -> bool:
        """Evaluable: a propensity in (0, 1] and the eligible offers, the shown one among them."""
        return self.propensity is not None and 0 < self.propensity <= 1 and self.offer_id in self.arms


def logged_offer(event_id: int, payload: Mapping[str, Any], converted: bool, shown_at: datetime | None = None
                 ) -> LoggedOffer:
    """A ``LoggedOffer`` from an ``offer_shown`` event's payload."""
    raw = payload.get("propensity")
    return LoggedOffer(event_id, str(payload.get("offer_id")), float(raw) if raw is not None else None,
                       payload.get("policy"), str(payload.get("segment") or "unknown"),
                       tuple(str(f) for f in payload.get("features") or ()),
                       tuple(str(a) for a in payload.get("arms") or ()), 1.0 if converted else 0.0, shown_at)


@dataclass(frozen=True)
class LogData:
    """A log as arrays: ``x`` (n, d) binary features, ``eligible`` (n, K) bool, ``actions``, ``propensities``,
    ``rewards`` and ``segments`` (n,); ``arms``, ``names`` and ``segment_names`` say what the columns are."""

    x: np.ndarray
    eligible: np.ndarray
    actions: np.ndarray
    propensities: np.ndarray
    rewards: np.ndarray
    segments: np.ndarray
    arms: tuple[str, ...]
    names: tuple[str, ...]
    segment_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.actions)

    @classmethod
    def from_offers(cls, offers: Sequence[LoggedOffer]) -> LogData:
        import numpy as np

        arms = tuple(sorted({a for o in offers for a in o.arms}))
        names = tuple(sorted({f for o in offers for f in o.features} | {"bias"}))
        segment_names = tuple(sorted({o.segment for o in offers}))
        arm_at, name_at, seg_at = ({v: k for k, v in enumerate(t)} for t in (arms, names, segment_names))
        x = np.zeros((len(offers), len(names)))
        eligible = np.zeros((len(offers), len(arms)), dtype=bool)
        for t, o in enumerate(offers):
            x[t, [name_at[f] for f in {*o.features, "bias"}]] = 1.0
            eligible[t, [arm_at[a] for a in o.arms]] = True
        return cls(x, eligible, np.array([arm_at[o.offer_id] for o in offers], dtype=int),
                   np.array([o.propensity for o in offers], dtype=float), np.array([o.reward for o in offers]),
                   np.array([seg_at[o.segment] for o in offers], dtype=int), arms, names, segment_names)

    def take(self, rows: np.ndarray) -> LogData:
        return LogData(self.x[rows], self.eligible[rows], self.actions[rows], self.propensities[rows],
                       self.rewards[rows], self.segments[rows], self.arms, self.names, self.segment_names)


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float

    def __contains__(self, v: float) -> bool:
        return self.low <= v <= self.high


# models fitted on a log ------------------------------------------------------------------------------
def ridge_fit(data: LogData, ridge: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per arm ``A = ridge * I + sum x x^T`` and ``b = sum r x`` over its rounds: (K, d, d) and (K, d)."""
    import numpy as np

    k, d = len(data.arms), len(data.names)
    a = np.tile(np.eye(d) * ridge, (k, 1, 1))
    b = np.zeros((k, d))
    for arm in range(k):
        rows = data.actions == arm
        xs = data.x[rows]
        a[arm] += xs.T @ xs
        b[arm] += xs.T @ data.rewards[rows]
    return a, b


def reward_model(fit: LogData, use: LogData, ridge: float = 1.0) -> np.ndarray:
    """The DR reward model: per-arm ridge regression fitted on ``fit``, predicted for ``use`` (n, K) in [0, 1]."""
    import numpy as np

    a, b = ridge_fit(fit, ridge)
    theta = np.linalg.solve(a, b[..., None])[..., 0]
    return np.asarray(np.clip(use.x @ theta.T, 0.0, 1.0))


def _best_of(scores: np.ndarray, eligible: np.ndarray, epsilon: float) -> np.ndarray:
    """Epsilon-greedy choice probabilities over the eligible arms (ties share the greedy mass)."""
    import numpy as np

    masked = np.where(eligible, scores, -np.inf)
    best = eligible & (masked >= masked.max(axis=1, keepdims=True) - 1e-12)
    counts = eligible.sum(axis=1, keepdims=True)
    return np.asarray((1 - epsilon) * best / best.sum(axis=1, keepdims=True) + epsilon * eligible / counts)


def linucb_probabilities(fit: LogData, use: LogData, alpha: float, epsilon: float, ridge: float = 1.0
                         ) -> np.ndarray:
    """What LinUCB with the counts of ``fit`` would do on ``use``'s rounds: (n, K) probabilities."""
    import numpy as np

    a, b = ridge_fit(fit, ridge)
    a_inv = np.linalg.inv(a)
    theta = np.einsum("kij,kj->ki", a_inv, b)
    width = np.einsum("ni,kij,nj->nk", use.x, a_inv, use.x)
    return _best_of(use.x @ theta.T + alpha * np.sqrt(np.maximum(width, 0.0)), use.eligible, epsilon)


def thompson_probabilities(fit: LogData, use: LogData, rng: np.random.Generator, draws: int = 2_000
                           ) -> np.ndarray:
    """What per-segment Thompson sampling with the counts of ``fit`` would do on ``use``'s rounds: the
    probability that each eligible arm has the largest posterior draw, by Monte Carlo (per segment and set
    of eligible arms)."""
    import numpy as np

    shape = (len(fit.segment_names), len(fit.arms))
    shown, conversions = np.zeros(shape), np.zeros(shape)
    np.add.at(shown, (fit.segments, fit.actions), 1.0)
    np.add.at(conversions, (fit.segments, fit.actions), fit.rewards)
    out = np.zeros(use.eligible.shape)
    groups: dict[tuple[int, bytes], list[int]] = {}
    for t, (s, row) in enumerate(zip(use.segments, use.eligible, strict=True)):
        groups.setdefault((int(s), row.tobytes()), []).append(t)
    for (s, _), rows in groups.items():
        arms = np.flatnonzero(use.eligible[rows[0]])
        samples = rng.beta(1 + conversions[s, arms], 1 + shown[s, arms] - conversions[s, arms],
                           size=(draws, len(arms)))
        share = np.bincount(samples.argmax(axis=1), minlength=len(arms)) / draws
        out[np.ix_(np.array(rows), arms)] = share
    return out


def uniform_probabilities(use: LogData) -> np.ndarray:
    """Every eligible offer alike."""
    return _best_of(use.eligible.astype(float) * 0.0, use.eligible, 1.0)


# the estimators ------------------------------------------------------------------------------------
def _contributions(data: LogData, pi: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per round: importance weight, ``w * r``, and the DR term."""
    import numpy as np

    rows = np.arange(len(data))
    w = pi[rows, data.actions] / data.propensities
    dr = (pi * q).sum(axis=1) + w * (data.rewards - q[rows, data.actions])
    return w, w * data.rewards, dr


def effective_size(data: LogData, pi: np.ndarray) -> float:
    """``(sum w)^2 / sum w^2``: how many logged rounds the importance weights are worth (n when ``pi`` is the
    logging policy; small when the log rarely chose what ``pi`` would)."""
    import numpy as np

    w = pi[np.arange(len(data)), data.actions] / data.propensities
    return float(w.sum() ** 2 / (w ** 2).sum()) if (w ** 2).sum() > 0 else 0.0


def _values(w: np.ndarray, wr: np.ndarray, dr: np.ndarray) -> tuple[float, float, float]:
    return float(wr.mean()), float(wr.sum() / w.sum()) if w.sum() > 0 else 0.0, float(dr.mean())


def cross_fitted(data: LogData, target: Callable[[LogData, LogData], np.ndarray], ridge: float = 1.0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The target's probabilities and the reward model on every round, each half from the other half's fit."""
    import numpy as np

    halves = np.arange(len(data)) % 2
    pi, q = np.zeros(data.eligible.shape), np.zeros(data.eligible.shape)
    for half in (0, 1):
        use, fit = np.flatnonzero(halves == half), np.flatnonzero(halves != half)
        pi[use] = target(data.take(fit), data.take(use))
        q[use] = reward_model(data.take(fit), data.take(use), ridge)
    return pi, q


def bootstrap(data: LogData, targets: Mapping[str, tuple[np.ndarray, np.ndarray]], rng: np.random.Generator,
              resamples: int = 500, level: float = 0.95) -> dict[str, dict[str, Interval]]:
    """IPS, SNIPS and DR of each target (its probabilities and reward model per round), and ``DR uplift``:
    DR minus the logged conversion rate, each with a percentile bootstrap interval."""
    import numpy as np

    parts = {name: _contributions(data, pi, q) for name, (pi, q) in targets.items()}
    n = len(data)
    point = {name: (*_values(*p), float(p[2].mean() - data.rewards.mean())) for name, p in parts.items()}
    draws = {name: np.zeros((resamples, 4)) for name in parts}
    for i in range(resamples):
        rows = rng.integers(n, size=n)
        logged = data.rewards[rows].mean()
        for name, (w, wr, dr) in parts.items():
            values = _values(w[rows], wr[rows], dr[rows])
            draws[name][i] = (*values, values[2] - logged)
    tail = (1 - level) / 2 * 100
    out: dict[str, dict[str, Interval]] = {}
    for name, sample in draws.items():
        low, high = np.percentile(sample, [tail, 100 - tail], axis=0)
        out[name] = {key: Interval(point[name][j], float(low[j]), float(high[j]))
                     for j, key in enumerate((*ESTIMATORS, "DR uplift"))}
    return out


# the shop's own log --------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogEvaluation:
    rounds: int
    skipped: int  # showings without a usable propensity or eligible offers (older logs)
    logged: Interval  # the logged policies' own conversion rate
    policies: dict[str, dict[str, Interval]]
    logging_policies: dict[str, int]  # which policies wrote the log, and how many rounds each
    effective: dict[str, float]  # per target, the effective sample size of its weights (sum w)^2 / sum w^2

    @property
    def best(self) -> str:
        return max(self.policies, key=lambda name: self.policies[name]["DR"].value)

    def to_dict(self) -> dict[str, Any]:
        """JSON for the REST API: estimator names in snake case (``ips``, ``snips``, ``dr``, ``dr_uplift``)."""
        def interval(i: Interval) -> dict[str, float]:
            return {"value": i.value, "low": i.low, "high": i.high}

        keys = {"IPS": "ips", "SNIPS": "snips", "DR": "dr", "DR uplift": "dr_uplift"}
        return {"ready": True, "rounds": self.rounds, "skipped": self.skipped, "logged": interval(self.logged),
                "logging_policies": dict(self.logging_policies),
                "policies": {name: {**{keys[k]: interval(v) for k, v in row.items()},
                                    "effective_n": self.effective[name]} for name, row in self.policies.items()},
                "best": self.best, "verdict": self.verdict()}

    def verdict(self) -> str:
        """Which policy would have done better than the log, in words."""
        best = self.best
        uplift = self.policies[best]["DR uplift"]
        if uplift.low > 0:
            said = (f"{best} would have done better than the logged policy: {uplift.value:+.4f} conversions per "
                    f"showing (95% CI {uplift.low:+.4f} to {uplift.high:+.4f}, doubly robust).")
        elif uplift.high < 0:
            said = "no candidate would have done better than the logged policy (every DR uplift is below zero)."
        else:
            said = (f"{best} has the highest estimate, but its uplift over the logged policy is within the noise "
                    f"({uplift.low:+.4f} to {uplift.high:+.4f}): more showings are needed to tell.")
        if self.effective.get(best, self.rounds) < FEW_EFFECTIVE * self.rounds:
            said += (f" Caution: the log seldom shows what {best} would have chosen (effective sample "
                     f"{self.effective[best]:.0f} of {self.rounds:,}), so its estimate leans on the reward model.")
        return said


def evaluate_log(offers: Sequence[LoggedOffer], alpha: float = 0.3, epsilon: float = 0.05, seed: int = 0,
                 resamples: int = 500) -> LogEvaluation:
    """Thompson, LinUCB and uniform random on the shop's logged showings (see the module docstring).

    Raises ``ValueError`` when fewer than 20 showings are usable: too few to estimate anything.
    """
    import numpy as np

    usable = [o for o in offers if o.usable]
    if len(usable) < 20:
        raise ValueError(f"{len(usable)} logged showings with propensities and eligible offers: at least 20 are "
                         "needed (offers are logged as the chat shows them; older logs lack the eligible offers)")
    data = LogData.from_offers(usable)
    rng = np.random.default_rng(seed)
    targets = {
        "thompson": cross_fitted(data, lambda fit, use: thompson_probabilities(fit, use, rng)),
        "linucb": cross_fitted(data, lambda fit, use: linucb_probabilities(fit, use, alpha, epsilon)),
        "uniform": cross_fitted(data, lambda fit, use: uniform_probabilities(use)),
    }
    policies = bootstrap(data, targets, rng, resamples)
    effective = {name: effective_size(data, pi) for name, (pi, _) in targets.items()}
    means = [data.rewards[rng.integers(len(data), size=len(data))].mean() for _ in range(resamples)]
    low, high = np.percentile(means, [2.5, 97.5])
    logging: dict[str, int] = {}
    for o in usable:
        logging[o.policy or "unknown"] = logging.get(o.policy or "unknown", 0) + 1
    return LogEvaluation(len(usable), len(offers) - len(usable),
                         Interval(float(data.rewards.mean()), float(low), float(high)), policies, logging, effective)


def format_evaluation(result: LogEvaluation) -> str:
    """The table the command prints."""
    shares = ", ".join(f"{name} {n:,}" for name, n in sorted(result.logging_policies.items()))
    lines = [f"off-policy evaluation on {result.rounds:,} logged showings ({shares}; {result.skipped:,} skipped: "
             "no propensity or eligible offers)",
             f"logged conversion rate {result.logged.value:.4f} (95% CI {result.logged.low:.4f} to "
             f"{result.logged.high:.4f})", "",
             f"{'policy':<10}" + "".join(f"{e:>26}" for e in (*ESTIMATORS, "DR uplift")) + f"{'eff. n':>9}"]
    for name, row in result.policies.items():
        lines.append(f"{name:<10}" + "".join(f"{row[e].value:>8.4f} [{row[e].low:.4f},{row[e].high:.4f}]"
                                             .rjust(26) for e in (*ESTIMATORS, "DR uplift"))
                     + f"{result.effective[name]:>9,.0f}")
    lines += ["", result.verdict()]
    return "\n".join(lines)
