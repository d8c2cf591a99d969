"""A campaign's audience: rules over the shopper's profile, and the seeded draw of the holdout.

Rules (every one given must hold; none given: every shopper who agreed to marketing):

- ``tiers``: the shopper's tier is one of them;
- ``categories`` / ``brands``: an active preference of that kind (stated or inferred from behaviour) with at
  least ``min_affinity`` confidence names one of them. Preferences are used only with the shopper's
  personalization consent, so a shopper without it never matches an affinity rule;
- ``ordered_within_days`` (recent buyers) / ``not_ordered_for_days`` (lapsed ones, never-buyers included);
- ``min_spend`` / ``max_spend``: the sum of their orders' totals, cancelled and returned orders left out;
- ``languages``: the profile's ``language`` (or ``locale``) attribute, else the shop's language;
- ``personalization``: true or false to require that consent, or its absence.

Marketing consent is not a rule that can be switched off: a shopper without it is never in an audience.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta

from assistant.errors import ValidationError
from assistant.records import CustomerProfile
from assistant.store.campaigns import HOLDOUT

NOT_SPENT = ("cancelled", "returned")
OPTED_OUT = "no marketing consent"


def _words(values: object, name: str) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) and v.strip() for v in values):
        raise ValidationError(f"bad audience rule {name}", user_message=f"The rule {name!r} is a list of names.")
    return tuple(v.strip() for v in values)


@dataclass(frozen=True)
class AudienceRules:
    tiers: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    min_affinity: float = 0.0
    ordered_within_days: int | None = None
    not_ordered_for_days: int | None = None
    min_spend: float | None = None
    max_spend: float | None = None
    languages: tuple[str, ...] = ()
    personalization: bool | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, object] | None) -> AudienceRules:
        """Rules from JSON; an unknown rule or a value of the wrong kind is a ``ValidationError`` naming it."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(f"unknown audience rules {unknown}", user_message=(
                f"Unknown audience rule {', '.join(unknown)}; rules are {', '.join(sorted(known))}."))
        numbers: dict[str, float | int | None] = {}
        for name in ("min_affinity", "min_spend", "max_spend", "ordered_within_days", "not_ordered_for_days"):
            value = data.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
                raise ValidationError(f"bad audience rule {name}", user_message=f"The rule {name!r} is a number "
                                      "of 0 or more.")
            numbers[name] = int(value) if value is not None and name.endswith("_days") else value
        personalization = data.get("personalization")
        if personalization is not None and not isinstance(personalization, bool):
            raise ValidationError("bad audience rule personalization",
                                  user_message="The rule 'personalization' is true or false.")
        rules = cls(tiers=_words(data.get("tiers"), "tiers"), categories=_words(data.get("categories"), "categories"),
                    brands=_words(data.get("brands"), "brands"), min_affinity=float(numbers["min_affinity"] or 0),
                    ordered_within_days=_int(numbers["ordered_within_days"]),
                    not_ordered_for_days=_int(numbers["not_ordered_for_days"]),
                    min_spend=numbers["min_spend"], max_spend=numbers["max_spend"],
                    languages=tuple(v.lower() for v in _words(data.get("languages"), "languages")),
                    personalization=personalization)
        if rules.min_affinity > 1:
            raise ValidationError("min_affinity over 1", user_message="min_affinity is a confidence from 0 to 1.")
        return rules

    def to_dict(self) -> dict[str, object]:
        """The rules that are set, as JSON (stored with the campaign)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()
                if v not in ((), None) and not (k == "min_affinity" and v == 0.0)}

    def why_not(self, profile: CustomerProfile, now: datetime, shop_language: str = "en") -> str | None:
        """Why the shopper is not in the audience (the first rule that fails), or ``None`` when they are."""
        if not profile.consent.marketing:
            return OPTED_OUT
        if self.personalization is not None and profile.consent.personalization != self.personalization:
            return "personalization consent"
        if self.tiers and profile.tier.lower() not in {t.lower() for t in self.tiers}:
            return "tier"
        for kind, wanted in (("category", self.categories), ("brand", self.brands)):
            if wanted and not (profile.consent.personalization and _likes(profile, kind, wanted, self.min_affinity)):
                return f"{kind} affinity"
        last = max((o.placed_at for o in profile.orders), default=None)
        if self.ordered_within_days is not None and (last is None or
                                                     last < now - timedelta(days=self.ordered_within_days)):
            return "recency"
        if self.not_ordered_for_days is not None and last is not None and \
                last > now - timedelta(days=self.not_ordered_for_days):
            return "recency"
        spend = spent(profile)
        if (self.min_spend is not None and spend < self.min_spend) or \
                (self.max_spend is not None and spend > self.max_spend):
            return "spend"
        if self.languages and language_of(profile, shop_language) not in self.languages:
            return "language"
        return None


def _int(value: float | int | None) -> int | None:
    return None if value is None else int(value)


def _likes(profile: CustomerProfile, kind: str, wanted: Iterable[str], min_affinity: float) -> bool:
    names = {w.lower() for w in wanted}
    return any(p.kind == kind and p.value.lower() in names and p.confidence >= min_affinity
               for p in profile.preferences if p.active)


def spent(profile: CustomerProfile) -> float:
    """What the shopper's orders came to (cancelled and returned ones left out)."""
    return round(sum(o.total or 0.0 for o in profile.orders if o.status not in NOT_SPENT), 2)


def language_of(profile: CustomerProfile, shop_language: str = "en") -> str:
    """The profile's ``language`` or ``locale`` attribute (``zh-CN`` -> ``zh``), else the shop's language."""
    given = profile.attributes.get("language") or profile.attributes.get("locale")
    text = str(given).strip().lower() if given else shop_language.lower()
    return text.replace("_", "-").split("-")[0] or shop_language.lower()


def assign_arms(customer_ids: Iterable[str], variant_ids: Sequence[str], holdout_share: float,
                seed: int) -> list[tuple[str, str]]:
    """Each shopper's arm: the ids in a seeded random order; the first ``round(n * share)`` are the holdout,
    the rest go to the variants in turn. The same ids, variants, share and seed give the same arms."""
    if not variant_ids:
        raise ValidationError("a campaign without variants", user_message="Give the campaign at least one variant.")
    order = sorted(set(customer_ids))
    random.Random(seed).shuffle(order)
    held = round(len(order) * holdout_share)
    return [(c, HOLDOUT) for c in order[:held]] + \
        [(c, variant_ids[i % len(variant_ids)]) for i, c in enumerate(order[held:])]
