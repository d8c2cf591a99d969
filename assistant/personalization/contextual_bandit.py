"""A contextual offer policy: disjoint LinUCB over profile features, with epsilon-greedy exploration.

The per-segment Thompson sampler (``offer_bandit``) learns each ``tier/main-category`` segment on its own
and sees nothing else of the shopper. LinUCB (Li et al., 2010, "disjoint" model) learns, per offer, a
linear model of the conversion rate over *features* of the shopper, so what it learns about one feature
(say, a high spender) carries over to every shopper who has it.

**Features** (:func:`context_features`, all binary, named so that new values need no schema):

- ``bias``: always on;
- ``tier=<tier>``: the loyalty tier (``tier=anonymous`` without a profile);
- with personalization consent only: ``cat=<category>`` for each of the first ``MAX_CATEGORIES`` category
  preferences (explicit ones first, then inferred ones by confidence: the profile's order);
  ``spend=<bucket>`` from the total of the shopper's orders that were not cancelled (``none``, ``low``
  under ``SPEND_BUCKETS[0]``, ``mid`` under ``SPEND_BUCKETS[1]``, else ``high``, in the shop's currency);
  ``recency=<bucket>`` from the days since the latest such order (``never``, ``30d``, ``90d``, ``365d``,
  ``older``); ``lang=<code>`` from the profile's ``language`` (or ``locale``) attribute when it has one.

**Model**: for offer ``a``, ``A_a = ridge * I + sum x x^T`` and ``b_a = sum r x`` over the showings of ``a``
(``x`` the shopper's features, ``r`` 1 for a conversion). The score of ``a`` for features ``x`` is
``theta_a . x + alpha * sqrt(x^T A_a^-1 x)`` with ``theta_a = A_a^-1 b_a``: the estimated rate plus a bonus
that shrinks as ``a`` is shown to shoppers like this one.

**Choice and propensity**: LinUCB's argmax is deterministic, so a logged propensity of 1 would make the log
useless for off-policy evaluation. With probability ``epsilon`` an eligible offer is drawn uniformly,
otherwise the best-scoring one (ties broken at random). The logged propensity is the exact probability of
the shown offer: ``(1 - epsilon) / ties + epsilon / K`` for a best one, ``epsilon / K`` for any other.

**State**: features and rewards are binary, so ``A_a`` and ``b_a`` are integer counts: how often features
``i`` and ``j`` were on together when ``a`` was shown, and how many of those showings converted. They live
in the bandit's own table (``bandit_arms``) as rows keyed ``linucb|<i>|<j>`` (see :func:`pair_key`),
changed by the same atomic increments as the Thompson counts: every replica shares them, and any policy's
showings teach LinUCB (its regression does not care which policy picked the offer).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from assistant.personalization.offer_bandit import Choice, ChooserBase, OfferChooser, OfferSelector, build_policy

if TYPE_CHECKING:
    import numpy as np

    from assistant.records import CustomerProfile
    from assistant.settings import OffersSettings
    from assistant.store.bandit_state import BanditStore

BIAS = "bias"
MAX_CATEGORIES = 3
SPEND_BUCKETS = (100.0, 500.0)
RECENCY_DAYS = ((30, "30d"), (90, "90d"), (365, "365d"))
KEY_PREFIX = "linucb|"
_SLUG = re.compile(r"[^\w]+")


def _slug(value: str) -> str:
    """Lower case, runs of anything but letters and digits (any script) as one ``-``, at most 40 characters."""
    return _SLUG.sub("-", value.lower()).strip("-_")[:40] or "any"


def spend_bucket(total: float | None) -> str:
    if not total:
        return "none"
    low, mid = SPEND_BUCKETS
    return "low" if total < low else "mid" if total < mid else "high"


def recency_bucket(days: float | None) -> str:
    if days is None:
        return "never"
    return next((name for limit, name in RECENCY_DAYS if days <= limit), "older")


def context_features(profile: CustomerProfile | None, personalized: bool, now: datetime | None = None
                     ) -> tuple[str, ...]:
    """The shopper's binary features (see the module docstring), sorted; ``bias`` is always one of them."""
    if profile is None:
        return (BIAS, "tier=anonymous")
    features = {BIAS, f"tier={_slug(profile.tier)}"}
    if personalized:
        categories = [p.value for p in profile.preferences if p.kind == "category"]
        features.update(f"cat={_slug(c)}" for c in categories[:MAX_CATEGORIES])
        kept = [o for o in profile.orders if o.status != "cancelled"]
        features.add(f"spend={spend_bucket(sum(o.total or 0.0 for o in kept))}")
        latest = max((_utc(o.placed_at) for o in kept), default=None)
        at = _utc(now or datetime.now(UTC))
        features.add(f"recency={recency_bucket(None if latest is None else (at - latest).total_seconds() / 86400)}")
        language = profile.attributes.get("language") or profile.attributes.get("locale")
        if isinstance(language, str) and language.strip():
            features.add(f"lang={_slug(re.split(r'[-_]', language.strip())[0])}")
    return tuple(sorted(features))


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def pair_key(first: str, second: str) -> str:
    """The ``bandit_arms.segment`` of one cell of ``A`` (the pair in sorted order); ``(i, i)`` also holds ``b_i``."""
    i, j = sorted((first, second))
    return f"{KEY_PREFIX}{i}|{j}"


def parse_pair_key(key: str) -> tuple[str, str] | None:
    if not key.startswith(KEY_PREFIX):
        return None
    parts = key[len(KEY_PREFIX):].split("|")
    return (parts[0], parts[1]) if len(parts) == 2 else None


def feature_pairs(features: Iterable[str]) -> list[tuple[str, str]]:
    """Every unordered pair of the features, each with itself too: the cells of ``A`` one showing adds to."""
    names = sorted(set(features))
    return [(a, b) for n, a in enumerate(names) for b in names[n:]]


@dataclass(frozen=True)
class LinearArmStats:
    """One offer's counts: ``together[(i, j)]`` showings with features i and j on (i <= j), ``converted[i]``
    conversions of showings with feature i on."""

    together: Mapping[tuple[str, str], int] = field(default_factory=dict)
    converted: Mapping[str, int] = field(default_factory=dict)

    def matrices(self, names: Sequence[str], ridge: float) -> tuple[np.ndarray, np.ndarray]:
        """``A`` and ``b`` over ``names`` (features never counted have only the ridge)."""
        import numpy as np

        index = {n: k for k, n in enumerate(names)}
        a = np.eye(len(names)) * ridge
        b = np.zeros(len(names))
        for (i, j), n in self.together.items():
            if i in index and j in index:
                a[index[i], index[j]] += n
                if i != j:
                    a[index[j], index[i]] += n
        for i, n in self.converted.items():
            if i in index:
                b[index[i]] += n
        return a, b

    @property
    def names(self) -> set[str]:
        return {f for pair in self.together for f in pair} | set(self.converted)


def epsilon_greedy(scores: np.ndarray, epsilon: float, rng: np.random.Generator) -> tuple[int, float]:
    """The index chosen and its exact probability: uniform with probability ``epsilon``, else a best score
    (ties at random). One draw decides exploration, a second the arm, so a seeded run is repeatable."""
    import numpy as np

    k = len(scores)
    best = np.flatnonzero(scores >= scores.max() - 1e-12)
    explore = rng.random() < epsilon
    chosen = int(rng.integers(k)) if explore else int(best[rng.integers(len(best))])
    propensity = epsilon / k + ((1.0 - epsilon) / len(best) if chosen in best else 0.0)
    return chosen, float(propensity)


def linucb_scores(a_inv: np.ndarray, b: np.ndarray, x: np.ndarray, alpha: float) -> np.ndarray:
    """Upper confidence scores of every arm: ``a_inv`` (K, d, d), ``b`` (K, d), one context ``x`` (d,)."""
    import numpy as np

    theta = np.einsum("kij,kj->ki", a_inv, b)
    width = np.einsum("i,kij,j->k", x, a_inv, x)
    return np.asarray(theta @ x + alpha * np.sqrt(np.maximum(width, 0.0)))


class LinUCBPolicy:
    """Disjoint LinUCB with epsilon-greedy exploration (see the module docstring)."""

    name = "linucb"

    def __init__(self, alpha: float = 0.3, epsilon: float = 0.05, ridge: float = 1.0) -> None:
        if alpha < 0 or not 0 < epsilon <= 1 or ridge <= 0:
            raise ValueError("LinUCB needs alpha >= 0, 0 < epsilon <= 1 and ridge > 0")
        self.alpha, self.epsilon, self.ridge = alpha, epsilon, ridge

    def scores(self, arms: Sequence[str], features: Sequence[str], stats: Mapping[str, LinearArmStats]
               ) -> np.ndarray:
        import numpy as np

        empty = LinearArmStats()
        names = sorted(set(features).union(*(stats.get(a, empty).names for a in arms)))
        on = set(features)
        x = np.array([1.0 if n in on else 0.0 for n in names])
        a_inv, b = [], []
        for arm in arms:
            a_mat, b_vec = stats.get(arm, empty).matrices(names, self.ridge)
            a_inv.append(np.linalg.inv(a_mat))
            b.append(b_vec)
        return linucb_scores(np.array(a_inv), np.array(b), x, self.alpha)

    def choose(self, arms: Sequence[str], features: Sequence[str], stats: Mapping[str, LinearArmStats],
               rng: np.random.Generator) -> Choice:
        if not arms:
            raise ValueError("no arms to choose from")
        if len(arms) == 1:
            return Choice(arms[0], 1.0, self.name)
        chosen, propensity = epsilon_greedy(self.scores(arms, features, stats), self.epsilon, rng)
        return Choice(arms[chosen], propensity, self.name)


class LinearArmSource(Protocol):
    def linear_stats(self, offer_ids: Sequence[str]) -> dict[str, LinearArmStats]: ...


class ContextualOfferChooser(ChooserBase[LinearArmSource, LinUCBPolicy]):
    """Picks the offer with LinUCB over the shopper's features; the counts come from the store on every call."""

    def choose(self, segment: str, offers: Sequence[Mapping[str, Any]], features: Sequence[str] = ()
               ) -> list[Mapping[str, Any]]:
        """At most one offer, with a ``bandit`` entry (segment, propensity, policy, features, eligible arms)."""
        if not offers:
            return []
        by_id = {str(o["id"]): o for o in offers}
        ids = list(by_id)
        context = tuple(features) or (BIAS,)
        stats = self.arms.linear_stats(ids)
        with self._lock:
            choice = self.policy.choose(ids, context, stats, self.rng)
        offer = dict(by_id[choice.arm])
        # 6 places: epsilon / K is exact, and off-policy evaluation divides by it
        offer["bandit"] = {"segment": segment, "propensity": round(choice.propensity, 6), "policy": choice.policy,
                           "features": list(context), "arms": ids}
        return [offer]


def build_offer_chooser(settings: OffersSettings, store: BanditStore, rng: np.random.Generator) -> OfferSelector:
    """The chooser ``offers.policy`` names: ``linucb`` here, ``thompson`` / ``uniform`` in ``offer_bandit``."""
    if settings.policy == "linucb":
        return ContextualOfferChooser(store, LinUCBPolicy(settings.linucb_alpha, settings.linucb_epsilon), rng)
    return OfferChooser(store, build_policy(settings.policy, settings.propensity_draws), rng)
