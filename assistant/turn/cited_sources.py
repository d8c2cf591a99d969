"""The sources a reply cites: only the documents, products and orders the reply uses, not all that were retrieved.

Retrieval hands the turn several policy chunks (the returns policy and, say, the warranty); a reply that quotes
only the returns policy must list only it under "Sources", as its own source line does. What counts as used:

- a policy chunk: one of its sentences (:func:`assistant.turn.policy_answers.sentences_of`) is in the reply as
  written (a built answer quotes them), or, for a written policy answer (checked against the sentences that answer,
  ``Facts.evidence``), it holds the sentence that supports one of the reply's own claims in other words
  (:func:`assistant.turn.policy_claims.supporting`, the check the verifier and the reply's source line use). The
  reply's source line and a quote's opening words are no claims;
- a product: the reply names it, or the computed catalogue answer is about it;
- an order: the reply names it; a reply about "your order" that names none uses the shopper's orders it was
  given (they are only in the facts when the question is about them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.domain import Citation
from assistant.locales import fixed_prefix
from assistant.turn.code_guard import split_sentences
from assistant.turn.facts import Facts
from assistant.turn.policy_answers import sentences_of
from assistant.turn.policy_claims import split_claims, supporting
from knowledge.knowledge_store import Hit

#: a claim that still says something (a word of three letters or more, or a Chinese character)
_SAYS = re.compile(r"[^\W\d_]{3,}|[\u3400-\u9fff]")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _claims(reply: str) -> list[str]:
    """The reply's sentences (English or Chinese), without what they say about their sources: a source line
    ("Source: X." / "Sources: X; Y." / "来源：《X》。") is none, a quote's opening ("According to “X”: ...",
    "根据《X》：...") is left out."""
    lines = tuple(p.strip() for p in (*fixed_prefix("policy.source"), "Sources: ") if p.strip())
    quotes = [p.strip() for p in fixed_prefix("policy.quote") if p.strip()]
    out = []
    for claim in (s for c in split_claims(reply) for s in split_sentences(c)):
        if claim.startswith(lines):
            continue
        for quote in quotes:
            opening = re.match(re.escape(quote) + r".*?[\u201d\u300b]\s*[:\uff1a]\s*", claim)
            if opening:
                claim = claim[opening.end():]
        if _SAYS.search(claim):
            out.append(claim)
    return out


def used_policies(reply: str, hits: Sequence[Hit], evidence: Sequence[str] | None = None) -> list[Hit]:
    """The chunks of ``hits`` whose sentences ``reply`` quotes, in retrieval order; with ``evidence`` (a written
    policy answer's sentences that answer, best first: :meth:`Facts.policy_evidence`) also those whose sentence
    states one of its claims in other words, the evidence first (as the reply's source line finds them). A reply
    about anything else may use a policy's words by chance ("shipped"): only a quote counts."""
    said = _flat(reply)
    owned = [(_flat(sentence), n) for n, hit in enumerate(hits) for sentence in sentences_of(hit)]
    used = {n for sentence, n in owned if sentence and sentence in said}
    if evidence is None:
        return [hit for n, hit in enumerate(hits) if n in used]
    best = {_flat(e): rank for rank, e in enumerate(reversed(evidence))}
    ranked = sorted(owned, key=lambda pair: best.get(pair[0], -1), reverse=True)
    sentences = [sentence for sentence, _ in ranked]
    for claim in map(_flat, _claims(reply)):
        if any(claim in sentence for sentence, n in owned if n in used):  # (part of) a sentence quoted whole
            continue
        support = supporting(claim, sentences)
        if support is not None:
            used.add(next(n for sentence, n in ranked if sentence == support))
    return [hit for n, hit in enumerate(hits) if n in used]


def _named(name: str, reply: str) -> bool:
    return bool(name.strip()) and name.casefold() in reply.casefold()


def cited_sources(facts: Facts, reply: str) -> tuple[Citation, ...]:
    """The citations of what ``reply`` uses of ``facts`` (see the module's docstring), in the order of
    :meth:`Facts.citations`."""
    # a written policy answer was checked against the evidence (the verify step computed it); a built one quotes
    evidence = facts.evidence.split("\n") if facts.evidence else None
    policies = {hit.id for hit in used_policies(reply, facts.policies, evidence)}
    about = set(facts.answer.products) if facts.answer is not None else set()
    products = {card.id for card in facts.products if card.id in about or _named(card.name, reply)}
    named_orders = {order.id for order in facts.orders if _named(order.id, reply)}
    orders = named_orders or {order.id for order in facts.orders}
    wanted = {"policy": policies, "product": products, "order": orders}
    return tuple(c for c in facts.citations() if c.id in wanted[c.kind])

