"""The hybrid recommender on a small catalogue: hard filters, the signals, and the reasons it gives."""

from datetime import UTC, datetime
from typing import Any

import pytest

from assistant.personalization.recommender import POPULAR, Recommender
from assistant.records import ConsentState, CustomerProfile, Preference
from assistant.settings import RecommendSettings
from assistant.shop.catalog_index import CatalogIndex
from assistant.shop.purchase_signals import PurchaseSignals, SignalsCache
from assistant.turn.understanding import Understanding
from knowledge.embeddings import HashEmbedder

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ASK = Understanding(intent="recommendation")


class FakeKnowledge:
    """Just what the recommender reads: an embedder, and no stored vectors (it embeds the products)."""

    def __init__(self) -> None:
        self.embedder = HashEmbedder(dimensions=512)

    def vectors(self, kind: str) -> dict[str, list[float]]:
        return {}


def product(pid: str, name: str, category: str, price: float, *, brand: str = "Acme", stock: int = 5,
            sizes: tuple[str, ...] = (), rating: float = 4.0, reviews: int = 10, description: str = ""
            ) -> dict[str, Any]:
    variants = [{"id": f"{pid}-{s}", "options": {"size": s}, "stock": stock} for s in sizes]
    return {"id": pid, "name": name, "brand": brand, "category": category, "price": price, "min_price": price,
            "currency": "USD", "description": description or f"{name}, a {category.replace('-', ' ')} item.",
            "in_stock": stock > 0, "variants": variants, "rating": rating, "review_count": reviews, "tags": []}


CATALOG = CatalogIndex({p["id"]: p for p in [
    product("shoe-road", "Road Runner Shoe", "running-shoes", 90, brand="Stridewell", sizes=("9", "10")),
    product("shoe-trail", "Trail Runner Shoe", "running-shoes", 120, brand="Kestrel", sizes=("10",),
            description="Trail running shoe with lugs."),
    product("shoe-small", "Sprint Shoe", "running-shoes", 70, sizes=("7",)),
    product("shoe-gone", "Sold Out Shoe", "running-shoes", 60, stock=0, sizes=("10",)),
    product("tent", "Dome Tent", "camping", 250, rating=4.9, reviews=900),
    product("stove", "Camp Stove", "camping", 45, rating=4.8, reviews=800),
    product("mug", "Camp Mug", "camping", 12, rating=3.0, reviews=5),
    product("jacket", "Rain Jacket", "outerwear", 150, sizes=("M", "L")),
    product("sunscreen", "Sport Sunscreen", "skincare", 20, rating=4.7, reviews=700),
    product("balm", "Lip Balm", "skincare", 8, rating=4.0, reviews=20),
    product("scented", "Scented Body Lotion", "skincare", 15, rating=4.9, reviews=900,
            description="A richly scented lotion."),
]})


def pref(i: int, kind: str, value: str, origin: str = "explicit", confidence: float = 1.0) -> Preference:
    return Preference(i, "c1", kind, value, origin, "test", confidence, 1, NOW, NOW)  # type: ignore[arg-type]


def shopper(*prefs: Preference, personalization: bool = True) -> CustomerProfile:
    return CustomerProfile("c1", "Casey", "gold", 0, ConsentState(personalization=personalization),
                           preferences=tuple(prefs))


def recommender(signals: PurchaseSignals | None = None, **weights: Any) -> Recommender:
    settings = RecommendSettings(**weights)  # type: ignore[arg-type]
    return Recommender(FakeKnowledge(), CATALOG, (lambda: signals) if signals else None,  # type: ignore[arg-type]
                       settings, now=lambda: NOW)


def ids(recs: list[Any]) -> list[str]:
    return [r.product_id for r in recs]


# -- hard filters -----------------------------------------------------------------------------------
def test_only_products_in_stock_are_recommended() -> None:
    recs = recommender().recommend("running shoes", Understanding("recommendation", categories=("running-shoes",)),
                                   shopper(), True, k=10)

    assert "shoe-gone" not in ids(recs) and recs


def test_nothing_over_the_budget() -> None:
    recs = recommender().recommend("", ASK, shopper(pref(1, "budget", "under 100")), True, k=20)

    assert recs and all(CATALOG.products[r.product_id]["price"] <= 100 for r in recs)
    assert all("within your budget of $100" in r.reason for r in recs)


def test_an_asked_budget_wins_over_the_profile() -> None:
    ask = Understanding("recommendation", max_price=50)

    recs = recommender().recommend("", ask, shopper(pref(1, "budget", "under 300")), True, k=20)

    assert {CATALOG.products[r.product_id]["price"] <= 50 for r in recs} == {True}


def test_owned_products_are_not_recommended_again() -> None:
    recs = recommender().recommend("", ASK, shopper(pref(1, "category", "camping")), True, owned={"tent"}, k=10)

    assert "tent" not in ids(recs) and set(ids(recs)) == {"stove", "mug"}


def test_a_consumable_may_be_recommended_again_after_new_ones() -> None:
    recs = recommender(consumable_categories=["skincare"]).recommend("", ASK, shopper(pref(1, "category", "skincare")),
                                                                     True, owned={"sunscreen"}, k=10)

    assert "sunscreen" in ids(recs) and ids(recs)[-1] == "sunscreen"
    assert "time to restock" in recs[-1].reason


def test_consumable_categories_are_a_setting() -> None:
    recs = recommender(consumable_categories=[]).recommend("", ASK, shopper(pref(1, "category", "skincare")), True,
                                                           owned={"sunscreen"}, k=10)

    assert "sunscreen" not in ids(recs)


def test_the_shoppers_size_must_be_in_stock() -> None:
    recs = recommender().recommend("", ASK, shopper(pref(1, "category", "running-shoes"), pref(2, "size", "10")),
                                   True, k=10)

    assert set(ids(recs)) == {"shoe-road", "shoe-trail"}
    assert all("matches your stated size 10" in r.reason for r in recs)


def test_a_shoe_size_does_not_filter_jackets() -> None:
    recs = recommender().recommend("", ASK, shopper(pref(1, "category", "outerwear"), pref(2, "size", "10")),
                                   True, k=10)

    assert ids(recs) == ["jacket"]


def test_dislikes_are_left_out() -> None:
    recs = recommender().recommend("", ASK, shopper(pref(1, "category", "skincare"),
                                                    pref(2, "dislike", "scented products")), True, k=10)

    assert "scented" not in ids(recs) and recs


def test_an_opted_out_shopper_gets_popular_products_only() -> None:
    profile = shopper(pref(1, "category", "running-shoes"), pref(2, "size", "7"), personalization=False)

    recs = recommender().recommend("", ASK, profile, False, owned={"tent"}, k=3)

    assert all(r.reason == POPULAR for r in recs)
    assert ids(recs) == ids(recommender().popular(owned={"tent"}, k=3))
    assert not {"shoe-small"} & set(ids(recs))  # nothing from the profile: just what is popular


# -- signals and reasons ----------------------------------------------------------------------------
SIGNALS = PurchaseSignals.from_histories({
    "a": ["tent", "stove"], "b": ["tent", "stove"], "c": ["tent", "stove", "mug"], "d": ["jacket"], "e": ["mug"]})


def test_co_purchases_lead_with_a_reason() -> None:
    recs = recommender(SIGNALS).recommend("", ASK, shopper(pref(1, "category", "camping")), True,
                                          owned=["tent"], k=2)

    assert recs[0].product_id == "stove"
    assert recs[0].reason.startswith("popular with shoppers who bought Dome Tent")


def test_similar_to_a_past_purchase_says_so() -> None:
    recs = recommender(content_weight=1.0, copurchase_weight=0.0, popularity_weight=0.0).recommend(
        "", ASK, shopper(), True, owned=["shoe-road"], k=1)

    assert CATALOG.products[recs[0].product_id]["category"] == "running-shoes"
    assert recs[0].reason.startswith("because you bought Road Runner Shoe")


def test_a_liked_brand_is_named() -> None:
    recs = recommender().recommend("", ASK, shopper(pref(1, "category", "running-shoes"),
                                                    pref(2, "brand", "Kestrel")), True, k=1)

    assert recs[0].product_id == "shoe-trail" and "from Kestrel, a brand you like" in recs[0].reason


def test_an_inferred_size_is_named_as_mentioned() -> None:
    recs = recommender().recommend("", ASK, shopper(pref(1, "category", "running-shoes", "inferred", 0.6),
                                                    pref(2, "size", "10", "inferred", 0.7)), True, k=5)

    assert recs and all("in stock in size 10, the size you mentioned" in r.reason for r in recs)


def test_what_was_asked_counts_most() -> None:
    recs = recommender().recommend("a trail running shoe", Understanding("recommendation"), shopper(), True, k=1)

    assert recs[0].product_id == "shoe-trail" and recs[0].reason.startswith("matches what you asked for")


def test_purchase_signals_count_shoppers_and_leave_the_shoppers_own_basket_out() -> None:
    assert SIGNALS.buyers["tent"] == 3 and SIGNALS.together["tent"]["stove"] == 3
    assert SIGNALS.popularity("tent") == pytest.approx(1.0) and SIGNALS.popularity("jacket") < 1
    value, source = SIGNALS.copurchase("stove", ["tent", "jacket"])
    assert value > 0 and source == "tent"
    assert SIGNALS.copurchase("mug", ["mug"]) == (0.0, None)


def test_signals_are_computed_once_and_refreshed_on_demand() -> None:
    loads: list[int] = []

    def load() -> PurchaseSignals:
        loads.append(1)
        return SIGNALS

    cache = SignalsCache(load)
    cache.get()
    cache.get()
    assert len(loads) == 1
    cache.refresh()
    assert len(loads) == 2


def test_stale_signals_are_recomputed() -> None:
    now = [0.0]
    loads: list[int] = []
    cache = SignalsCache(lambda: loads.append(1) or SIGNALS, max_age_s=60, clock=lambda: now[0])

    cache.get()
    now[0] = 30
    cache.get()
    now[0] = 100
    cache.get()

    assert len(loads) == 2


def test_refresh_recomputes_the_signals() -> None:
    loads: list[int] = []
    cache = SignalsCache(lambda: loads.append(1) or SIGNALS)
    rec = Recommender(FakeKnowledge(), CATALOG, cache, now=lambda: NOW)  # type: ignore[arg-type]
    rec.popular(k=1)

    rec.refresh()

    assert len(loads) == 2 and rec.popular(k=1)
