"""Understanding a shopper's message: intent and entities, by rules (fast, testable, no model).

Categories, brands, option values (colours, sizes, ...) and product names are matched against the shop's own
vocabulary, learned from its catalogue (:class:`~assistant.shop.catalog_index.ShopVocabulary`): a word is a
category's word only because the shop's product names and tags use it so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from assistant.shop.shop_vocabulary import ShopVocabulary, is_han, tokens
from assistant.turn import chinese_rules as zh
from assistant.turn.order_refs import LATEST, asked_about, asks_latest, find_order_ids

INTENTS = ("handover", "order_status", "order_action", "offers", "recommendation", "product", "policy",
           "greeting", "confirm", "deny", "other")

#: an amount in any currency: "$50", "€50", "CHF 50", "50 euros", "50 kr"
_MONEY = (r"(?:[a-z]{0,3}[$€£¥₹₩₽₺₪฿]|(?:usd|eur|gbp|chf|cad|aud|jpy|cny|rmb|sek|nok|dkk|inr)\b)?\s?"
          r"(\d+(?:[.,]\d{1,2})?)\s*(?:usd|eur|gbp|chf|dollars?|euros?|pounds?|francs?|yuan|yen|kr|bucks|"
          r"[$€£¥])?")
MAX_PRICE = re.compile(r"\b(?:under|below|less than|cheaper than|max(?:imum)?|up to|at most|no more than|within)\s+"
                       + _MONEY, re.IGNORECASE)
MIN_PRICE = re.compile(r"\b(?:over|above|more than|at least|min(?:imum)?)\s+" + _MONEY, re.IGNORECASE)
#: "size 9", "size M" when no catalogue is at hand; with one, only sizes its options have count
SIZE = re.compile(r"\bsize\s+(\d{1,2}(?:\.5)?|x{0,2}s|s|m|l|x{1,2}l)(?![\w-]|\.\d)", re.IGNORECASE)

_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("handover", re.compile(r"\b(human|real person|agent|representative|someone (?:real|from your team)|"
                            r"talk to (?:a |an |some)?(?:one|person|body)|speak (?:to|with) (?:a|an|some)|"
                            r"customer service|manager|supervisor)\b", re.I)),
    ("order_action", re.compile(r"\b(cancel|return|exchange|swap|send (?:it|them) back|(?:change|update) "
                                r"(?:the |my )?(?:shipping |delivery )?address)\b.*\b(my|the|this|that|order|"
                                r"[a-z]{1,4}-?\d{4,10})\b|\b((?:my|this|that) (?:order|purchase)|[a-z]{1,4}-?\d{4,10})"
                                r"\b.*\b(cancel|return|exchange|change)\b", re.I)),
    ("order_status", re.compile(r"\b(my orders?|where(?:'s| is) my|track(?:ing)?|has my .* (?:shipped|arrived)|"
                                r"when will my|did my .* ship|order status|status of my|my (?:last|recent) "
                                r"(?:order|purchase)|what did i (?:buy|order))\b", re.I)),
    ("offers", re.compile(r"\b(any (?:offers?|deals?|discounts?|coupons?|promos?)|(?:offers?|deals?|discounts?|"
                          r"coupons?|promo(?: code)?s?) (?:for me|do i have|can i get|available)|do (?:i|you) have "
                          r"(?:a |any )?(?:coupon|discount|offer|promo)|discount code|coupon code|promo code)\b",
                          re.I)),
    ("recommendation", re.compile(r"\b(recommend|suggest|what should i (?:buy|get|wear)|for me\b|gift ideas?|"
                                  r"something (?:for|like)|similar to|what would you)\b", re.I)),
    ("policy", re.compile(r"\b(ship(?:ping|ped)?|deliver(?:y|ies)?|returns?|refunds?|exchanges?|warrant(?:y|ies)|"
                          r"guarantee|payments?|pay(?:pal)?|apple pay|gift cards?|points?|tiers?|membership|member|"
                          r"loyalty|privacy|personal data|my data|delete my|cancel(?:lation)?|coupons?|promo|swap|"
                          r"personali[sz]ation|opt(?:ing)? (?:out|in)|how many days|(?:my|your) account|"
                          r"default (?:user |shipping |delivery )?address|"
                          r"policy|policies|how long|how do i|can i)\b", re.I)),
    ("product", re.compile(r"\b(looking for|do you (?:have|sell|carry)|price of|how much|in stock|available in|"
                           r"need (?:a|an|some|new)|want (?:a|an|some)|show me|buy|sizes?|colou?rs?|cheap|"
                           r"best)\b", re.I)),
    ("greeting", re.compile(r"^\s*(hi|hello|hey|good (?:morning|afternoon|evening)|thanks?|thank you|bye|"
                            r"goodbye)\b[\s!.?]*(there|concierge)?[\s!.?]*$", re.I)),
]


#: an explicit yes / no, and nothing else: only meaningful when an action waits for confirmation
CONFIRM = re.compile(r"^\W*(?:yes|yeah|yep|yup|sure|confirm(?:ed)?|i confirm|go ahead|do it|please do|correct|"
                     r"absolutely|that's right)(?:[\s,!.]+(?:yes|please|thanks|thank you|go ahead|do it|confirm(?:ed)?|"
                     r"i confirm|correct|(?:cancel|return|exchange|change) (?:it|them|that|the order)))*\W*$", re.I)
_DONT = r"(?:do not|don'?t) (?:cancel|return|exchange|change) (?:it|them|that)"
DENY = re.compile(rf"^\W*(?:{_DONT}|no|nope|nah|don'?t|do not|never ?mind|stop|forget it|keep it|leave it|no thanks|"
                  rf"no thank you)(?:[\s,!.]+(?:no|thanks|thank you|please|don'?t|do not|keep it|leave it|"
                  rf"never ?mind|forget it|{_DONT}))*\W*$", re.I)


@dataclass(frozen=True)
class Understanding:
    intent: str
    order_ids: tuple[str, ...] = ()
    max_price: float | None = None
    min_price: float | None = None
    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    size: str | None = None
    #: the size as the shopper wrote it, even one the catalogue does not have (for order exchanges)
    asked_size: str | None = None
    colours: tuple[str, ...] = ()
    signals: dict[str, list[str]] = field(default_factory=dict)
    #: (option name, value) pairs named, for values the catalogue has ("color"/"blue", "size"/"M")
    options: tuple[tuple[str, str], ...] = ()
    #: ids of the catalogue's products the message names
    products: tuple[str, ...] = ()

    @property
    def product_filters(self) -> dict[str, object]:
        filters: dict[str, object] = {"in_stock": True}
        if self.max_price is not None:
            filters["max_price"] = self.max_price
        if self.min_price is not None:
            filters["min_price"] = self.min_price
        if len(self.categories) == 1:
            filters["category"] = self.categories[0]
        elif self.categories:
            filters["category"] = list(self.categories)
        return filters

    def to_dict(self) -> dict[str, object]:
        return {"intent": self.intent, "order_ids": list(self.order_ids), "max_price": self.max_price,
                "min_price": self.min_price, "categories": list(self.categories), "brands": list(self.brands),
                "size": self.size, "colours": list(self.colours), "options": [list(o) for o in self.options],
                "products": list(self.products)}


def _price(pattern: re.Pattern[str], text: str) -> float | None:
    m = pattern.search(text)
    return float(m.group(1).replace(",", ".")) if m else None


def _mentions(text: str, phrase: str) -> bool:
    """Whole-word (or plural) mention of ``phrase`` in lower-cased ``text`` (a CJK character next to it is a
    boundary)."""
    return re.search(rf"(?<![\w-]){re.escape(phrase.lower())}(?:e?s)?(?![\w-])", text, re.ASCII) is not None


#: a boundary between a CJK character and a Latin letter or digit: "我想cancel我的order" reads "我想 cancel 我的 order"
_SCRIPT_EDGE = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff])(?=[A-Za-z0-9#$])|"
                          r"(?<=[A-Za-z0-9])(?=[\u3400-\u9fff\uf900-\ufaff])")


def spaced(message: str) -> str:
    """``message`` with a space where Chinese meets Latin letters or digits, for the English rules' ``\b``."""
    return _SCRIPT_EDGE.sub(" ", message)


STRONG_POLICY = re.compile(r"\b(ship(?:ping|ped)?|deliver(?:y|ies)?|returns?|returnable|refunds?|exchanges?|swap|"
                           r"personali[sz]ation|opt(?:ing)? out|"
                           r"warrant(?:y|ies)|guarantee|payments?|paypal|apple pay|gift cards?|points|tiers?|"
                           r"membership|loyalty|privacy|policy|policies)\b", re.I)
PRODUCT_SEARCH = re.compile(r"\b(looking for|show me|do you (?:have|sell|carry)|need (?:a|an|some|new)|"
                            r"in stock|how much (?:is|are|does)|price of)\b", re.I)


#: a question about the shop's rules or timing ("if I cancel an order, how long until ...", "what happens if
#: ...", "can I still cancel my order once it is processed?"): a policy question even when it says "my order"
RULE_QUESTION = re.compile(r"\b(?:if|once|after|when) (?:i|i'?ve|i'?m|my|an?|the|it|it'?s|they|you)\b[^?]*\?|"
                           r"\bwhat happens (?:if|when|to|after)\b|\bhow (?:long|soon|many days|much time) (?:until|"
                           r"before|(?:does|do|can|could|will|would|should|must) (?:it|i|orders?|an order|refunds?|a "
                           r"refund) )|\bis it possible\b|\b(?:am i|are we) allowed\b|\bdo i (?:need|have) to\b|"
                           r"\bhow do you\b|\bin general\b", re.I)
#: asks for something done, or about one order's state, not about the rules ("I want to cancel my order if ...")
_REQUEST = re.compile(r"\b(?:i want|i'?d like|i would like|please|where(?:'s| is) my|track my|tracking (?:number|"
                      r"info|link|code|id)|status of my|"
                      r"order status|has my .* (?:shipped|arrived)|did my .* ship)\b", re.I)
#: an action named next to an order id the shopper gave
_ACTION = re.compile(r"\b(?:cancel|return|exchange|swap|send (?:it|them) back|(?:change|update) (?:the |my )?"
                     r"(?:shipping |delivery )?address)\b", re.I)


def _size(message: str, vocabulary: ShopVocabulary, options: list[tuple[str, str]]) -> str | None:
    """The size asked: a value of a size option the shop has ("size 5.8-inch" is not size 5), or, with no
    catalogue at hand, a plain "size 9" / "size M"."""
    named = [value for name, value in options if "size" in tokens(name)]
    if named or vocabulary.values:
        return named[0] if named else None
    return asked_size(message)


def asked_size(message: str) -> str | None:
    """A plain "size 9" / "size M" as written, whether or not the shop has it (an exchange to a size a product
    does not come in must be refused by the policy, not lost)."""
    m = SIZE.search(message)
    return None if m is None else (m.group(1) if m.group(1)[0].isdigit() else m.group(1).upper())


def _about_an_attribute(message: str, vocabulary: ShopVocabulary, products: list[str]) -> bool:
    """The message asks about an attribute of a product it names ("the warranty of the X", "X的保修期")."""
    words = set(tokens(message))
    named = [vocabulary.attribute_words.get(pid, frozenset()) for pid in products]
    return any({w for w in own if not is_han(w)} & words or any(w in message for w in own if is_han(w))
               for own in named)


def understand(message: str, categories: Iterable[str] = (), brands: Iterable[str] = (),
               own_order_ids: Iterable[str] = (), *, vocabulary: ShopVocabulary | None = None) -> Understanding:
    """Intent and entities of one message. ``vocabulary``: the shop's own, learned from its catalogue (without
    one, only the names in ``categories``/``brands`` are known);
    ``own_order_ids`` the shopper's order ids as stored (an order id is recognised by them first)."""
    order_ids = find_order_ids(message, own_order_ids)
    original, message = message, spaced(message)
    text = message.lower()
    glossed = f"{message} {zh.gloss(original)}".strip()  # Chinese colours and sizes in the vocabulary's words
    vocabulary = vocabulary or ShopVocabulary.from_labels(categories, brands)
    found_categories = vocabulary.category_matches(message)
    found_brands = [b for b in vocabulary.brands if b and _mentions(text, b)]
    options = vocabulary.option_mentions(glossed)
    products = vocabulary.named_products(message)
    signals: dict[str, list[str]] = {}
    for intent, pattern in _RULES:
        hits = [m.group(0) for m in pattern.finditer(message)]
        if hits:
            signals[intent] = hits
    for intent, hits in zh.signals(original).items():
        signals[intent] = [*signals.get(intent, []), *hits]
    mine = bool(re.search(r"\bmy\b", text) or zh.MINE.search(original))
    rule_question = RULE_QUESTION.search(message) or zh.RULE_QUESTION.search(original)
    request = _REQUEST.search(message) or zh.REQUEST.search(original)
    yes = CONFIRM.match(message) or zh.CONFIRM.match(original)
    intent = "other"
    if yes or DENY.match(message) or zh.DENY.match(original):
        intent = "confirm" if yes else "deny"
    elif "handover" in signals:
        intent = "handover"
    elif not order_ids and ("order_action" in signals or "order_status" in signals) and \
            rule_question and not request:
        intent = "policy"
    elif not order_ids and "order_action" not in signals and "policy" in signals and \
            all(re.fullmatch(r"my orders?", hit, re.I) for hit in signals.get("order_status", ["-"])) and \
            asked_about(message) == "status" and not LATEST.search(message):
        intent = "policy"  # "my order" said in passing ("can I use a coupon on my order?"): nothing about its state
    elif ("order_action" in signals or (order_ids and (_ACTION.search(message) or zh.action_kind_zh(original)))) \
            and (order_ids or mine):
        intent = "order_action"
    elif order_ids or "order_status" in signals or (asks_latest(original) and mine):
        intent = "order_status"
    elif "offers" in signals:
        intent = "offers"
    elif "recommendation" in signals and not ("policy" in signals and _ACTION.search(message)):
        intent = "recommendation"
    elif "policy" in signals and not products and len({m.group(0).lower().rstrip("s") for m in
                                                        STRONG_POLICY.finditer(message)}) >= 2:
        intent = "policy"  # "how much is taken off my refund for the return label": the rules, not a product
    elif "policy" in signals and (not (found_categories or products) or
                                  ((STRONG_POLICY.search(message) or zh.STRONG_POLICY.search(original))
                                   and not (PRODUCT_SEARCH.search(message) or zh.PRODUCT_SEARCH.search(original))
                                   and not _about_an_attribute(message, vocabulary, products))):
        intent = "policy"
    elif "product" in signals or found_categories or found_brands or products:
        intent = "product"
    elif "policy" in signals:
        intent = "policy"
    elif "greeting" in signals:
        intent = "greeting"
    return Understanding(
        intent=intent,
        order_ids=order_ids,
        max_price=_price(MAX_PRICE, message) or zh.price(zh.MAX_PRICE, original),
        min_price=_price(MIN_PRICE, message) or zh.price(zh.MIN_PRICE, original),
        categories=tuple(found_categories),
        brands=tuple(found_brands),
        size=_size(glossed, vocabulary, options),
        asked_size=asked_size(glossed),
        colours=tuple(dict.fromkeys(value.lower() for name, value in options if "color" in tokens(name))),
        signals=signals,
        options=tuple(options),
        products=tuple(products),
    )
