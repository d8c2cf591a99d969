"""The offer bandit: Thompson sampling with a seeded generator, its propensity, segments, and its counts in
the database (persisted across store instances; feedback for an offer never shown changes nothing)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.errors import NotFoundError
from assistant.personalization.offer_bandit import ArmStats, OfferChooser, ThompsonPolicy, UniformPolicy, segment_of
from assistant.records import ConsentState, CustomerProfile, Preference
from assistant.store import EventRecord, FixedClock, Stores, open_stores


def test_the_posterior_counts_conversions_against_showings() -> None:
    stats = ArmStats(shown=10, clicked=4, accepted=3, redeemed=1, conversions=3)

    assert (stats.alpha, stats.beta) == (4.0, 8.0)
    assert stats.mean == pytest.approx(4 / 12)


def test_a_seeded_generator_makes_the_choice_repeatable() -> None:
    stats = {"a": ArmStats(shown=20, conversions=5), "b": ArmStats(shown=20, conversions=6)}

    first = [ThompsonPolicy().choose(["a", "b"], stats, np.random.default_rng(3)) for _ in range(3)]

    assert len(set(first)) == 1


def test_the_propensity_is_a_probability_and_favours_the_better_arm() -> None:
    policy = ThompsonPolicy(draws=200)
    stats = {"good": ArmStats(shown=100, conversions=40), "bad": ArmStats(shown=100, conversions=5)}
    rng = np.random.default_rng(0)

    choices = [policy.choose(["good", "bad"], stats, rng) for _ in range(50)]

    assert all(0 < c.propensity <= 1 for c in choices)
    assert all(c.arm == "good" and c.propensity > 0.99 for c in choices)


def test_the_monte_carlo_propensity_estimates_the_probability_of_the_choice() -> None:
    # a: Beta(3, 1) after two showings and two conversions; b: Beta(1, 1), never shown.
    # P(a's draw > b's draw) = E[a's draw] = 3/4, since b's draw is uniform
    policy = ThompsonPolicy(draws=20_000)
    stats = {"a": ArmStats(shown=2, conversions=2), "b": ArmStats()}

    choice = policy.choose(["a", "b"], stats, np.random.default_rng(1))

    estimate = choice.propensity if choice.arm == "a" else 1 - choice.propensity
    assert estimate == pytest.approx(0.75, abs=0.02)


def test_one_eligible_offer_is_shown_with_certainty_and_uniform_is_one_over_k() -> None:
    rng = np.random.default_rng(0)

    assert ThompsonPolicy().choose(["only"], {}, rng).propensity == 1.0
    assert UniformPolicy().choose(["a", "b", "c", "d"], {}, rng).propensity == 0.25


def profile(tier: str = "gold", categories: tuple[str, ...] = ("running shoes",)) -> CustomerProfile:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    prefs = tuple(Preference(i, "c1", "category", c, "explicit", "import", 1.0, 1, at, at)
                  for i, c in enumerate(categories))
    return CustomerProfile("c1", "Ann Lee", tier, 0, ConsentState(), preferences=prefs)


def test_the_segment_is_the_tier_and_the_main_preferred_category() -> None:
    assert segment_of(profile(), personalized=True) == "gold/running-shoes"
    assert segment_of(profile(categories=()), personalized=True) == "gold/any"
    assert segment_of(profile(), personalized=False) == "gold/any"
    assert segment_of(None, personalized=False) == "anonymous/any"


# the counts in the database -------------------------------------------------------------------------
@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bandit.db'}"


@pytest.fixture
def stores(db_url: str, customer_record: Any) -> Iterator[Stores]:
    opened = open_stores(db_url, clock=FixedClock())
    opened.customers.upsert_from_record(customer_record("c1"), "test")
    yield opened
    opened.close()


def shown(stores: Stores, offer_id: str = "runner15", segment: str = "gold/running-shoes") -> EventRecord:
    stores.bandit.record_shown(segment, offer_id)
    return stores.events.add(EventRecord(kind="offer_shown", customer_id="c1", payload={
        "offer_id": offer_id, "code": offer_id.upper(), "segment": segment, "propensity": 0.5}))


def test_counts_survive_a_restart(stores: Stores, db_url: str) -> None:
    shown(stores)
    stores.bandit.record_feedback("c1", "runner15", "accepted")

    again = open_stores(db_url)
    try:
        stats = again.bandit.stats("gold/running-shoes", ["runner15"])
    finally:
        again.close()

    assert stats == {"runner15": ArmStats(shown=1, accepted=1, conversions=1)}


def test_feedback_for_an_offer_never_shown_is_refused_and_changes_nothing(stores: Stores) -> None:
    shown(stores, "runner15")
    before = (stores.bandit.all(), stores.events.list_for("c1"))

    with pytest.raises(NotFoundError) as refused:
        stores.bandit.record_feedback("c1", "trail20", "accepted")

    assert "never shown to you" in refused.value.user_message
    assert (stores.bandit.all(), stores.events.list_for("c1")) == before


def test_one_showing_converts_at_most_once(stores: Stores) -> None:
    shown(stores)

    accepted = stores.bandit.record_feedback("c1", "runner15", "accepted")
    redeemed = stores.bandit.record_feedback("c1", "runner15", "redeemed", order_id="c1-o1")
    again = stores.bandit.record_feedback("c1", "runner15", "accepted")

    assert (accepted.converted, redeemed.converted, again.recorded) == (True, False, False)
    assert stores.bandit.stats("gold/running-shoes", ["runner15"])["runner15"] == \
        ArmStats(shown=1, accepted=1, redeemed=1, conversions=1)
    kinds = [e.kind for e in stores.events.list_for("c1")]
    assert kinds == ["offer_shown", "offer_accepted", "offer_redeemed"]


def test_a_new_showing_can_convert_again(stores: Stores) -> None:
    shown(stores)
    stores.bandit.record_feedback("c1", "runner15", "accepted")
    shown(stores)

    assert stores.bandit.record_feedback("c1", "runner15", "accepted").converted
    assert stores.bandit.stats("gold/running-shoes", ["runner15"])["runner15"].conversions == 2


def test_the_chooser_reads_the_posteriors_from_the_store_and_logs_the_segment(stores: Stores) -> None:
    for _ in range(30):
        shown(stores, "runner15")
        stores.bandit.record_feedback("c1", "runner15", "accepted")
    for _ in range(30):
        shown(stores, "trail20")
    chooser = OfferChooser(stores.bandit, ThompsonPolicy(), np.random.default_rng(5))
    offers = [{"id": "runner15", "code": "RUNNER15"}, {"id": "trail20", "code": "TRAIL20"}]

    [picked] = chooser.choose("gold/running-shoes", offers)

    assert picked["id"] == "runner15"
    assert picked["bandit"]["segment"] == "gold/running-shoes" and picked["bandit"]["policy"] == "thompson"
    assert 0.99 < picked["bandit"]["propensity"] <= 1
