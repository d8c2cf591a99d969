"""Imported text is data: normalise it, and find the passages of it that read as instructions to the assistant.

Every importer passes its text through :func:`normalize_text` (Unicode NFKC; zero-width characters and bidi
controls removed, so "Ig\\u200bnore" reads "Ignore" and full-width letters read as ASCII) before
:func:`quarantine_passages` drops the sentences that match an instruction pattern (English and Chinese, role
prefixes such as ``Assistant:`` or ``系统：`` at a line start, chat-template tokens). The dropped sentences are
reported by the importer and never stored, so neither search nor retrieval can return them.

The patterns here are for documents and catalogue text, so they are narrower than the shopper's input guard
(``assistant.turn.input_guard``), which adds patterns about other shoppers' data and offer codes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

#: zero-width characters (U+200B-U+200F, U+2060-U+2064, U+FEFF) and bidi controls (U+202A-U+202E, U+2066-U+2069)
INVISIBLE_CHARS = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069\u00ad]")


def normalize_text(text: str) -> str:
    """NFKC, with zero-width characters, soft hyphens and bidi controls removed."""
    return unicodedata.normalize("NFKC", INVISIBLE_CHARS.sub("", text))


_ZH_IGNORE = r"(忽略|无视|忽视|不要理会|不要理睬|不要遵守|不再遵守|别管|忘记|忘掉|跳过|绕过|覆盖)"
_ZH_RULES = r"(指令|指示|提示词?|规则|说明|命令|设定|要求|限制)"

#: instructions to an assistant, in English and Chinese (matched case-insensitively on normalised text)
INSTRUCTION_PATTERNS = [
    # overriding the rules
    r"\bignore\s+(all\s+|any\s+|the\s+|your\s+|previous\s+|prior\s+|above\s+|earlier\s+)*"
    r"(instructions|rules|prompts?|directions)",
    r"\bdisregard\s+(all\s+|your\s+|the\s+|previous\s+|prior\s+|above\s+)*(instructions|rules|prompts?)",
    r"\b(ignore|disregard|forget|override|bypass)\b[^.?!\n]{0,40}\b(instructions?|prompts?|guidelines|"
    r"restrictions|safety\s+rules)\b",
    r"\bnew\s+instructions?\s*:",
    r"\byou\s+are\s+now\s+(a|an|the|in|my|no\s+longer|free\s+to|allowed|operating|acting|playing|dan)\b",
    r"\bfrom\s+now\s+on\b[^.?!\n]{0,40}\b(you|obey|only)\b",
    r"\bpretend\s+(you\s+are|to\s+be|you'?re)\b",
    r"\b(developer|dan|jailbreak|god)\s+mode\b",
    r"\bjailbreak",
    r"\bact\s+as\s+(an?\s+)?(admin|administrator|developer|system)",
    # the system prompt
    r"\bsystem\s+(prompt|message|instructions?)\b",
    r"(reveal|show|print|repeat|tell)\s+(me\s+|shoppers\s+|customers\s+|users\s+)?(your|the)\s+(system\s+)?"
    r"(prompt|instructions)",
    # telling the assistant what to hand out
    # (imperative: at the start of a sentence or clause, so "we send customers a code" is not one)
    r"(^|(?<=[.!?:;,\n])|\band\s+|\bplease\s+|\balways\s+)\s*(tell|give|offer|send)\s+(all\s+|every\s+|each\s+|the\s+)?"
    r"(everyone|everybody|customers?|shoppers?|users?|buyers?)\b[^.?!\n]{0,40}\b(codes?|coupons?|discount|vouchers?)\b",
    # role prefixes and chat-template tokens
    r"(^|\n|(?<=[.!?。！？]))[ \t>*_#-]*(assistant|system|developer|ai)\s*[:：]",
    r"<\s*/?\s*(system|assistant|instructions?)\s*>",
    r"<\|?\s*(im_start|im_end|system|assistant|user)\s*\|?>",
    r"\[/?INST\]",
    # Chinese
    _ZH_IGNORE + r"[^。！？!?\n]{0,15}" + _ZH_RULES,
    r"你现在(是|扮演|作为|成为|处于)",
    r"从(现在|今天|此刻)(起|开始)[^。！？!?\n]{0,15}(你|您)",
    r"系统(提示|指令|消息|设定|提示词)",
    r"(假装|装作)(你|您)?(是|成为)",
    r"新的?(指令|指示)\s*[:：]",
    r"(开发者|管理员|越狱)模式",
    r"(^|(?<=[。！？!?，,：:；;\n])|请)\s*(告诉|给|提供给|发给)(所有|每位|每个|全部)?(人|顾客|客户|用户|买家|购物者)[^。！？!?\n]{0,20}"
    r"(优惠码|折扣码|代码|券|码)",
    r"(^|\n|(?<=[.!?。！？]))[ \t>*_#-]*(系统|助手|助理|管理员|开发者)\s*[:：]",
]
_INSTRUCTIONS = [re.compile(p, re.IGNORECASE) for p in INSTRUCTION_PATTERNS]

#: where a passage ends: Latin sentence punctuation and the spaces after it, CJK sentence punctuation, a blank
#: line, or a line break before a list item (a sentence wrapped over two lines stays one passage)
_PIECES = re.compile(r"(?<=[.!?])\s+|(?<=[。！？；])\n*|\n\s*\n\s*|\n(?=[ \t]*(?:[-*+•]|\d+[.)])[ \t])")


def instruction_signals(text: str) -> tuple[str, ...]:
    """The patterns that match ``text`` (normalised first)."""
    clean = normalize_text(text)
    return tuple(p.pattern for p in _INSTRUCTIONS if p.search(clean))


def quarantine_passages(text: str, patterns: Sequence[re.Pattern[str]] | None = None) -> tuple[str, list[str]]:
    """Normalise ``text`` and drop every sentence (or line) that a match of an instruction pattern (``patterns``,
    default :data:`INSTRUCTION_PATTERNS`) touches.

    Returns the kept text and the dropped passages."""
    clean = normalize_text(text)
    spans = [m.span() for p in (_INSTRUCTIONS if patterns is None else patterns) for m in p.finditer(clean)]
    if not spans:
        return clean, []
    kept: list[str] = []
    dropped: list[str] = []
    start = 0
    for end, after in [(m.start(), m.end()) for m in _PIECES.finditer(clean)] + [(len(clean), len(clean))]:
        if end < start:
            continue
        piece, separator = clean[start:end], clean[end:after]
        touched = any(s < end and e > start for s, e in spans) or any(start <= s == e <= end for s, e in spans)
        if piece.strip() and touched:
            dropped.append(piece.strip())
        else:
            kept.append(piece)
        kept.append(separator)
        start = after
    return "".join(kept), dropped
