"""Policy answers that cannot drift from the shop's own text.

- :func:`answer_sentences`: the sentences of the retrieved policy chunks that answer a question, best first
  (the extractive answer), with markdown removed, a list item read with its lead-in and a table row with
  its header;
- :func:`source_line`: the titles of the documents those sentences come from, for the reply;
- whether a written claim is supported: :mod:`assistant.turn.policy_claims`.

Nothing here knows a particular shop: the words come from the question and the policy text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from knowledge.knowledge_store import Hit
from knowledge.lexical_index import cjk_words, has_cjk

#: where a sentence ends: English ".!?" before a capital; Chinese "。！？" (or "!?" before Chinese, as an import
#: that folds full-width punctuation writes them)
_SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9$])|(?<=[。！？])[”’」』）)]*\s*|"
                       r"(?<=[!?])\s*(?=[\u3400-\u9fff])")
_MARKUP = re.compile(r"\*\*|__|`|(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)")
_BULLET = re.compile(r"^\s*(?:[-*+\u2022]|\d+[.)])\s+")
_WORD = re.compile(r"\d+(?:[.,]\d+)*|[a-z]+(?:'[a-z]+)?")
_NUMBER_WORDS = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
                 "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12"}
#: words that carry no claim of their own: they need no support in the source sentence (generic nouns for what
#: a shop sells, and the verbs a list's colon stands for: "Express: $14.99, 2 days" states what it costs and takes)
_FUNCTION = frozenset("""a an the i me my you your yours we our us it its they them their this that these those
there here is are was were be been being am will would can could may might shall should must do does did have
has had of to in on at for with by from within into onto about as per up than then so and or if when once
also yes sure ok okay please just any some all each every both which who what how where why whom whose
item items product products thing things something anything everything cost costs take takes""".split())
_NEGATION = frozenset("no not never cannot none nothing neither nor without".split())
_ONLY = frozenset("only solely exclusively".split())
#: Chinese words that ask rather than say (what a question's content words leave out)
_CJK_ASKING = frozenset("多久 多少 什么 怎么 怎样 如何 吗 呢 吧 可以 能 能否 是否 我 我们 您 你 你们 有没有 需要 要 "
                        "一下 请问 时候 之内 以内".split())
_STOP = _FUNCTION | frozenset("get got much many long soon".split()) | _CJK_ASKING
#: single characters too common to tell sentences apart
_CJK_CHARS_STOP = frozenset("的了是在我你他她它们吗呢吧啊和与或也都就而及之为把被给让请要会能可以"
                            "有不没这那个一上下中后前时")
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
#: a sentence that only illustrates, or that talks about the document itself
_ASIDE = re.compile(r"^(?:example|for example|e\.g\.|for instance)\b|\bthis (?:page|document|section)\b|^(?:例如|比如)|"
                    r"本页|本文|本政策说明", re.I)


def _words(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'").replace("can't", "can not").replace("won't", "will not")
    text = re.sub(r"n't\b", " not", text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,299.00 -> 1299.00
    for word, digits in _NUMBER_WORDS.items():
        text = re.sub(rf"\b{word}\b", digits, text)
    latin = [w.removesuffix("'s") for w in _WORD.findall(text.replace(",", " , "))]
    if not has_cjk(text):
        return latin
    # Chinese: the segmenter's words, and each character of them (a shorter or longer word shares characters:
    # "退" in "退还" and "退货", "原" in "原来" and "原订单")
    words = cjk_words(text)
    return latin + words + [c for w in words if len(w) > 1 and has_cjk(w) for c in w if c not in _CJK_CHARS_STOP]


def stem(word: str) -> str:
    """A light suffix stripper, the same on both sides of a comparison ("deliveries", "delivered" -> "deliver")."""
    if word[:1].isdigit():
        return _number(word)
    for _ in range(3):
        for suffix, repl in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""),
                             ("ly", ""), ("y", "")):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: len(word) - len(suffix)] + repl
                break
        else:
            return word
    return word


def _number(token: str) -> str:
    try:
        value = float(token.replace(",", ""))
    except ValueError:
        return token
    return f"{value:g}"


def _stems(text: str) -> set[str]:
    return {stem(w) for w in _words(text)}


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
    short = [re.sub(r"\s*\([^)]{40,}\)", "", i).rstrip(". ") for i in rest]
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


def _heading_words(hit: Hit) -> set[str]:
    heading = str(hit.metadata.get("heading") or "").split(" > ")[-1]
    return {stem(w) for w in _words(heading)} - _STOP


#: how a question and sentences compare by meaning (cosine similarities), when an embedder is at hand
Similarity = Callable[[str, Sequence[str]], Sequence[float]]
#: weight of the meaning (cosine) against the shared words
MEANING_WEIGHT = 3.0
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


def answer_sentences(hits: Sequence[Hit], question: str, limit: int = 2, close: bool = True,
                     similarity: Similarity | None = None) -> list[str]:
    """The sentences of the retrieved chunks that best answer the question, best first (an extractive answer).

    Scored by the question's content words they share (rarer words among the candidates count more), the
    words of their section's heading (half), a number when the question asks for an amount or a time, and a
    little for the better-ranked chunk, and their closeness in meaning to the question when ``similarity`` is
    given. ``close``: leave out sentences that score well below the best."""
    asked = _stems(question) - {stem(w) for w in _STOP}
    wants = asked_value(question)
    candidates: list[tuple[int, int, str, set[str], set[str]]] = []
    lists: dict[tuple[int, int], list[str]] = {}
    in_list: dict[str, tuple[int, int]] = {}
    for rank, hit in enumerate(hits[:3]):
        heading = _heading_words(hit)
        for position, (sentence, number) in enumerate(_sentences(hit)):
            candidates.append((rank, position, sentence, _stems(sentence), heading))
            if number is not None:
                lists.setdefault((rank, number), []).append(sentence)
                in_list.setdefault(sentence, (rank, number))
    if not candidates:
        return []
    seen = {w: sum(w in c[3] for c in candidates) for w in asked}
    weight = {w: 1.0 + 1.0 / (1 + seen[w]) for w in asked}
    # the bundled embedder reads English only: on a Chinese question its closeness in meaning is noise
    meaning = list(similarity(question, [c[2] for c in candidates])) if similarity and not has_cjk(question) \
        else [0.0] * len(candidates)
    scored: list[tuple[float, int, int, str]] = []
    for (rank, position, sentence, words, heading), close_in_meaning in zip(candidates, meaning, strict=True):
        shared = sum(weight[w] for w in asked & words)
        score = shared + 0.5 * sum(weight[w] for w in (asked & heading) - words) + MEANING_WEIGHT * close_in_meaning
        if wants is not None and shared and wants.search(sentence):
            score += WANTS_BONUS
        if _ASIDE.search(sentence):
            score -= 1.0
        score -= 0.3 * rank
        scored.append((score, rank, position, sentence))
    best = sorted(scored, key=lambda s: (-s[0], s[1], s[2]))
    if best[0][0] <= 0:
        return []
    top = best[0]
    items = lists.get(in_list.get(top[3], (-1, -1)), [])
    whole = _whole_list(items) if _ENUMERATES.search(question) or _asks_the_lead_in(items, top[3], asked) else None
    if whole:
        return [whole]
    # the sentence after the best one often completes it ("... cannot exchange it. You can return it instead.")
    # ... and the one before it, when the best one leans on it ("This applies to ...")
    before = BEFORE_SHARE if _REFERS_BACK.search(top[3]) else 0.0
    # ... and a "no" is completed by what follows it ("We cannot exchange it. You can return it instead.")
    after = 2.0 if _NEGATION & set(_words(top[3])) else 1.0
    rest = sorted(((b[0] + (NEXT_TO_BEST * (after if b[2] > top[2] else before)
                            if b[1] == top[1] and abs(b[2] - top[2]) == 1 else 0.0), *b[1:])
                   for b in best[1:]), key=lambda s: (-s[0], s[1], s[2]))
    chosen = [top] + [b for b in rest[:limit - 1] if b[0] > 0 and (not close or b[0] >= top[0] * CLOSE_SHARE)]
    out = []
    for *_, sentence in chosen:  # an item of a list the question asks for by its lead-in: the whole list
        items = lists.get(in_list.get(sentence, (-1, -1)), [])
        out.append((_asks_the_lead_in(items, sentence, asked) and _whole_list(items)) or sentence)
    return list(dict.fromkeys(out))


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
