"""Which eligible offer to show: a per-segment Thompson-sampling bandit with a logged propensity.

(``offers.policy: linucb`` chooses with a contextual policy over profile features instead:
``assistant.personalization.contextual_bandit``.)

Eligibility is code (``assistant.personalization.offer_rules``); among the offers a shopper may see, the
policy picks one.

- **Context** is a *segment*: the shopper's tier and main preferred category (the first category
  preference of the profile: explicit ones come first, then inferred ones by confidence), e.g.
  ``gold/<category>``; ``gold/any`` without a category preference or without personalization.
- **Arms** are offers. Each (segment, offer) has a Beta posterior of its conversion rate:
  ``Beta(1 + conversions, 1 + shown - conversions)``, where a conversion is the first ``accepted`` or
  ``redeemed`` feedback for one showing of the offer (clicks are counted, but are not conversions).
- **Choice**: draw one sample per arm from its posterior, show the arm with the largest draw.
- **Propensity**: the probability that the policy picks that arm, estimated by Monte Carlo: the choice
  above is the first of ``draws`` (200) rows of posterior samples, and the propensity is the share of
  rows whose largest sample is the chosen arm (at least ``1/draws``, so it lies in (0, 1]). It is logged
  with the ``offer_shown`` event, so the log supports off-policy evaluation
  (``assistant.personalization.off_policy``, on the shop's log; ``offer_simulation`` on a simulated one).

The counts live in the database (``BanditStore``, table ``bandit_arms``) and change by atomic
increments, so every app replica reads and updates the same posteriors and nothing is lost on restart.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from assistant.errors import NotFoundError, ValidationError

if TYPE_CHECKING:  # numpy is imported where it is used: the store imports this module for ArmStats
    import numpy as np

    from assistant.records import CustomerProfile
    from assistant.store.bandit_state import FeedbackOutcome
    from assistant.store.stores import Stores

FEEDBACK_KINDS = ("clicked", "accepted", "redeemed")
CONVERSION_KINDS = ("accepted", "redeemed")


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "any"


def segment_of(profile: CustomerProfile | None, personalized: bool) -> str:
    """``tier/main-category`` of a shopper (see the module docstring)."""
    if profile is None:
        return "anonymous/any"
    category = "any"
    if personalized:
        category = next((_slug(p.value) for p in profile.preferences if p.kind == "category"), "any")
    return f"{_slug(profile.tier)}/{category}"


@dataclass(frozen=True)
class ArmStats:
    """Feedback counts of one (segment, offer) arm."""

    shown: int = 0
    clicked: int = 0
    accepted: int = 0
    redeemed: int = 0
    conversions: int = 0

    @property
    def alpha(self) -> float:
        return 1.0 + self.conversions

    @property
    def beta(self) -> float:
        return 1.0 + max(0, self.shown - self.conversions)

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


@dataclass(frozen=True)
class Choice:
    arm: str
    propensity: float
    policy: str


class OfferPolicy(Protocol):
    name: str

    def choose(self, arms: Sequence[str], stats: Mapping[str, ArmStats], rng: np.random.Generator) -> Choice:
        """Pick one of ``arms`` (non-empty) and say how likely that pick was."""
        ...


class ThompsonPolicy:
    """Thompson sampling on Beta posteriors; the propensity is estimated from ``draws`` posterior samples."""

    name = "thompson"

    def __init__(self, draws: int = 200) -> None:
        if draws < 1:
            raise ValueError("draws must be at least 1")
        self.draws = draws

    def choose(self, arms: Sequence[str], stats: Mapping[str, ArmStats], rng: np.random.Generator) -> Choice:
        if not arms:
            raise ValueError("no arms to choose from")
        if len(arms) == 1:
            return Choice(arms[0], 1.0, self.name)
        import numpy as np

        empty = ArmStats()
        alpha = np.array([stats.get(a, empty).alpha for a in arms])
        beta = np.array([stats.get(a, empty).beta for a in arms])
        return self.choose_from(arms, alpha, beta, rng)

    def choose_from(self, arms: Sequence[str], alpha: np.ndarray, beta: np.ndarray,
                    rng: np.random.Generator) -> Choice:
        """The same choice from arrays of posterior parameters (the simulator's fast path)."""
        samples = rng.beta(alpha, beta, size=(self.draws, len(arms)))
        winners = samples.argmax(axis=1)
        chosen = int(winners[0])  # the decision is the first draw; the others estimate its probability
        return Choice(arms[chosen], float((winners == chosen).mean()), self.name)


class UniformPolicy:
    """Every eligible offer equally likely: the exploration baseline (propensity ``1/len(arms)``)."""

    name = "uniform"

    def choose(self, arms: Sequence[str], stats: Mapping[str, ArmStats], rng: np.random.Generator) -> Choice:
        if not arms:
            raise ValueError("no arms to choose from")
        return Choice(arms[int(rng.integers(len(arms)))], 1.0 / len(arms), self.name)


def build_policy(name: str, draws: int = 200) -> OfferPolicy:
    match name:
        case "thompson":
            return ThompsonPolicy(draws)
        case "uniform":
            return UniformPolicy()
        case other:
            raise ValueError(f"unknown offer policy {other!r}: choose thompson or uniform (linucb: "
                             "contextual_bandit.build_offer_chooser)")


class ArmSource(Protocol):
    def stats(self, segment: str, offer_ids: Sequence[str]) -> dict[str, ArmStats]: ...


SourceT = TypeVar("SourceT")
PolicyT = TypeVar("PolicyT")


class ChooserBase(Generic[SourceT, PolicyT]):
    """What every offer chooser holds: where the arms' counts come from, its policy, and a random generator that
    is injected (seeded in tests) or fresh, with a lock that keeps it safe when turns run in threads."""

    def __init__(self, arms: SourceT, policy: PolicyT, rng: np.random.Generator | None = None) -> None:
        self.arms = arms
        self.policy = policy
        if rng is None:
            import numpy as np

            rng = np.random.default_rng()
        self.rng = rng
        self._lock = threading.Lock()


class OfferChooser(ChooserBase[ArmSource, OfferPolicy]):
    """Picks the offer a shopper is shown; the posteriors come from the store on every call."""

    def choose(self, segment: str, offers: Sequence[Mapping[str, Any]], features: Sequence[str] = ()
               ) -> list[Mapping[str, Any]]:
        """At most one offer, as a dict with a ``bandit`` entry (segment, propensity, policy, and for off-policy
        evaluation and the contextual policy's counts: the shopper's ``features`` and the eligible ``arms``)."""
        if not offers:
            return []
        by_id = {str(o["id"]): o for o in offers}
        ids = list(by_id)
        stats = self.arms.stats(segment, ids)
        with self._lock:
            choice = self.policy.choose(ids, stats, self.rng)
        offer: dict[str, Any] = dict(by_id[choice.arm])
        offer["bandit"] = {"segment": segment, "propensity": round(choice.propensity, 4), "policy": choice.policy,
                           "features": list(features), "arms": ids}
        return [offer]


class OfferSelector(Protocol):
    """What a turn asks of an offer policy: this ``OfferChooser`` or the contextual one
    (``assistant.personalization.contextual_bandit.ContextualOfferChooser``)."""

    def choose(self, segment: str, offers: Sequence[Mapping[str, Any]], features: Sequence[str] = ()
               ) -> list[Mapping[str, Any]]: ...


def record_offer_feedback(stores: Stores, customer_id: str, offer_id: str, kind: str,
                          order_id: str | None = None) -> FeedbackOutcome:
    """A shopper's feedback on an offer they were shown: ``clicked``, ``accepted`` or ``redeemed`` (in one
    of their own orders, placed after the offer was shown). Returns the store's ``FeedbackOutcome``.

    The feedback attaches to the latest showing of the offer to this shopper (``BanditStore.record_feedback``),
    so a redemption counts only for an order placed after that showing: an order placed before it (or at the
    same instant) could not have used the offer, and rewarding the bandit for it would teach it that showing
    the offer converts when it did not.

    Raises ``ValidationError`` for an unknown kind, an order id with other feedback than ``redeemed``,
    ``redeemed`` without an order id, or an order placed before the offer was shown; ``NotFoundError`` for an
    order that is not theirs or an offer never shown to them. Then nothing is recorded and the bandit is
    unchanged.
    """
    if kind not in FEEDBACK_KINDS:
        raise ValidationError(f"unknown offer feedback {kind!r}",
                              user_message=f"Feedback kind must be one of {', '.join(FEEDBACK_KINDS)}.")
    if order_id is not None and kind != "redeemed":
        raise ValidationError("order_id given for feedback other than redeemed",
                              user_message="An order id only goes with 'redeemed' feedback.")
    if kind == "redeemed":
        if order_id is None:
            raise ValidationError("redeemed feedback without an order id",
                                  user_message="'redeemed' feedback needs the id of the order the offer was "
                                               "used in.")
        order = stores.orders.get(customer_id, order_id)
        if order is None:
            raise NotFoundError(f"order {order_id!r} is not one of {customer_id}'s orders",
                                user_message=f"Order {order_id!r} is not one of your orders.")
        shown_at = latest_showing_time(stores, customer_id, offer_id)
        if shown_at is not None and not _utc(order.placed_at) > shown_at:
            raise ValidationError(
                f"order {order_id!r} was placed at {order.placed_at.isoformat()}, not after offer {offer_id!r} "
                f"was shown to {customer_id} at {shown_at.isoformat()}",
                user_message=f"Order {order_id!r} was placed before the offer {offer_id!r} was shown to you, so "
                             "it cannot have redeemed it.")
        # never shown (shown_at None): the store refuses it with its NotFoundError, nothing recorded
    return stores.bandit.record_feedback(customer_id, offer_id, kind, order_id)


def latest_showing_time(stores: Stores, customer_id: str, offer_id: str) -> datetime | None:
    """When ``offer_id`` was last shown to this shopper (the showing feedback attaches to); None if never."""
    times = [_utc(e.created_at) for e in stores.events.list_for(customer_id, ["offer_shown"])
             if e.created_at is not None and str(e.payload.get("offer_id")) == offer_id]
    return max(times) if times else None


def _utc(at: datetime) -> datetime:
    """An aware time in UTC; a naive one is taken to be UTC already (as the store keeps times)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
