"""The Chinese demo shop (issue 15, item 6; the data of item 7): 山栖家居户外 in ``knowledge/demo_zh`` is big enough,
Chinese throughout, imports without an error, is what ``app.demo_shop: demo_zh`` loads (and signs in), and its
generator reproduces it byte for byte. Its eval questions quote facts its policies state."""

from __future__ import annotations

import importlib.util
import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from assistant.components import Components, build_components
from assistant.config.loading import load_settings
from assistant.errors import ConfigError
from assistant.evaluation.shop_eval import load_policy_questions
from assistant.settings import AppSettings
from assistant.shop.shop_import import DEMO_SHOPS, demo_shop_path, load_offers
from knowledge.importing import ImportReport, schema_errors

ROOT = Path(__file__).resolve().parents[2]
ZH = demo_shop_path("demo_zh")
NORTHWIND = demo_shop_path()


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


PRODUCTS = _jsonl(ZH / "products.jsonl")
CUSTOMERS = _jsonl(ZH / "customers.jsonl")
POLICIES = sorted((ZH / "policies").glob("*.md"))
CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese(text: str) -> bool:
    """Written in Chinese: CJK characters, at least twice as many as Latin letters (a few such as USB-C, IPX4 or an
    e-mail address are fine; an English sentence is not)."""
    cjk, latin = len(CJK.findall(text)), len(re.findall(r"[A-Za-z]", text))
    return cjk > 0 and cjk >= 2 * latin


@pytest.fixture(scope="module")
def zh_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Components, list[ImportReport]]]:
    """The app's components on the test profile's fakes (hash embeddings, in-memory Chroma, temp SQLite) with
    ``app.demo_shop: demo_zh``, the demo loaded as on a first start."""
    settings = load_settings(["test"], env={}, overrides={
        "app": {"data_dir": str(tmp_path_factory.mktemp("demo-zh")), "demo_shop": "demo_zh"},
        "knowledge": {"collection_prefix": f"z{uuid.uuid4().hex[:8]}_"}, "embeddings": {"dimensions": 1024},
        "security": {"demo_sign_in": True}})
    components = build_components(settings)
    reports = components.load_demo_if_empty()
    assert reports is not None
    yield components, reports
    components.stores.close()


# ---- the setting --------------------------------------------------------------------------------------------
def test_the_setting_names_every_bundled_demo_shop_and_defaults_to_the_english_demo() -> None:
    annotation = AppSettings.model_fields["demo_shop"].annotation

    assert set(getattr(annotation, "__args__", ())) == set(DEMO_SHOPS)
    assert load_settings(env={}).app.demo_shop == "demo" and NORTHWIND.name == "demo"
    assert load_settings(env={"CONCIERGE_APP__DEMO_SHOP": "demo_zh"}).app.demo_shop == "demo_zh"
    assert ZH == ROOT / "knowledge" / "demo_zh"
    with pytest.raises(ConfigError, match="demo_shop"):
        load_settings(env={"CONCIERGE_APP__DEMO_SHOP": "klingon"})
    with pytest.raises(ValueError, match="klingon"):
        demo_shop_path("klingon")


def test_app_demo_shop_zh_loads_the_chinese_shop_on_first_start(zh_shop: tuple[Components, list[ImportReport]]
                                                                ) -> None:
    zh_components, loaded = zh_shop
    reports = {r.kind: r for r in loaded}
    knowledge = zh_components.knowledge

    summaries = [r.summary() for r in reports.values()]
    assert all(r.ok and r.failed == 0 and not r.notices for r in reports.values()), summaries
    assert (reports["catalog"].imported, reports["policies"].imported, reports["customers"].imported,
            reports["offers"].imported) == (len(PRODUCTS), 5, 15, len(load_offers(ZH / "offers.json")[0]))
    assert len(knowledge.existing("products", "demo_zh/catalog")) == len(PRODUCTS)
    assert not knowledge.existing("products", "demo/catalog")  # Northwind is not loaded beside it
    assert set(zh_components.stores.customers.list_ids()) == {c["id"] for c in CUSTOMERS}
    profile = zh_components.stores.shop.get()
    assert profile is not None and profile.name == "山栖家居户外"


def test_the_demo_sign_in_signs_in_the_chinese_shops_customers(zh_shop: tuple[Components, list[ImportReport]]
                                                               ) -> None:
    from ui.shopper_access import ShopperAccess

    zh_components, _ = zh_shop
    access = ShopperAccess(zh_components.settings.security, zh_components.privacy)

    assert [p.id for p in access.demo_customers(100)] == sorted(c["id"] for c in CUSTOMERS)
    assert access.identity_of(access.issue("C101")) is not None


def test_customer_ids_differ_from_northwinds() -> None:
    """The demo sign-in knows every bundled shop's customers by id: the shops must not share one."""
    assert not {c["id"] for c in CUSTOMERS} & {c["id"] for c in _jsonl(NORTHWIND / "customers.jsonl")}


# ---- the data -----------------------------------------------------------------------------------------------
def test_forty_products_and_more_with_variants_categories_and_brands() -> None:
    assert len(PRODUCTS) >= 40 and all(schema_errors(p, "product") == [] for p in PRODUCTS)
    assert len({p["id"] for p in PRODUCTS}) == len(PRODUCTS)
    assert len({p["category"] for p in PRODUCTS}) >= 6 and len({p["brand"] for p in PRODUCTS}) >= 5
    assert all(p["variants"] and p["attributes"] and p["currency"] == "CNY" for p in PRODUCTS)
    with_options = [p for p in PRODUCTS if any(v["options"] for v in p["variants"])]
    assert len(with_options) >= 40
    keys = {k for p in PRODUCTS for v in p["variants"] for k in v["options"]}
    assert {"颜色", "尺码"} <= keys and all(chinese(k) for k in keys)
    assert any("price" in v for p in PRODUCTS for v in p["variants"])  # variants with their own price
    sold_out = [p for p in PRODUCTS if all(v["stock"] == 0 for v in p["variants"])]
    assert len(sold_out) >= 3 and sum(v["stock"] == 0 for p in PRODUCTS for v in p["variants"]) > len(sold_out)


def test_five_policies_fifteen_customers_with_orders_and_offers() -> None:
    statuses = Counter(o["status"] for c in CUSTOMERS for o in c["orders"])
    offers, errors = load_offers(ZH / "offers.json")

    assert len(POLICIES) == 5
    assert len(CUSTOMERS) == 15 and all(c["orders"] for c in CUSTOMERS)
    assert all(schema_errors(c, "customer") == [] for c in CUSTOMERS)
    assert {"pending", "processed", "shipped", "delivered"} <= set(statuses)
    assert all(o["tracking"]["number"] for c in CUSTOMERS for o in c["orders"] if o["status"] == "shipped")
    assert all(c["email"].endswith(("@example.com", "@example.cn")) for c in CUSTOMERS)
    assert errors == [] and len(offers) >= 5
    assert all(re.fullmatch(r"[A-Z0-9]+", o["code"]) and re.search(r"[A-Z]", o["code"]) and re.search(r"\d", o["code"])
               for o in offers)
    assert json.loads((ZH / "shop.json").read_text("utf-8")) == {"name": "山栖家居户外", "currency": "CNY",
                                                                "locale": "zh_CN"}


def test_every_product_policy_customer_and_offer_text_is_chinese() -> None:
    texts = [t for p in PRODUCTS for t in (p["name"], p["brand"], p["category"], p["description"], *p["tags"],
                                           *p["attributes"])]
    texts += [p.read_text("utf-8") for p in POLICIES]
    texts += [t for c in CUSTOMERS for t in (c["name"], c["address"]["line1"], c["address"]["city"],
                                             c["address"]["state"])]
    texts += [i["name"] for c in CUSTOMERS for o in c["orders"] for i in o["items"]]
    texts += [t for o in load_offers(ZH / "offers.json")[0] for t in (o["title"], o["description"])]

    assert [t for t in texts if not chinese(t)] == []


def test_orders_use_real_variants_and_follow_the_shipping_policy() -> None:
    products = {p["id"]: p for p in PRODUCTS}
    shipping = (ZH / "policies" / "shipping.md").read_text("utf-8")
    assert "运费10元" in shipping and "满199元" in shipping and "运费25元" in shipping
    for c in CUSTOMERS:
        for order in c["orders"]:
            subtotal = 0.0
            for item in order["items"]:
                product = products[item["product_id"]]
                variant = next(v for v in product["variants"] if v["id"] == item["variant_id"])
                assert item["unit_price"] == (variant.get("price") or product["price"]), order["id"]
                assert item["options"] == variant["options"]
                subtotal += item["unit_price"] * item["quantity"]
            assert order["shipping"] == (0 if subtotal >= 199 else 10), order["id"]
            assert abs(order["total"] - (subtotal + order["shipping"])) < 0.01, order["id"]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_demo_zh", ZH / "build_demo_zh.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generator_reproduces_the_committed_files_byte_for_byte() -> None:
    generator = _generator()
    files = generator.render(*generator.build())

    assert set(files) == {"products.jsonl", "customers.jsonl", "offers.json", "shop.json"}
    for name, text in files.items():
        assert (ZH / name).read_bytes() == text.encode("utf-8"), f"{name}: run knowledge/demo_zh/build_demo_zh.py"


# ---- eval data (item 7) --------------------------------------------------------------------------------------
def test_the_chinese_policy_questions_quote_facts_of_their_document() -> None:
    path = ZH / "eval" / "policy-questions.jsonl"
    rows = _jsonl(path)
    titles = {p.read_text("utf-8").splitlines()[0].lstrip("# ").strip(): p.read_text("utf-8") for p in POLICIES}

    assert len(rows) >= 25 and len(load_policy_questions(path, "C101")) == len(rows)
    assert len({r["id"] for r in rows}) == len(rows) and set(r["source"] for r in rows) == set(titles)
    for row in rows:
        text = titles[row["source"]]
        assert chinese(row["question"]), row["id"]
        assert row["expect"] or row.get("expect_one_of"), row["id"]
        assert all(fact in text for fact in row["expect"]), row["id"]
        assert not row.get("expect_one_of") or any(fact in text for fact in row["expect_one_of"]), row["id"]


def test_the_chinese_questions_on_the_english_shop_name_its_facts() -> None:
    path = ROOT / "examples" / "eval" / "demo-zh-questions-on-english-shop.jsonl"
    rows = _jsonl(path)
    customers = {c["id"]: c for c in _jsonl(NORTHWIND / "customers.jsonl")}
    owner = {o["id"]: cid for cid, c in customers.items() for o in c["orders"]}

    assert len(rows) == 20 and len(load_policy_questions(path, None)) == 20
    assert {"policy", "order_status", "other_order", "handover", "confirm"} <= {r["category"] for r in rows}
    for row in rows:
        asked = " ".join([*row.get("before", []), row["question"]])
        assert CJK.search(asked) and row["customer"] in customers, row["id"]
        for order_id in re.findall(r"NW-\d{6}", asked):
            assert order_id in owner, row["id"]
            assert (owner[order_id] == row["customer"]) == (row["category"] != "other_order"), row["id"]
        others = json.dumps([c for cid, c in customers.items() if cid != row["customer"]], ensure_ascii=False)
        assert all(value in others for value in row.get("leak", [])), row["id"]
