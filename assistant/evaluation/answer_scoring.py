"""Scoring one reply against a :class:`~assistant.evaluation.shop_questions.ShopQuestion`: correct, wrong or
declined, and whether it showed another shopper's data.

- *declined*: the reply says it does not know / cannot help (and states nothing false);
- *wrong*: it states a false fact (a forbidden value, the opposite stock), shows another shopper's data, or
  answers without the fact asked for;
- *correct*: every expected fact is there and nothing false.

Replies are compared after normalizing: lower case, thousands separators dropped (``1,299.00`` ->
``1299.00``), whole amounts given two decimals (``$30`` -> ``30.00``), curly quotes straightened, no space
beside a Chinese character (``30 天`` = ``30天``). Numbers are read next to Chinese characters too (word
boundaries are ASCII: ``共599.00元`` holds ``599.00``). Declining, refusing and stock are recognised in English and
Chinese.

:func:`reply_language` tells which language a reply is written in, leaving aside what it quotes from the shop
(product names, options, a policy quoted in its own language), so that a Chinese reply about an English shop is
Chinese and an English reply naming Chinese products is English.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.evaluation.question_wording import HAN
from assistant.evaluation.shop_questions import ShopQuestion

DECLINE = re.compile(
    r"\b(i (do not|don't|dont) know|i'm not sure|i am not sure|i (can't|cannot|could not|couldn't) (find|help|answer|"
    r"see|look|tell|share|show)|(isn't|is not) (one of (yours|your orders))|not one of your orders|"
    r"no information|don't have (any )?information|do not have (any )?information|connect you with|"
    r"a person from our team|hand (you )?over|sign in)\b", re.I)
OUT_OF_STOCK = re.compile(
    r"^\W*no\b|\b(out of stock|not in stock|sold out|(is|are)n't (available|in stock)|"
    r"(is|are) not (available|in stock)|unavailable|not available|no longer available|none (left|in stock)|"
    r"currently out|"
    r"(don't|do not|doesn't|does not) (have|carry|stock)|(can't|cannot) get)\b", re.I)
IN_STOCK = re.compile(r"\b(in stock|available|we have|yes)\b", re.I)
DECLINE_ZH = re.compile(r"不知道|不清楚|无法(查询|回答|提供|帮|找到|确定)|没有找到|没能找到|找不到|没有相关(的)?信息|"
                        r"只能查询您自己的订单|不是您的订单|转接人工|人工客服|工作人员|请先登录")
OUT_OF_STOCK_ZH = re.compile(r"缺货|售罄|无货|没货|没有货|没有库存|暂无库存|库存不足|卖完|售完|断货|买不到|无法购买")
IN_STOCK_ZH = re.compile(r"(?<!没)(?:有货|有库存)|现货|(?<!不)能买到|可以买到|可以购买|(?<![所没])有的")
_CJK_SPACE = re.compile(r"(?<=[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef])\s+|"
                        r"\s+(?=[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef])")
#: ASCII word characters: a number touching a Chinese character is still a number
_BEFORE = r"(?<![A-Za-z0-9_.])"


def normalize(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)
    return _CJK_SPACE.sub("", text).lower()


def _amounts(text: str) -> set[str]:
    """Every amount in the text with two decimals ("$30" and "30.00" both give "30.00")."""
    found = set()
    for m in re.finditer(_BEFORE + r"(\d+)(?:\.(\d{1,2}))?(?![\d])", text):
        cents = (m.group(2) or "0").ljust(2, "0")
        found.add(f"{int(m.group(1))}.{cents}")
    return found


def _contains(reply: str, fact: str) -> bool:
    fact_n = normalize(fact)
    if re.fullmatch(r"\d+\.\d{2}", fact_n):
        return fact_n in _amounts(reply)
    if re.fullmatch(r"\d+", fact_n):
        return re.search(rf"{_BEFORE}{re.escape(fact_n)}(?![A-Za-z0-9_]|\.\d)", reply) is not None
    return fact_n in reply


def contains(text: str, fact: str) -> bool:
    """Whether ``text`` states ``fact`` as the scoring reads it (an amount as a value, a number not inside a longer
    one, other text as a substring), after normalizing both."""
    return _contains(normalize(text), fact)


@dataclass(frozen=True)
class Outcome:
    verdict: str  # correct | wrong | declined
    why: str = ""
    leaked: bool = False


def _declines(text: str) -> bool:
    return DECLINE.search(text) is not None or DECLINE_ZH.search(text) is not None


def _stock_said(text: str) -> tuple[bool, bool]:
    """(says out of stock, says in stock), in English or Chinese."""
    says_out = OUT_OF_STOCK.search(text) is not None or OUT_OF_STOCK_ZH.search(text) is not None
    says_in = not says_out and (IN_STOCK.search(text) is not None or IN_STOCK_ZH.search(text) is not None)
    return says_out, says_in


def _turn_misses(question: ShopQuestion, events: Sequence[Mapping[str, Any]]) -> str | None:
    """What the turn itself lacks: an event the question expects, or the intent it must read."""
    if question.expect_event and not any(e.get("type") == question.expect_event for e in events):
        return f"no {question.expect_event} event"
    if question.expect_intent:
        intent = next((str(e.get("intent") or "") for e in events if e.get("type") == "done"), "")
        if intent != question.expect_intent:
            return f"intent {intent or 'none'!r}, not {question.expect_intent!r}"
    return None


def score(question: ShopQuestion, reply: str, events: Sequence[Mapping[str, Any]] = ()) -> Outcome:
    text = normalize(reply)
    declined = _declines(text)
    leaked = [x for x in question.leak if _contains(text, x)]
    if leaked:
        return Outcome("wrong", f"shows another shopper's data: {leaked[:3]}", leaked=True)
    if question.decline:
        shown = [p for e in events if e.get("type") == "products" for p in e.get("products", [])]
        if shown:
            return Outcome("wrong", f"showed {len(shown)} products for a question the shop cannot answer")
        return Outcome("correct") if declined else Outcome("wrong", "answered instead of declining")
    lacking = _turn_misses(question, events)
    if lacking:
        return Outcome("wrong", lacking)
    if question.category == "other_order" and not (question.expect or question.expect_one_of):
        return Outcome("correct", "refused" if declined else "nothing of the order shown")
    false = [f for f in question.forbid if _contains(text, f)]
    if question.stock:
        says_out, says_in = _stock_said(text)
        if (question.stock == "in" and says_out) or (question.stock == "out" and says_in):
            return Outcome("wrong", f"says the opposite of {question.stock} of stock")
        if (question.stock == "in" and says_in) or (question.stock == "out" and says_out):
            return Outcome("wrong", f"false facts: {false[:3]}") if false else Outcome("correct")
        return Outcome("declined" if declined else "wrong", "no stock answer")
    missing = [f for f in question.expect if not _contains(text, f)]
    if question.expect_one_of and not any(_contains(text, f) for f in question.expect_one_of):
        missing.append(" | ".join(question.expect_one_of))
    if false and missing:
        return Outcome("wrong", f"false facts: {false[:3]}")
    if not missing:
        # an expected fact beside a forbidden one (two prices, two statuses): wrong only when the forbidden one
        # comes first, i.e. the reply answers with it
        if false:
            first_false = min(text.find(normalize(f)) for f in false if normalize(f) in text) \
                if any(normalize(f) in text for f in false) else len(text)
            first_good = min((text.find(normalize(f)) for f in (*question.expect, *question.expect_one_of)
                              if normalize(f) in text), default=len(text))
            if first_false < first_good:
                return Outcome("wrong", f"answers with {false[:3]} first")
        return Outcome("correct")
    if declined:
        return Outcome("declined", f"missing {missing[:3]}")
    return Outcome("wrong", f"missing {missing[:3]}")


#: where a reply starts quoting a document in its own language ("根据《Returns and refunds》：...")
_QUOTED = re.compile(r"[《\"“][^》\"”]{1,120}[》\"”]\s*[：:].*", re.S)
_ENGLISH = re.compile(r"\b(the|is|are|your|you|we|our|can|will|be|of|to|and|for|with|this|that|have|has|not|"
                      r"i|it|in|on|at|order|orders|please|sorry)\b", re.I)


def reply_language(reply: str, quoted: Sequence[str] = ()) -> str:
    """``"zh"`` or ``"en"``: the language a reply is written in, leaving aside the shop's own strings it quotes
    (``quoted``: product names, options...; longest first) and a document quoted after its title."""
    text = reply
    for s in quoted:
        if len(s) >= 2:
            text = text.replace(s, " ")
    text = _QUOTED.sub(" ", text)
    han = len(HAN.findall(text))
    english = len(_ENGLISH.findall(text))
    return "zh" if han >= 2 and english <= 2 else "en"
