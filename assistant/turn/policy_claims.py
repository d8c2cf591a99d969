"""Written policy claims against the shop's own sentences.

- :func:`claim_problems`: a written claim passes only when one source sentence supports it: every content
  word (numbers, durations and amounts included) is in that sentence, and so is a negation or an "only"
  the claim makes. Topical similarity alone passes nothing;
- :func:`cited`: the source line of a written reply, from the sentences that support its claims.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.turn.policy_answers import source_line
from assistant.turn.policy_words import _FUNCTION, _NEGATION, _ONLY, _words, stem
from knowledge.knowledge_store import Hit


def split_claims(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def _repeats_itself(words: list[str]) -> bool:
    content = [stem(w) for w in words if w not in _FUNCTION]
    return len(content) >= 6 and len(set(content)) / len(content) < 0.6


def unsupported(claim: str, sources: Sequence[str]) -> str | None:
    """Why no single source sentence supports ``claim`` (None when one does)."""
    words = _words(claim)
    if _repeats_itself(words):
        return f"{claim!r} repeats itself"
    content = {stem(w) for w in words if w not in _FUNCTION and w not in _NEGATION and w not in _ONLY}
    negated, only = bool(_NEGATION & set(words)), bool(_ONLY & set(words))
    if not content:
        return f"{claim!r} says yes or no to nothing" if negated or "yes" in words else None
    best: tuple[int, str] | None = None
    for source in sources:
        have = _words(source)
        missing = content - {stem(w) for w in have}
        if not missing and negated == bool(_NEGATION & set(have)) and (not only or _ONLY & set(have)):
            return None
        if best is None or len(missing) < best[0]:
            best = (len(missing), ", ".join(sorted(missing)) or "its negation or 'only'")
    detail = f" (unsupported: {best[1]})" if best else ""
    return f"{claim!r} is not stated by any one sentence of the policy{detail}"


def supporting(claim: str, sources: Sequence[str]) -> str | None:
    """The source sentence that supports ``claim``, if one does."""
    return next((source for source in sources if unsupported(claim, [source]) is None), None)


def cited(reply: str, hits: Sequence[Hit], sources: Sequence[str]) -> str:
    """The source line for a written reply: the documents of the sentences that support its claims."""
    used = [s for s in (supporting(c, sources) for c in split_claims(reply)) if s]
    return source_line(hits, used) if used else ""


#: the opening sentence of a written policy answer must be stated by one of this many best sentences
ANSWERING = 2


def claim_problems(reply: str, sources: Sequence[str], opening: int | None = None) -> list[str]:
    """Every sentence of ``reply`` must be supported by one of ``sources`` (the sentences that answer, best
    first); with ``opening``, its first sentence by one of the first ``opening`` sources (it answers first)."""
    problems = []
    for n, claim in enumerate(split_claims(reply)):
        why = unsupported(claim, sources[:opening] if n == 0 and opening else sources)
        if why:
            problems.append(why if n or not opening or unsupported(claim, sources) else
                            f"{claim!r} does not answer the question first (no best answering sentence states it)")
    return problems
