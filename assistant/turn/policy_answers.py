"""Policy answers that cannot drift from the shop's own text.

- :func:`answer_sentences`: the sentences of the retrieved policy chunks that answer a question, best first
  (the extractive answer), with markdown removed, a list item read with its lead-in and a table row with
  its header;
- :func:`source_line`: the titles of the documents those sentences come from, for the reply;
- how each sentence is scored by the question's terms: :mod:`assistant.turn.policy_scoring` (the words compared:
  :mod:`assistant.turn.policy_words`);
- whether a written claim is supported: :mod:`assistant.turn.policy_claims`.

Nothing here knows a particular shop: the words come from the question and the policy text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from assistant.turn.policy_scoring import QuestionTerm, Text, lexical_scores, question_terms
from assistant.turn.policy_words import _NEGATION, _STOP, _stems, _words, stem
from knowledge.cross_lingual import compared_question
from knowledge.knowledge_store import Hit
from knowledge.lexical_index import has_cjk

#: where a sentence ends: English ".!?" before a capital; Chinese "。！？" (or "!?" before Chinese, as an import
#: that folds full-width punctuation writes them)
_SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9$])|(?<=[。！？])[”’」』）)]*\s*|"
                       r"(?<=[!?])\s*(?=[\u3400-\u9fff])")
_MARKUP = re.compile(r"\*\*|__|`|(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)")
_BULLET = re.compile(r"^\s*(?:[-*+\u2022]|\d+[.)])\s+")
#: what kind of value a question asks for, and how a sentence that gives one reads
_ASKS: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    # Chinese: how long / how much / how many times / which, and the values that answer them
    (re.compile(r"多久|多长时间|什么时候|何时|几天|几个工作日|多少天"),
     re.compile(r"\d+\s*(?:[-到至~]\s*\d+\s*)?(?:个)?(?:工作日|天|小时|分钟|周|星期|个月|月|年)|立即|马上|当天|次日|永久")),
    (re.compile(r"多少钱|费用|运费|收费|要钱|扣多少|多少元|付钱|价格"),
     re.compile(r"[¥￥]\s?\d|\d+(?:\.\d+)?\s*元|免费|包邮|免运费|不收")),
    (re.compile(r"几次|多少次|再次|再换|又"), re.compile(r"[一两二\d]\s*次|只能")),
    (re.compile(r"哪些|哪几|哪种|什么方式|有什么"), re.compile(r"[、，,;；].*[、，,和或]|和")),
    (re.compile(r"\bhow often\b|\bhow frequently\b|\bagain\b|\bmore than once\b|\btwice\b|\bsecond time\b", re.I),
     re.compile(r"\b(once|twice|every|each|daily|weekly|monthly|yearly|annually|per (?:day|week|month|year))\b",
                re.I)),
    (re.compile(r"\b(how (long|soon|fast|quickly)|when|what time|how many (?:days|weeks|months|years|hours)|"
                r"expire|expiry|until)\b", re.I),
     re.compile(r"\d+(?:\s*(?:-|to|–)\s*\d+)?\s*(?:business\s+|working\s+)?(?:minutes?|hours?|days?|weeks?|"
                r"months?|years?|pm|am)\b|\b(?:immediately|same day|next (?:business )?day|never|lifetime|overnight)\b"
                # ... or by an event: "charged when your order is processed", "refunded once we receive it"
                r"|\b(?:when|after|once|before|until|as soon as) (?:the|your|you|it|its|an?|we|they)\b",
                re.I)),
    (re.compile(r"\b(how much|cost|costs|price|fee|charge|pay|minimum|maximum|worth|spend)\b", re.I),
     re.compile(r"[$€£]\s?\d|\d\s?(?:usd|eur|gbp|dollars?|%|percent)|\bfree\b", re.I)),
    (re.compile(r"\bhow many\b", re.I), re.compile(r"\d")),
    # "can I split it across two ...", "several at once": a sentence that says how many are allowed
    (re.compile(r"\b(?:split|two|several|multiple|more than one)\b", re.I),
     re.compile(r"\b(?:single|one|once|twice|multiple|several)\b", re.I)),
    # "which carriers", "what brands": a sentence that names them (words in capitals after its first, or a list)
    (re.compile(r"\bwhich\b|\bwhat (?:are|kinds?|types?|sorts?)\b", re.I),
     re.compile(r"^\W*\S+.*?(?:\b[A-Z][\w-]*\b.*?\b(?:and|or)\b.*?\b[A-Z][\w-]*\b|\b[A-Z][\w-]*\b,)")),
)
#: a sentence that leans on the one before it ("This applies ...", "In that case ..."): the one before completes it
_REFERS_BACK = re.compile(r"^\W*(?:this|that|these|those|it|its|they|their|such|otherwise|however|but|then|if so|"
                          r"if not|in (?:that|this|which|such) cases?|(?:for|in) (?:all )?other|other)\b", re.I)
#: a question for what to do (its answer is steps, one sentence after another)
_PROCEDURE = re.compile(r"怎么办|怎么处理|如何处理|该怎么做|\bwhat (?:should|do|can) (?:i|we) do\b|\bwhat happens\b",
                        re.I)
_EXAMPLE = re.compile(r"^\W*(?:example|for example|e\.g\.|for instance|例如|比如)", re.I)
#: a sentence that only illustrates, or that talks about the document itself
_ASIDE = re.compile(r"^(?:example|for example|e\.g\.|for instance)\b|\bthis (?:page|document|section)\b|^(?:例如|比如)|"
                    r"本页|本文|本政策说明", re.I)


def _clean(line: str) -> str:
    line = _MARKUP.sub("", line)
    line = re.sub(r"^#+\s*", "", line.strip())
    return re.sub(r"\s+", " ", line).strip()


def policy_body(hit: Hit) -> str:
    """The chunk without its heading lines."""
    lines = hit.text.split("\n")
    depth = len(str(hit.metadata.get("heading", "")).split(" > "))
    return " ".join(line.strip() for line in lines[depth:] if line.strip())


def _blocks(lines: list[str]) -> list[tuple[str, str]]:
    """(kind, text) blocks of markdown lines: ``para`` (hard-wrapped lines joined), ``item`` (a list item with
    its continuation lines), ``row`` (a table row); a blank line ends a paragraph or an item."""
    blocks: list[tuple[str, str]] = []
    for raw in lines:
        line = raw.strip()
        if not line:
            blocks.append(("blank", ""))
        elif line.startswith("|"):
            blocks.append(("row", line))
        elif _BULLET.match(line):
            blocks.append(("item", _BULLET.sub("", line)))
        elif blocks and blocks[-1][0] in ("para", "item") and not line.startswith("#"):
            kind, text = blocks[-1]
            blocks[-1] = (kind, f"{text} {line}")
        else:
            blocks.append(("para", line))
    return [b for b in blocks if b[0] != "blank"]


def _units(hit: Hit) -> list[tuple[str, int | None]]:
    """The chunk's body as readable units, each with the number of the list it is an item of (None for a
    paragraph): paragraphs, list items with their lead-in, table rows with their headers."""
    depth = len(str(hit.metadata.get("heading", "")).split(" > "))
    units: list[tuple[str, int | None]] = []
    lead = ""
    header: list[str] = []
    lists = 0
    previous = ""
    for kind, block in _blocks(hit.text.split("\n")[depth:]):
        if kind != previous and kind in ("row", "item"):
            lists += 1  # a new table or list starts
        previous = kind
        if kind == "row":
            cells = [_clean(c) for c in block.strip("|").split("|")]
            if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                continue
            if not header:
                header = cells
                continue
            units.append((", ".join(f"{h}: {c}" if h and h != c else c
                                    for h, c in zip(header, cells, strict=False) if c) + ".", lists))
            continue
        header = []
        if kind == "item":
            item = _clean(block)
            units.append((f"{lead} {item}".strip() if lead else item, lists))
            continue
        text = _clean(block)
        # a lead-in ends with ':'; one carried over from the previous chunk ("...with:") is a fragment: dropped
        lead = _SENTENCE.split(text)[-1] if text.endswith(":") and not text.startswith("\u2026") else ""
        if not text.endswith(":"):
            units.append((text, None))
        elif text != lead:  # the paragraph before its list's lead-in sentence
            units.append((text[: len(text) - len(lead)].strip(), None))
    return units


def _sentences(hit: Hit) -> list[tuple[str, int | None]]:
    out = []
    for unit, in_list in _units(hit):
        if unit.startswith("\u2026"):  # the overlap carried from the previous chunk: a fragment
            parts = _SENTENCE.split(unit)
            unit = " ".join(parts[1:]) if in_list is None else unit.lstrip("\u2026 ")
        for sentence in _SENTENCE.split(unit) if in_list is None else [unit]:
            sentence = sentence.strip()
            readable = len(sentence) >= 12 and re.search(r"[a-z]", sentence, re.I) or \
                len(sentence) >= 5 and has_cjk(sentence)
            if readable and not _cut(sentence):
                end = "" if re.search(r"[.!?。！？]$", sentence) else "。" if has_cjk(sentence[-1]) else "."
                out.append((sentence + end, in_list))
    return out


def sentences_of(hit: Hit) -> list[str]:
    """The chunk's sentences, readable on their own (a chunk's carried-over fragment dropped)."""
    return [sentence for sentence, _ in _sentences(hit)]


#: a question for the choices there are, or for the longest / cheapest / most common of them: when the best
#: sentence is one item of a list, the answer is the whole list
_ENUMERATES = re.compile(r"\b(?:which|what (?:are|kinds?|types?|sorts?|options?))\b|\b(?:long|short|fast|quick|slow|"
                         r"cheap|low|high|big|small|great|earl|lat)i?est\b|\b(?:most|least|fewest|maximum|minimum)\b",
                         re.I)


def _whole_list(items: Sequence[str]) -> str | None:
    """The items of one list as one sentence (their shared lead-in once, long asides in brackets dropped), when
    they are alike: each reads "key: value" and the keys share a word ("Ships in 2 weeks: ...", "Ships
    overnight: ..."); None otherwise."""
    if len(items) < 2 or not all(":" in i for i in items):
        return None
    keys = [i.split(":")[0] for i in items]
    shared = set.intersection(*({w for w in _stems(k) if not w[:1].isdigit()} - _STOP for k in keys))
    if not shared:
        return None
    lead = keys[0] if len(set(keys)) == 1 else ""
    rest = [i.split(":", 1)[1].strip() for i in items] if lead else list(items)
    short = [re.sub(r"\s*\([^)]{40,}\)", "", i).rstrip(". 。") for i in rest]
    if has_cjk("".join(items)):  # Chinese punctuation: "关闭以后：甲；乙。", not "关闭以后: 甲。; 乙。."
        body = "；".join(x for x in short if x)
        return f"{lead.strip()}：{body}。" if lead else f"{body}。"
    body = "; ".join(x for x in short if x)
    return f"{lead}: {body}." if lead else f"{body}."


def _asks_the_lead_in(items: Sequence[str], best: str, asked: set[str]) -> bool:
    """The best sentence is an item of a short list whose items share one lead-in ("If you opt out: ...") and the
    question's words are in that lead-in, not in the item: the question asks for the whole list."""
    if not 2 <= len(items) <= 8 or ":" not in best or len({i.split(":")[0] for i in items}) != 1:
        return False
    lead, own = best.split(":", 1)
    return bool(asked & _stems(lead)) and not asked & _stems(own) - _stems(lead)


def _cut(sentence: str) -> bool:
    """A piece cut off where a long chunk was split: an open bracket, or a trailing comma or word joiner."""
    return sentence.count("(") > sentence.count(")") or re.search(r"(?:[,，、]|\b(?:and|or|the|a|of|in|to))$",
                                                                    sentence.rstrip(), re.I) is not None


def _heading(hit: Hit) -> str:
    return str(hit.metadata.get("heading") or "").split(" > ")[-1]


#: how a question and sentences compare by meaning (cosine similarities), when an embedder is at hand
Similarity = Callable[[str, Sequence[str]], Sequence[float]]
#: weight of the meaning (cosine) against the shared words
MEANING_WEIGHT = 3.0
#: ... this share of it for a Chinese question rendered in English word by word (words without their grammar)
RENDERED_SHARE = 0.5
#: a sentence next to the best one scores this much more (it often completes it)
NEXT_TO_BEST = 1.5
#: ... the sentence before it, this share of that (the one after more often completes it)
BEFORE_SHARE = 0.6
#: a sentence that gives the kind of value asked for (a time, an amount, names) scores this much more
WANTS_BONUS = 1.5
#: a second sentence is added when it scores at least this share of the best one
CLOSE_SHARE = 0.5


def asked_value(question: str) -> re.Pattern[str] | None:
    """How a sentence that gives the kind of value the question asks for reads (a time, an amount, a count, names),
    or None when the question asks for no particular kind."""
    return next((value for ask, value in _ASKS if ask.search(question)), None)


#: an asking word inside a Chinese term ("哪些", "多少钱", "几次" ask; "运费", "费用" name the value)
_INTERROGATIVE = re.compile(r"[哪多几何怎什谁]")
#: English nouns that name an amount asked for ("what is the fee")
_VALUE_NOUNS = frozenset(stem(w) for w in ("fee", "fees", "price", "charge", "cost"))


#: a question for how something is done, up to a clause that only says when it is done ("How do you verify who I
#: am | before helping with my orders?"): the sentence that answers it says how, not what follows or precedes it
_HOW_BEFORE = re.compile(r"^\W*how (?:do|does|can|will|should|would) (?:you|i|we|they)\b.*?(?=\s(?:before|after|while|"
                         r"when) \w+ing\b)", re.I)


def _main_clause(question: str) -> str:
    """The part of ``question`` that asks: a how-question without a trailing clause that only times it."""
    found = _HOW_BEFORE.match(question)
    return found.group(0).strip() + "?" if found else question


def _value_terms(question: str, terms: Sequence[QuestionTerm]) -> frozenset[str]:
    """The question's terms that name the kind of value it asks for ("运费" in "运费是多少", "fee" in "what is the
    fee"): the words its asking pattern matched."""
    ask = next((a.search(question) for a, _ in _ASKS if a.search(question)), None)
    if ask is None:
        return frozenset()
    asking = ask.group(0).lower()
    return frozenset(t.key for t in terms
                     if (t.key in asking and not _INTERROGATIVE.search(t.key) if t.chinese
                         else t.key in _VALUE_NOUNS and t.key in _stems(asking)))


def answer_sentences(hits: Sequence[Hit], question: str, limit: int = 2, close: bool = True,
                     similarity: Similarity | None = None) -> list[str]:
    """The sentences of the retrieved chunks that best answer the question, best first (an extractive answer).

    Scored by the question's terms they contain, each weighted by its rarity among the candidates (see
    :mod:`assistant.turn.policy_scoring`; their section's heading holds those they lack), a value of the kind asked
    for (an amount, a time; a sentence giving it also has the word naming it: "运费" in "运费是多少"), a little for
    the better-ranked chunk, and their closeness in meaning to the question when ``similarity`` is given (English).
    A how-question is compared without a trailing clause that only times it (see :func:`_main_clause`). A Chinese
    question of English sentences is compared in English words, its meaning counting ``RENDERED_SHARE`` (see
    :func:`knowledge.cross_lingual.compared_question`); any other Chinese question's best sentence must hold one of
    its terms whole, or nothing answers. The best one's neighbours
    complete it (the rule an example illustrates, put first; the next step of a what-to-do; a later sentence giving
    the value asked for). ``close``: leave out sentences well below the best."""
    candidates: list[tuple[int, int, str]] = []
    headings: list[Text] = []
    lists: dict[tuple[int, int], list[str]] = {}
    in_list: dict[str, tuple[int, int]] = {}
    for rank, hit in enumerate(hits[:3]):
        heading = Text.of(_heading(hit))
        for position, (sentence, number) in enumerate(_sentences(hit)):
            candidates.append((rank, position, sentence))
            headings.append(heading)
            if number is not None:
                lists.setdefault((rank, number), []).append(sentence)
                in_list.setdefault(sentence, (rank, number))
    if not candidates:
        return []
    english = compared_question(question, [c[2] for c in candidates])  # a Chinese question, English sentences
    weight = MEANING_WEIGHT * (RENDERED_SHARE if english != question else 1.0)
    question = english
    asked = _stems(question) - {stem(w) for w in _STOP}
    wants = asked_value(question)
    asked_part = _main_clause(question)
    terms = question_terms(asked_part)
    valued = [wants is not None and wants.search(c[2]) is not None for c in candidates]
    evidence = lexical_scores(terms, [Text.of(c[2]) for c in candidates], headings, valued,
                              _value_terms(question, terms))
    # the bundled embedder reads English only: on a Chinese question its closeness in meaning is noise
    meaning = list(similarity(asked_part, [c[2] for c in candidates])) if similarity and not has_cjk(question) \
        else [0.0] * len(candidates)
    scored: list[tuple[float, int, int, str]] = []
    whole = {c[:2]: found.whole for c, found in zip(candidates, evidence, strict=True)}
    for (rank, position, sentence), found, close_in_meaning in zip(candidates, evidence, meaning, strict=True):
        score = found.score + weight * close_in_meaning
        if wants is not None and found.score and wants.search(sentence):
            score += WANTS_BONUS
        if _ASIDE.search(sentence):
            score -= 1.0
        score -= 0.3 * rank
        scored.append((score, rank, position, sentence))
    best = sorted(scored, key=lambda s: (-s[0], s[1], s[2]))
    # without a meaning to go by (a Chinese question), the best sentence must hold one of the question's terms whole
    if best[0][0] <= 0 or has_cjk(question) and not whole[best[0][1:3]]:
        return []
    top = best[0]
    items = lists.get(in_list.get(top[3], (-1, -1)), [])
    listed = _whole_list(items) if _ENUMERATES.search(question) or _asks_the_lead_in(items, top[3], asked) else None
    if listed:
        return [listed]
    # the sentence after the best one often completes it ("... cannot exchange it. You can return it instead.")
    # ... and the one before it, when the best one leans on it ("This applies to ...")
    # ... or illustrates it ("Example: ...": the rule comes before)
    before = 1.0 if _EXAMPLE.search(top[3]) else BEFORE_SHARE if _REFERS_BACK.search(top[3]) else 0.0
    # ... and a "no" is completed by what follows it ("We cannot exchange it. You can return it instead.")
    after = 2.0 if _NEGATION & set(_words(top[3])) else 1.0
    rest = sorted(((b[0] + (NEXT_TO_BEST * (after if b[2] > top[2] else before)
                            if b[1] == top[1] and abs(b[2] - top[2]) == 1 else 0.0), *b[1:])
                   for b in best[1:]), key=lambda s: (-s[0], s[1], s[2]))
    if wants is not None and not wants.search(top[3]):  # the value asked for, given later in the best one's passage
        later = next((b for b in rest if b[1] == top[1] and b[2] > top[2] and wants.search(b[3])), None)
        completed = [(later[0] + WANTS_BONUS + NEXT_TO_BEST, *later[1:])] if later else []
        rest = sorted([b for b in rest if b is not later] + completed, key=lambda s: (-s[0], s[1], s[2]))
    # a question for what to do is answered by steps: the one after the best one belongs to the answer
    steps = _PROCEDURE.search(question) is not None
    chosen = [top] + [b for b in rest[:limit - 1] if b[0] > 0 and (not close or b[0] >= top[0] * CLOSE_SHARE or
                                                                     steps and b[1] == top[1] and b[2] == top[2] + 1)]
    # an example illustrates the rule stated before it: for a question that asks for no value, the rule comes first
    # and the example after it (a value asked for is worked out by the example: "... so you pay $5.99.")
    rule = next((b for b in rest if b[1] == top[1] and b[2] == top[2] - 1), None) \
        if _EXAMPLE.search(top[3]) and wants is None else None
    if rule is not None and limit > 1:
        chosen = [rule, top] + [b for b in chosen[1:] if b is not rule][:limit - 2]
    out: list[str] = []
    for *_, sentence in chosen:  # an item of a list the question asks for by its lead-in: the whole list
        items = lists.get(in_list.get(sentence, (-1, -1)), [])
        said = (_asks_the_lead_in(items, sentence, asked) and _whole_list(items)) or sentence
        # two items of one list under one lead-in are said as one sentence ("If you opt out: A; B.")
        same_list = out and in_list.get(out[-1], (-1, -1)) == in_list.get(sentence, (-2, -2))
        joined = _whole_list([out[-1], sentence]) if same_list and said == sentence else None
        if joined and ":" in out[-1] and out[-1].split(":")[0] == sentence.split(":")[0]:
            out[-1] = joined
        else:
            out.append(said)
    return _without_repeats(out)


def _without_repeats(sentences: Iterable[str]) -> list[str]:
    """``sentences`` without one whose words the ones before it already say ("Our gift cards never expire. Gift
    cards never expire." says it once), nor one a later sentence says whole (an item of a list, then the whole
    list: the list alone)."""
    unique = list(dict.fromkeys(sentences))
    words = [_stems(s) - {stem(w) for w in _STOP} for s in unique]
    kept: list[str] = []
    said: set[str] = set()
    for i, sentence in enumerate(unique):
        if kept and words[i] and words[i] <= said:
            continue
        if words[i] and any(words[i] < later for later in words[i + 1:]):
            continue
        kept.append(sentence)
        said |= words[i]
    return kept


def title_of(hit: Hit) -> str:
    return str(hit.metadata.get("title") or hit.metadata.get("heading") or "").split(" > ")[0].strip()


def source_line(hits: Sequence[Hit], sentences: Iterable[str] = ()) -> str:
    """"Source: Returns and refunds." for the documents the sentences come from (all hits if none given)."""
    wanted = list(sentences)
    titles = [title_of(h) for h in hits if not wanted or any(s in sentences_of(h) for s in wanted)]
    titles = list(dict.fromkeys(t for t in titles if t)) or [title_of(h) for h in hits[:1] if title_of(h)]
    if not titles:
        return ""
    return ("Source: " if len(titles) == 1 else "Sources: ") + "; ".join(titles) + "."


def policy_reply(hits: Sequence[Hit], question: str, limit: int = 2) -> str:
    """The sentences that answer, best first, then their documents' titles; empty when none answers."""
    sentences = answer_sentences(hits, question, limit)
    if not sentences:
        return ""
    return " ".join([*sentences, source_line(hits, sentences)]).strip()
