"""PII redaction: personal data is replaced by typed placeholders before anything is stored.

The live reply to the shopper may still use their own data; what goes into turns, events and exports
passes through :func:`redact` first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
_PHONE = re.compile(
    r"(?<![\w-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}(?:[ .-]?\d{3,4})?(?![\w-])"
)
_YEAR_RANGE = re.compile(r"(?:19|20)\d\d[ -](?:19|20)\d\d")
_ACCOUNT = re.compile(r"\b(?:account|acct|routing)(?:\s+(?:number|no\.?|#))?\s*:?\s*\d{6,17}\b", re.IGNORECASE)


def luhn_ok(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


@dataclass(frozen=True)
class Redaction:
    text: str
    found: tuple[str, ...]  # kinds found, e.g. ("EMAIL", "CARD")


def redact(text: str) -> Redaction:
    """Replace e-mails, card numbers (Luhn-checked), IBANs, SSNs, account and phone numbers."""
    found: list[str] = []

    def sub(kind: str, pattern: re.Pattern[str], value: str, check: object = None) -> str:
        def repl(m: re.Match[str]) -> str:
            if callable(check) and not check(m.group(0)):
                return m.group(0)
            found.append(kind)
            return f"[{kind}]"
        return pattern.sub(repl, value)

    out = sub("EMAIL", _EMAIL, text)
    out = sub("IBAN", _IBAN, out)
    out = sub("SSN", _SSN, out)
    out = sub("ACCOUNT", _ACCOUNT, out)
    out = sub("CARD", _CARD, out, lambda s: luhn_ok(re.sub(r"\D", "", s)))
    out = sub("PHONE", _PHONE, out,
              lambda s: 7 <= len(re.sub(r"\D", "", s)) <= 15 and not _YEAR_RANGE.fullmatch(s))
    return Redaction(out, tuple(dict.fromkeys(found)))
