"""Offers as the admin sees and edits them: whether an offer shows now, merging an edit, checking an offer
before it is saved. No storage here; :class:`assistant.staff.admin.Admin` reads and writes the offer store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from assistant.errors import ConflictError, ValidationError
from assistant.personalization.offer_rules import offer_problems, offer_time
from knowledge.importing import schema_errors

OfferStatus = Literal["live", "scheduled", "expired", "retired"]


@dataclass(frozen=True)
class AdminOffer:
    offer: dict[str, Any]  # exactly the offer format (knowledge/schemas/offer.schema.json)
    active: bool  # False: retired, its file no longer lists it
    status: OfferStatus

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def admin_offer(offer: dict[str, Any], active: bool, now: datetime) -> AdminOffer:
    """The offer with its status at ``now``: retired, expired, scheduled (starts later) or live."""
    rules = offer.get("eligibility") or {}
    starts, expires = offer_time(rules.get("starts_at")), offer_time(rules.get("expires_at"))
    status: OfferStatus = ("retired" if not active else "expired" if expires and now >= expires
                           else "scheduled" if starts and now < starts else "live")
    return AdminOffer(offer, active, status)


def _refused(message: str) -> ValidationError:
    return ValidationError(message, user_message=message)


def date_problems(offer: Mapping[str, Any]) -> list[str]:
    """The eligibility times that are not dates and times."""
    rules = offer.get("eligibility") or {}
    problems = []
    for name in ("starts_at", "expires_at"):
        value = rules.get(name)
        if value is None:
            continue
        try:
            offer_time(value)
        except (TypeError, ValueError):
            problems.append(f"eligibility.{name}: {value!r} is not a date and time like 2027-06-30T23:59:59Z")
    return problems


def check_offer(data: Mapping[str, Any], offer_id: str | None,
                stored: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
    """Raise ``ValidationError`` naming what is wrong (the schema, the dates, rules that contradict each other), or
    ``ConflictError`` (409 in the API) when another of the ``stored()`` offers (retired ones too) uses its code: the
    offer is valid, the shop's state refuses it."""
    problems = schema_errors(dict(data), "offer") or date_problems(data) or offer_problems(data)
    if problems:
        raise _refused(f"offer {data.get('id', offer_id)!r} not saved: " + "; ".join(problems))
    for other in stored():
        if str(other["id"]) != str(data["id"]) and other.get("code") == data["code"]:
            message = f"code {data['code']} is already used by offer {other['id']!r}: choose another code"
            raise ConflictError(message, user_message=message)


def merge_offer(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``current`` with ``changes``: fields replaced, ``eligibility`` merged field by field, None removes."""
    data = dict(current)
    for key, value in changes.items():
        if key == "eligibility" and isinstance(value, Mapping):
            rules = dict(data.get("eligibility") or {})
            for rule, rule_value in value.items():
                if rule_value is None:
                    rules.pop(rule, None)
                else:
                    rules[rule] = rule_value
            data["eligibility"] = rules
        elif value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data
