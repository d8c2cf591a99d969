"""The verifier: every price, number, percentage, duration, date, code and product name in a reply must be
in the facts (or in the shopper's own question). A reply that fails is replaced by one built from facts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from assistant.catalog import CatalogIndex

_NUMBER = re.compile(r"(?<![\w.])(\$\s?)?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(\s?%|\s?percent)?(?![\w])")
_UNIT_AFTER = re.compile(r"^\s*(?:-\s*\d+\s*)?(business\s+)?(days?|weeks?|months?|years?|hours?|minutes?|points?|"
                         r"x\b|%|percent|dollars?|usd)", re.I)
_CODE = re.compile(r"\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTHS = "january february march april may june july august september october november december".split()
_TEXT_DATE = re.compile(r"\b(" + "|".join(m[:3] for m in _MONTHS) + r")[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b",
                        re.I)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
SMALL_COUNTS = {0, 1, 2, 3}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    problems: tuple[str, ...] = ()
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "pass" if self.ok else "fail"


def _numbers(text: str) -> list[tuple[float, bool, str]]:
    """(value, has a unit or currency, as written) for every number in ``text``."""
    out = []
    for m in _NUMBER.finditer(text):
        whole = m.group(2).replace(",", "")
        value = float(f"{whole}.{m.group(3)}") if m.group(3) else float(whole)
        unit = bool(m.group(1) or m.group(4) or _UNIT_AFTER.match(text[m.end():]))
        out.append((value, unit, m.group(0).strip()))
    return out


def _dates(text: str) -> set[tuple[int, int]]:
    found = {(int(m.group(2)), int(m.group(3))) for m in _ISO_DATE.finditer(text)}
    for m in _TEXT_DATE.finditer(text):
        month = [x[:3] for x in _MONTHS].index(m.group(1).lower()[:3]) + 1
        found.add((month, int(m.group(2))))
    return found


def _codes(text: str) -> set[str]:
    return {c for c in _CODE.findall(text) if len(c) >= 4}


@dataclass
class Verifier:
    catalog: CatalogIndex
    #: every offer code of the shop: naming one that is not in the facts fails even without digits
    known_codes: set[str] = field(default_factory=set)

    def check(self, reply: str, corpus: str, question: str = "", allowed_products: Iterable[str] = ()) -> Verdict:
        problems: list[str] = []
        allowed_text = f"{corpus}\n{question}"
        allowed_numbers = {v for v, _, _ in _numbers(allowed_text)}
        # dates in ISO form contribute their parts as numbers too ("2026-11-10" -> 2026, 11, 10)
        for y, mo, d in _ISO_DATE.findall(allowed_text):
            allowed_numbers.update({float(y), float(mo), float(d)})
        reply_numbers = _numbers(reply)
        for value, unit, written in reply_numbers:
            if value in allowed_numbers:
                continue
            if not unit and value in SMALL_COUNTS:
                continue
            problems.append(f"number {written!r} is not in the facts")
        allowed_dates = _dates(allowed_text) | {(int(mo), int(d)) for _, mo, d in _ISO_DATE.findall(allowed_text)}
        for month, day in _dates(reply) - allowed_dates:
            problems.append(f"date {date(2000, month, day).strftime('%B')} {day} is not in the facts")
        allowed_codes = _codes(allowed_text)
        suspicious = _codes(reply) | {c for c in self.known_codes if re.search(rf"\b{re.escape(c)}\b", reply)}
        for code in sorted(suspicious - allowed_codes):
            problems.append(f"code {code!r} is not in the facts")
        allowed = set(allowed_products)
        for product_id in self.catalog.names_in(reply):
            if product_id not in allowed:
                problems.append(f"product {self.catalog.products[product_id]['name']!r} is not in the facts")
        for email in set(_EMAIL.findall(reply)) - set(_EMAIL.findall(allowed_text)):
            problems.append(f"e-mail {email!r} is not in the facts")
        checked = {"numbers": len(reply_numbers), "codes": len(suspicious)}
        return Verdict(not problems, tuple(problems), checked)
