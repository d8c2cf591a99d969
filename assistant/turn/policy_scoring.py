"""How well each candidate policy sentence answers a question, by the question's terms it contains.

- :func:`question_terms`: the question's content terms: Latin words as stems; Chinese words as the segmenter cuts
  them (jieba, as the lexical index does), each with the shorter words and the characters inside it, which match in
  part ("退款" half-matches "退款到账", a little "退还");
- :func:`term_weights`: each term weighted by how rare it is among the candidate sentences (inverse document
  frequency over the sentences of the retrieved chunks): a word in most of them ("order", "订单") tells them apart
  less than a specific one ("zip", "银联");
- :func:`lexical_scores`: each sentence's weighted share of the question's terms, its section heading's words
  counting for part of those it lacks; a Chinese term no candidate holds is matched by the candidates' words that
  share its meaning in CC-CEDICT (:func:`same_sense_terms`: "卖完" by "售罄", both "sold out").

Nothing here knows a shop: the terms come from the question, the weights from the shop's own sentences.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.turn.policy_words import _CJK_CHARS_STOP, _STOP, _words, stem
from knowledge.cross_lingual import same_sense_words
from knowledge.lexical_index import cjk_words, has_cjk

#: a Chinese term whose whole word is absent but a shorter word inside it is present matches this much
PART_MATCH = 0.5
#: ... one with only some of its characters present, this much times the share present
CHAR_MATCH = 0.3
#: a term the sentence lacks but its section's heading has counts this share
HEADING_SHARE = 1.0
#: a term's weight: this for a term in every candidate sentence, up to this plus ``RARITY_SPAN`` for one in none
BASE_WEIGHT = 0.5
RARITY_SPAN = 1.0
#: a Chinese term that no candidate holds, matched by a word of the same meaning (the shop's word for it)
SAME_SENSE_MATCH = 1.0

_STOP_STEMS = frozenset(stem(w) for w in _STOP)


@dataclass(frozen=True)
class QuestionTerm:
    """One content term of a question: a Latin stem, or a Chinese word with the shorter words and the characters
    inside it (``chinese``), and the words that say the same (``same``, see :func:`same_sense_terms`)."""

    key: str
    chinese: bool = False
    parts: tuple[str, ...] = ()
    chars: tuple[str, ...] = ()
    same: tuple[str, ...] = ()


@dataclass(frozen=True)
class Text:
    """A sentence (or heading) as terms are matched against it: its Latin stems and its lower-case text."""

    stems: frozenset[str]
    lowered: str

    @classmethod
    def of(cls, text: str) -> Text:
        return cls(frozenset(stem(w) for w in _words(text) if not has_cjk(w)), text.lower())


def question_terms(question: str) -> list[QuestionTerm]:
    """The question's content terms (asking words and function words left out), each once."""
    words = _words(question)
    terms = [QuestionTerm(s) for s in dict.fromkeys(stem(w) for w in words if not has_cjk(w)) if s not in _STOP_STEMS]
    if has_cjk(question):
        cut = [w for w in dict.fromkeys(cjk_words(question)) if w not in _STOP]
        # the segmenter's longest words (a search cut also gives the shorter words inside them)
        longest = [w for w in cut if not any(w != v and w in v for v in cut)]
        for word in longest:
            parts = tuple(v for v in cut if v != word and len(v) > 1 and v in word)
            chars = tuple(dict.fromkeys(c for c in word if has_cjk(c) and c not in _CJK_CHARS_STOP))
            if len(word) > 1 or word not in _CJK_CHARS_STOP:
                terms.append(QuestionTerm(word, True, parts, chars if len(word) > 1 else ()))
    return terms


def match(term: QuestionTerm, text: Text) -> float:
    """How much of ``term`` ``text`` contains: 1 for the whole term, part of it for a Chinese term's shorter words
    or characters."""
    if not term.chinese:
        return 1.0 if term.key in text.stems else 0.0
    if term.key in text.lowered:
        return 1.0
    if any(w in text.lowered for w in term.same):
        return SAME_SENSE_MATCH
    if any(p in text.lowered for p in term.parts):
        return PART_MATCH
    if not term.chars:
        return 0.0
    return CHAR_MATCH * sum(c in text.lowered for c in term.chars) / len(term.chars)


def same_sense_terms(terms: Sequence[QuestionTerm], texts: Sequence[Text]) -> list[QuestionTerm]:
    """``terms``, each Chinese one of two or more characters that none of ``texts`` holds with the words of the
    texts that share its meaning (:func:`knowledge.cross_lingual.same_sense_words`): the shop says it otherwise."""
    missing = [t for t in terms if t.chinese and len(t.key) > 1 and not any(t.key in x.lowered for x in texts)]
    if not missing:
        return list(terms)
    vocabulary = list(dict.fromkeys(w for x in texts for w in cjk_words(x.lowered) if len(w) > 1))
    same = {t.key: tuple(same_sense_words(t.key, vocabulary)) for t in missing}
    return [replace(t, same=same[t.key]) if same.get(t.key) else t for t in terms]


def term_weights(terms: Sequence[QuestionTerm], sentences: Sequence[Text]) -> dict[str, float]:
    """Each term's weight: ``BASE_WEIGHT`` plus ``RARITY_SPAN`` times its inverse document frequency among
    ``sentences`` scaled to 0..1 (a part match counts as part of a document)."""
    n = len(sentences)
    rarest = math.log(2 * (n + 1))
    return {t.key: BASE_WEIGHT + RARITY_SPAN * math.log((n + 1) / (sum(match(t, s) for s in sentences) + 0.5)) / rarest
            for t in terms}


@dataclass(frozen=True)
class Evidence:
    """What one sentence has of the question: its weighted score, and how many terms it or its heading contains
    whole."""

    score: float
    whole: int


def lexical_scores(terms: Sequence[QuestionTerm], sentences: Sequence[Text], headings: Sequence[Text],
                   valued: Sequence[bool] = (), value_terms: frozenset[str] = frozenset()) -> list[Evidence]:
    """Each sentence's evidence: the weights of the question's terms it contains (in part for a part), plus
    ``HEADING_SHARE`` of what its heading adds. ``value_terms``: the terms that name the value asked for ("运费" in
    "运费是多少", "fee" in "what is the fee"), which a sentence giving such a value (``valued``) answers without
    naming them ("顺丰加急：25元")."""
    terms = same_sense_terms(terms, [*sentences, *headings])
    weights = term_weights(terms, sentences)
    out = []
    for n, (sentence, heading) in enumerate(zip(sentences, headings, strict=True)):
        gives = n < len(valued) and valued[n]
        own = {t.key: 1.0 if gives and t.key in value_terms else match(t, sentence) for t in terms}
        above = {t.key: match(t, heading) for t in terms}
        score = sum(weights[t.key] * own[t.key] for t in terms)
        score += HEADING_SHARE * sum(weights[t.key] * max(0.0, above[t.key] - own[t.key]) for t in terms)
        out.append(Evidence(score, sum(max(own[t.key], above[t.key]) >= 1.0 for t in terms)))
    return out
