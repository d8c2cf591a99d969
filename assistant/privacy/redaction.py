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
_SUFFIX = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|"
           r"Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq|Trail|Trl|Crescent|Close|Alley|Row|Loop)")
_TAIL = (r"(?:,?\s*(?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|#)\.?\s*#?\w+)?"  # unit
         r"(?:,\s*[A-Za-z][A-Za-z.'-]*(?:\s[A-Za-z][A-Za-z.'-]*){0,2}){0,2}"  # city, state
         r"(?:,?\s*\d{5}(?:-\d{4})?)?")  # postal code
# a street address: house number, a capitalized (or ordinal) street name, a street suffix, then optional
# unit, city, state and postal code. Lower-case only with an unabbreviated suffix (fewer false positives).
_ADDRESS = re.compile(
    r"\b\d{1,6}[A-Za-z]?\s+(?:(?:[A-Z][A-Za-z'-]*|\d+(?:st|nd|rd|th))\.?\s+){1,3}" + _SUFFIX + r"\b\.?" + _TAIL
    + r"|\b\d{1,6}\s+(?!(?:the|a|an|my|on|of|in|to|for|is|and|your|per|minute|minutes|min|hour|hours)\b)"
      r"[a-z]+(?:\s+[a-z]+)?\s+(?:street|avenue|boulevard)\b" + _TAIL)
# national ids: US SSN and EIN formats anywhere; any id-like number right after a label ("SSN", "tax id")
_EIN = re.compile(r"(?<![\w-])\d{2}-\d{7}(?![\w-])")
_ID_LABELLED = re.compile(
    r"\b(?P<label>ssn|social\s+security(?:\s+(?:number|no\.?|#))?|ein|employer\s+id(?:entification)?(?:\s+number)?|"
    r"tax\s+id(?:\s+number)?|tin|national\s+id(?:\s+number)?|passport(?:\s+number)?)"
    r"(?P<sep>\s*(?:number|no\.?|#)?\s*(?:is|was|:)?\s*)"
    r"(?P<id>\d[\d -]{3,14}\d|(?-i:[A-Z0-9][A-Z0-9-]{4,18}[A-Z0-9]))(?![\w-])",
    re.IGNORECASE)
_WALLET = re.compile(r"\b(?:0x[a-fA-F0-9]{40}|bc1[a-z0-9]{25,59})\b")
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
    """Replace e-mails, crypto wallets, IBANs, street addresses, national ids (SSN, EIN, labelled ids), account
    numbers, card numbers (Luhn-checked) and phone numbers by typed placeholders."""
    found: list[str] = []

    def sub(kind: str, pattern: re.Pattern[str], value: str, check: object = None) -> str:
        def repl(m: re.Match[str]) -> str:
            if callable(check) and not check(m.group(0)):
                return m.group(0)
            found.append(kind)
            return f"[{kind}]"
        return pattern.sub(repl, value)

    def labelled_id(m: re.Match[str]) -> str:
        if sum(ch.isdigit() for ch in m.group("id")) < 5:
            return m.group(0)
        label = m.group("label").lower()
        kind = "SSN" if label.startswith(("ssn", "social")) else "EIN" if label.startswith(("ein", "employer")) \
            else "NATIONAL_ID"
        found.append(kind)
        return f"{m.group('label')}{m.group('sep')}[{kind}]"

    out = sub("EMAIL", _EMAIL, text)
    out = sub("WALLET", _WALLET, out)
    out = sub("IBAN", _IBAN, out)
    out = _ID_LABELLED.sub(labelled_id, out)
    out = sub("SSN", _SSN, out)
    out = sub("EIN", _EIN, out)
    out = sub("ADDRESS", _ADDRESS, out)
    out = sub("ACCOUNT", _ACCOUNT, out)
    out = sub("CARD", _CARD, out, lambda s: luhn_ok(re.sub(r"\D", "", s)))
    out = sub("PHONE", _PHONE, out,
              lambda s: 7 <= len(re.sub(r"\D", "", s)) <= 15 and not _YEAR_RANGE.fullmatch(s))
    return Redaction(out, tuple(dict.fromkeys(found)))
