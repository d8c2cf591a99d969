"""Learning a profile from chat: extraction by rules, evidence, contradiction, decay, explicit first, removal."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.personalization.preference_learning import PreferenceLearner, extract_preferences
from assistant.personalization.tastes import Tastes, effective_confidence, tastes_from
from assistant.settings import ProfileSettings
from assistant.shop.shop_import import demo_shop_path
from assistant.shop.shop_vocabulary import ShopVocabulary
from assistant.store import FixedClock, Stores, open_stores

CATEGORIES = ["audio", "backpacks", "bottoms", "camping", "hiking-boots", "kitchen", "outerwear", "running-shoes",
              "skincare", "tops"]
BRANDS = ["Stridewell", "Ridgeline", "Kestrel", "Halcyon Audio", "Fernleaf"]
START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
#: the demo shop's vocabulary, learned from its catalogue (colours, sizes, the words of its products and tags)
DEMO = ShopVocabulary.from_products(
    json.loads(line) for line in (demo_shop_path() / "products.jsonl").read_text().splitlines() if line.strip())


def extracted(message: str) -> set[tuple[str, str]]:
    return {(e.kind, e.value) for e in extract_preferences(message, CATEGORIES, BRANDS, DEMO)}


# -- extraction ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("message", "expected"), [
    ("I need running shoes under $100, size 10", {("category", "running-shoes"), ("size", "10"),
                                                  ("budget", "under 100")}),
    ("Do you have Ridgeline backpacks in green?", {("category", "backpacks"), ("brand", "Ridgeline"),
                                                  ("colour", "green")}),
    ("A jacket in size M please", {("category", "outerwear"), ("size", "M")}),
    ("Something for trail running", {("occasion", "trail running")}),
    ("Gear for a camping trip with the kids", {("category", "camping"), ("occasion", "camping trip")}),
    ("I'm going on a ski trip", {("occasion", "ski trip")}),
])
def test_each_kind_is_extracted(message: str, expected: set[tuple[str, str]]) -> None:
    assert extracted(message) == expected


@pytest.mark.parametrize(("message", "dislike"), [
    ("I don't like Stridewell", "Stridewell"),
    ("I hate scented products.", "scented products"),
    ("no black please", "black"),
    ("Not a fan of heavy boots", "heavy boots"),
    ("I really dislike hiking boots", "hiking-boots"),
    ("nothing made of synthetic fabrics", "synthetic fabrics"),
])
def test_dislikes_are_extracted_and_not_taken_as_likes(message: str, dislike: str) -> None:
    found = extracted(message)

    assert ("dislike", dislike) in found
    assert not any(kind != "dislike" and value.lower() in dislike.lower() for kind, value in found)


@pytest.mark.parametrize("message", ["no problem, thanks", "How long do I have to return something?",
                                     "no more than that", "Where is my order NW-100065?"])
def test_ordinary_messages_infer_nothing(message: str) -> None:
    assert extracted(message) == set()


def test_budget_takes_the_upper_bound() -> None:
    assert ("budget", "under 80") in extracted("a jacket for no more than $80")
    assert not any(kind == "budget" for kind, _ in extracted("tents over $200"))


def test_a_correction_is_marked_and_trusted_more() -> None:
    plain = extract_preferences("size 10", CATEGORIES, BRANDS, DEMO)[0]
    corrected = extract_preferences("Actually size 9", CATEGORIES, BRANDS, DEMO)[0]

    assert corrected.correction and not plain.correction
    assert corrected.confidence > plain.confidence


# -- applying to the profile ---------------------------------------------------------------------------
@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def stores(tmp_path: Path, clock: FixedClock) -> Iterator[Stores]:
    stores = open_stores(f"sqlite:///{tmp_path / 'prefs.db'}", clock=clock)
    for customer_id, personalization, preferences in (
            ("shopper", True, []), ("stated", True, [{"kind": "size", "value": "8.5"}]), ("optout", False, [])):
        stores.customers.upsert_from_record({
            "id": customer_id, "name": f"Shopper {customer_id}", "consent": {"personalization": personalization},
            "preferences": preferences, "orders": []}, "test")
    yield stores
    stores.close()


@pytest.fixture
def learner(stores: Stores, clock: FixedClock) -> PreferenceLearner:
    return PreferenceLearner(stores.customers, clock.now, ProfileSettings(half_life_days=30, contradiction_factor=0.5))


def learn(learner: PreferenceLearner, customer: str, message: str, turn: str = "t1") -> None:
    learner.learn(customer, turn, extract_preferences(message, CATEGORIES, BRANDS, DEMO))


def inferred(stores: Stores, customer: str, kind: str) -> dict[str, float]:
    return {p.value: p.confidence for p in stores.customers.list_preferences(customer)
            if p.kind == kind and p.origin == "inferred"}


def test_preferences_are_stored_with_their_turn_confidence_and_time(learner: PreferenceLearner,
                                                                     stores: Stores) -> None:
    learn(learner, "shopper", "I need running shoes under $100, size 10", turn="turn-42")

    prefs = {p.kind: p for p in stores.customers.list_preferences("shopper")}
    assert set(prefs) == {"category", "size", "budget"}
    assert all(p.origin == "inferred" and p.source == "turn:turn-42" and 0 < p.confidence < 1
               and p.created_at == START for p in prefs.values())


def test_repeated_evidence_raises_confidence(learner: PreferenceLearner, stores: Stores) -> None:
    learn(learner, "shopper", "Ridgeline backpacks?")
    first = inferred(stores, "shopper", "brand")["Ridgeline"]

    learn(learner, "shopper", "more Ridgeline please", turn="t2")

    pref = next(p for p in stores.customers.list_preferences("shopper") if p.kind == "brand")
    assert pref.confidence > first and pref.evidence_count == 2


def test_a_new_budget_lowers_the_old_one(learner: PreferenceLearner, stores: Stores) -> None:
    learn(learner, "shopper", "boots under $100")
    before = inferred(stores, "shopper", "budget")["under 100"]

    learn(learner, "shopper", "boots under $150", turn="t2")

    budgets = inferred(stores, "shopper", "budget")
    assert budgets["under 100"] == pytest.approx(before * 0.5)
    assert Tastes.of(stores.customers.get("shopper")).budget == 150


def test_actually_lowers_the_old_size_more(learner: PreferenceLearner, stores: Stores) -> None:
    learn(learner, "shopper", "running shoes in size 10")
    before = inferred(stores, "shopper", "size")["10"]

    learn(learner, "shopper", "actually size 9", turn="t2")

    sizes = inferred(stores, "shopper", "size")
    assert sizes["10"] == pytest.approx(before * 0.25) and sizes["9"] > sizes["10"]
    assert Tastes.of(stores.customers.get("shopper")).sizes == ("9",)


def test_another_sizing_system_is_no_contradiction(learner: PreferenceLearner, stores: Stores) -> None:
    learn(learner, "shopper", "running shoes in size 10")
    learn(learner, "shopper", "and a jacket in size M", turn="t2")

    sizes = inferred(stores, "shopper", "size")
    assert sizes["10"] == pytest.approx(0.7) and set(Tastes.of(stores.customers.get("shopper")).sizes) == {"10", "M"}


def test_disliking_what_was_inferred_as_liked_lowers_it(learner: PreferenceLearner, stores: Stores) -> None:
    learn(learner, "shopper", "Stridewell running shoes")
    before = inferred(stores, "shopper", "brand")["Stridewell"]

    learn(learner, "shopper", "I don't like Stridewell", turn="t2")

    assert inferred(stores, "shopper", "brand")["Stridewell"] == pytest.approx(before * 0.5)
    assert inferred(stores, "shopper", "dislike")["Stridewell"] > 0


def test_confidence_decays_with_age(learner: PreferenceLearner, stores: Stores, clock: FixedClock) -> None:
    learn(learner, "shopper", "Ridgeline backpacks")
    pref = next(p for p in stores.customers.list_preferences("shopper") if p.kind == "brand")

    clock.advance(days=30)

    assert effective_confidence(pref, clock.now(), 30) == pytest.approx(pref.confidence / 2)
    assert effective_confidence(pref, clock.now(), 15) == pytest.approx(pref.confidence / 4)
    assert Tastes.of(stores.customers.get("shopper"), clock.now(), 30, min_confidence=0.2).brands == ("Ridgeline",)
    clock.advance(days=60)
    assert Tastes.of(stores.customers.get("shopper"), clock.now(), 30, min_confidence=0.2).brands == ()


def test_new_evidence_restarts_the_decay(learner: PreferenceLearner, stores: Stores, clock: FixedClock) -> None:
    learn(learner, "shopper", "Ridgeline backpacks")
    clock.advance(days=60)

    learn(learner, "shopper", "Ridgeline again", turn="t2")

    pref = next(p for p in stores.customers.list_preferences("shopper") if p.kind == "brand")
    assert pref.updated_at == clock.now() and pref.evidence_count == 2
    assert 0.55 / 4 < pref.confidence < 0.55 + 0.55 / 4  # the decayed old evidence plus the new mention


def test_explicit_preferences_win_over_inferred_ones_of_the_same_kind(learner: PreferenceLearner,
                                                                       stores: Stores) -> None:
    learn(learner, "stated", "running shoes in size 10, and a jacket in size M")

    tastes = Tastes.of(stores.customers.get("stated"))
    assert "8.5" in tastes.sizes and "10" not in tastes.sizes  # the stated shoe size wins
    assert "M" in tastes.sizes  # a letter size is another kind of size: nothing stated there
    assert not tastes.is_inferred("size", "8.5") and tastes.is_inferred("size", "M")


def test_an_explicit_like_beats_an_inferred_dislike() -> None:
    from assistant.records import Preference

    def pref(i: int, kind: str, value: str, origin: str) -> Preference:
        return Preference(i, "c", kind, value, origin, "test", 1.0 if origin == "explicit" else 0.9, 1, START,  # type: ignore[arg-type]
                          START)

    tastes = tastes_from([pref(1, "brand", "Kestrel", "explicit"), pref(2, "dislike", "Kestrel", "inferred")])

    assert tastes.brands == ("Kestrel",) and tastes.dislikes == ()


def test_a_removed_preference_is_never_inferred_again(learner: PreferenceLearner, stores: Stores) -> None:
    learn(learner, "shopper", "Ridgeline backpacks")
    brand = next(p for p in stores.customers.list_preferences("shopper") if p.kind == "brand")
    stores.customers.remove_preference("shopper", brand.id)

    for turn in ("t2", "t3", "t4"):
        learn(learner, "shopper", "I love Ridgeline, only Ridgeline", turn=turn)

    assert "Ridgeline" not in inferred(stores, "shopper", "brand")
    assert "Ridgeline" not in Tastes.of(stores.customers.get("shopper")).brands


def test_nothing_is_learned_for_an_opted_out_shopper(learner: PreferenceLearner, stores: Stores) -> None:
    learn(learner, "optout", "I need running shoes under $100, size 10")

    assert stores.customers.list_preferences("optout") == []


def test_what_we_think_you_like_says_why_a_preference_is_not_used(learner: PreferenceLearner,
                                                                   stores: Stores) -> None:
    learn(learner, "stated", "running shoes in size 10")

    view = {(p["kind"], p["value"]): p for p in learner.view("stated")}

    assert view[("size", "8.5")]["origin"] == "explicit" and view[("size", "8.5")]["in_use"]
    assert view[("size", "10")]["note"] == "your stated preference comes first"
    assert view[("category", "running-shoes")]["source_turn"] == "t1"
