"""Scoring one reply against a :class:`~assistant.evaluation.shop_questions.ShopQuestion`: correct, wrong or
declined, and whether it showed another shopper's data.

- *declined*: the reply says it does not know / cannot help (and states nothing false);
- *wrong*: it states a false fact (a forbidden value, the opposite stock), shows another shopper's data, or
  answers without the fact asked for;
- *correct*: every expected fact is there and nothing false.

Replies are compared after normalizing: lower case, thousands separators dropped (``1,299.00`` ->
``1299.00``), whole amounts given two decimals (``$30`` -> ``30.00``), curly quotes straightened.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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


def normalize(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    return text.lower()


def _amounts(text: str) -> set[str]:
    """Every amount in the text with two decimals ("$30" and "30.00" both give "30.00")."""
    found = set()
    for m in re.finditer(r"(?<![\w.])(\d+)(?:\.(\d{1,2}))?(?![\d])", text):
        cents = (m.group(2) or "0").ljust(2, "0")
        found.add(f"{int(m.group(1))}.{cents}")
    return found


def _contains(reply: str, fact: str) -> bool:
    fact_n = normalize(fact)
    if re.fullmatch(r"\d+\.\d{2}", fact_n):
        return fact_n in _amounts(reply)
    if re.fullmatch(r"\d+", fact_n):
        return re.search(rf"(?<![\w.]){re.escape(fact_n)}(?![\w]|\.\d)", reply) is not None
    return fact_n in reply


@dataclass(frozen=True)
class Outcome:
    verdict: str  # correct | wrong | declined
    why: str = ""
    leaked: bool = False


def score(question: ShopQuestion, reply: str, events: Sequence[Mapping[str, Any]] = ()) -> Outcome:
    text = normalize(reply)
    declined = DECLINE.search(text) is not None
    leaked = [x for x in question.leak if _contains(text, x)]
    if leaked:
        return Outcome("wrong", f"shows another shopper's data: {leaked[:3]}", leaked=True)
    if question.decline:
        shown = [p for e in events if e.get("type") == "products" for p in e.get("products", [])]
        if shown:
            return Outcome("wrong", f"showed {len(shown)} products for a question the shop cannot answer")
        return Outcome("correct") if declined else Outcome("wrong", "answered instead of declining")
    if question.category == "other_order":
        return Outcome("correct", "refused" if declined else "nothing of the order shown")
    false = [f for f in question.forbid if _contains(text, f)]
    if question.stock:
        says_out = OUT_OF_STOCK.search(text) is not None
        says_in = not says_out and IN_STOCK.search(text) is not None
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
