"""Attribute answers about the catalogue ("how heavy is the X", "is the X waterproof", "X 有多重？"): which of a
product's attributes or options a question asks for, in English or Chinese, and the answer computed from the
record. Split from :mod:`assistant.turn.catalog_answers` (the other kinds of answer); nothing here knows a shop.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from assistant.shop.shop_vocabulary import STOP_WORDS, find_phrase, is_han, stem, tokens
from assistant.turn import chinese_rules as zh
from assistant.turn.catalog_answers import ASKS, RATING, UNITS, CatalogAnswer, Record, Words, _product_line, _variants

_UNIT_NOTE = re.compile(r"[（(]([^）)]*)[）)]")


def _han_label(key: str) -> tuple[str, str]:
    """A Chinese attribute name and its unit: "重量（克）" -> ("重量", "克")."""
    unit = _UNIT_NOTE.search(key)
    return _UNIT_NOTE.sub("", key).strip(), (unit.group(1).strip() if unit else "")


def _asked_words(p: Record, question: str) -> set[str]:
    """The question's words without the product's name where it is written ("Is the Waterproof Boot
    waterproof?" still asks "waterproof"), with everyday ways to ask for a measure ("how heavy": weight; in
    Chinese "有多重": weight). Chinese characters are left out: a Chinese attribute is asked by its whole name."""
    words = tokens(question)
    name = tokens(str(p["name"]))
    for i in reversed(find_phrase(words, name)):
        del words[i:i + len(name)]
    asked = {w for w in words if not is_han(w)} - STOP_WORDS
    return asked | {ASKS[w] for w in asked if w in ASKS} | zh.asked_attribute_words(question)[0]


def _han_asked(p: Record, question: str) -> tuple[str, set[str]]:
    """The question without the product's name, and the Chinese attribute words its way of asking names."""
    rest = question.replace(str(p["name"]), " ")
    return rest, zh.asked_attribute_words(rest)[1]


def attribute_asked(p: Record, question: str, whole: bool = False,
                    options: Sequence[str] = ()) -> tuple[str, object] | None:
    """The attribute of ``p`` the question asks about: the one whose name shares most words with it (with
    ``whole``, only one whose every word but a unit is in the question, and not the name of an option it
    gives a value of: "volume 250 ml" picks a variant, it does not ask for "volume_ml"). A Chinese attribute's
    name ("重量（克）") is asked as written ("重量") or by a way of asking for it ("有多重")."""
    words = _asked_words(p, question)
    if whole:
        words -= {w for name in options for w in tokens(name)}
    fields: dict[str, object] = dict(p.get("attributes") or {})
    if p.get("rating") is not None and RATING.search(question):
        return "rating", p["rating"]
    if p.get("brand") and re.search(r"\b(brand|who makes|made by|manufacturer)\b|品牌|牌子", question, re.I):
        fields["brand"] = p["brand"]
    rest, han_words = _han_asked(p, question)
    best: tuple[int, int, str] | None = None
    for key in fields:
        if is_han(str(key)):
            label = _han_label(str(key))[0]
            if label and label not in options and (label in rest or label in han_words) and \
                    (best is None or (1, len(label)) > (best[0], best[1])):
                best = (1, len(label), key)
            continue
        parts = set(tokens(str(key))) - STOP_WORDS
        hit = len(parts & words)
        if whole and parts - UNITS - words:
            continue
        if hit and (best is None or (hit, -len(parts)) > (best[0], best[1])):
            best = (hit, -len(parts), key)
    return None if best is None else (best[2], fields[best[2]])


def _label_words(key: str) -> Words:
    """An English attribute's name in every language: "weight_g" -> weight / 重量."""
    english = " ".join(key.replace("_", " ").split())
    said = zh.LABELS.get(stem(english.lower())) or zh.LABELS.get(english.lower())
    return Words(english, (("zh", said),) if said else ())


def attribute_answer(p: Record, key: str, value: object) -> CatalogAnswer:
    words = tokens(key.replace("_", " "))
    name = p["name"]
    said: tuple[tuple[str, object], ...] = (("name", str(name)),)
    if key == "rating":
        count = f" from {int(p['review_count'])} reviews" if p.get("review_count") else ""
        shown = f"{value:g}" if isinstance(value, int | float) else str(value)
        text = f"The {name} is rated {shown} out of 5{count}."
        required: tuple[str, ...] = (shown,)
        message = "catalog.rating_reviews" if p.get("review_count") else "catalog.rating"
        said = (*said, ("rating", shown), ("count", int(p.get("review_count") or 0)))
    elif is_han(key):  # a Chinese attribute: "重量（克）" 2150 -> 重量 2150克
        label, unit = _han_label(key)
        shown = (f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else str(value)) + unit
        if isinstance(value, bool):
            text = f"{'Yes' if value else 'No'}, the {name}: {label} {'yes' if value else 'no'}."
            required = ("yes",) if value else ("no", "not")
            message, said = ("catalog.attribute_yes" if value else "catalog.attribute_no"), (*said, ("label", label))
        else:
            text = f"The {label} of the {name} is {shown}."
            required = (shown,)
            message, said = "catalog.attribute", (*said, ("label", label), ("value", shown))
    elif isinstance(value, bool):
        label = " ".join(key.replace("_", " ").split())
        text = f"Yes, the {name} is {label}." if value else f"No, the {name} is not {label}."
        required = ("yes",) if value else ("no", "not")
        message, said = ("catalog.attribute_yes" if value else "catalog.attribute_no"), (*said, ("label", label))
    elif isinstance(value, int | float) and len(words) > 1 and words[-1] in UNITS:
        unit = key.replace("_", " ").split()[-1]
        base = " ".join(key.replace("_", " ").split()[:-1])
        text = f"The {base} of the {name} is {value:g} {unit}."
        required = (f"{value:g}",)
        message, said = "catalog.attribute", (*said, ("label", _label_words(base)), ("value", f"{value:g} {unit}"))
    else:
        shown = f"{value:g}" if isinstance(value, int | float) else str(value)
        text = f"The {' '.join(key.replace('_', ' ').split())} of the {name} is {shown}."
        required = (shown,)
        message, said = "catalog.attribute", (*said, ("label", _label_words(key)), ("value", shown))
    return CatalogAnswer("attribute", text, (p["id"],), (_product_line(p),), (required,), message=message,
                         values=said)


def option_asked(p: Record, question: str, named: Mapping[str, str], plural: bool = False) -> str | None:
    """The option whose values a "how many" / "what ..." question asks for: the one whose name it says, and
    gives no value of ("how many colours in size M" asks colours); with ``plural``, said in the plural or
    as "... options" ("what sizes", "which colour options")."""
    names = [k for k in dict.fromkeys(str(k) for v in _variants(p) for k in (v.get("options") or {}))
             if k not in named]
    words = tokens(question)
    said = [k for k in names if find_phrase(words, tokens(k))]
    if plural:  # Chinese has no plural: a Chinese option's name is asked with 哪些 / 哪几
        lowered = question.lower().replace("colour", "color")
        said = [k for k in said if is_han(k) or re.search(
            rf"\b{re.escape(k.lower().replace('colour', 'color'))}(?:e?s\b|\s+options?)", lowered)]
    return max(said, key=lambda k: (len(tokens(k)), -len(k))) if said else None
