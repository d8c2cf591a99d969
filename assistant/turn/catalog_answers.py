"""Answers about the catalogue computed in code: each kind of question has its builder here (a price, stock,
how many values of an option are in stock, the cheapest or the dearest, which of two is cheaper, an
attribute), and :func:`select_variants` picks a product's variants by the option values a question names
("(type electric, size medium)", "in blue, size M": matched against that product's own variants).

An answer is a sentence that answers first, the few facts behind it (all the prompt and the verifier get)
and what a reply must contain to be that answer. The plan that picks a builder for a question is in
:mod:`assistant.turn.product_facts`. Nothing here knows a shop: option names, categories, attributes and
currencies come from the records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.locales import supported
from assistant.locales import text as message_text
from assistant.locales.local_formats import money_in
from assistant.records import money
from assistant.shop.shop_vocabulary import ShopVocabulary, is_han, stem, tokens
from assistant.turn import chinese_rules as zh

Record = Mapping[str, Any]

COMPARE = re.compile(r"\b(cheaper|less expensive|more expensive|pricier|costlier|dearer|more affordable|"
                     r"better (?:price|deal|value)|(?:price )?difference|compare[sd]?|comparison)\b|"
                     + zh.COMPARE, re.I)
DEARER = re.compile(r"\b(more expensive|pricier|costlier|dearer)\b|" + zh.DEARER, re.I)
CHEAPEST = re.compile(r"\b(cheapest|least expensive|lowest[- ]price[sd]?|lowest cost|most affordable|least costly|"
                      r"inexpensivest|lowest)\b|" + zh.CHEAPEST, re.I)
DEAREST = re.compile(r"\b(most expensive|priciest|dearest|highest[- ]price[sd]?|most costly|costliest|highest)\b|"
                     + zh.DEAREST, re.I)
COUNT = re.compile(r"\b(how many|number of)\b|" + zh.COUNT, re.I)
WHICH = re.compile(r"\b(what|which)\b|" + zh.WHICH, re.I)
PRICE = re.compile(r"\b(how much|prices?|priced|costs?|costing|pay|charge)\b|" + zh.PRICE, re.I)
STOCK = re.compile(r"\b(in stock|out of stock|stock|available|availability|sold out|left|restock(?:ed)?|"
                   r"do you (?:still )?(?:have|carry|sell)|can i (?:get|buy|order)|is there any)\b|" + zh.STOCK, re.I)
AVAILABLE_NOW = re.compile(r"\b(available|in stock|can i get|left|right now|currently)\b|" + zh.AVAILABLE_NOW, re.I)
RATING = re.compile(r"\b(rating|rated|ratings|stars?|reviews?|score)\b|" + zh.RATING, re.I)
#: everyday ways to ask for a measure or a property: the word an attribute's name uses
ASKS = {stem(k): stem(v) for k, v in {"heavy": "weight", "weigh": "weight", "weighs": "weight", "long": "length",
                                      "tall": "height", "high": "height", "wide": "width", "big": "size",
                                      "made": "material"}.items()}
#: units an attribute's name may end in ("warranty_months", "weight_g")
UNITS = frozenset("month day year week hour minute g kg mg mm cm m km ml l oz lb w kw v mah gb tb inch in ft".split())


@dataclass(frozen=True)
class Amount:
    """A price to write in the reply's language: ``¥899.00``, ``US$89.99``; ``start``: "from" a price."""

    value: float
    currency: str
    start: bool = False

    def said(self, language: str) -> str:
        shown = money_in(self.value, self.currency, language)
        return message_text("catalog.from_price", language, price=shown) if self.start else shown


@dataclass(frozen=True)
class Words:
    """Words that differ by language (an English attribute's name said in Chinese: weight -> 重量)."""

    default: str
    by_language: tuple[tuple[str, str], ...] = ()

    def said(self, language: str) -> str:
        return dict(self.by_language).get(language, self.default)


def _amount(p: Record, value: float | None = None, start: bool = False) -> Amount:
    return Amount(lowest_price(p) if value is None else value, str(p.get("currency") or "USD"), start)


def _from_amount(p: Record) -> Amount:
    """The product's price as :func:`_from` says it: from its lowest when its variants cost more."""
    return _amount(p, start=float(p.get("max_price", lowest_price(p))) - lowest_price(p) >= 0.005)


@dataclass(frozen=True)
class CatalogAnswer:
    kind: str  # price | stock | count | cheapest | dearest | compare | attribute
    text: str  # the answer; its first sentence answers the question
    products: tuple[str, ...]  # the products it is about, for cards (in this order)
    lines: tuple[str, ...]  # the facts behind it: all the prompt and the verifier get
    #: what a reply's first sentence must contain: one of each group (a price, a name, "in stock", ...)
    required: tuple[tuple[str, ...], ...] = ()
    #: what a reply must not say (the opposite stock)
    contradicts: tuple[str, ...] = ()
    #: the required facts must come in their order ("the X is cheaper", not "cheaper ... the X"), and the last
    #: one (the comparison's word) only once
    ordered: bool = False
    #: the answer as a message of the catalogue (:mod:`assistant.locales`) and its values, for a reply in another
    #: language (:meth:`in_language`); empty: the answer has no such message
    message: str = ""
    values: tuple[tuple[str, object], ...] = ()

    def in_language(self, language: str) -> str | None:
        """The answer's first sentence in ``language``, amounts written for it (``¥899.00``), the shop's own names
        as written; ``None`` when this answer has no message (say it from the records instead)."""
        if not self.message:
            return None
        lang = supported(language)
        joiner = "、" if lang == "zh" else ", "
        filled: dict[str, object] = {}
        for key, value in self.values:
            if isinstance(value, Amount | Words):
                filled[key] = value.said(lang)
            elif isinstance(value, tuple):
                filled[key] = joiner.join(str(v) for v in value)
            else:
                filled[key] = value
        return message_text(self.message, lang, **filled)

    def problems(self, reply: str) -> list[str]:
        """Why ``reply`` is not this answer: a required fact missing from its first sentence (or out of
        order), or a contradiction anywhere."""
        first = re.split(r"(?<=[.!?])\s+", reply.strip(), maxsplit=1)[0].lower()
        out = [f"its first sentence does not say {' or '.join(repr(x) for x in group[:2])}"
               for group in self.required if not any(_says(first, x) for x in group)]
        out += [f"it says {x!r}, against the facts" for x in self.contradicts if _says(reply.lower(), x)]
        if re.match(r"\W*answer\s*:", first):
            out.append("it repeats the label of the facts")
        if self.ordered and not out:
            said = " ".join(tokens(first))
            at = [said.find(" ".join(tokens(group[0]))) for group in self.required]
            last = " ".join(tokens(self.required[-1][0]))
            if at != sorted(at) or f" {' '.join(tokens(reply))} ".count(f" {last} ") > 1:
                out.append("it does not say which one, or says it of both")
        return out


#: an amount as :func:`~assistant.turn.facts.money` writes it ("$1,299.00", "CHF 12.00", "12.00 XYZ")
_AMOUNT = re.compile(r"(?:[a-z]{1,3}\s?)?\W{0,3}(\d[\d,]*(?:\.\d+)?)(?:\s?[a-z]{3})?", re.I)


def _says(text: str, fact: str) -> bool:
    """``text`` states ``fact``: an amount as a number ("$1,299.00" = "1299") next to its currency's symbol or
    code when the fact has one (a price is no count of "units"), anything else word for word."""
    amount = _AMOUNT.fullmatch(fact.strip())
    if amount:
        value = float(amount.group(1).replace(",", ""))
        symbol = re.sub(r"[\d.,\s]", "", fact).lower()
        for n in re.finditer(r"\d[\d,]*(?:\.\d+)?", text):
            near = text[max(0, n.start() - len(symbol) - 1):n.start()] + " " + text[n.end():n.end() + len(symbol) + 1]
            if abs(float(n.group(0).replace(",", "")) - value) < 0.005 and (not symbol or symbol in near.lower()):
                return True
        return False
    words = tokens(fact)
    return bool(words) and f" {' '.join(words)} " in f" {' '.join(tokens(text))} "


# -- products, variants, prices ------------------------------------------------------------------------
def _variants(p: Record) -> list[Record]:
    return list(p.get("variants") or [])


def _price(p: Record, v: Record | None = None) -> float:
    if v is not None and v.get("price") is not None:
        return float(v["price"])
    return float(p["price"])


def lowest_price(p: Record) -> float:
    return float(p.get("min_price", p["price"]))


def _in_stock(v: Record) -> bool:
    return int(v.get("stock") or 0) > 0


def _options_text(options: Mapping[str, object]) -> str:
    return ", ".join(f"{k} {v}" for k, v in options.items())


def _money(p: Record, value: float) -> str:
    return money(value, str(p.get("currency") or "USD"))


def _variant_line(p: Record, v: Record) -> str:
    return (f"{p['name']} ({_options_text(v.get('options') or {})}): {_money(p, _price(p, v))}, "
            f"{'in stock' if _in_stock(v) else 'out of stock'}")


def _product_line(p: Record) -> str:
    low, high = lowest_price(p), float(p.get("max_price", lowest_price(p)))
    price = _money(p, low) if high - low < 0.005 else f"{_money(p, low)} to {_money(p, high)}"
    brand = f", {p['brand']}" if p.get("brand") else ""
    return f"{p['name']} ({str(p['category']).replace('-', ' ')}{brand}): {price}, " \
           f"{'in stock' if p.get('in_stock') else 'out of stock'}"


@dataclass(frozen=True)
class _Selection:
    """The variants of one product that the question's option values pick out."""

    variants: list[Record]
    named: dict[str, str]  # option name -> value, as the question named them (this product's own)


def select_variants(p: Record, question: str, vocabulary: ShopVocabulary) -> _Selection:
    """The product's variants whose options match every value the question names (values it does not have
    are not constraints: "size 5.8-inch" on a product without that size selects nothing away)."""
    variants = _variants(p)
    own = {(str(k), tuple(tokens(str(val)))): str(val) for v in variants for k, val in (v.get("options") or {}).items()}
    names = {k for k, _ in own}
    # as this product writes them ("grey" asked, "gray" offered: the same word)
    # a Chinese question names an English catalogue's values in Chinese words: 蓝色 (blue), 65升 (65 L)
    glossed = f"{question} {zh.gloss(question)}" if is_han(question) else question
    mentions = [(k, own[(k, tuple(tokens(val)))]) for k, val in vocabulary.option_mentions(glossed, names)
                if (k, tuple(tokens(val))) in own]
    if not mentions:
        return _Selection(variants, {})
    words = " ".join(tokens(question))
    groups: dict[frozenset[str], set[str]] = {}  # the option names a value may belong to -> values
    for value in dict.fromkeys(val for _, val in mentions):
        owners = {k for k, val in mentions if val == value}
        spoken = {k for k in owners if " ".join(tokens(k)) in words}  # "ram 32GB", not storage 32GB
        groups.setdefault(frozenset(spoken or owners), set()).add(value)
    chosen = [v for v in variants if all(any(str((v.get("options") or {}).get(k, "")) in values for k in owners)
                                         for owners, values in groups.items())]
    named = {k: val for k, val in mentions if any(k in owners and val in values for owners, values in groups.items())}
    return _Selection(chosen, named)


def _describe(p: Record, named: Mapping[str, str]) -> str:
    return f"the {p['name']}" + (f" ({_options_text(named)})" if named else "")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- the kinds of answer -------------------------------------------------------------------------------
def price_answer(p: Record, sel: _Selection) -> CatalogAnswer:
    variants = sel.variants
    what = _describe(p, sel.named)
    if not _variants(p) or not variants:
        value = _price(p)
        return CatalogAnswer("price", f"{_capital(what)} costs {_money(p, value)}.", (p["id"],),
                             (_product_line(p),), ((_money(p, value),),))
    prices = sorted({round(_price(p, v), 2) for v in variants})
    lines = tuple(_variant_line(p, v) for v in variants[:6])
    if len(prices) == 1:
        text = f"{_capital(what)} costs {_money(p, prices[0])}."
        if not any(_in_stock(v) for v in variants):
            text += " It is out of stock right now."
        return CatalogAnswer("price", text, (p["id"],), lines, ((_money(p, prices[0]),),))
    varying = [k for k in dict.fromkeys(k for v in variants for k in (v.get("options") or {})) if k not in sel.named
               and len({str((v.get("options") or {}).get(k)) for v in variants}) > 1]
    text = (f"{_capital(what)} costs {_money(p, prices[0])} to {_money(p, prices[-1])}, depending on the "
            f"{' and '.join(varying) or 'options'}.")
    return CatalogAnswer("price", text, (p["id"],), () if len(variants) > 6 else lines,
                         ((_money(p, prices[0]),), (_money(p, prices[-1]),)))


def _nearest_in_stock(p: Record, wanted: Mapping[str, str]) -> Record | None:
    """The in-stock variant sharing most of the wanted option values."""
    pool = [v for v in _variants(p) if _in_stock(v)]
    if not pool:
        return None
    return max(pool, key=lambda v: sum(str((v.get("options") or {}).get(k, "")).lower() == str(val).lower()
                                       for k, val in wanted.items()))


def stock_answer(p: Record, sel: _Selection) -> CatalogAnswer:
    what = _describe(p, sel.named)
    if not _variants(p):
        ok = bool(p.get("in_stock"))
        lines: tuple[str, ...] = (_product_line(p),)
    else:
        ok = any(_in_stock(v) for v in sel.variants)
        lines = tuple(_variant_line(p, v) for v in sel.variants[:6])
    if ok:
        text = f"Yes, {what} is in stock."
        if _variants(p) and len(sel.variants) > 1:
            free = [k for k in dict.fromkeys(k for v in sel.variants for k in (v.get("options") or {}))
                    if k not in sel.named]
            combos = list(dict.fromkeys(_options_text({k: (v.get("options") or {}).get(k) for k in free})
                                        for v in sel.variants if _in_stock(v)))
            if free and combos:
                text += f" In stock: {'; '.join(combos[:4])}{' and more' if len(combos) > 4 else ''}."
                lines = tuple(_variant_line(p, v) for v in sel.variants if _in_stock(v))[:6]
        return CatalogAnswer("stock", text, (p["id"],), lines, (("in stock", "available"),),
                             ("out of stock", "not in stock", "sold out", "unavailable", "not available"))
    if _variants(p) and not sel.variants:
        text = f"No, the {p['name']} does not come in {_options_text(sel.named)}."
    else:
        text = f"No, {what} is out of stock."
    other = _nearest_in_stock(p, sel.named) if _variants(p) else None
    if other is not None:
        text += f" It is in stock in {_options_text(other.get('options') or {})}."
        lines = (*lines, _variant_line(p, other))
    return CatalogAnswer("stock", text, (p["id"],), lines,
                         (("out of stock", "not in stock", "sold out", "unavailable", "not available",
                           "does not come", "doesn't come"),))


def _plural(word: str) -> str:
    return word if word.endswith("s") else word + "s"


def count_answer(p: Record, sel: _Selection, option: str, question: str) -> CatalogAnswer:
    values = list(dict.fromkeys(str((v.get("options") or {})[option]) for v in sel.variants
                                if option in (v.get("options") or {})))
    in_stock = [x for x in values if any(_in_stock(v) and str((v.get("options") or {}).get(option)) == x
                                         for v in sel.variants)]
    what, label = _describe(p, {k: v for k, v in sel.named.items() if k != option}), _plural(option)
    others = {k: v for k, v in sel.named.items() if k != option}
    said: tuple[tuple[str, object], ...] = (
        ("name", str(p["name"]) + (f" ({_options_text(others)})" if others else "")), ("option", option),
        ("total", len(values)), ("count", len(in_stock)))
    if not in_stock:
        text = f"None of the {label} of {what} is in stock right now ({len(values)} offered: {', '.join(values)})."
        required: tuple[tuple[str, ...], ...] = (("0", "none", "no "),)
        message, said = "catalog.count_none", (*said, ("values", tuple(values)))
    elif AVAILABLE_NOW.search(question) or len(in_stock) == len(values):
        text = f"{_capital(what)} is available in {len(in_stock)} {label}: {', '.join(in_stock)}."
        required = ((str(len(in_stock)),),)
        message, said = "catalog.count_available", (*said, ("values", tuple(in_stock)))
    else:
        text = (f"{_capital(what)} comes in {len(values)} {label}; {len(in_stock)} of them are in stock: "
                f"{', '.join(in_stock)}.")
        required = ((str(len(values)),),)
        message, said = "catalog.count_some", (*said, ("values", tuple(in_stock)))
    return CatalogAnswer("count", text, (p["id"],), (), required, message=message, values=said)


def rank_answer(kind: str, pool: Sequence[Record], label: str, scope: Sequence[str] = ()) -> CatalogAnswer | None:
    """The cheapest or dearest of ``pool`` (``label`` says which in English: "our tents"; ``scope``: the categories
    or product word as the shop writes them, for another language; none: all its products)."""
    if not pool:
        return None
    dear = kind == "dearest"
    ranked = sorted(pool, key=lambda p: (-lowest_price(p) if dear else lowest_price(p), str(p["name"])))
    top = ranked[0]
    word = "most expensive" if dear else "cheapest"
    text = f"The {word} of {label} is the {top['name']}, {_at(top)}."
    ids = [top["id"]]
    lines = [_product_line(top)]
    where: object = tuple(scope) if scope else Words("our products", (("zh", "本店商品"),))
    said: tuple[tuple[str, object], ...] = (("scope", where), ("name", str(top["name"])),
                                            ("price", _from_amount(top)))
    message = f"catalog.{kind}"
    if not top.get("in_stock"):
        stocked = next((p for p in ranked if p.get("in_stock")), None)
        text += " It is out of stock right now"
        message += "_out"
        if stocked is not None:
            text += f"; the {word} in stock is the {stocked['name']}, {_at(stocked)}"
            ids.append(stocked["id"])
            lines.append(_product_line(stocked))
            message = f"catalog.{kind}_stocked"
            said = (*said, ("other", str(stocked["name"])), ("other_price", _from_amount(stocked)))
        text += "."
    return CatalogAnswer(kind, text, tuple(ids), tuple(lines), ((str(top["name"]),), (_money(top, lowest_price(top)),)),
                         message=message, values=said)


def _from(p: Record) -> str:
    """The product's price: "$12.00", or "from $12.00" when its variants cost more."""
    low, high = lowest_price(p), float(p.get("max_price", lowest_price(p)))
    return ("from " if high - low >= 0.005 else "") + _money(p, low)


def _at(p: Record) -> str:
    price = _from(p)
    return price if price.startswith("from ") else f"at {price}"


def compare_answer(products: Sequence[Record], question: str) -> CatalogAnswer:
    a, b = products[0], products[1]
    lines = (_product_line(a), _product_line(b))
    if abs(lowest_price(a) - lowest_price(b)) < 0.005:
        text = f"The {a['name']} and the {b['name']} cost the same: {_from(a)}."
        return CatalogAnswer("compare", text, (a["id"], b["id"]), lines, ((_money(a, lowest_price(a)),),),
                             message="catalog.same_price",
                             values=(("a", str(a["name"])), ("b", str(b["name"])), ("price", _from_amount(a))))
    cheap, dear = (a, b) if lowest_price(a) < lowest_price(b) else (b, a)
    if DEARER.search(question):
        text = f"The {dear['name']} is more expensive, {_at(dear)}; the {cheap['name']} is {_at(cheap)}."
        winner = dear
    else:
        text = f"The {cheap['name']} is cheaper, {_at(cheap)}; the {dear['name']} is {_at(dear)}."
        winner = cheap
    other = dear if winner is cheap else cheap
    return CatalogAnswer("compare", text, (winner["id"], other["id"]), lines,
                         ((str(winner["name"]),), ("more expensive" if winner is dear else "cheaper",)), ordered=True,
                         message="catalog.dearer" if winner is dear else "catalog.cheaper",
                         values=(("winner", str(winner["name"])), ("winner_price", _from_amount(winner)),
                                 ("other", str(other["name"])), ("other_price", _from_amount(other))))
