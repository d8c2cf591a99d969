"""PII redaction: personal data is replaced by typed placeholders before anything is stored.

The live reply to the shopper may still use their own data; what goes into turns, traces, events, hand-overs,
review labels and logs passes through :func:`redact` (or :func:`redact_json` for JSON-like values) first. The
store applies it to those columns on every write (``assistant.store.pii_columns``), and
``assistant.privacy.log_redaction`` to every log record.

The patterns are compiled ASCII-only, so a boundary exists between a number and Chinese text around it
(``我的卡号是4111111111111111，邮箱是zhangsan@qq.com``); full-width digits and letters are read as ASCII and
zero-width characters are dropped first. Covered: e-mails, crypto wallets, IBANs, street addresses (English, and
Chinese street + house number), national ids (US SSN and EIN, labelled ids, Chinese resident ids with a valid
ISO 7064 MOD 11-2 check digit), bank account numbers, card numbers (Luhn-checked) with their expiry and CVV
(labelled, or right after the card), phone numbers (with separators, Chinese mobiles ``1[3-9]`` + 9 digits with
an optional +86, bare 10-digit numbers).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

_A = re.ASCII  # \b, \w and \d are ASCII-only: Chinese text next to a number is a boundary
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b", _A)
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b", _A)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b", _A)
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b", _A)
_PHONE = re.compile(
    r"(?<![\w-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}(?:[ .-]?\d{3,4})?(?![\w-])", _A
)
#: Chinese mobile numbers: 1[3-9] and 9 more digits (groups 3-4-4 allowed), optionally after +86 / 0086 / 86
_CN_MOBILE = re.compile(r"(?<![\w+])(?:(?:\+|00)?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![\w])", _A)
#: a bare 10-digit number (not part of a longer number, a decimal or a word)
_BARE_PHONE = re.compile(r"(?<![\w.])\d{10}(?![\w])(?!\.\d)", _A)
#: a Chinese resident id: 17 digits and a check digit (0-9 or X)
_CN_ID = re.compile(r"(?<![\w])\d{17}[\dXx](?![\w])", _A)
_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_EXPIRY = re.compile(
    r"(?P<label>\b(?:exp(?:iry|iration)?(?:\s+date)?|expires|valid\s+(?:thru|through|until)|good\s+thru)\.?|"
    r"有效期(?:至|到)?|到期(?:日|日期|时间)?|过期(?:日期|时间)?)(?P<sep>\s*(?:is|:|：|=)?\s*)"
    r"(?P<value>(?:0?[1-9]|1[0-2])\s*[/-]\s*(?:\d{4}|\d{2}))(?![\d/])"
    r"|(?<=\[CARD\])(?P<sep2>[\s,;，；]*)(?P<value2>(?:0[1-9]|1[0-2])\s*/\s*(?:\d{4}|\d{2}))(?![\d/])",
    re.IGNORECASE | _A)
_CVV = re.compile(
    r"(?P<label>\b(?:cvv2?|cvc2?|cid|csc|card\s+security\s+code|security\s+code)(?:码)?|安全码|验证码|背面(?:三|3)位数?)"
    r"(?P<sep>\s*(?:is|:|：|=|是|为)?\s*)(?P<value>\d{3,4})(?!\d)"
    r"|(?<=\[EXPIRY\])(?P<sep2>[\s,;，；]*)(?P<value2>\d{3,4})(?!\d)",
    re.IGNORECASE | _A)
#: a Chinese street and house number: 2-6 characters, 路/街/大道/巷/弄/胡同, a number and 号 (building, room after)
_CN_ADDRESS = re.compile(
    r"[\u4e00-\u9fa5]{2,6}(?:路|街|大街|大道|巷|弄|胡同)\s*\d{1,5}\s*号(?:院)?"
    r"(?:\s*\d{1,5}\s*(?:栋|幢|号楼|楼|单元|室|层|号))*")
_YEAR_RANGE = re.compile(r"(?:19|20)\d\d[ -](?:19|20)\d\d")
#: zero-width characters and bidi controls: dropped before matching
_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069\u00ad]")
#: full-width digits, letters and + - . / @, read as ASCII (full-width punctuation such as ，stays)
_FULLWIDTH = {code: code - 0xFEE0 for code in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B),
                                               0xFF0B, 0xFF0D, 0xFF0E, 0xFF0F, 0xFF20]}
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
      r"[a-z]+(?:\s+[a-z]+)?\s+(?:street|avenue|boulevard)\b" + _TAIL, _A)
# national ids: US SSN and EIN formats anywhere; any id-like number right after a label ("SSN", "tax id")
_EIN = re.compile(r"(?<![\w-])\d{2}-\d{7}(?![\w-])", _A)
_ID_LABELLED = re.compile(
    r"\b(?P<label>ssn|social\s+security(?:\s+(?:number|no\.?|#))?|ein|employer\s+id(?:entification)?(?:\s+number)?|"
    r"tax\s+id(?:\s+number)?|tin|national\s+id(?:\s+number)?|passport(?:\s+number)?)"
    r"(?P<sep>\s*(?:number|no\.?|#)?\s*(?:is|was|:)?\s*)"
    r"(?P<id>\d[\d -]{3,14}\d|(?-i:[A-Z0-9][A-Z0-9-]{4,18}[A-Z0-9]))(?![\w-])",
    re.IGNORECASE | _A)
_WALLET = re.compile(r"\b(?:0x[a-fA-F0-9]{40}|bc1[a-z0-9]{25,59})\b", _A)
_ACCOUNT = re.compile(r"\b(?:account|acct|routing)(?:\s+(?:number|no\.?|#))?\s*:?\s*\d{6,17}\b", re.IGNORECASE | _A)


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


def cn_id_ok(value: str) -> bool:
    """The ISO 7064 MOD 11-2 check digit of an 18-character Chinese resident id is right."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _CN_ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == value[17].upper()


@dataclass(frozen=True)
class Redaction:
    text: str
    found: tuple[str, ...]  # kinds found, e.g. ("EMAIL", "CARD")


def redact(text: str) -> Redaction:
    """Replace e-mails, crypto wallets, IBANs, street addresses, national ids (SSN, EIN, labelled ids, Chinese
    resident ids), account numbers, card numbers (Luhn-checked), card expiry dates and CVVs, and phone numbers
    (Chinese mobiles and bare 10-digit numbers too) by typed placeholders."""
    found: list[str] = []
    if _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text)
    if any(ord(ch) in _FULLWIDTH for ch in text):
        text = text.translate(_FULLWIDTH)

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

    def labelled(kind: str) -> Callable[[re.Match[str]], str]:
        def repl(m: re.Match[str]) -> str:
            found.append(kind)
            if m.group("value") is not None:
                return f"{m.group('label')}{m.group('sep')}[{kind}]"
            return f"{m.group('sep2')}[{kind}]"
        return repl

    out = sub("EMAIL", _EMAIL, text)
    out = sub("WALLET", _WALLET, out)
    out = sub("IBAN", _IBAN, out)
    out = sub("NATIONAL_ID", _CN_ID, out, cn_id_ok)
    out = _ID_LABELLED.sub(labelled_id, out)
    out = sub("SSN", _SSN, out)
    out = sub("EIN", _EIN, out)
    out = sub("ADDRESS", _ADDRESS, out)
    out = sub("ADDRESS", _CN_ADDRESS, out)
    out = sub("ACCOUNT", _ACCOUNT, out)
    out = sub("PHONE", _CN_MOBILE, out)

    def card(m: re.Match[str]) -> str:
        """The longest Luhn-valid card number (13-19 digits, ending at a digit group) at the start of the match;
        what follows it (an expiry date, say) is left for the next patterns."""
        value = m.group(0)
        for cut in range(len(value), 0, -1):
            if (cut == len(value) or value[cut] in " -") and value[cut - 1].isdigit():
                digits = re.sub(r"\D", "", value[:cut])
                if 13 <= len(digits) <= 19 and luhn_ok(digits):
                    found.append("CARD")
                    return "[CARD]" + value[cut:]
        return value

    out = _CARD.sub(card, out)
    out = _EXPIRY.sub(labelled("EXPIRY"), out)
    out = _CVV.sub(labelled("CVV"), out)
    out = sub("PHONE", _PHONE, out,
              lambda s: 7 <= len(re.sub(r"\D", "", s)) <= 15 and not _YEAR_RANGE.fullmatch(s))
    out = sub("PHONE", _BARE_PHONE, out)
    return Redaction(out, tuple(dict.fromkeys(found)))


def redact_json(value: object, keep_keys: Callable[[str], bool] = lambda _key: False) -> object:
    """``value`` with every string in it redacted (dicts, lists and tuples walked; keys kept as they are).
    Strings under a key for which ``keep_keys`` is true are kept (identifiers the shop assigned)."""
    if isinstance(value, str):
        return redact(value).text if value else value
    if isinstance(value, Mapping):
        return {k: (v if isinstance(k, str) and keep_keys(k) else redact_json(v, keep_keys)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_json(v, keep_keys) for v in value]
    return value
