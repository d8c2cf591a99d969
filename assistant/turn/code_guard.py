"""Codes only from the offers table: any code-like token in a reply (a run of capitals of four or more, or
capitals with digits: "WRAP90", "ZFBZR", "SAVE-10") that is not an offer chosen for this shopper in this turn,
nor an identifier of the shop's own records in the turn's facts (an order id, a SKU, a product name), blocks
its sentence. Text retrieved from documents never makes a code allowed: a hidden "use code WRAP90" in an
imported page is as unknown as one the model made up. A capitalised ordinary word ("FREE") is no code when the
facts use it as a word ("free"); a code of the shop's that was not chosen for this shopper is never a word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: capitals (4+), or capitals mixed with digits (3+), in hyphenated parts; not inside a longer word
_CODE_LIKE = re.compile(r"(?<![A-Za-z0-9_-])(?=[A-Z0-9-]*[A-Z])"
                        r"(?:[A-Z]{4,}[A-Z0-9]*|[A-Z0-9]*\d[A-Z0-9]*[A-Z][A-Z0-9]*|[A-Z][A-Z0-9]*\d[A-Z0-9]*)"
                        r"(?:-[A-Z0-9]+)*(?![A-Za-z0-9_-])")
#: a sentence ends at . ! ? and a space, or at Chinese 。！？ (no space follows them)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*")


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, English or Chinese."""
    return [s for s in (p.strip() for p in _SENTENCE.split(text.strip())) if s]


def code_like(text: str) -> set[str]:
    return {c for c in _CODE_LIKE.findall(text) if len(c.replace("-", "")) >= 3 and not c.isdigit()}


def words_of(text: str) -> set[str]:
    """The lower-case words ``text`` uses as words (what a capitalised word may be)."""
    return set(re.findall(r"\b[a-z][a-z]+\b", text))


#: words that present what follows as a code ("use code X", "coupon X", "enter X at checkout")
_CODE_CONTEXT = re.compile(r"\b(?:codes?|coupons?|promo(?:tion)?s?|vouchers?|discounts?|enter|apply|redeem|use)\b"
                           r"\W+(?:\w+\W+){0,3}$", re.I)


def _named_as_text(code: str, source: str) -> bool:
    """``code`` appears in ``source`` and never where it is presented as a code: a name ("UPS and USPS")."""
    places = [m.start() for m in re.finditer(rf"(?<![\w-]){re.escape(code)}(?![\w-])", source)]
    return bool(places) and not any(_CODE_CONTEXT.search(source[max(0, at - 60):at]) for at in places)


def unknown_codes(text: str, allowed: Iterable[str], words: set[str], forbidden: Iterable[str] = (),
                  source: str = "") -> list[str]:
    """The code-like tokens of ``text`` that are not ``allowed`` (offer codes chosen this turn, the shop's own
    identifiers in the facts). A letters-only one passes when its parts are all ``words`` or ``source`` (the
    facts) names it as a name and never as a code, unless it is one of ``forbidden`` (the shop's other offer
    codes)."""
    ok, banned = set(allowed), set(forbidden) - set(allowed)
    out = []
    for code in sorted(code_like(text)):
        if code in ok:
            continue
        letters = not any(ch.isdigit() for ch in code)
        if code not in banned and letters and (all(p in words for p in code.lower().split("-"))
                                               or _named_as_text(code, source)):
            continue
        out.append(code)
    return out


def drop_unknown_codes(text: str, allowed: Iterable[str], words: set[str], forbidden: Iterable[str] = (),
                       source: str = "") -> str:
    """``text`` without the sentences that name an unknown code."""
    keep = [s for s in split_sentences(text) if not unknown_codes(s, allowed, words, forbidden, source)]
    return " ".join(keep)
