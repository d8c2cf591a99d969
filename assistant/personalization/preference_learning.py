"""Learning a profile from what shoppers write: rules over the shop's vocabulary, no model.

``extract_preferences`` reads one message and returns inferred preferences with a confidence: categories,
brands, sizes, colours, a budget ("under $80"), occasions ("for gongfu brewing", "a ski trip") and dislikes
("I don't like X", "no X", "hate X"). What counts as a category, a colour, a size or a thing a shop sells comes
from the shop's vocabulary (learned from its catalogue), never from a list of words. ``PreferenceLearner``
applies them to a personalized shopper's profile after each turn: repeated evidence raises an inferred
preference's confidence (noisy-or) and its evidence count; a contradiction (a new budget, "actually size 9",
disliking what was inferred as liked) lowers the old one; a preference the shopper removed is never inferred
again (the store keeps its tombstone). How the profile is read back (decay with age, explicit preferences
first) is in ``assistant.personalization.tastes``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.errors import ConciergeError, NotFoundError
from assistant.personalization.tastes import SINGLE_KINDS, describe, effective_confidence, group_of, size_system
from assistant.settings import ProfileSettings
from assistant.shop.shop_vocabulary import STOP_WORDS, ShopVocabulary, find_phrase, tokens
from assistant.turn.input_guard import GuardResult
from assistant.turn.understanding import SIZE, understand

if TYPE_CHECKING:
    from assistant.store.customers import CustomerStore

log = logging.getLogger(__name__)

# confidence of one mention, by kind; a stated liking ("I love ...", "I always ...") adds LIKED_BONUS
CONFIDENCE = {"category": 0.5, "brand": 0.55, "size": 0.7, "colour": 0.45, "budget": 0.6, "occasion": 0.5,
              "dislike": 0.7}
LIKED_BONUS = 0.2
CORRECTED = 0.9  # a value given as a correction ("actually size 9")

LIKED = re.compile(r"\b(i (?:really |just )?(?:like|love|prefer|adore)|my fav(?:ou)?rite|i (?:always|usually|mostly) "
                   r"(?:wear|buy|get|use)|i(?:'m| am) (?:a|into)|i wear)\b", re.I)
CORRECTION = re.compile(r"\b(actually|instead|i meant|correction|changed my mind|rather|make (?:it|that))\b", re.I)
_STOP = r"(?=$|[.,;:!?)]|\s+(?:and|but|or|so|because|please|though|since|for|when|if)\b)"
DISLIKE = re.compile(
    r"\b(?:i\s+(?:really\s+|just\s+)?(?:don'?t|do\s+not|dont)\s+(?:like|want|love|care\s+for|need)|"
    r"i\s+(?:really\s+)?(?:hate|dislike|can'?t\s+stand|cannot\s+stand)|(?<!\w)hate|not\s+a\s+fan\s+of|"
    r"allergic\s+to|(?:please\s+)?avoid|nothing\s+(?:made\s+(?:of|from)|with))\s+"
    r"(?P<thing>[^.,;:!?]{2,60}?)" + _STOP, re.I)
NO_THING = re.compile(r"\bno\s+(?P<thing>[a-z][\w-]*(?:\s+[a-z][\w-]*)?)", re.I)
_LEADING = re.compile(r"^(?:the|any|anything|a|an|some|all|too|very|really|those|these|that|this|it|them)\s+", re.I)
_TRAILING = re.compile(r"\s+(?:at all|anymore|any more|much|very much|really|either|too|please)$", re.I)

#: what something is for: "for gongfu brewing", "for commuting" (an occasion when the shop's words say so)
FOR = re.compile(r"\bfor\s+(?:a |an |my |our |the |some |long |short )?(?P<what>[a-z][a-z-]*(?:\s+[a-z][a-z-]*){0,2})",
                 re.I)
TRIP = re.compile(r"\b(?:a|an|my|our|the|next|upcoming)\s+(?P<what>[a-z]+(?:[ -][a-z]+)?)\s+(?P<kind>trip|holiday|"
                  r"vacation|getaway|race|weekend)\b", re.I)
_NOT_OCCASION = frozenset({"next", "big", "long", "short", "little", "first", "last", "quick", "new", "good", "great",
                           "nice", "upcoming", "this", "that", "few"})


@dataclass(frozen=True)
class Extracted:
    """One inferred preference read from a message."""

    kind: str
    value: str
    confidence: float
    correction: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "confidence": round(self.confidence, 3),
                "correction": self.correction}


def _clean(thing: str) -> str:
    thing = " ".join(thing.split())
    previous = None
    while previous != thing:
        previous = thing
        thing = _TRAILING.sub("", _LEADING.sub("", thing)).strip(" '\"")
    return " ".join(thing.split()[:4])


def _colour(vocabulary: ShopVocabulary, phrase: str) -> bool:
    return any("color" in tokens(name) for name in vocabulary.values.get(tuple(tokens(phrase)), {}))


def _normalize_dislike(thing: str, vocabulary: ShopVocabulary) -> str:
    """A disliked thing as the shop names it: a brand, a category or a colour if it is one, else the phrase."""
    lowered = thing.lower()
    brand = next((b for b in vocabulary.brands if b.lower() == lowered), None)
    if brand:
        return brand
    if _colour(vocabulary, lowered):
        return lowered
    for category in vocabulary.categories:  # the whole phrase names the category ("desk lamps"), not a thing in it
        if tokens(lowered) == tokens(category):
            return category
    return lowered


def _things(vocabulary: ShopVocabulary) -> set[str]:
    """What the shop sells or describes, as compared phrases: category and product words, tags, brands, options."""
    return {" ".join(t) for t in vocabulary.terms} | {" ".join(v) for v in vocabulary.values} \
        | {" ".join(tokens(b)) for b in vocabulary.brands}


def _no_things(text: str, things: set[str]) -> list[tuple[int, int, str]]:
    """"no X" where X is something a shop sells or describes (not "no more than", "no thanks")."""
    out = []
    for m in NO_THING.finditer(text):
        words = m.group("thing").lower().split()
        for n in (2, 1):
            phrase = " ".join(words[:n])
            if len(words) >= n and " ".join(tokens(phrase)) in things:
                out.append((m.start(), m.start("thing") + len(" ".join(m.group("thing").split()[:n])), phrase))
                break
    return out


def _occasions(text: str, vocabulary: ShopVocabulary) -> list[tuple[int, int, str]]:
    """"a ski trip", "for gongfu brewing": what the shopper wants things for. After "for", the words must
    be the shop's own (a tag, a word of its products) and not merely name a category, brand or option."""
    found = [(m.start("what"), m.end(), f"{m.group('what').lower()} {m.group('kind').lower()}")
             for m in TRIP.finditer(text) if m.group("what").lower().split()[0] not in _NOT_OCCASION]
    for m in FOR.finditer(text):
        words = m.group("what").lower().split()
        kept: list[str] = []
        for word in words:  # the run of the shop's words right after "for"
            if word in STOP_WORDS or not set(tokens(word)) <= vocabulary.known:
                break
            kept.append(word)
        phrase = tuple(tokens(" ".join(kept)))
        term = vocabulary.terms.get(phrase)
        if not kept or phrase in vocabulary.values or (term is not None and len(term.categories) == 1) or \
                any(phrase == tuple(tokens(x)) for x in vocabulary.brands):
            continue  # a thing of one category, an option value or a brand: what it is, not what it is for
        start = m.start("what") + m.group("what").lower().index(kept[0])
        if not any(s <= start < e for s, e, _ in found):
            found.append((start, start + len(" ".join(kept)), " ".join(kept)))
    return found


def extract_preferences(message: str, categories: Iterable[str] = (), brands: Iterable[str] = (),
                        vocabulary: ShopVocabulary | None = None) -> list[Extracted]:
    """Inferred preferences in one message, each once, with a confidence in 0..1. ``vocabulary``: the shop's
    own, learned from its catalogue (without one, only the ``categories`` and ``brands`` are known)."""
    vocabulary = vocabulary or ShopVocabulary.from_labels(categories, brands)
    found: dict[tuple[str, str], Extracted] = {}

    def add(kind: str, value: str, confidence: float, correction: bool = False) -> None:
        value = value.strip()
        if value and (kind, value.casefold()) not in found:
            found[(kind, value.casefold())] = Extracted(kind, value, min(confidence, 0.95), correction)

    spans: list[tuple[int, int, str]] = [(m.start(), m.end(), _clean(m.group("thing")))
                                         for m in DISLIKE.finditer(message)]
    spans += _no_things(message, _things(vocabulary))
    for _, _, thing in spans:
        if thing:
            add("dislike", _normalize_dislike(thing, vocabulary), CONFIDENCE["dislike"])
    positive = list(message)
    for start, end, _ in spans:  # what is disliked is not liked
        positive[start:end] = " " * (end - start)
    text = "".join(positive)
    occasions = _occasions(text, vocabulary)
    # what a thing is for is not what it is: inside an occasion only a category named as such counts
    plain = list(text)
    for start, end, _ in occasions:
        plain[start:end] = " " * (end - start)
    u = understand(text, vocabulary=vocabulary)
    named = {c for _, _, o in occasions for c in vocabulary.categories if find_phrase(tokens(o), tokens(c))}
    outside = set(understand("".join(plain), vocabulary=vocabulary).categories)
    bonus = LIKED_BONUS if LIKED.search(text) else 0.0
    corrected = CORRECTION.search(text) is not None
    for category in u.categories:
        if category in outside or category in named:
            add("category", category, CONFIDENCE["category"] + bonus)
    for brand in u.brands:
        add("brand", brand, CONFIDENCE["brand"] + bonus)
    for colour in u.colours:
        add("colour", "grey" if colour == "gray" else colour, CONFIDENCE["colour"] + bonus)
    sizes: dict[str, str] = {}  # per sizing system, the last one named ("size 10, no, size 9")
    named_sizes = [value for name, value in vocabulary.option_mentions(text) if "size" in tokens(name)] \
        if vocabulary.values else [m.group(1) if m.group(1)[0].isdigit() else m.group(1).upper()
                                   for m in SIZE.finditer(text)]
    for value in named_sizes:
        sizes[size_system(value)] = value
    for value in sizes.values():
        add("size", value, CORRECTED if corrected else CONFIDENCE["size"] + bonus, corrected)
    if u.max_price is not None:
        add("budget", f"under {u.max_price:g}", CORRECTED if corrected else CONFIDENCE["budget"], corrected)
    for start, end, occasion in sorted(occasions):
        if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in occasions):
            add("occasion", occasion, CONFIDENCE["occasion"] + bonus)
    return list(found.values())


def noisy_or(old: float, new: float) -> float:
    """Confidence after one more piece of independent evidence."""
    return 1.0 - (1.0 - old) * (1.0 - new)


@dataclass(frozen=True)
class LearnResult:
    added: tuple[dict[str, Any], ...] = ()  # preferences added or reinforced (as stored)
    lowered: tuple[dict[str, Any], ...] = ()  # contradicted ones, with their new confidence
    refused: tuple[dict[str, Any], ...] = ()  # removed by the shopper before: never inferred again


class PreferenceLearner:
    """Applies what a turn's message says to the shopper's stored profile (inferred preferences), and shows
    the shopper what is stored ("what we think you like") with a way to remove any of it."""

    def __init__(self, customers: CustomerStore, now: Callable[[], datetime],
                 settings: ProfileSettings | None = None) -> None:
        self.customers = customers
        self.now = now
        self.settings = settings or ProfileSettings()  # type: ignore[call-arg]
        self.half_life_days = self.settings.half_life_days
        self.contradiction_factor = self.settings.contradiction_factor

    def extract_turn(self, customer_id: str | None, personalized: bool, guard: GuardResult | None,
                     categories: Iterable[str], brands: Iterable[str],
                     vocabulary: ShopVocabulary | None = None) -> list[Extracted]:
        """What a turn's message says about a personalized shopper; nothing for anyone else, or for a
        message that was blocked or tried to instruct the assistant. Reads the redacted text only."""
        if not self.settings.learn_from_chat or customer_id is None or not personalized or guard is None \
                or guard.blocked or guard.injection:
            return []
        return extract_preferences(guard.stored_text, categories, brands, vocabulary)

    def learn_safely(self, customer_id: str | None, turn_id: str, extracted: list[Extracted]) -> LearnResult:
        """``learn``, logging instead of raising: the turn is already stored and answered."""
        if customer_id is None or not extracted:
            return LearnResult()
        try:
            return self.learn(customer_id, turn_id, extracted)
        except ConciergeError:
            log.exception("could not learn preferences from turn %s", turn_id)
            return LearnResult()

    def view(self, customer_id: str) -> list[dict[str, Any]]:
        """The shopper's active preferences, readable, with confidence now and whether each is used."""
        if not self.customers.exists(customer_id):
            raise NotFoundError(f"customer {customer_id!r} is not in the store",
                                user_message="No profile for this shopper.")
        return describe(self.customers.list_preferences(customer_id), self.now(), self.half_life_days,
                        self.settings.min_confidence)

    def remove(self, customer_id: str, preference_id: int) -> dict[str, Any]:
        """Remove one of the shopper's preferences for good (a tombstone: never inferred again)."""
        removed = self.customers.remove_preference(customer_id, preference_id)
        return {"id": removed.id, "kind": removed.kind, "value": removed.value, "origin": removed.origin,
                "removed_at": removed.removed_at.isoformat() if removed.removed_at else None}

    def learn(self, customer_id: str, turn_id: str, extracted: Iterable[Extracted], *,
              source: str | None = None) -> LearnResult:
        """Store ``extracted`` for a shopper who consents to personalization; nothing for anyone else.
        ``source``: the provenance of new preferences (default ``turn:<turn_id>``; shop events give ``event:<id>``)."""
        items = list(extracted)
        if not self.settings.learn_from_chat or not items \
                or not self.customers.consent(customer_id).personalization:
            return LearnResult()
        now = self.now()
        existing = [p for p in self.customers.list_preferences(customer_id) if p.origin == "inferred"]
        added, lowered, refused = [], [], []
        for e in items:
            for old in self._contradicted(existing, e):
                factor = self.contradiction_factor ** (2 if e.correction else 1)
                new = effective_confidence(old, now, self.half_life_days) * factor
                changed = self.customers.set_confidence(customer_id, old.id, round(new, 4))
                if changed is not None:
                    lowered.append({"id": old.id, "kind": old.kind, "value": old.value, "confidence": new})
            prior = next((p for p in existing if p.kind == e.kind and p.value.casefold() == e.value.casefold()), None)
            wanted = noisy_or(effective_confidence(prior, now, self.half_life_days), e.confidence) if prior \
                else e.confidence
            stored = self.customers.add_preference(customer_id, e.kind, e.value, origin="inferred",
                                                   source=source or f"turn:{turn_id}", confidence=round(wanted, 4))
            if stored is None:
                refused.append(e.to_dict())
                continue
            if stored.origin == "inferred" and abs(stored.confidence - wanted) > 1e-3:
                stored = self.customers.set_confidence(customer_id, stored.id, round(wanted, 4)) or stored
            added.append({"id": stored.id, "kind": stored.kind, "value": stored.value, "origin": stored.origin,
                          "confidence": stored.confidence, "evidence_count": stored.evidence_count})
        return LearnResult(tuple(added), tuple(lowered), tuple(refused))

    @staticmethod
    def _contradicted(existing: list[Any], e: Extracted) -> list[Any]:
        """Inferred preferences the new one contradicts: another value of a single-valued kind (a budget, a
        size in the same sizing system), or the same thing liked where it is now disliked (or the reverse)."""
        out = []
        for p in existing:
            same_value = p.value.casefold() == e.value.casefold()
            replaced = e.kind in SINGLE_KINDS and p.kind == e.kind and not same_value \
                and group_of(p.kind, p.value) == group_of(e.kind, e.value)
            if replaced or (same_value and (p.kind == "dislike") != (e.kind == "dislike")):
                out.append(p)
        return out
