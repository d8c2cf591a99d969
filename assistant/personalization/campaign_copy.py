"""A campaign's copy variants: what a marketer sets per variant, and which backend can honour it.

A variant is written per shopper (the copywriter's facts of each member) or per segment (one piece per tier
of the variant's members). Its generation parameters: ``candidates`` (texts written, the best verified one is
queued), ``max_new_tokens`` (the length), ``temperature``, ``top_k``, ``top_p`` and ``beams``. A parameter the
configured backend cannot apply is refused when the campaign is created, naming the backend, rather than
silently ignored: the chat completions API has no top-k, and no backend here runs beam search (llama.cpp's
Python binding has none; the transformers backend streams, and transformers refuses a streamer with beams).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from assistant.errors import ValidationError
from assistant.personalization.copywriter import MAX_CHARS, Sampling
from assistant.settings import Settings
from assistant.store.campaigns import HOLDOUT

PER = ("shopper", "segment")
#: generation parameters each backend applies (by the chat model's ``_llm_type``)
BACKEND_PARAMS: dict[str, frozenset[str]] = {
    "concierge-llamacpp": frozenset({"candidates", "max_new_tokens", "temperature", "top_k", "top_p"}),
    "concierge-transformers": frozenset({"candidates", "max_new_tokens", "temperature", "top_k", "top_p"}),
    "concierge-openai": frozenset({"candidates", "max_new_tokens", "temperature", "top_p"}),
    "concierge-scripted": frozenset({"candidates", "max_new_tokens", "temperature", "top_k", "top_p"}),
}
WHY_NOT = {"beams": "beam search", "top_k": "top-k sampling"}
VARIANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class VariantSpec:
    """One copy variant; ``None`` parameters take the configured defaults (``llm.*``, ``marketing.*``)."""

    id: str
    kind: str = "email"
    per: str = "shopper"
    candidates: int | None = None
    max_new_tokens: int | None = None
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    beams: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> VariantSpec:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(f"unknown variant fields {unknown}", user_message=(
                f"Unknown variant setting {', '.join(unknown)}; a variant has {', '.join(sorted(known))}."))
        ident = str(data.get("id", ""))
        if not VARIANT_ID.match(ident) or ident == HOLDOUT:
            raise ValidationError(f"bad variant id {ident!r}", user_message=(
                "A variant id is 1-32 letters, digits, '_' or '-' (not 'holdout'), e.g. A or short-email."))
        spec = cls(ident, str(data.get("kind", "email")), str(data.get("per", "shopper")),
                   candidates=_whole(data, "candidates"), max_new_tokens=_whole(data, "max_new_tokens"),
                   temperature=_number(data, "temperature", float), top_k=_whole(data, "top_k"),
                   top_p=_number(data, "top_p", float), beams=_whole(data, "beams"))
        spec.validate()
        return spec

    def validate(self) -> None:
        problems = []
        if self.kind not in MAX_CHARS:
            problems.append(f"kind is one of {', '.join(MAX_CHARS)}")
        if self.per not in PER:
            problems.append("per is shopper or segment")
        for name, low, high in (("candidates", 1, 10), ("max_new_tokens", 16, 2048), ("temperature", 0, 2),
                                ("top_k", 0, 1000), ("top_p", 0.01, 1), ("beams", 1, 16)):
            value = getattr(self, name)
            if value is not None and not low <= value <= high:
                problems.append(f"{name} is from {low} to {high}")
        if problems:
            raise ValidationError(f"variant {self.id}: {problems}",
                                  user_message=f"Variant {self.id}: " + "; ".join(problems) + ".")

    def to_dict(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def given(self) -> set[str]:
        """The generation parameters the marketer set (beams of 1 is no beam search)."""
        return {k for k in ("candidates", "max_new_tokens", "temperature", "top_k", "top_p")
                if getattr(self, k) is not None} | ({"beams"} if (self.beams or 1) > 1 else set())

    def check_backend(self, backend: str) -> None:
        """``ValidationError`` naming each parameter set here that ``backend`` (an ``_llm_type``) cannot apply."""
        supported = BACKEND_PARAMS.get(backend, frozenset({"candidates", "max_new_tokens", "temperature", "top_p"}))
        missing = sorted(self.given() - supported)
        if missing:
            name = backend.removeprefix("concierge-")
            raise ValidationError(f"variant {self.id}: {missing} unsupported by {backend}", user_message=(
                f"Variant {self.id}: the {name} backend has no " + " or ".join(WHY_NOT.get(m, m) for m in missing)
                + f" (llm.mode {name}); leave {' and '.join(missing)} out"
                + (", or use beams 1" if "beams" in missing else "") + "."))

    def sampling(self, settings: Settings) -> Sampling:
        llm = settings.llm
        return Sampling(self.temperature if self.temperature is not None else llm.temperature,
                        self.top_p if self.top_p is not None else llm.top_p,
                        self.top_k if self.top_k is not None else llm.top_k,
                        self.max_new_tokens or settings.marketing.copy_max_new_tokens, llm.seed)

    def how_many(self, settings: Settings) -> int:
        return self.candidates or settings.marketing.copy_candidates


def _number(data: Mapping[str, object], name: str, kind: type[int] | type[float]) -> int | float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and value != int(value)):
        raise ValidationError(f"bad variant {name}", user_message=f"The variant setting {name!r} is a "
                              + ("whole number." if kind is int else "number."))
    return kind(value)


def _whole(data: Mapping[str, object], name: str) -> int | None:
    value = _number(data, name, int)
    return None if value is None else int(value)


def parse_variants(variants: object, backend: str) -> list[VariantSpec]:
    """The campaign's variants, checked, with distinct ids, and each one's parameters against ``backend``."""
    if not isinstance(variants, list | tuple) or not variants:
        raise ValidationError("no variants", user_message="Give the campaign at least one copy variant.")
    specs = [VariantSpec.from_dict(v) if isinstance(v, Mapping) else _not_a_variant() for v in variants]
    ids = [s.id for s in specs]
    if len(set(ids)) != len(ids):
        raise ValidationError("duplicate variant ids", user_message="Each variant needs its own id.")
    for spec in specs:
        spec.check_backend(backend)
    return specs


def _not_a_variant() -> VariantSpec:
    raise ValidationError("a variant that is not an object", user_message="Each variant is an object with an id.")
