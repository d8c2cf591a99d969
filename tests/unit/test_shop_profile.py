"""Each shop is itself: name, currency and locale come from the shop folder's shop.json (stored in the database
with the shop), a neutral default without one, or the settings; replies and amounts use them. Shops made here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assistant.components import Components, build_assistant, build_components
from assistant.config.loading import load_settings
from assistant.domain import DoneEvent, ShopperIdentity
from assistant.errors import ConfigError
from assistant.llm import FakeChatModel
from assistant.records import UNNAMED_SHOP, ShopProfile, money
from assistant.shop.shop_identity import main_currency, read_shop_file
from assistant.store import FixedClock, build_engine, head_revision, migrate, session_factory
from assistant.store.shop_profiles import ShopProfileStore
from assistant.turn.answer_nodes import compose_node
from assistant.turn.compose import fallback_reply
from assistant.turn.facts import Facts
from assistant.turn.state import TurnState

TEAS = [
    {"id": "T-1", "name": "Iron Goddess Oolong", "category": "oolong-tea", "description": "A roasted oolong tea.",
     "price": 18.5, "currency": "EUR", "stock": 4},
    {"id": "T-2", "name": "Morning Mist Sencha", "category": "green-tea", "description": "A steamed green tea.",
     "price": 12.0, "currency": "EUR", "stock": 9},
    {"id": "T-3", "name": "Clay Teapot", "category": "teaware", "description": "A small clay teapot.",
     "price": 1250.0, "currency": "JPY", "stock": 2},
]
POLICY = "# Delivery\n\n## Parcels\n\nParcels leave our warehouse within 2 working days.\n"


def write_shop(root: Path, products: list[dict[str, Any]] = TEAS, shop: dict[str, Any] | str | None = None,
               customers: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "products.jsonl").write_text("\n".join(json.dumps(p) for p in products))
    (root / "policies").mkdir(exist_ok=True)
    (root / "policies" / "delivery.md").write_text(POLICY)
    if customers:
        (root / "customers.jsonl").write_text(json.dumps({"id": "k1", "name": "Ines Duarte"}))
    if shop is not None:
        (root / "shop.json").write_text(shop if isinstance(shop, str) else json.dumps(shop))
    return root


def make_components(tmp_path: Path, **app: Any) -> Components:
    settings = load_settings(["test"], env={}, overrides={
        "app": {"data_dir": str(tmp_path / "data"), **app},
        "knowledge": {"collection_prefix": f"s{uuid.uuid4().hex[:8]}_"}, "embeddings": {"dimensions": 1024}})
    return build_components(settings)


@pytest.fixture
def components(tmp_path: Path) -> Iterator[Components]:
    built = make_components(tmp_path)
    yield built
    built.stores.close()


def shop_report(reports: list[Any]) -> Any:
    return next((r for r in reports if r.kind == "shop"), None)


# importing a shop folder ---------------------------------------------------------------------------
def test_a_folder_with_shop_json_gives_its_name_currency_and_locale(components: Components, tmp_path: Path) -> None:
    root = write_shop(tmp_path / "lantern", shop={"name": "Lantern Tea House", "currency": "EUR",
                                                  "locale": "de-DE"})

    first = components.ingest_shop(root)
    again = components.ingest_shop(root)

    profile = components.shop_profile
    assert (profile.name, profile.currency, profile.locale, profile.source) == (
        "Lantern Tea House", "EUR", "de_DE", "shop.json")
    assert profile.origin == "lantern" and profile.called == "Lantern Tea House"
    assert shop_report(first).imported == 1 and shop_report(again).skipped == 1
    assert components.stores.shop.get() == profile  # stored: every process reads the same


def test_a_folder_without_shop_json_is_unnamed_with_the_catalogues_main_currency(components: Components,
                                                                                tmp_path: Path) -> None:
    yen = [{**p, "currency": "JPY"} for p in TEAS[:2]] + TEAS[2:]
    components.ingest_shop(write_shop(tmp_path / "named", shop={"name": "Lantern Tea House"}))

    reports = components.ingest_shop(write_shop(tmp_path / "imported-shop", products=yen))

    profile = components.shop_profile
    assert (profile.name, profile.currency, profile.locale, profile.source) == ("", "JPY", "en", "default")
    assert profile.called == UNNAMED_SHOP == "our shop" and "imported-shop" not in profile.called
    assert profile.title("Concierge") == "Concierge"
    assert shop_report(reports).updated == 1  # a whole shop replaces the previous shop's name


def test_nothing_imported_yet_is_the_neutral_default(components: Components) -> None:
    profile = components.shop_profile

    assert profile == ShopProfile() and profile.called == "our shop"
    assert "Northwind" not in profile.called


def test_a_folder_of_more_policies_keeps_the_shops_profile(components: Components, tmp_path: Path) -> None:
    components.ingest_shop(write_shop(tmp_path / "lantern", shop={"name": "Lantern Tea House", "currency": "EUR"}))
    extra = tmp_path / "more-policies"
    (extra / "policies").mkdir(parents=True)
    (extra / "policies" / "gifts.md").write_text("# Gifts\n\nWe wrap gifts for free.\n")

    reports = components.ingest_shop(extra)

    assert shop_report(reports) is None
    assert components.shop_profile.name == "Lantern Tea House"


@pytest.mark.parametrize(("text", "problem"), [
    ('{"name": "Lantern", "currency": "EURO"}', "does not match"),
    ('{"name": "Lantern", "currency": "XYZ"}', "unknown currency 'XYZ'"),
    ('{"name": "Lantern", "locale": "zz_QQ"}', "unknown locale"),
    ('{"name": "Lantern", "owner": "me"}', "Additional properties"),
    ('{"name": "Lantern"', "Expecting"),
    ('["Lantern"]', "one JSON object"),
])
def test_a_bad_shop_json_fails_its_line_and_changes_nothing(components: Components, tmp_path: Path, text: str,
                                                            problem: str) -> None:
    components.ingest_shop(write_shop(tmp_path / "lantern", shop={"name": "Lantern Tea House"}))

    reports = components.ingest_shop(write_shop(tmp_path / "broken", shop=text))

    report = shop_report(reports)
    assert report is not None and report.failed == 1 and problem in str(report.errors[0])
    assert all(r.ok for r in reports if r.kind != "shop")  # the rest of the folder still imports
    assert components.shop_profile.name == "Lantern Tea House"


def test_a_folder_with_only_shop_json_imports_it(components: Components, tmp_path: Path) -> None:
    root = tmp_path / "profile-only"
    root.mkdir()
    (root / "shop.json").write_text('{"name": "Lantern Tea House", "currency": "GBP"}')

    reports = components.ingest_shop(root)

    assert [r.kind for r in reports] == ["shop"] and reports[0].imported == 1
    assert (components.shop_profile.name, components.shop_profile.currency) == ("Lantern Tea House", "GBP")


def test_the_demo_shop_is_northwind_in_dollars() -> None:
    from assistant.shop.shop_import import demo_shop_path

    fields, error = read_shop_file(demo_shop_path() / "shop.json")

    assert error is None and fields == {"name": "Northwind Outfitters", "currency": "USD", "locale": "en_US"}


def test_the_main_currency_is_the_most_common_one() -> None:
    assert main_currency(["EUR", "GBP", "EUR", ""]) == "EUR"
    assert main_currency(["GBP", "EUR"]) == "EUR"  # a tie: alphabetical, so the same every time
    assert main_currency([]) is None


# settings ----------------------------------------------------------------------------------------
def test_settings_override_the_imported_profile(tmp_path: Path) -> None:
    components = make_components(tmp_path, shop_name="Harbour Teas", shop_currency="gbp", shop_locale="en-gb")
    try:
        components.ingest_shop(write_shop(tmp_path / "lantern", shop={"name": "Lantern Tea House",
                                                                      "currency": "EUR"}))

        profile = components.shop_profile
    finally:
        components.stores.close()

    assert (profile.name, profile.currency, profile.locale) == ("Harbour Teas", "GBP", "en_GB")


@pytest.mark.parametrize(("field", "value"), [("shop_currency", "XYZ"), ("shop_locale", "zz_QQ")])
def test_a_bad_shop_setting_is_a_config_error_naming_it(field: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"app.{field}"):
        load_settings(["test"], env={}, overrides={"app": {field: value}})


def test_the_default_settings_name_no_shop() -> None:
    app = load_settings(["test"], env={}).app

    assert (app.shop_name, app.shop_currency, app.shop_locale) == ("", "", "")


# replies and amounts -----------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "currency", "locale", "written"), [
    (1234.5, "USD", None, "$1,234.50"),
    (18.5, "EUR", None, "€18.50"),
    (18.5, "EUR", "de_DE", "€18.50"),  # English digits: the replies are English
    (1250.0, "JPY", None, "¥1,250"),  # no minor unit
    (12.0, "GBP", "en_GB", "£12.00"),
    (12.0, "CAD", None, "CA$12.00"),
    (12.0, "CAD", "en_CA", "$12.00"),
    (12.0, "USD", "en_CA", "US$12.00"),
    (12.0, "CHF", None, "CHF 12.00"),
    (12.0, "XXZ", None, "XXZ 12.00"),
    (-5.0, "USD", None, "-$5.00"),
    (None, "EUR", None, "unknown"),
])
def test_amounts_are_written_in_their_currency(value: float | None, currency: str, locale: str | None,
                                               written: str) -> None:
    assert money(value, currency, locale) == written


def test_the_fallback_reply_names_the_shop_it_is_given() -> None:
    nothing = Facts(question="Do you sell bicycles?", intent="product")

    assert "in Lantern Tea House's information" in fallback_reply(nothing, "Lantern Tea House")
    assert "in our shop's information" in fallback_reply(nothing, ShopProfile().called)


def test_a_turn_with_no_facts_names_the_imported_shop(components: Components, tmp_path: Path) -> None:
    components.ingest_shop(write_shop(tmp_path / "lantern", shop={"name": "Lantern Tea House", "currency": "EUR"}))
    service = build_assistant(components, llm=FakeChatModel())
    state = TurnState(turn_id="t1", session_id="s1", customer_id=None, message="Do you sell bicycles?",
                      facts=Facts(question="Do you sell bicycles?", intent="product"))

    update = compose_node(state, service.deps, lambda _event: None)

    assert service.deps.shop == components.shop_profile
    assert "Lantern Tea House's information" in update["reply"] and "Northwind" not in update["reply"]


def test_an_unnamed_shops_reply_lists_products_in_their_own_currency(components: Components,
                                                                     tmp_path: Path) -> None:
    components.ingest_shop(write_shop(tmp_path / "imported-shop"))
    llm = FakeChatModel()
    llm.enqueue(["We have a lovely tea for you."])  # names no price: replaced by one built from the facts
    service = build_assistant(components, llm=llm, now=lambda: datetime(2026, 1, 5, tzinfo=UTC))

    events = list(service.respond(ShopperIdentity("k1"), None, "How much is the Iron Goddess Oolong tea?"))

    done = events[-1]
    assert isinstance(done, DoneEvent)
    assert "€18.50" in done.reply and "$" not in done.reply and "EUR" not in done.reply


# the store ---------------------------------------------------------------------------------------
@pytest.fixture
def profile_store(tmp_path: Path) -> Iterator[ShopProfileStore]:
    engine = build_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    migrate(engine)
    yield ShopProfileStore(session_factory(engine), FixedClock())
    engine.dispose()


def test_the_store_keeps_one_profile_and_says_what_changed(profile_store: ShopProfileStore) -> None:
    assert profile_store.get() is None and head_revision() == "0012"
    lantern = ShopProfile("Lantern Tea House", "EUR", "de_DE", "shop.json", "lantern")

    outcomes = [profile_store.put(lantern), profile_store.put(lantern),
                profile_store.put(ShopProfile(currency="JPY", origin="imported-shop"))]

    assert outcomes == ["imported", "unchanged", "updated"]
    stored = profile_store.get()
    assert stored is not None and stored.updated_at is not None and stored.updated_at.tzinfo is not None
    assert (stored.name, stored.currency, stored.locale, stored.source, stored.origin) == (
        "", "JPY", "en", "default", "imported-shop")
