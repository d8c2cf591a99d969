"""The product and recommendation facts of a turn: a computed answer when the question asks one, else the
cards of a search or of the recommender, and nothing at all for a question about something the shop does
not sell ("a good dentist", the weather): no cards, so the reply declines and offers a person.

A question becomes a plan (:func:`answer`): resolve the product(s) it names (fuzzy, against the catalogue's
names) and, when it names options, the variant(s); the filters (categories, brand, prices, the product
word asked); then what is asked, computed by a builder of :mod:`assistant.turn.catalog_answers`.

Offers found for recommended products go to the offers panel; the reply names them only when the shopper
asked about offers or deals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from assistant.domain import ProductCard
from assistant.shop.catalog_index import CatalogIndex
from assistant.shop.shop_vocabulary import STOP_WORDS, ShopVocabulary, find_phrase, is_han, tokens
from assistant.turn import chinese_rules as zh
from assistant.turn.attribute_stats import aggregate_answer
from assistant.turn.catalog_answers import (
    CHEAPEST,
    COMPARE,
    COUNT,
    DEAREST,
    PRICE,
    STOCK,
    WHICH,
    CatalogAnswer,
    Record,
    compare_answer,
    count_answer,
    lowest_price,
    price_answer,
    rank_answer,
    select_variants,
    stock_answer,
)
from assistant.turn.catalog_attributes import attribute_answer, attribute_asked, option_asked
from assistant.turn.facts import Facts
from assistant.turn.understanding import Understanding
from knowledge.lexical_index import cjk_words

if TYPE_CHECKING:
    from assistant.turn.shop_tools import ShopperTools
    from assistant.turn.state import TurnDeps, TurnState

#: words of a request that say nothing about what is wanted: asking, judging, who it is for, when
GENERIC = frozenset(tokens(
    "recommend recommendation suggest suggestion something anything everything thing stuff item product option "
    "idea gift present good nice great best better cool decent help looking look find show sell selling sold "
    "available price cheap expensive affordable budget buy get need want like love please thanks thank "
    "could would should might may let know tell think kind sort type today tomorrow tonight now right next week "
    "weekend trip vacation holiday near nearby around here someone somebody anyone him her them his hers their "
    "wife husband partner "
    "mom mum mother dad father parent son daughter kid child children baby friend boyfriend girlfriend brother "
    "sister family boss colleague birthday anniversary christmas holiday wedding graduation occasion "
    "what which who where when why how much many is are was be can will do does did have has had"))

#: the shopper asks about offers or deals: then (only then) a product reply names the offer
ASKS_OFFERS = re.compile(r"\b(offers?|deals?|discounts?|coupons?|promo(?:tion)?s?|promo codes?|vouchers?|"
                         r"on sale|sales?|savings?)\b", re.I)
#: a question answered with yes or no ("do you have", "is it", "are there")
YES_NO = re.compile(r"^\W*(do|does|did|is|are|was|were|can|could|have|has|will|would)\b", re.I)


def _scope(catalog: CatalogIndex, u: Understanding, question: str) -> tuple[list[Record], str, tuple[str, ...]]:
    """The products a superlative is about: the categories and brand asked, within the prices asked, and,
    when the question names them by a word of their names or tags ("the cheapest tent"), those. Also how
    English says which ("our tents") and the categories or word as the shop writes them (none: all)."""
    low, high = u.min_price if u.min_price is not None else 0.0, u.max_price if u.max_price is not None else 1e18
    pool: list[Record] = [p for p in catalog.products.values()
                          if (not u.categories or p["category"] in u.categories)
                          and (not u.brands or p.get("brand") in u.brands) and low <= lowest_price(p) <= high]
    label = "our " + " and ".join(c.replace("-", " ") for c in u.categories) if u.categories else "our products"
    scope: tuple[str, ...] = tuple(u.categories)
    for phrase in catalog.vocabulary.product_words(question):
        named = [p for p in pool if find_phrase(tokens(" ".join([str(p["name"]), *map(str, p.get("tags") or [])])),
                                                phrase)]
        if named:
            word = "".join(phrase) if all(is_han(w) for w in phrase) else " ".join(phrase)
            pool, label = named, f"our {word}{'es' if word.endswith(('s', 'x', 'ch', 'sh')) else 's'}"
            scope = (word,)
            break
    if u.brands:
        label = label.replace("our ", f"our {' or '.join(u.brands)} ", 1)
        scope = tuple(u.brands) + scope
    return pool, label, scope


def catalog_aggregate(question: str, u: Understanding, catalog: CatalogIndex) -> CatalogAnswer | None:
    """An answer over one attribute of the products in scope ("How many products ship overnight?"), also for
    a question that reads as one about policies: the catalogue's own values answer it exactly. The names of the
    categories asked say which products, not which attribute ("the cheapest in the skincare category" asks
    nothing about ``skin_type``)."""
    pool, label, _ = _scope(catalog, u, question)
    asked = question
    for category in sorted(u.categories, key=len, reverse=True):
        for written in dict.fromkeys((category, category.replace("-", " "), category.replace("_", " "))):
            asked = re.sub(re.escape(written), " ", asked, flags=re.I)
    return aggregate_answer(asked, pool, label, narrowed=label != "our products")


def answer(question: str, u: Understanding, catalog: CatalogIndex) -> CatalogAnswer | None:
    """The computed answer to a question about the catalogue, or ``None`` when it asks nothing computable
    (a search, a recommendation: the cards and the model answer those)."""
    named = [catalog.products[pid] for pid in catalog.resolve(question) if pid in catalog.products]
    vocabulary = catalog.vocabulary
    if not any(find_phrase(tokens(question), tokens(str(p["name"]))) for p in named):
        found_over = catalog_aggregate(question, u, catalog)  # "the longest warranty of our laptops"
        if found_over is not None:
            return found_over
    if len(named) >= 2 and COMPARE.search(question):
        return compare_answer(named, question)
    if not named:
        for kind, pattern in (("cheapest", CHEAPEST), ("dearest", DEAREST)):
            if pattern.search(question):
                pool, label, scope = _scope(catalog, u, question)
                return rank_answer(kind, pool, label, scope)
        return None
    p = named[0]
    sel = select_variants(p, question, vocabulary)
    if COUNT.search(question) or WHICH.search(question):
        option = option_asked(p, question, sel.named, plural=not COUNT.search(question))
        if option is not None:
            return count_answer(p, sel, option, question)
    found = attribute_asked(p, question, whole=True, options=list(sel.named))
    if found is not None:
        return attribute_answer(p, *found)
    if PRICE.search(question):
        return price_answer(p, sel)
    if STOCK.search(question):
        return stock_answer(p, sel)
    found = attribute_asked(p, question)
    if found is not None:
        return attribute_answer(p, *found)
    if sel.named:  # "the X in blue?": whether it is there
        return stock_answer(p, sel)
    return None


def about_the_shop(question: str, u: Understanding, vocabulary: ShopVocabulary, *, strict: bool = False) -> bool:
    """Whether the question is about what the shop sells: it names a brand, product or option, or the words
    that say what is wanted are the catalogue's own (any of them; with ``strict``, most). A request with no
    such words ("recommend something for me") is about the shop; "a good dentist" is not, nor is "who won
    the football game" in a shop that sells a football (strict: most of its words are not the shop's)."""
    if (u.brands or u.products or u.options) and not strict:
        return True
    asked = re.sub(r"\b(?:in|out of) stock\b", " ", question, flags=re.I)  # "stocks" to buy are not stock
    wanted = [w for w in tokens(asked) if w not in STOP_WORDS and w not in GENERIC and not w.isdigit()
              and len(w) > 1]
    if is_han(question):  # Chinese words (jieba), the shop's when its catalogue writes them
        han = [w for w in cjk_words(asked) if w not in zh.GENERIC and not w.isdigit()]
        if not han and not wanted:
            return not strict
        known = sum(w in vocabulary.known for w in wanted) + sum(vocabulary.writes(w) for w in han)
        return known * 2 > len(wanted) + len(han) if strict else known > 0
    if not wanted:
        return not strict
    known = sum(w in vocabulary.known for w in wanted)
    return known * 2 > len(wanted) if strict else known > 0


def product_facts(state: TurnState, deps: TurnDeps, tools: ShopperTools, facts: Facts) -> list[ProductCard]:
    """The cards of a product, recommendation or other turn; a computed answer goes into ``facts.answer``."""
    assert state.guard is not None and state.understanding is not None
    u, question, catalog = state.understanding, state.guard.text, deps.catalog
    vocabulary = catalog.vocabulary
    if u.intent in ("product", "recommendation") or u.products:
        found = answer(question, u, catalog)
        if found is not None:
            facts.answer = found
            return [c for pid in found.products if (c := catalog.card(pid)) is not None]
    cards: list[ProductCard] = []
    if u.intent == "recommendation":
        if about_the_shop(question, u, vocabulary):
            for rec in tools.recommend(deps.recommender, question, u, state.profile, state.personalized):
                card = catalog.card(rec.product_id, rec.reason)
                if card:
                    cards.append(card)
    elif u.intent == "product":
        # a shopping request ("do you have", "looking for") needs one word of the shop's; a bare mention of a
        # category word in another kind of question needs most of its words to be the shop's
        if about_the_shop(question, u, vocabulary, strict="product" not in u.signals):
            # what was asked decides relevance; the shopper's tastes only reorder what was found
            hits = tools.search_products(question, u.product_filters, max(8, deps.settings.agent.product_k))
            for rec in deps.recommender.rank(hits, u, state.profile, state.personalized, k=3):
                card = catalog.card(rec.product_id, rec.reason if state.personalized else None)
                if card:
                    cards.append(card)
    elif about_the_shop(question, u, vocabulary, strict=True):  # other: only what is clearly about the shop
        for hit in tools.search_products(question, {"in_stock": True}, 2):
            card = catalog.card(hit.id)
            if card:
                cards.append(card)
    return cards


def offers_with_products(state: TurnState, tools: ShopperTools, facts: Facts,
                         cards: Sequence[ProductCard]) -> list[Mapping[str, Any]]:
    """An eligible offer on what is recommended, for the offers panel; in the reply (``facts.offers``) only
    when the shopper asked about offers or deals."""
    assert state.guard is not None and state.understanding is not None
    u = state.understanding
    if u.intent != "recommendation" or not cards:
        return []
    shown = tuple(dict.fromkeys([*u.categories, *(c.category for c in cards)]))
    chosen = tools.choose_offer(state.profile, state.personalized, shown)
    if ASKS_OFFERS.search(state.guard.text):
        facts.offers = list(chosen)
    return chosen
