"""Learning a profile from what shoppers do in the shop: views, searches, carts, purchases and reviews.

Each event becomes inferred preferences the way a chat message does, through the same
:class:`PreferenceLearner` (noisy-or over evidence, contradictions lowered, removed preferences never
inferred again, nothing for a shopper without personalization consent), with the provenance
``event:<id>``. What an event says:

- a product viewed, added to the cart or bought: its category and brand (from the event, or the imported
  catalogue by product id), with a confidence that grows with commitment (``EVENT_CONFIDENCE``);
- a review: rated 4-5, the product's category and brand as for a purchase; its text, whatever the rating,
  read by the chat extractor (``extract_preferences``) after the chat's input guard (redacted; text that
  tries to instruct the assistant teaches nothing);
- a search: its words read by the same extractor, at ``SEARCH_FACTOR`` of a chat message's confidence
  (looking for something is weaker evidence than saying one wants it).

Older events count less: a confidence is halved every ``profile.half_life_days`` of the event's age, the
same decay a chat-learned preference gets as it ages.

A purchase is also a purchase: applied purchase events are handed to ``record`` (the store of purchase events,
``assistant.store.purchase_events``, which keeps each id once), so that a campaign's uplift and the purchase
signals count purchases the shop reports only as events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from assistant.errors import ConciergeError
from assistant.personalization.preference_learning import Extracted, PreferenceLearner, extract_preferences
from assistant.shop.shop_vocabulary import ShopVocabulary
from assistant.turn.input_guard import guard_input
from knowledge.event_records import ShopEvent

#: confidence of one event's category and brand, by type (a purchase says more than a view)
EVENT_CONFIDENCE = {"product_view": 0.1, "add_to_cart": 0.25, "purchase": 0.4, "review": 0.4}
#: a review rated at least this says the shopper liked the product
LIKED_RATING = 4
#: a search's words count this much of the same words in a chat message
SEARCH_FACTOR = 0.6
MAX_TEXT_CHARS = 5000

#: product id -> (category, brand) from the imported catalogue
ProductLookup = Callable[[str], tuple[str | None, str | None]]
#: keeps purchase events (each id once) and returns how many were new
PurchaseRecorder = Callable[[Sequence[ShopEvent]], int]


def decayed(confidence: float, at: datetime, now: datetime, half_life_days: float) -> float:
    """``confidence`` halved every ``half_life_days`` since ``at`` (a future time counts as now)."""
    age_days = max(0.0, (now - at).total_seconds() / 86400.0)
    return confidence * 0.5 ** (age_days / half_life_days)


def event_signals(event: ShopEvent, lookup: ProductLookup, vocabulary: ShopVocabulary) -> list[Extracted]:
    """What one event says about the shopper, before decay; each (kind, value) once, at its highest."""
    found: list[Extracted] = []
    weight = EVENT_CONFIDENCE.get(event.type, 0.0)
    if event.type == "review" and (event.rating or 0) < LIKED_RATING:
        weight = 0.0
    if weight and event.product_id:
        category, brand = lookup(event.product_id)
        for kind, value in (("category", event.category or category), ("brand", event.brand or brand)):
            if value:
                found.append(Extracted(kind, value, weight))
    words = event.query if event.type == "search" else event.text if event.type == "review" else None
    if words:
        guard = guard_input(words, MAX_TEXT_CHARS)
        if not guard.blocked and not guard.injection:
            factor = SEARCH_FACTOR if event.type == "search" else 1.0
            found += [Extracted(e.kind, e.value, e.confidence * factor, e.correction)
                      for e in extract_preferences(guard.stored_text, vocabulary=vocabulary)]
    best: dict[tuple[str, str], Extracted] = {}
    for e in found:
        key = (e.kind, e.value.casefold())
        if key not in best or e.confidence > best[key].confidence:
            best[key] = e
    return list(best.values())


@dataclass
class EventOutcome:
    """What applying some events did: ``applied`` (a known shopper's), ``learned`` preferences added or
    reinforced, ``refused`` (removed by the shopper before), ``purchases_recorded`` (purchase events kept that
    were not kept before: a re-sent one is applied again but recorded once), and the events that could not be
    applied."""

    applied: int = 0
    learned: int = 0
    lowered: int = 0
    refused: int = 0
    purchases_recorded: int = 0
    failed: list[tuple[ShopEvent, str]] = field(default_factory=list)


class EventLearner:
    """Applies shop events to the stored profiles through the chat's :class:`PreferenceLearner`."""

    def __init__(self, learner: PreferenceLearner, known: Callable[[str], bool], lookup: ProductLookup,
                 vocabulary: Callable[[], ShopVocabulary], record: PurchaseRecorder | None = None) -> None:
        self.learner, self.known, self.lookup, self.vocabulary = learner, known, lookup, vocabulary
        self.record = record

    def apply(self, events: Iterable[ShopEvent], outcome: EventOutcome | None = None) -> EventOutcome:
        """Apply each event to its shopper's profile, then record the applied purchases together; an unknown
        shopper or a store error fails that event only (``outcome.failed``), the others are applied."""
        outcome = outcome or EventOutcome()
        now, half_life = self.learner.now(), self.learner.half_life_days
        vocabulary = self.vocabulary()
        bought: list[ShopEvent] = []
        for event in events:
            if not self.known(event.customer_id):
                outcome.failed.append((event, f"customer {event.customer_id!r} is not in the store "
                                              "(import customers first)"))
                continue
            signals = [Extracted(e.kind, e.value, decayed(e.confidence, event.at, now, half_life), e.correction)
                       for e in event_signals(event, self.lookup, vocabulary)]
            try:
                result = self.learner.learn(event.customer_id, event.id, signals, source=f"event:{event.id}")
            except ConciergeError as e:
                outcome.failed.append((event, e.user_message or str(e)))
                continue
            outcome.applied += 1
            outcome.learned += len(result.added)
            outcome.lowered += len(result.lowered)
            outcome.refused += len(result.refused)
            if event.type == "purchase":
                bought.append(event)
        if bought and self.record is not None:
            try:
                outcome.purchases_recorded += self.record(bought)
            except ConciergeError as e:  # the preferences are learned; the purchases are not counted yet
                outcome.applied -= len(bought)
                outcome.failed += [(event, f"the purchase could not be recorded: {e.user_message or e}")
                                   for event in bought]
        return outcome
