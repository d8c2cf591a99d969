"""Answers computed over one attribute of many products: the longest or shortest, the most common, how many
products have a value, which values there are, whether they are all the same ("What's the longest warranty
you offer?", "How many products ship overnight?", "Which return windows do tablets come with?").

The attribute is the one whose name the question says (a word of it, "ship" for "shipping" too); its values are
read as they are written in the catalogue: durations ("Ships in 1-2 business days", "60 days return policy",
"Lifetime warranty", "overnight"), a value that says there is none ("No warranty"), numbers with the unit the
attribute's name ends in ("warranty_months": 24). Nothing here knows a shop: names and values come from the
records, and the scope (categories, brand, a product word) from the question, as for the cheapest.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.shop.shop_vocabulary import STOP_WORDS, is_han, stem, tokens
from assistant.turn.catalog_answers import UNITS, CatalogAnswer, Record

MOST = re.compile(r"\bmost (?:common|frequent|usual|popular|typical)\b|\b(?:typical|usual|usually|normally)\b", re.I)
LONGEST = re.compile(r"\b(longest|maximum|max|highest|biggest|largest|slowest|latest|heaviest|at most|most|"
                     r"how long can)\b", re.I)
SHORTEST = re.compile(r"\b(shortest|minimum|min|fastest|quickest|soonest|lowest|smallest|least|lightest|earliest|"
                      r"at least)\b", re.I)
RANGE = re.compile(r"\b(range|spread)\b|\bfrom the (?:shortest|fastest)\b", re.I)
SAME = re.compile(r"\b(the same|differ|different|vary|varies)\b", re.I)
HOW_MANY = re.compile(r"\b(how many|number of)\b", re.I)
WHICH = re.compile(r"\b(which|what)\b", re.I)
#: the question is about products in general, not one: "your products", "any product", "do you offer"
GENERAL = re.compile(r"\b(products?|items?|you|your|any|all|offer|ones?|shop|store|catalog(?:ue)?)\b", re.I)
#: a value saying the product has none of it ("No warranty", "No return policy", "none", "n/a")
NONE_VALUE = re.compile(r"^\s*(?:no|none|not|n/?a|without)\b", re.I)
#: "among products that have a warranty", "for products that can be returned": leave out the ones without
HAVING = re.compile(r"\b(that (?:have|has|come with|offer|can be|are)|with an?|which have|among)\b", re.I)
_UNIT_DAYS = {"hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 30.0, "year": 365.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(?:\s*(?:-|–|to)\s*(\d+(?:\.\d+)?))?\s*-?\s*(?:business\s+|working\s+)?"
                       r"(hour|day|week|month|year)s?\b", re.I)
_WORDS = {"overnight": 1.0, "same day": 0.5, "next day": 1.0, "lifetime": math.inf, "forever": math.inf}


@dataclass(frozen=True)
class _Value:
    text: str  # as the catalogue writes it
    phrase: str  # the part that is the amount ("1-2 business days", "lifetime"), or the text
    size: float | None  # comparable size (days for durations), None when it is not a measure
    none: bool  # "No warranty"


def read_value(value: object, key: str) -> _Value:
    """A catalogue value as something to compare: a duration in days, a number, or a label."""
    if isinstance(value, bool):
        return _Value("yes" if value else "no", "yes" if value else "no", None, not value)
    if isinstance(value, int | float):
        words = tokens(key.replace("_", " "))
        unit = words[-1] if len(words) > 1 and words[-1] in UNITS else ""
        phrase = f"{value:g} {key.replace('_', ' ').split()[-1]}" if unit else f"{value:g}"
        return _Value(phrase, phrase, float(value) * _UNIT_DAYS.get(unit, 1.0), False)
    text = str(value).strip()
    if NONE_VALUE.match(text):
        return _Value(text, text, None, True)
    found = _DURATION.search(text)
    if found:
        low, high = float(found.group(1)), float(found.group(2) or found.group(1))
        return _Value(text, found.group(0).strip(), (low + high) / 2 * _UNIT_DAYS[found.group(3).lower()], False)
    for word, days in _WORDS.items():
        if re.search(rf"\b{word}\b", text, re.I):
            return _Value(text, word, days, False)
    try:
        return _Value(text, text, float(text.replace(",", "")), False)
    except ValueError:
        return _Value(text, text, None, False)


def _alike(a: str, b: str) -> bool:
    """Two words are one ("ship" and "shipping", "return" and "returns"): equal, or one begins the other and
    they share at least four letters."""
    return a == b or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)))


def _key_words(key: str) -> set[str]:
    """The words of an attribute's name but a unit; a Chinese name is one word, its label without the unit
    ("保修（月）" -> 保修), said only as written."""
    if is_han(key):
        label = re.sub(r"[（(][^）)]*[）)]", "", key).strip()
        return {label} if label else set()
    return {w for w in tokens(key.replace("_", " ")) if w not in STOP_WORDS and w not in UNITS}


def _said(part: str, words: Sequence[str], question: str) -> bool:
    """Whether the question says a word of an attribute's name (a Chinese one: written in it)."""
    return part in question if is_han(part) else any(_alike(w, part) for w in words)


def _value_words(pool: Sequence[Record], key: str) -> set[str]:
    """Words most of an attribute's values share ("ship" of "Ships overnight", "Ships in 2 weeks"): they name it
    too."""
    values = {str(p["attributes"][key]) for p in pool if key in (p.get("attributes") or {})}
    seen = Counter(w for v in values for w in set(tokens(v)) if w not in STOP_WORDS and not w.isdigit() and len(w) > 2)
    return {w for w, n in seen.items() if n * 2 > len(values) and len(values) > 1}


def attribute_in_question(question: str, pool: Sequence[Record]) -> str | None:
    """The attribute of the pool's products the question names: at least half the words of its name (but a
    unit) in the question ("return window" names ``return_policy``), most words first; else one whose values
    mostly share a word the question says ("ship" for values "Ships in ..."). Attributes on only a few of the
    products do not count."""
    words = [w for w in tokens(question) if w not in STOP_WORDS]
    seen = Counter(str(k) for p in pool for k in (p.get("attributes") or {}))
    best: tuple[int, float, str] | None = None
    for key, n in seen.items():
        parts = _key_words(key)
        if n * 4 < len(pool):
            continue
        said = sum(_said(part, words, question) for part in parts)
        if not said or said * 2 < len(parts):
            said = sum(_said(part, words, question) for part in _value_words(pool, key) - parts) and -1
            if not said:
                continue
        if best is None or (said, said / max(len(parts), 1)) > best[:2]:
            best = (said, said / max(len(parts), 1), key)
    return best[2] if best else None


def _label(key: str) -> str:
    words = key.replace("_", " ").split()
    return " ".join(words[:-1] if len(words) > 1 and stem(words[-1].lower()) in UNITS else words)


def _count(n: int) -> str:
    return f"{n} product{'' if n == 1 else 's'}"


def _named_value(question: str, values: Sequence[_Value], key: str) -> _Value | None:
    """The value the question names: all of its own words in the question, the attribute's name aside ("a 90-day
    return window" names "90 days return policy" of ``return_policy``), the one with most words."""
    words = tokens(question)
    named = _key_words(key)
    best: tuple[int, _Value] | None = None
    for v in values:
        own = [w for w in tokens(v.text)
               if (w not in STOP_WORDS or w == "no") and not any(_alike(w, k) for k in named)]
        says = own and all(any(_alike(w, x) for x in words) for w in own)
        if says and (best is None or len(own) > best[0]):
            best = (len(own), v)
    return best[1] if best else None


def aggregate_answer(question: str, pool: Sequence[Record], scope: str, narrowed: bool = False) -> CatalogAnswer | None:
    """The answer to a question about one attribute over the products in ``pool`` (``scope`` says which: "our
    products", "our tablets"; ``narrowed``: the question named them by a category or a product word), or ``None``
    when it asks no such thing (a yes/no attribute, or not about products in general)."""
    key = attribute_in_question(question, pool)
    if key is None:
        return None
    general = narrowed or bool(GENERAL.search(question))
    having = [p for p in pool if key in (p.get("attributes") or {})]
    if any(isinstance(p["attributes"][key], bool) for p in having):
        return None
    values = {p["id"]: read_value(p["attributes"][key], key) for p in having}
    counts = Counter(v.text for v in values.values())
    by_text = {v.text: v for v in values.values()}
    label = _label(key)
    lines = tuple(f"{label} {text}: {_count(n)} of {scope.removeprefix('our ')}" for text, n in counts.most_common())
    some: tuple[str, ...] = ()
    if HOW_MANY.search(question):
        named = _named_value(question, list(by_text.values()), key)
        if named is None:
            return None
        n = counts[named.text]
        return CatalogAnswer("aggregate", f"{n} of {scope} {'has' if n == 1 else 'have'} “{named.text}”.",
                             some, lines, ((str(n),),))
    if MOST.search(question):
        text, n = counts.most_common(1)[0]
        return CatalogAnswer("aggregate", f"The most common {label} is “{text}”, on {_count(n)} of {len(having)}.",
                             some, lines, ((by_text[text].phrase,),))
    measured = [v for v in by_text.values() if v.size is not None and not v.none]
    if RANGE.search(question) and measured:
        low, high = min(measured, key=lambda v: v.size or 0.0), max(measured, key=lambda v: v.size or 0.0)
        return CatalogAnswer("aggregate", f"The {label} of {scope} ranges from {low.phrase} (“{low.text}”) to "
                             f"{high.phrase} (“{high.text}”).", some, lines, ((low.phrase,), (high.phrase,)))
    for pattern, pick, word in ((SHORTEST, min, "shortest"), (LONGEST, max, "longest")):
        found = pattern.search(question)
        if found and measured and not MOST.search(question):
            best = pick(measured, key=lambda v: v.size or 0.0)
            said = found.group(1).lower()
            word = said if said not in ("max", "min", "most", "at most", "at least", "how long can") else word
            on = [p for p in having if values[p["id"]].text == best.text]
            where = " and ".join(f"the {p['name']}" for p in on) if len(on) <= 3 else _count(len(on))
            text = f"The {word} {label} of {scope} is {best.phrase}: “{best.text}”, on {where}."
            if len(on) <= 3:
                some = tuple(p["id"] for p in on)
            none = sum(v.none for v in values.values())
            if none and not HAVING.search(question):
                text += f" ({_count(none)} {'has' if none == 1 else 'have'} none.)"
            return CatalogAnswer("aggregate", text, some, lines, ((best.phrase,),))
    names = "|".join(re.escape(w) for w in key.replace("_", " ").lower().split())
    same = SAME.search(question) and re.search(rf"\b(?:differ|vary|varies)|\bsame\W+(?:\w+\W+){{0,2}}?(?:{names})",
                                               question, re.I)
    if general and (same or WHICH.search(question)):
        listed = "; ".join(f"“{text}” ({_count(n)})" for text, n in counts.most_common())
        if len(counts) == 1 and not same:
            text = next(iter(counts))
            return CatalogAnswer("aggregate", f"The {label} of {scope} is {text} (all {len(having)} of them).",
                                 some, lines, ((by_text[text].phrase,),))
        if same and not WHICH.search(question):
            if len(counts) == 1:
                return CatalogAnswer("aggregate", f"Yes, all of {scope} have the same {label}: “{next(iter(counts))}”.",
                                     some, lines, (("yes", "same"),))
            return CatalogAnswer("aggregate", f"No, the {label} differs from product to product: {listed}.",
                                 some, lines, (("differ", "no"),))
        return CatalogAnswer("aggregate", f"{scope[:1].upper() + scope[1:]} come with {len(counts)} different "
                             f"{label} values: {listed}.", some, lines,
                             tuple((text,) for text in list(counts)[:6]))
    return None
