"""What a shopper likes, as the recommender reads it: preferences with decay and explicit ones first.

A stored inferred preference carries the confidence it had at ``updated_at`` (its last evidence); reading
it applies the age decay (``confidence * 0.5 ** (age / half_life)``). Explicit preferences (what the shopper
stated, or the shop imported) always have confidence 1 and win over inferred ones of the same kind: when a
kind has an explicit value, inferred values of that kind are not used (sizes count per sizing system, shoe
sizes and letter sizes apart). Inferred dislikes add to explicit ones, except where the shopper explicitly
likes the very thing (and the other way round).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from assistant.records import CustomerProfile, Preference

#: kinds whose values are interests used for content similarity (sizes and budgets are constraints)
CONTENT_KINDS = ("category", "brand", "colour", "occasion", "style", "material")
#: kinds where one value replaces another (a new budget, another shoe size): contradiction lowers the old one
SINGLE_KINDS = ("budget", "size")


def size_system(value: str) -> str:
    """``"numeric"`` for shoe-style sizes (9, 10.5, 42), ``"letter"`` for XS..XXL and anything else."""
    return "numeric" if re.fullmatch(r"\d+(?:[.,]5)?", value.strip()) else "letter"


def group_of(kind: str, value: str) -> tuple[str, str]:
    """The kind a value competes in: sizes per sizing system, every other kind as itself."""
    return (kind, size_system(value)) if kind == "size" else (kind, "")


def budget_amount(value: str) -> float | None:
    m = re.search(r"(\d+(?:\.\d+)?)", value.replace(",", ""))
    return float(m.group(1)) if m else None


def effective_confidence(pref: Preference, now: datetime | None, half_life_days: float | None) -> float:
    """Explicit: 1. Inferred: the stored confidence, halved every ``half_life_days`` since its last evidence."""
    if pref.origin == "explicit":
        return 1.0
    if now is None or not half_life_days:
        return pref.confidence
    age_days = max(0.0, (now - pref.updated_at).total_seconds() / 86400.0)
    return pref.confidence * 0.5 ** (age_days / half_life_days)


@dataclass(frozen=True)
class Tastes:
    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    budget: float | None = None
    dislikes: tuple[str, ...] = ()
    other: tuple[str, ...] = ()
    #: (kind, value casefolded) -> confidence in use; explicit ones are 1.0
    weights: Mapping[tuple[str, str], float] = field(default_factory=dict, compare=False)
    #: (kind, value casefolded) of the values that were inferred from chats, not stated
    inferred: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def of(cls, profile: CustomerProfile | None, now: datetime | None = None, half_life_days: float | None = None,
           min_confidence: float = 0.0) -> Tastes:
        if profile is None:
            return cls()
        return tastes_from(profile.preferences, now, half_life_days, min_confidence)

    def weight(self, kind: str, value: str) -> float:
        return self.weights.get((kind, value.casefold()), 1.0)

    def is_inferred(self, kind: str, value: str) -> bool:
        return (kind, value.casefold()) in self.inferred

    def size_for(self, system: str) -> str | None:
        """The shopper's size in a sizing system (``numeric`` or ``letter``), if known."""
        return next((s for s in self.sizes if size_system(s) == system), None)

    def content_terms(self) -> list[tuple[str, str, float]]:
        """(kind, value, weight) of what the shopper is interested in, for the profile embedding."""
        out = [("category", v, self.weight("category", v)) for v in self.categories]
        out += [("brand", v, self.weight("brand", v)) for v in self.brands]
        out += [("colour", v, self.weight("colour", v)) for v in self.colours]
        out += [("occasion", v, self.weight("occasion", v)) for v in self.other]
        return out


def usable(preferences: Iterable[Preference], now: datetime | None, half_life_days: float | None,
           min_confidence: float = 0.0) -> list[tuple[Preference, float, str]]:
    """Every active preference with its confidence now and a note: ``"in use"`` or why it is not used."""
    active = [(p, effective_confidence(p, now, half_life_days)) for p in preferences if p.active]
    explicit = [p for p, _ in active if p.origin == "explicit"]
    stated_groups = {group_of(p.kind, p.value) for p in explicit if p.kind != "dislike"}
    stated_likes = {p.value.casefold() for p in explicit if p.kind != "dislike"}
    stated_dislikes = {p.value.casefold() for p in explicit if p.kind == "dislike"}
    best_single: dict[tuple[str, str], tuple[float, int]] = {}
    for p, c in active:
        if p.origin == "inferred" and p.kind in SINGLE_KINDS and c >= min_confidence:
            g = group_of(p.kind, p.value)
            best_single[g] = max(best_single.get(g, (-1.0, -1)), (c, p.id))
    out: list[tuple[Preference, float, str]] = []
    for p, c in active:
        note = "in use"
        if p.origin == "inferred":
            g = group_of(p.kind, p.value)
            if c < min_confidence:
                note = "not sure enough yet"
            elif p.kind != "dislike" and g in stated_groups:
                note = "your stated preference comes first"
            elif p.kind == "dislike" and p.value.casefold() in stated_likes:
                note = "you told us you like it"
            elif p.kind != "dislike" and p.value.casefold() in stated_dislikes:
                note = "you told us you dislike it"
            elif p.kind in SINGLE_KINDS and best_single.get(g, (0.0, p.id))[1] != p.id:
                note = "replaced by a newer one"
        out.append((p, c, note))
    return out


def tastes_from(preferences: Iterable[Preference], now: datetime | None = None,
                half_life_days: float | None = None, min_confidence: float = 0.0) -> Tastes:
    """The tastes in use: explicit values first, then inferred ones by falling confidence."""
    rows = [(p, c) for p, c, note in usable(preferences, now, half_life_days, min_confidence) if note == "in use"]
    rows.sort(key=lambda r: (r[0].origin != "explicit", -r[1], r[0].id))
    by_kind: dict[str, list[str]] = {}
    weights: dict[tuple[str, str], float] = {}
    inferred: set[tuple[str, str]] = set()
    for p, c in rows:
        values = by_kind.setdefault(p.kind, [])
        if p.value.casefold() not in (v.casefold() for v in values):
            values.append(p.value)
            weights[(p.kind, p.value.casefold())] = c
            if p.origin == "inferred":
                inferred.add((p.kind, p.value.casefold()))
    budget = next((a for a in map(budget_amount, by_kind.get("budget", [])) if a is not None), None)
    other = [v for k in ("occasion", "style", "material") for v in by_kind.get(k, [])]
    return Tastes(tuple(by_kind.get("category", [])), tuple(by_kind.get("brand", [])),
                  tuple(by_kind.get("size", [])), tuple(by_kind.get("colour", [])), budget,
                  tuple(by_kind.get("dislike", [])), tuple(other), weights, frozenset(inferred))


def describe(preferences: Iterable[Preference], now: datetime | None, half_life_days: float | None,
             min_confidence: float = 0.0) -> list[dict[str, Any]]:
    """"What we think you like": every active preference, readable, with whether and why it is used."""
    out: list[dict[str, Any]] = []
    for p, c, note in usable(preferences, now, half_life_days, min_confidence):
        out.append({
            "id": p.id, "kind": p.kind, "value": p.value, "origin": p.origin,
            "confidence": round(c, 3), "evidence_count": p.evidence_count,
            "source_turn": p.source[len("turn:"):] if p.source.startswith("turn:") else None,
            "source": p.source, "created_at": p.created_at.isoformat(), "updated_at": p.updated_at.isoformat(),
            "in_use": note == "in use", "note": note,
        })
    out.sort(key=lambda d: (d["origin"] != "explicit", -float(d["confidence"]), int(d["id"])))
    return out
