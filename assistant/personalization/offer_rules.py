"""Offer eligibility: code, from the offers catalogue. The model may word an offer; it never creates one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from assistant.records import money

#: feedback events that use up one of an offer's per-shopper allowance (see :func:`redemption_counts`)
REDEMPTION_KINDS = ("offer_accepted", "offer_redeemed")


def offer_time(value: object) -> datetime | None:
    """A timezone-aware datetime; a time written without a zone is taken as UTC."""
    if not value:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class OfferContext:
    """What eligibility depends on, for one shopper at one moment."""

    tier: str
    now: datetime
    past_orders: int = 0
    personalization: bool = True
    marketing: bool = False
    redemptions: Mapping[str, int] = field(default_factory=dict)  # offer id -> times redeemed
    categories: tuple[str, ...] = ()  # categories in the basket or the conversation
    basket_total: float | None = None  # None: no basket yet, so minimums are stated, not checked


def offer_problems(offer: Mapping[str, Any]) -> list[str]:
    """Rules that contradict each other, so the offer can never be shown correctly."""
    problems = []
    rules = offer.get("eligibility") or {}
    starts, expires = offer_time(rules.get("starts_at")), offer_time(rules.get("expires_at"))
    if starts and expires and starts >= expires:
        problems.append("starts_at is not before expires_at")
    if offer.get("kind") == "percent" and not 0 < float(offer.get("value") or 0) <= 100:
        problems.append("a percent offer needs a value between 0 and 100")
    if offer.get("kind") == "fixed" and rules.get("min_basket") is not None and \
            float(offer.get("value") or 0) > float(rules.get("min_basket") or 0) > 0:
        problems.append("a fixed discount larger than its minimum basket")
    if rules.get("max_discount") is not None and float(rules["max_discount"]) <= 0:
        problems.append("max_discount must be positive")
    if rules.get("per_customer_cap") is not None and int(rules["per_customer_cap"]) < 1:
        problems.append("per_customer_cap must be at least 1 (an offer nobody may use)")
    if float(rules.get("min_basket") or 0) < 0:
        problems.append("min_basket must not be negative")
    if offer.get("kind") in ("fixed", "points_multiplier") and float(offer.get("value") or 0) <= 0:
        problems.append(f"a {offer.get('kind')} offer needs a positive value")
    return problems


def ineligible_reason(offer: Mapping[str, Any], ctx: OfferContext) -> str | None:
    """None when the shopper may be shown ``offer`` now, otherwise why not."""
    rules = offer.get("eligibility") or {}
    if offer_problems(offer):
        return "contradictory rules"
    if not ctx.personalization:
        return "personalization opted out"
    if rules.get("requires_marketing_consent") and not ctx.marketing:
        return "needs marketing consent"
    starts, expires = offer_time(rules.get("starts_at")), offer_time(rules.get("expires_at"))
    if starts and ctx.now < starts:
        return "not started"
    if expires and ctx.now >= expires:
        return "expired"
    tiers = rules.get("tiers") or []
    if tiers and ctx.tier not in tiers:
        return f"tier {ctx.tier} not in {', '.join(tiers)}"
    if rules.get("first_order_only") and ctx.past_orders > 0:
        return "first order only"
    cap = int(rules.get("per_customer_cap") or 1)
    if ctx.redemptions.get(str(offer["id"]), 0) >= cap:
        return "per-shopper cap reached"
    categories = rules.get("categories") or []
    if categories and ctx.categories and not set(categories) & set(ctx.categories):
        return "category does not match"
    if ctx.basket_total is not None and ctx.basket_total < float(rules.get("min_basket") or 0):
        return "basket below minimum"
    return None


def eligible_offers(offers: Iterable[Mapping[str, Any]], ctx: OfferContext) -> list[Mapping[str, Any]]:
    return [o for o in offers if ineligible_reason(o, ctx) is None]


def redemption_counts(events: Iterable[Any]) -> dict[str, int]:
    """Offer id -> how many times the shopper used it, from their feedback events.

    ``events`` are ``EventRecord``s; ``offer_accepted`` and ``offer_redeemed`` count. Both for the same
    showing of an offer (the same ``shown_event_id``) count once: accepting and then redeeming in an
    order is one use.
    """
    uses: dict[str, set[str]] = {}
    for event in events:
        if event.kind not in REDEMPTION_KINDS or not event.payload.get("offer_id"):
            continue
        shown = event.payload.get("shown_event_id")
        key = f"shown:{shown}" if shown is not None else f"event:{event.id}"
        uses.setdefault(str(event.payload["offer_id"]), set()).add(key)
    return {offer_id: len(keys) for offer_id, keys in uses.items()}


def discount(offer: Mapping[str, Any], basket_total: float) -> float:
    """The discount in money for a basket, capped by ``max_discount`` and by the basket itself."""
    rules = offer.get("eligibility") or {}
    kind, value = offer.get("kind"), float(offer.get("value") or 0)
    amount = basket_total * value / 100 if kind == "percent" else value if kind == "fixed" else 0.0
    if rules.get("max_discount") is not None:
        amount = min(amount, float(rules["max_discount"]))
    return round(max(0.0, min(amount, basket_total)), 2)


def describe(offer: Mapping[str, Any]) -> str:
    """One factual sentence about an offer, built from its fields (used in facts and fallbacks)."""
    rules = offer.get("eligibility") or {}
    kind, value = offer.get("kind"), offer.get("value")
    currency = str(offer.get("currency") or "USD")
    what = {"percent": f"{value:g}% off", "fixed": f"{money(float(value or 0), currency)} off",
            "free_shipping": "free shipping", "points_multiplier": f"{value:g}x points"}.get(str(kind), str(kind))
    parts = [f"{offer['title']}: {what} with code {offer['code']}"]
    if rules.get("categories"):
        parts.append("on " + ", ".join(str(c).replace("-", " ") for c in rules["categories"]))
    if rules.get("min_basket"):
        parts.append(f"for orders of {money(float(rules['min_basket']), currency)} or more")
    if rules.get("max_discount"):
        parts.append(f"up to {money(float(rules['max_discount']), currency)}")
    expires = offer_time(rules.get("expires_at"))
    if expires:
        parts.append(f"until {expires.date().isoformat()}")
    return " ".join(parts) + "."
