"""What a turn does differently for a guest (a visitor without a customer token; ``customer_id`` is ``None``).

A guest gets policy and product answers like anyone, but:

- order questions (status, cancel, return, address, ...) get "sign in to see your orders", with the shop's sign-in
  page (``app.sign_in_url``) when there is one; no order is ever looked up or acted on;
- recommendations read what the guest said in this conversation only: the preferences read from their messages
  are kept in the session's state (``guest_learned``), never in a customer profile;
- offers are public ones only (:func:`public_offer`): none for a tier, a first order or marketing consent.

When the guest signs in, :mod:`assistant.turn.guest_sessions` moves the conversation to the customer and offers
``guest_learned`` to their profile, written only with their consent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.locales import text
from assistant.personalization.preference_learning import extract_preferences, noisy_or
from assistant.personalization.tastes import SINGLE_KINDS, group_of
from assistant.records import ConsentState, CustomerProfile, Preference

if TYPE_CHECKING:
    from assistant.turn.state import TurnDeps, TurnState

#: intents that need the shopper's own orders: a guest is asked to sign in
ORDER_INTENTS = ("order_status", "order_action")
#: the session state's key of what a guest said about their tastes (kind, value, confidence)
LEARNED_KEY = "guest_learned"
#: at most this many kept per conversation (the strongest)
MOST_LEARNED = 20
GUEST_SUBJECT = "guest"


def is_guest(state: TurnState) -> bool:
    return state.customer_id is None


def asks_for_orders(state: TurnState) -> bool:
    """A guest's question that needs their orders (they must sign in first)."""
    return is_guest(state) and state.understanding is not None and state.understanding.intent in ORDER_INTENTS


def sign_in_reply(language: str, sign_in_url: str) -> str:
    """"Sign in to see your orders", with the shop's sign-in page when it is a web address."""
    url = sign_in_url.strip()
    if url.startswith(("https://", "http://", "/")) and not any(c.isspace() for c in url):
        return text("guest.sign_in_for_orders", language, url=url)
    return text("guest.sign_in_for_orders_no_link", language)


def learned_items(session_state: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The preferences kept in a session's state (``[{"kind", "value", "confidence"}]``), well-formed ones only."""
    raw = (session_state or {}).get(LEARNED_KEY)
    out = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, Mapping) and isinstance(item.get("kind"), str) and isinstance(item.get("value"), str):
            out.append({"kind": item["kind"], "value": item["value"],
                        "confidence": float(item.get("confidence") or 0.0)})
    return out


def merge_learned(before: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``before`` with ``new`` applied as the profile learner would: repeated evidence raises confidence (noisy-or),
    a new budget or size (same sizing system) replaces the old, liking what was disliked (or the reverse) drops it."""
    kept = [dict(item) for item in before]
    for item in new:
        kind, value, confidence = str(item["kind"]), str(item["value"]), float(item["confidence"])
        same = next((k for k in kept if k["kind"] == kind and k["value"].casefold() == value.casefold()), None)
        if same is not None:
            same["confidence"] = round(noisy_or(float(same["confidence"]), confidence), 4)
            continue
        kept = [k for k in kept if not (
            (kind in SINGLE_KINDS and k["kind"] == kind and group_of(k["kind"], k["value"]) == group_of(kind, value))
            or (k["value"].casefold() == value.casefold() and (k["kind"] == "dislike") != (kind == "dislike")))]
        kept.append({"kind": kind, "value": value, "confidence": round(confidence, 4)})
    return sorted(kept, key=lambda k: -float(k["confidence"]))[:MOST_LEARNED]


def learned_in_session(state: TurnState, deps: TurnDeps) -> list[dict[str, Any]]:
    """What the guest said about their tastes in this conversation, this turn's message included (the redacted
    text; nothing from a blocked message or one that tried to instruct the assistant)."""
    before = learned_items(state.session_state)
    guard = state.guard
    if not is_guest(state) or guard is None or guard.blocked or guard.injection \
            or not deps.settings.profile.learn_from_chat:
        return before
    said = extract_preferences(guard.stored_text, deps.catalog.categories, deps.catalog.brands,
                               deps.catalog.vocabulary)
    return merge_learned(before, [e.to_dict() for e in said])


def session_tastes(learned: Sequence[Mapping[str, Any]], now: datetime) -> CustomerProfile | None:
    """A profile that lives for one turn, made of what the guest said in this conversation, for the recommender
    only (never stored, never shown as a shopper's profile). ``None`` when they said nothing of their tastes."""
    if not learned:
        return None
    preferences = tuple(
        Preference(id=-(i + 1), customer_id=GUEST_SUBJECT, kind=str(item["kind"]), value=str(item["value"]),
                   origin="inferred", source="this conversation", confidence=float(item["confidence"]),
                   evidence_count=1, created_at=now, updated_at=now)
        for i, item in enumerate(learned))
    return CustomerProfile(id=GUEST_SUBJECT, name="", tier="", points=0, consent=ConsentState(marketing=False),
                           preferences=preferences)


def public_offer(offer: Mapping[str, Any]) -> bool:
    """An offer anyone may see: not for some tiers, not for a first order (which needs the shopper's history),
    not for shoppers who consented to marketing."""
    rules = offer.get("eligibility") or {}
    return not rules.get("tiers") and not rules.get("first_order_only") and not rules.get("requires_marketing_consent")
