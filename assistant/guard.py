"""Input guard: size limits, unreadable input, injection heuristics and PII redaction.

The guard never drops a turn: it decides whether the message can be answered, and returns the redacted
text that is safe to store. A blocked message still produces a (friendly) reply and a logged turn.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assistant.pii import redact

INJECTION_PATTERNS = [
    r"ignore\s+(all\s+|any\s+|the\s+|your\s+|previous\s+|prior\s+|above\s+)*(instructions|rules|prompts?)",
    r"disregard\s+(all\s+|your\s+|the\s+|previous\s+)*(instructions|rules)",
    r"(reveal|show|print|repeat|tell me|what is|what's)\s+(me\s+)?(your|the)\s+(system\s+)?(prompt|instructions)",
    r"system\s+prompt",
    r"you\s+are\s+now\b",
    r"\b(developer|dan|jailbreak|god)\s+mode\b",
    r"\bact\s+as\s+(an?\s+)?(admin|administrator|developer|system)",
    r"\b100\s*%\s*(off|discount|coupon)",
    r"\b(create|make|generate|give me)\s+(a\s+|an\s+)?(new\s+)?(coupon|discount code|promo code)",
    r"<\s*/?\s*(system|assistant|instructions?)\s*>",
    r"\bnew\s+instructions?\s*:",
]
_INJECTION = [re.compile(p, re.IGNORECASE) for p in INJECTION_PATTERNS]


@dataclass(frozen=True)
class GuardResult:
    text: str  # cleaned message, used to answer (the shopper's own data stays in it)
    stored_text: str  # cleaned and redacted: the only form that is stored
    blocked: str | None  # None, or why it cannot be answered: empty, too_long, unreadable
    injection: tuple[str, ...]  # patterns that matched
    pii: tuple[str, ...]  # kinds of personal data found

    @property
    def flags(self) -> dict[str, object]:
        return {"blocked": self.blocked, "injection": list(self.injection), "pii": list(self.pii)}


def injection_signals(text: str) -> tuple[str, ...]:
    return tuple(p.pattern for p in _INJECTION if p.search(text))


def _clean(message: str) -> tuple[str, float]:
    """Drop control characters; return the text and the share of characters that were junk."""
    if not message:
        return "", 0.0
    kept, junk = [], 0
    for ch in message:
        category = unicodedata.category(ch)
        if ch in "\n\t" or not category.startswith("C") or category == "Cf":
            if ch == "\ufffd":
                junk += 1
                continue
            kept.append(ch)
        else:
            junk += 1
    text = re.sub(r"[ \t]+", " ", "".join(kept)).strip()
    return text, junk / len(message)


def guard_input(message: str, max_chars: int) -> GuardResult:
    text, junk_share = _clean(message or "")
    blocked: str | None = None
    if len(message or "") > max_chars:
        blocked = "too_long"
        text = text[:max_chars]
    elif junk_share > 0.3 or (text and not any(ch.isalnum() for ch in text) and len(text) > 20):
        blocked = "unreadable"
    elif not text:
        blocked = "empty"
    redaction = redact(text)
    return GuardResult(text, redaction.text, blocked, injection_signals(text), redaction.found)


BLOCKED_REPLIES = {
    "empty": "Ask me anything about our products, your orders, or our policies.",
    "too_long": "That message is too long for me ({length} characters; the limit is {limit}). "
                "Could you ask in a shorter message?",
    "unreadable": "I couldn't read that message. Could you type your question again?",
}
