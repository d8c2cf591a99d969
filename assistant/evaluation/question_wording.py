"""How generated eval questions are worded, per language: the templates of
:mod:`~assistant.evaluation.shop_questions` and :mod:`~assistant.evaluation.order_questions`, and the words a
correct reply uses for an order's status and for small numbers.

General shopper wording only: the shop's own names (products, categories, options, attributes, order ids) are
filled in from its data. Adding a language is adding one :class:`Wording` to ``WORDINGS``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Han characters (the ranges the lexical index and the language detector use)
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

#: units an attribute's key may end in ("warranty_months"): the English question asks "in months"
UNITS = ("months", "month", "days", "years", "hours", "mm", "cm", "m", "g", "kg", "ml", "l", "oz", "lb", "w")


def spaced(name: str) -> str:
    return re.sub(r"[-_]+", " ", name).strip()


@dataclass(frozen=True)
class Wording:
    language: str
    price: tuple[str, ...]  # {name}, {opts}
    stock: tuple[str, ...]
    price_simple: str  # {name}
    stock_simple: str
    option_count: str  # {name}, {option}
    cheapest: str  # {category}
    dearest: str
    compare: str  # {a}, {b}
    order_status: str  # {order_id}
    order_tracking: str
    order_total: str
    order_items: str
    order_latest: str
    other_order: str
    unanswerable: tuple[str, ...]
    numbers: tuple[str, ...]  # 0..20 in words
    statuses: Mapping[str, tuple[str, ...]]  # an order status -> how a correct reply may say it
    option_separator: str = ", "
    #: names of the record's own fields asked about like attributes ("rating")
    fields: Mapping[str, str] = field(default_factory=dict)

    def options(self, options: Mapping[str, Any]) -> str:
        """A variant's options as a shopper writes them: "size 9.5, colour blue" / "颜色森林绿、尺码L"."""
        if self.language == "en":
            return self.option_separator.join(f"{spaced(str(k))} {v}" for k, v in options.items())
        # a Chinese name runs into its value ("颜色森林绿"); a Latin one keeps a space ("size XXL")
        return self.option_separator.join(f"{spaced(str(k))}{'' if HAN.search(str(k)) else ' '}{v}"
                                          for k, v in options.items())

    def number_words(self, n: int) -> tuple[str, ...]:
        """How a reply may write ``n`` (0-20): digits or words (Chinese 2 also as 两)."""
        extra = ("两",) if self.language == "zh" and n == 2 else ()
        return (str(n), self.numbers[n], *extra)

    def status_words(self, status: str) -> tuple[str, ...]:
        return self.statuses.get(status.lower(), (status.lower(),))

    def status_forbid(self, status: str) -> tuple[str, ...]:
        """The words of every other status (a reply that says one of them states a false fact)."""
        own = set(self.status_words(status))
        return tuple(dict.fromkeys(w for s, words in self.statuses.items() if s != status.lower()
                                   for w in words if w not in own))

    def attribute(self, key: str, product: str) -> str:
        words = self.fields.get(key) or spaced(key)
        if self.language == "en":
            parts = words.split()
            if len(parts) > 1 and parts[-1].lower() in UNITS:
                return f"What is the {' '.join(parts[:-1])} of the {product}, in {parts[-1]}?"
            return f"What is the {words} of the {product}?"
        unit = re.fullmatch(r"(.+?)[（(]([^）)]+)[）)]", words)
        if unit:  # "重量（克）" -> "...的重量是多少克？"
            return f"{product}的{unit.group(1)}是多少{unit.group(2)}？"
        return f"{product}的{words}是多少？" if not HAN.search(words) else f"{product}的{words}是什么？"


EN = Wording(
    language="en",
    price=("How much is the {name} ({opts})?", "What does the {name} in {opts} cost?",
           "What's the price of the {name} with {opts}?"),
    stock=("Is the {name} ({opts}) in stock?", "Do you have the {name} in {opts} available?",
           "Can I get the {name} with {opts} right now?"),
    price_simple="How much is the {name}?",
    stock_simple="Is the {name} in stock?",
    option_count="How many {option} options are available for the {name}?",
    cheapest="What is the cheapest product in the {category} category?",
    dearest="Which is the most expensive product in the {category} category?",
    compare="Which is cheaper, the {a} or the {b}?",
    order_status="What is the status of my order {order_id}?",
    order_tracking="What's the tracking number for order {order_id}?",
    order_total="What was the total of my order {order_id}?",
    order_items="What did I order in {order_id}?",
    order_latest="Where is my latest order?",
    other_order="What's the status of order {order_id}?",
    unanswerable=("What will the weather be like in Seattle tomorrow?", "Who won the football game last night?",
                  "Can you recommend a good dentist near me?", "What is the capital of Australia?",
                  "Should I buy shares in a tech company this week?", "Can you write me a poem about the sea?"),
    numbers=("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
             "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"),
    statuses={"pending": ("pending",), "processed": ("processed", "processing", "being prepared"),
              "processing": ("processed", "processing", "being prepared"), "shipped": ("shipped",),
              "delivered": ("delivered",), "cancelled": ("cancelled", "canceled"),
              "canceled": ("cancelled", "canceled"), "returned": ("returned",)},
)

ZH = Wording(
    language="zh",
    price=("{name}（{opts}）多少钱？", "{opts}的{name}卖多少钱？", "{name}选{opts}的价格是多少？"),
    stock=("{name}（{opts}）有货吗？", "{opts}的{name}还有库存吗？", "现在能买到{opts}的{name}吗？"),
    price_simple="{name}多少钱？",
    stock_simple="{name}有货吗？",
    option_count="{name}现在有几种{option}有货可选？",
    cheapest="{category}类里最便宜的商品是哪一款？",
    dearest="{category}类里最贵的商品是哪一款？",
    compare="{a}和{b}哪个更便宜？",
    order_status="我的订单{order_id}是什么状态？",
    order_tracking="订单{order_id}的物流单号是多少？",
    order_total="我的订单{order_id}一共多少钱？",
    order_items="我在订单{order_id}里买了什么？",
    order_latest="我最近的一个订单到哪里了？",
    other_order="帮我查一下订单{order_id}的状态",
    unanswerable=("明天上海的天气怎么样？", "昨晚的足球比赛谁赢了？", "能给我推荐一个附近的牙医吗？",
                  "澳大利亚的首都是哪里？", "这周应该买科技公司的股票吗？", "能给我写一首关于大海的诗吗？"),
    numbers=("零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四",
             "十五", "十六", "十七", "十八", "十九", "二十"),
    statuses={"pending": ("待处理", "待发货"), "processed": ("已处理", "处理中", "备货中"),
              "processing": ("已处理", "处理中", "备货中"), "shipped": ("已发货", "运输中", "配送中"),
              "delivered": ("已送达", "已签收"), "cancelled": ("已取消",), "canceled": ("已取消",),
              "returned": ("已退货",)},
    option_separator="、",
    fields={"rating": "评分"},
)

WORDINGS: dict[str, Wording] = {w.language: w for w in (EN, ZH)}


def wording(language: str) -> Wording:
    try:
        return WORDINGS[language]
    except KeyError:
        raise ValueError(f"no eval question wording for language {language!r}: "
                         f"choose {', '.join(WORDINGS)}") from None
