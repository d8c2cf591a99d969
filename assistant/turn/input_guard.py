"""Input guard: size limits, unreadable input, injection heuristics and PII redaction.

The guard never drops a turn: it decides whether the message can be answered, and returns the redacted
text that is safe to store. A blocked message still produces a (friendly) reply and a logged turn.

Injection patterns are matched on normalised text (NFKC, zero-width and bidi controls removed:
``knowledge.passage_guard.normalize_text``), in English and Chinese; they include the document patterns of
``knowledge.passage_guard`` (role prefixes such as ``Assistant:`` or ``系统：`` at a line start, chat-template
tokens), which the importers use to quarantine passages before anything is stored.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assistant.locales import template
from assistant.privacy.redaction import redact
from knowledge.passage_guard import INSTRUCTION_PATTERNS, normalize_text, quarantine_passages

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
    # overriding the rules in other words
    r"\b(ignore|disregard|forget|override|bypass|skip)\b[^.?!\n]{0,40}\b(instructions?|rules|prompts?|told|guidelines|"
    r"restrictions|safety|checks?|facts)\b",
    r"\bpretend\s+(you\s+are|to\s+be|you'?re)\b",
    r"\bfrom\s+now\s+on\b[^.?!\n]{0,40}\b(you|obey|only)\b",
    r"\bobey\s+(only\s+)?me\b",
    r"\bjailbreak",
    r"(^|\n|\]\s*)\s*(system|admin|developer)\s*:",
    r"\b(as|i'?m|i\s+am)\s+(an?\s+|the\s+)?(admin|administrator|employee|staff\s+member|developer|shop\s+owner|manager)\b",
    # offer codes the shopper may not have
    r"\b(create|make|generate|invent)\b[^.?!\n]{0,25}\bcodes?\b",
    r"\bgive\s+me\b[^.?!\n]{0,25}\b(coupon|discount|promo|voucher)\s*codes?\b",
    r"\b(staff|employee|secret|hidden|influencer|internal)\b[^.?!\n]{0,20}\b(code|coupon|discount)",
    r"\b(every|all)\s+(the\s+)?(coupon|offer|discount|promo)\s+codes?\b",
    r"\bcode\s+\w*(free|100)\w*\b",
    r"\b100\s*(%|percent)",
    # the system prompt
    r"\b(initial|original|hidden|secret)\s+(prompt|rules|instructions|configuration|message)",
    r"\bsystem\s+(message|instructions?|configuration)\b",
    r"\b(everything|all\s+the\s+text|the\s+text)\s+(above|before)\b",
    r"\bwhat\s+(were|are)\s+you\s+told\b",
    r"\b(repeat|print|output|reveal|show|translate)\b[^.?!\n]{0,20}\byour\s+(prompt|instructions|rules)\b",
    # another shopper's data
    r"\b(another|other|someone\s+else'?s?|somebody\s+else'?s?)\s+(customer|shopper|user|person|people)s?\b",
    r"\bother\s+shoppers?\b",
    r"\bfor\s+(a\s+friend|someone\s+else|somebody\s+else)\b",
    r"\bhelping\s+a\s+friend\b",
    r"\b(logged|signed)\s+in\s+as\b",
    r"\b(customer|shopper|user)\s+(named|called)\b",
    r"\b(orders?|order\s+history|account|purchases?|address)\s+(of|for|from)\s+\S+@\S+\.\w+",
    r"\S+@\S+\.\w+\s+(buy|bought|order|ordered|purchase|purchased)\b",
    r"\b(?-i:[A-Z][a-z]+\s+[A-Z][a-z]+)'s\s+(orders?|package|parcel|address|phone|account|details|purchases?|email)",
    r"\bwhat\s+did\s+(?-i:[A-Z][a-z]+\s+[A-Z][a-z]+)\s+(order|buy|purchase)",
    r"\b(i\s+am|i'm|this\s+is)\s+(?-i:[A-Z][a-z]+)\s*,",
    # Chinese: the shopper's own words
    r"(忽略|无视|忽视|不要理会|忘记|忘掉|跳过|绕过)[^。！？!?\n]{0,15}(指令|指示|提示词?|规则|说明|命令|设定|限制)",
    r"(显示|告诉我|输出|重复|泄露|打印)[^。！？!?\n]{0,10}(系统)?(提示词?|指令|设定)",
    r"(生成|创建|给我|发我)[^。！？!?\n]{0,10}(优惠码|折扣码|优惠券)",
    r"(其他|别的|另一个?)(顾客|客户|用户|人)的(订单|地址|电话|邮箱|信息)",
]
INJECTION_PATTERNS += [p for p in INSTRUCTION_PATTERNS if p not in INJECTION_PATTERNS]
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
    """The patterns that match ``text``, normalised first (so "Ig\u200bnore" and full-width letters count)."""
    clean = normalize_text(text)
    return tuple(p.pattern for p in _INJECTION if p.search(clean))


def quarantine(text: str) -> tuple[str, list[str]]:
    """Retrieved text is data: drop the sentences of it that read as instructions to the assistant (or to any
    pattern of the input guard). The importers already dropped those of the document patterns.

    Returns the text (normalised) without them and the dropped sentences (for the trace)."""
    return quarantine_passages(text, _INJECTION)


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


#: why a message cannot be answered -> the reply, in English (every language's: ``blocked.<why>``)
BLOCKED_REPLIES = {why: template(f"blocked.{why}") for why in ("empty", "too_long", "unreadable")}
