"""Replies built from the facts alone (no model), in the shopper's language: the fallback when a written reply
fails verification, and the whole reply when the chat model does not write the shopper's language.

Sentences come from the message catalogue (:mod:`assistant.locales`); what the shop wrote (product names,
policy sentences, offer titles and codes) is quoted as written, in its own language, and a policy answer says
which document it quotes ("根据《Returns and refunds》：...").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from assistant.locales import REFERENCE, supported, text
from assistant.locales.local_formats import day_in, money_in
from assistant.personalization.offer_rules import describe, offer_time
from assistant.turn.code_guard import code_like, split_sentences, unknown_codes, words_of
from assistant.turn.facts import Facts
from assistant.turn.order_answers import orders_answer
from assistant.turn.policy_answers import sentences_of, source_line, title_of
from assistant.turn.policy_claims import cited, supporting

#: a yes/no question: the listing then starts with "Yes, we have ..." (English, then Chinese: 有没有 / ...吗)
YES_NO = re.compile(r"^\W*(do|does|did|is|are|was|were|can|could|have|has|will|would)\b|有没有|有.*吗|是否有|卖不卖",
                    re.I)


def product_listing(facts: Facts, first: str | None = None, language: str = REFERENCE) -> str:
    """The cards as a sentence that answers first: "Yes, we have ..." to a yes/no question, "Here are ..."
    otherwise (to a personalized recommendation, with the shopper's first name)."""
    items = []
    for c in facts.products:
        price = money_in(c.price, c.currency, language)
        # a card's reason is the recommender's English: said only in English
        key = "products.item_reason" if c.reason and supported(language) == REFERENCE else "products.item"
        items.append(text(key, language, name=c.name, price=price, reason=c.reason or ""))
    listed = ("；" if supported(language) == "zh" else "; ").join(items)
    one = len(facts.products) == 1
    if facts.intent == "recommendation":
        if first:
            return text("products.pick_named" if one else "products.picks_named", language, name=first, items=listed)
        return text("products.pick" if one else "products.picks", language, items=listed)
    if YES_NO.search(facts.question):
        return text("products.yes_this" if one else "products.yes_these", language, items=listed)
    return text("products.option" if one else "products.options", language, items=listed)


def describe_offer(offer: Mapping[str, Any], language: str = REFERENCE) -> str:
    """One factual sentence about an offer in ``language`` (English: :func:`offer_rules.describe`)."""
    if supported(language) == REFERENCE:
        return describe(offer)
    rules = offer.get("eligibility") or {}
    kind, value, currency = str(offer.get("kind")), offer.get("value"), str(offer.get("currency") or "USD")
    amount = money_in(float(value or 0), currency, language)
    what = {"percent": text("offers.percent", language, value=f"{value:g}" if value is not None else ""),
            "fixed": text("offers.fixed", language, amount=amount),
            "free_shipping": text("offers.free_shipping", language),
            "points_multiplier": text("offers.points", language, value=f"{value:g}" if value is not None else "")
            }.get(kind, kind)
    sentence = text("offers.one", language, title=offer["title"], what=what, code=offer["code"])
    extra = []
    if rules.get("categories"):
        extra.append(text("offers.on", language, categories="、".join(str(c) for c in rules["categories"])))
    if rules.get("min_basket"):
        extra.append(text("offers.min_basket", language, amount=money_in(float(rules["min_basket"]), currency,
                                                                            language)))
    if rules.get("max_discount"):
        extra.append(text("offers.max_discount", language, amount=money_in(float(rules["max_discount"]), currency,
                                                                              language)))
    expires = offer_time(rules.get("expires_at"))
    if expires:
        extra.append(text("offers.until", language, day=day_in(expires, language)))
    return sentence + ("（" + "，".join(extra) + "）" if extra else "")


def localized_answer(facts: Facts, language: str) -> str | None:
    """A computed answer in ``language``: its own message (a count, the cheapest, a comparison, an attribute, ...),
    or a price or stock answer from the product's record; None otherwise (the reply then lists the products
    found)."""
    answer = facts.answer
    said = answer.in_language(language) if answer is not None else None
    if said is not None:
        return said
    record = facts.records.get(answer.products[0]) if answer is not None and answer.products else None
    if answer is None or record is None or answer.kind not in ("price", "stock") or len(answer.products) != 1:
        return None
    name, currency = str(record["name"]), str(record.get("currency") or "USD")
    if answer.kind == "stock":  # of the variants the question named: as the computed answer says
        in_stock = answer.text.startswith("Yes")
        return text("products.in_stock" if in_stock else "products.out_of_stock", language, name=name)
    # the prices the computed answer requires (of the variants named): one, or the lowest and the highest
    prices = [float(m.replace(",", "")) for group in answer.required
              for m in re.findall(r"\d[\d,]*(?:\.\d+)?", group[0])]
    if not prices:
        return None
    if len(prices) == 1:
        return text("products.price", language, name=name, price=money_in(prices[0], currency, language))
    return text("products.price_range", language, name=name, low=money_in(min(prices), currency, language),
                high=money_in(max(prices), currency, language))


def policy_quote(facts: Facts, sentences: list[str], language: str) -> str:
    """The policy's own sentences and the documents they come from: English "... Source: X.", another language
    "According to «X»: ..." in its own words."""
    if supported(language) == REFERENCE:
        return " ".join([*sentences, source_line(facts.policies, sentences)]).strip()
    hits = facts.policies
    titles = [title_of(h) for h in hits if any(s in sentences_of(h) for s in sentences)]
    titles = list(dict.fromkeys(t for t in titles if t)) or [title_of(h) for h in hits[:1] if title_of(h)]
    named = "、".join(text("policy.title", language, title=t) for t in titles)
    return text("policy.quote", language, titles=named, sentences=" ".join(sentences))


def cited_in(reply: str, facts: Facts, sources: list[str]) -> str:
    """The source line for a written policy reply in the reply's language: the documents of the sentences that
    support its claims ("Source: X." / "来源：《X》。")."""
    if supported(facts.language) == REFERENCE:
        return cited(reply, facts.policies, sources)
    used = [s for s in (supporting(c, sources) for c in split_sentences(reply)) if s]
    titles = list(dict.fromkeys(title_of(h) for h in facts.policies if any(s in sentences_of(h) for s in used)))
    named = "、".join(text("policy.title", facts.language, title=t) for t in titles if t)
    return text("policy.source", facts.language, titles=named) if named else ""


def fallback_reply(facts: Facts, shop: str, language: str | None = None) -> str:
    """A reply built from the facts alone (no model), for when the model's reply fails verification or the
    model does not write the shopper's language."""
    lang = language or facts.language
    parts: list[str] = []
    for order_id in facts.refused_order_ids:
        parts.append(text("refuse_other_order", lang, order_id=order_id))
    if facts.orders:  # the answer first: the status, tracking number, total or items asked for
        parts.append(orders_answer(facts.orders, facts.question, lang))
    profile = facts.profile if facts.personalized else None
    first = profile.name.split()[0] if profile else None
    answer = facts.answer.text if facts.answer is not None else None
    if answer is not None and supported(lang) != REFERENCE:
        answer = localized_answer(facts, lang)
    if answer is not None:  # a computed answer about the catalogue: the reply's first sentence
        parts.append(answer)
    elif facts.products:  # the products answer first; an offer (only when asked for) follows
        parts.append(product_listing(facts, first, lang))
    if facts.offers:
        offers = " ".join(describe_offer(o, lang) for o in facts.offers)
        parts.append(text("offers.member", lang, name=first, tier=profile.tier, offers=offers) if profile and first
                     else text("offers.lead", lang, offers=offers))
    if facts.policies and not facts.offers:  # the policy's own sentences that answer, then their documents
        # a code-like token in a document is no offer: its sentence is left out (see code_guard)
        allowed = {str(o["code"]) for o in facts.offers} | code_like(facts.trusted_text())
        corpus = facts.corpus()
        words = words_of(corpus)  # a capitalised word the facts use as a word ("FREE") is no code
        sentences = [s for s in facts.policy_answer() if not unknown_codes(s, allowed, words, source=corpus)]
        if sentences:
            parts.append(policy_quote(facts, sentences, lang))
    if not parts:
        return text("nothing_found", lang, shop=shop)
    return " ".join(parts)
