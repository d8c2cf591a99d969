"""Understanding Chinese messages by rules: every intent the English rules know, order ids touching Chinese
characters, prices and budgets, sizes and colours, and messages mixing Chinese and English."""

import json

import pytest

from assistant.shop.shop_import import demo_shop_path
from assistant.shop.shop_vocabulary import ShopVocabulary
from assistant.turn.handover_rules import is_angry, triage
from assistant.turn.order_refs import asked_about, asks_latest, find_order_ids
from assistant.turn.understanding import understand

#: the demo shop's vocabulary (English), learned from its catalogue
DEMO = ShopVocabulary.from_products(
    json.loads(line) for line in (demo_shop_path() / "products.jsonl").read_text().splitlines() if line.strip())
OWN = ("NW-100065", "NW-100073", "NW-100091")


def intent(message: str) -> str:
    return understand(message, own_order_ids=OWN, vocabulary=DEMO).intent


@pytest.mark.parametrize("message, expected", [
    # policy
    ("退货政策是什么？", "policy"), ("我想退货，怎么办？", "policy"), ("运费多少钱？", "policy"),
    ("多久可以发货？", "policy"),
    ("保修期是多久？", "policy"), ("可以用支付宝付款吗？", "policy"), ("会员积分怎么用？", "policy"),
    ("你们怎么处理我的个人信息？", "policy"), ("取消订单要多久才能退款？", "policy"),
    ("换货的流程是什么？", "policy"),
    # product
    ("有没有跑鞋？", "product"), ("这个多少钱？", "product"), ("有没有200元以内的外套？", "product"),
    ("Stridewell Race Day Singlet 有货吗？", "product"), ("我想买一个背包", "product"),
    # recommendation
    ("给我推荐一双跑鞋", "recommendation"), ("有什么适合我的吗？", "recommendation"),
    ("送礼买什么好？", "recommendation"),
    # offers
    ("有优惠券吗？", "offers"), ("有什么折扣吗？", "offers"), ("我的优惠券有哪些？", "offers"),
    ("有没有优惠码", "offers"),
    # order status
    ("我的订单到哪里了？", "order_status"), ("我的订单NW-100073在哪里？", "order_status"),
    ("NW-100073发货了吗", "order_status"),
    ("我最近的订单怎么样了", "order_status"), ("查一下订单", "order_status"),
    ("我的快递单号是多少？", "order_status"),
    ("我买了什么？", "order_status"),
    # order actions
    ("请取消我的订单NW-100091", "order_action"), ("我要退掉订单NW-100065", "order_action"),
    ("取消NW-100091", "order_action"), ("我想把NW-100065换成M码", "order_action"),
    ("帮我修改订单NW-100091的收货地址", "order_action"), ("我要取消我的订单", "order_action"),
    # confirm / deny
    ("是的", "confirm"), ("好的", "confirm"), ("确认", "confirm"), ("是的，确认", "confirm"),
    ("好的，谢谢", "confirm"),
    ("对", "confirm"), ("不", "deny"), ("不用了", "deny"), ("算了", "deny"), ("不要了，谢谢", "deny"),
    ("别取消了", "deny"),
    # a person
    ("我要找人工客服", "handover"), ("转人工", "handover"), ("找人工", "handover"), ("我想和真人说话", "handover"),
    # greetings
    ("你好", "greeting"), ("您好！", "greeting"), ("谢谢", "greeting"), ("再见", "greeting"),
])
def test_chinese_intents(message: str, expected: str) -> None:
    assert intent(message) == expected


@pytest.mark.parametrize("message, expected", [
    ("Can I return 这双鞋 after 30 days?", "policy"),
    ("我想cancel我的order NW-100091", "order_action"),
    ("where is 我的订单?", "order_status"),
    ("有没有 running shoes？", "product"),
    ("yes 确认", "confirm"),
    ("I want 人工客服", "handover"),
])
def test_mixed_chinese_and_english_messages(message: str, expected: str) -> None:
    assert intent(message) == expected


@pytest.mark.parametrize("message, ids", [
    ("我的订单NW-100073在哪里？", ("NW-100073",)),
    ("订单号：NW-100091，请取消", ("NW-100091",)),
    ("NW-100065和NW-100073都到了吗", ("NW-100065", "NW-100073")),
    ("订单nw100073到了吗", ("NW-100073",)),
    ("订单NW-100019是谁的", ("NW-100019",)),  # not the shopper's: found, so that it is refused
    ("帮我查#W9250394", ("W9250394",)),
])
def test_order_ids_next_to_chinese_characters(message: str, ids: tuple[str, ...]) -> None:
    assert find_order_ids(message, OWN) == ids


def test_a_short_own_id_counts_after_the_chinese_word_for_order() -> None:
    assert find_order_ids("订单48到哪了", ["48"]) == ("48",) and find_order_ids("我要48码", ["48"]) == ()


@pytest.mark.parametrize("message, max_price, min_price", [
    ("200元以内的跑鞋", 200.0, None), ("不超过300块的外套", 300.0, None), ("¥300以下的背包", 300.0, None),
    ("预算500元", 500.0, None), ("1000元以上的帐篷", None, 1000.0), ("不低于200元", None, 200.0),
    ("低于99.5块", 99.5, None), ("100美元以内", 100.0, None), ("30天以内可以退货吗", None, None),
    ("shoes under $80 红色的", 80.0, None),
])
def test_prices_and_budgets(message: str, max_price: float | None, min_price: float | None) -> None:
    u = understand(message, vocabulary=DEMO)

    assert (u.max_price, u.min_price) == (max_price, min_price)


@pytest.mark.parametrize("message, size", [("有42码的吗", "42"), ("尺码M有货吗", "M"), ("要XL码", "XL"),
("大号的", "L"),
                                           ("8.5码的跑鞋", "8.5")])
def test_sizes_as_chinese_writes_them(message: str, size: str) -> None:
    assert understand(message).asked_size == size


def test_chinese_colours_find_the_catalogues_options() -> None:
    u = understand("有蓝色的跑鞋吗？8.5码", vocabulary=DEMO)

    assert "blue" in u.colours and u.size == "8.5"


def test_latest_and_what_is_asked_about_an_order() -> None:
    assert asks_latest("我最近的订单到哪了") and not asks_latest("我的订单到哪了")
    assert asked_about("我的快递单号是多少") == "tracking" and asked_about("订单一共花了多少钱") == "total"
    assert asked_about("我买了什么") == "items" and asked_about("我是怎么付款的") == "payment"


@pytest.mark.parametrize("message", ["你们的服务太差了！", "气死我了", "这是什么破店", "骗子！退钱"])
def test_an_upset_chinese_shopper_is_recognised(message: str) -> None:
    assert is_angry(message)


def test_disputing_a_refusal_in_chinese_asks_for_a_person() -> None:
    u = understand("为什么不行？太不公平了", vocabulary=DEMO)
    refusal = {"last_refusal": {"kind": "cancel", "order_id": "NW-100073", "reason": "status", "message": "..."}}

    assert triage("为什么不行？太不公平了", u, refusal) == "policy_restriction"


#: a small Chinese catalogue, to read messages that name its categories and products
ZH_SHOP = ShopVocabulary.from_products([
    {"id": "t1", "name": "青峰双人帐篷", "category": "帐篷", "price": 399, "attributes": {"保修（月）": 24}},
    {"id": "t2", "name": "青峰家庭帐篷", "category": "帐篷", "price": 999},
    {"id": "b1", "name": "远山登山背包", "category": "背包", "price": 299},
])


@pytest.mark.parametrize("message, expected", [
    # the rules, even when a category of the shop is named
    ("帐篷的保修期是多久？", "policy"), ("能把买的背包换成帐篷吗？", "policy"),
    ("在山上用过的帐篷还能退吗？", "policy"),
    # the catalogue: a product, its attribute, the cheapest of a category
    ("青峰双人帐篷的保修期是多久？", "product"), ("青峰双人帐篷多少钱？", "product"),
    ("背包类里最便宜的是哪一款？", "product"),
])
def test_a_chinese_shops_names_and_the_rules_are_told_apart(message: str, expected: str) -> None:
    assert understand(message, vocabulary=ZH_SHOP).intent == expected


@pytest.mark.parametrize("message, expected", [
    # "个性化推荐" names the assistant's personalization (a privacy setting), not a request for picks
    ("关闭个性化推荐以后会怎样？", "policy"), ("个性化推荐可以关掉吗？", "policy"),
    # a request for picks still is one
    ("有什么推荐的吗？", "recommendation"), ("给我推荐一款帐篷", "recommendation"),
])
def test_personalized_recommendation_as_a_setting_is_a_policy_question(message: str, expected: str) -> None:
    assert intent(message) == expected
