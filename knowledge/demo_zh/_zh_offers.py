"""The 山栖家居户外 demo shop's profile and offers (used by build_demo_zh.py; written to shop.json and offers.json)."""

SHOP = {"name": "山栖家居户外", "currency": "CNY", "locale": "zh_CN"}

EXPIRES = "2027-06-30T23:59:59+08:00"


def _offer(oid: str, code: str, title: str, description: str, kind: str, value: float, **rules: object) -> dict:
    eligibility = {"tiers": [], "categories": [], "min_basket": 0, "first_order_only": False, "starts_at": None,
                   "expires_at": EXPIRES, "max_discount": None, "per_customer_cap": 1,
                   "requires_marketing_consent": False}
    eligibility.update(rules)
    return {"id": oid, "code": code, "title": title, "description": description, "kind": kind, "value": value,
            "currency": "CNY", "eligibility": eligibility}


OFFERS = [
    _offer("newhome30", "NEWHOME30", "新客首单立减30元", "首次在山栖家居户外下单，订单满199元立减30元。", "fixed", 30,
           min_basket=199, first_order_only=True),
    _offer("camp15", "CAMP15", "帐篷85折", "银卡、金卡和钻石会员购买帐篷享85折，最多优惠200元。", "percent", 15,
           tiers=["silver", "gold", "platinum"], categories=["帐篷"], max_discount=200, per_customer_cap=2),
    _offer("sleep50", "SLEEP50", "睡袋睡垫满399减50", "购买睡袋睡垫类商品，订单满399元立减50元。", "fixed", 50,
           categories=["睡袋睡垫"], min_basket=399),
    _offer("ship99", "SHIP99", "银卡会员满99元包邮", "银卡会员订单满99元即可免标准快递运费。", "free_shipping", 0,
           tiers=["silver"], min_basket=99, per_customer_cap=3),
    _offer("points2x", "POINTS2X", "家居好物双倍积分", "购买家居类商品获得双倍积分，需订阅会员通讯。",
           "points_multiplier", 2, categories=["家居"], requires_marketing_consent=True),
    _offer("winter100", "WINTER100", "冬季装备满999减100", "购买户外服装或徒步鞋，订单满999元立减100元。", "fixed", 100,
           categories=["户外服装", "徒步鞋"], min_basket=999, starts_at="2026-11-01T00:00:00+08:00",
           expires_at="2027-02-28T23:59:59+08:00"),
    _offer("light20", "LIGHT20", "照明8折", "银卡及以上会员购买照明类商品享8折，最多优惠60元。", "percent", 20,
           tiers=["silver", "gold", "platinum"], categories=["照明"], max_discount=60),
]
