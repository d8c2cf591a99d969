"""Understanding a shopper's message: intent and entities, by rules (fast, testable, no model).

Categories and brands are matched against the shop's own catalogue vocabulary (passed in), plus a
small table of everyday retail words that map onto a category only when the shop has that category.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

INTENTS = ("handover", "order_status", "order_action", "offers", "recommendation", "product", "policy",
           "greeting", "confirm", "deny", "other")

ORDER_ID = re.compile(r"(?<![\w-])#?([A-Z]{1,4}-?\d{4,10}|#\d{4,10})(?![\w-])", re.IGNORECASE)
_MONEY = r"\$?\s?(\d+(?:[.,]\d{1,2})?)\s*(?:usd|dollars?|bucks|\$)?"
MAX_PRICE = re.compile(r"\b(?:under|below|less than|cheaper than|max(?:imum)?|up to|at most|no more than|within)\s+"
                       + _MONEY, re.IGNORECASE)
MIN_PRICE = re.compile(r"\b(?:over|above|more than|at least|min(?:imum)?)\s+" + _MONEY, re.IGNORECASE)
SIZE = re.compile(r"\bsize\s+(\d{1,2}(?:\.5)?|x{0,2}s|s|m|l|x{1,2}l)\b", re.IGNORECASE)
COLOURS = ("black", "white", "grey", "gray", "blue", "navy", "red", "green", "olive", "yellow", "orange", "pink",
           "purple", "brown", "tan", "beige", "silver", "teal", "charcoal", "burgundy", "sand", "cream")

#: everyday words for common retail categories; used only for categories the shop actually has
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "running-shoes": ("running shoe", "running shoes", "runners", "sneaker", "trainers", "jogging"),
    "hiking-boots": ("hiking boot", "hiking boots", "boots", "boot", "hiking shoes"),
    "tops": ("shirt", "t-shirt", "tee", "top", "tops", "hoodie", "sweater", "base layer", "tank"),
    "bottoms": ("pants", "trousers", "shorts", "leggings", "tights", "joggers", "bottoms"),
    "outerwear": ("jacket", "coat", "parka", "rain shell", "raincoat", "vest", "windbreaker", "fleece"),
    "backpacks": ("backpack", "daypack", "rucksack", "pack", "bag"),
    "camping": ("tent", "sleeping bag", "camping", "stove", "lantern", "headlamp", "sleeping pad", "hammock"),
    "kitchen": ("kettle", "mug", "pan", "skillet", "knife", "cookware", "coffee", "french press", "kitchen",
                "bottle", "tumbler"),
    "audio": ("headphones", "earbuds", "speaker", "headset", "audio", "earphones"),
    "skincare": ("sunscreen", "moisturizer", "moisturiser", "lotion", "cream", "lip balm", "serum", "skincare",
                 "cleanser", "face wash"),
}

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
                          r"loyalty|privacy|personal data|my data|delete my|cancel(?:lation)?|coupons?|promo|"
                          r"policy|policies|how long|how do i|can i)\b", re.I)),
    ("product", re.compile(r"\b(looking for|do you (?:have|sell|carry)|price of|how much|in stock|available in|"
                           r"need (?:a|an|some|new)|want (?:a|an|some)|show me|buy|sizes?|colou?rs?|cheap|"
                           r"waterproof|lightweight|best)\b", re.I)),
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
    colours: tuple[str, ...] = ()
    signals: dict[str, list[str]] = field(default_factory=dict)

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
                "size": self.size, "colours": list(self.colours)}


def _price(pattern: re.Pattern[str], text: str) -> float | None:
    m = pattern.search(text)
    return float(m.group(1).replace(",", ".")) if m else None


def _mentions(text: str, phrase: str) -> bool:
    """Whole-word (or plural) mention of ``phrase`` in lower-cased ``text``."""
    return re.search(rf"(?<![\w-]){re.escape(phrase.lower())}(?:e?s)?(?![\w-])", text) is not None


STRONG_POLICY = re.compile(r"\b(ship(?:ping|ped)?|deliver(?:y|ies)?|returns?|returnable|refunds?|exchanges?|"
                           r"warrant(?:y|ies)|guarantee|payments?|paypal|apple pay|gift cards?|points|tiers?|"
                           r"membership|loyalty|privacy|policy|policies)\b", re.I)
PRODUCT_SEARCH = re.compile(r"\b(looking for|show me|do you (?:have|sell|carry)|need (?:a|an|some|new)|"
                            r"in stock|how much (?:is|are|does)|price of)\b", re.I)


def understand(message: str, categories: Iterable[str] = (), brands: Iterable[str] = ()) -> Understanding:
    """Intent and entities of one message. ``categories``/``brands`` are the shop's own vocabulary."""
    text = message.lower()
    known = list(categories)
    matches: list[tuple[int, int, str]] = []  # (start, end, category)
    for category in known:
        for word in (category.replace("-", " "), category, *CATEGORY_WORDS.get(category, ())):
            for m in re.finditer(rf"(?<![\w-]){re.escape(word.lower())}(?:e?s)?(?![\w-])", text):
                matches.append((m.start(), m.end(), category))
    # "sleeping bag" is camping, not the "bag" inside it: drop matches inside a longer one
    kept = [a for a in matches if not any(b[0] <= a[0] and a[1] <= b[1] and (b[1] - b[0]) > (a[1] - a[0])
                                          and b[2] != a[2] for b in matches)]
    found_categories = list(dict.fromkeys(c for _, _, c in sorted(kept)))
    found_brands = [b for b in brands if b and _mentions(text, b)]
    order_ids = tuple(dict.fromkeys(m.group(1).upper().lstrip("#") for m in ORDER_ID.finditer(message)
                                    if any(ch.isdigit() for ch in m.group(1))))
    signals: dict[str, list[str]] = {}
    for intent, pattern in _RULES:
        hits = [m.group(0) for m in pattern.finditer(message)]
        if hits:
            signals[intent] = hits
    intent = "other"
    if CONFIRM.match(message) or DENY.match(message):
        intent = "confirm" if CONFIRM.match(message) else "deny"
    elif "handover" in signals:
        intent = "handover"
    elif "order_action" in signals and (order_ids or re.search(r"\bmy\b", text)):
        intent = "order_action"
    elif order_ids or "order_status" in signals:
        intent = "order_status"
    elif "offers" in signals:
        intent = "offers"
    elif "recommendation" in signals:
        intent = "recommendation"
    elif "policy" in signals and (not found_categories or
                                  (STRONG_POLICY.search(message) and not PRODUCT_SEARCH.search(message))):
        intent = "policy"
    elif "product" in signals or found_categories or found_brands:
        intent = "product"
    elif "policy" in signals:
        intent = "policy"
    elif "greeting" in signals:
        intent = "greeting"
    size = SIZE.search(message)
    return Understanding(
        intent=intent,
        order_ids=order_ids,
        max_price=_price(MAX_PRICE, message),
        min_price=_price(MIN_PRICE, message),
        categories=tuple(found_categories),
        brands=tuple(found_brands),
        size=size.group(1).upper() if size and not size.group(1)[0].isdigit() else (size.group(1) if size else None),
        colours=tuple(c for c in COLOURS if _mentions(text, c)),
        signals=signals,
    )
