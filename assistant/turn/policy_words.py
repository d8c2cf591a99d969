"""The words a policy sentence and a question are compared by: Latin words with a light stemmer (numbers as
values, "two" = "2"), Chinese words from the segmenter (jieba, as the lexical index cuts them) with their characters,
and the words that carry no claim or ask rather than say.
"""

from __future__ import annotations

import re

from knowledge.lexical_index import cjk_words, has_cjk
from knowledge.lexical_index import stem as stem  # re-exported: the policy modules stem with it

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




def _stems(text: str) -> set[str]:
    return {stem(w) for w in _words(text)}
