"""The shop's vocabulary, learned from its catalogue: what its own data calls things.

Categories (by their names, and by the words of product names and tags that belong to one or a few of them:
"tent" is a category's word only because the shop's tents are called so), brands, option names and their
values (colours, sizes, ...), product names. :class:`~assistant.shop.catalog_index.CatalogIndex` builds one
per catalogue; understanding, the catalogue answers and preference learning read messages with it. No list
of a shop's words is written here: the few word lists are everyday English (plurals, stop words).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Han characters (the ranges the lexical index and the language detector use)
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_CHAR = re.compile(f"[{HAN}]")
#: a number, a Latin word, or one Han character: Chinese names are compared character by character, because a
#: segmenter cuts the same name differently in different sentences (jieba: "远岫全/防水/驮/包" alone,
#: "远/岫/全/防水/驮/包" in a question), while the characters of a name are the same wherever it is written
_TOKEN = re.compile(rf"\d+(?:\.\d+)?|[a-z0-9]+|[{HAN}]")
#: spelling variants of everyday English folded together (not a shop's words)
_SPELLING = {"colour": "color", "colours": "color", "gray": "grey", "favourite": "favorite"}
def stem(word: str) -> str:
    """A word in the form the vocabulary compares: lower case, a plural folded with its singular ("beanies" and
    "beanie", "berries" and "berry" both give the same form; it need not be a word)."""
    w = _SPELLING.get(word.lower(), word.lower())
    if len(w) > 4 and w.endswith("ies"):
        return w[:-1]
    if len(w) > 3 and w.endswith("y") and w[-2] not in "aeiouy":
        return w[:-1] + "ie"
    if len(w) > 4 and w.endswith(("sses", "xes", "ches", "shes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


_STOP = ("a an and the of for with in on to by at or from is are was be this that these those it its your our my me "
         "i you we they do does did have has can could would should will what which who how any some all one new "
         "more most than very much many get buy want need like please there their them us also just only about "
         "into per vs if not no yes so as up out off over under").split()
#: words that say nothing about what is sold (as written and as compared)
STOP_WORDS = frozenset(_STOP) | frozenset(stem(w) for w in _STOP)


def is_han(word: str) -> bool:
    """Whether ``word`` holds a Han character."""
    return _HAN_CHAR.search(word) is not None


def tokens(text: str) -> list[str]:
    """The words of ``text`` as the vocabulary compares them ("Men's T-Shirts" -> men, t, shirt); a Han character
    is one token ("折叠桌" -> 折, 叠, 桌), so a Chinese name is a phrase of its characters."""
    text = re.sub(r"['\u2019]s\b", "", text.lower())
    return [stem(t) for t in _TOKEN.findall(text)]


def find_phrase(words: Sequence[str], phrase: Sequence[str]) -> list[int]:
    """Where ``phrase`` (a run of tokens) starts in ``words``."""
    n = len(phrase)
    return [i for i in range(len(words) - n + 1) if tuple(words[i:i + n]) == tuple(phrase)] if n else []


#: words after a category's word that make it the category ("the lamps category"), not a product
_GROUPS = frozenset(tokens("category categories section department range collection products items"))


def _occurrences(words: Sequence[str], phrases: Mapping[tuple[str, ...], object]) -> list[tuple[int, tuple[str, ...]]]:
    """(position, phrase) for every phrase of ``phrases`` (runs of up to 12 tokens) that occurs in ``words``."""
    return [(i, tuple(words[i:i + n])) for i in range(len(words)) for n in range(1, 13)
            if i + n <= len(words) and tuple(words[i:i + n]) in phrases]


def _weak(value: str) -> bool:
    """A value that is also an everyday word or number ("M", "8"): named only beside its option's name (a Chinese
    value, "白色", is a word of its own)."""
    plain = value.strip()
    return len(tokens(plain)) == 1 and (plain.replace(".", "").isdigit() or
                                        (len(plain) <= 2 and plain.isalpha() and plain.isascii()))


def _key_words(key: str) -> list[str]:
    """The words of an attribute's name: its tokens, and for a Chinese name its whole label without the unit
    ("重量（克）" -> 重量: a Chinese attribute is asked by its name, not by one of its characters)."""
    if not is_han(key):
        return tokens(key)
    label = re.sub(r"[（(][^）)]*[）)]", "", key).strip().lower()
    return [label] if label else []


@dataclass(frozen=True)
class Term:
    categories: tuple[str, ...]
    level: int  # 3: the category's own name; 2: a tag or a word of a category's name; 1: words of product names


@dataclass
class ShopVocabulary:
    """What the shop's own data calls things: categories (and the words of its products' names and tags
    that belong to one or a few categories), brands, option names and values, product names."""

    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    terms: dict[tuple[str, ...], Term] = field(default_factory=dict)
    #: option value (as tokens) -> {option name: the value as the catalogue writes it}
    values: dict[tuple[str, ...], dict[str, str]] = field(default_factory=dict)
    option_names: tuple[str, ...] = ()
    known: frozenset[str] = frozenset()  # every word the catalogue uses for what it sells
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)  # product id -> name tokens
    weight: dict[str, float] = field(default_factory=dict)  # name token -> how rare it is among names
    #: product id -> the words of its attributes' names ("warranty_months" -> warranty, month)
    attribute_words: dict[str, frozenset[str]] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)  # product id -> its name in lower case
    alone: frozenset[str] = frozenset()  # products that are the only one of their category
    #: the catalogue's own Chinese writing (names, categories, tags, brands, option names and values, attribute
    #: names), one line each: a Chinese word of a message is the shop's when it is written here
    han_text: str = ""

    @classmethod
    def from_labels(cls, categories: Iterable[str], brands: Iterable[str] = ()) -> ShopVocabulary:
        """Only the categories' and brands' names (no catalogue at hand)."""
        cats = tuple(categories)
        terms = {tuple(tokens(c)): Term((c,), 3) for c in cats if tokens(c)}
        return cls(cats, tuple(brands), terms, known=frozenset(w for c in cats for w in tokens(c)))

    @classmethod
    def from_products(cls, products: Iterable[Mapping[str, Any]]) -> ShopVocabulary:
        records = list(products)
        categories = tuple(sorted({str(p["category"]) for p in records}))
        brands = tuple(sorted({str(p["brand"]) for p in records if p.get("brand")}))
        values: dict[tuple[str, ...], dict[str, str]] = {}
        option_names: dict[str, None] = {}
        for p in records:
            for variant in p.get("variants") or []:
                for key, value in (variant.get("options") or {}).items():
                    option_names[str(key)] = None
                    if tokens(str(value)):
                        values.setdefault(tuple(tokens(str(value))), {})[str(key)] = str(value)
        brand_words = {w for b in brands for w in tokens(b)}
        value_words = {v[0] for v in values if len(v) == 1}
        labels = {c: tuple(tokens(c)) for c in categories}
        terms: dict[tuple[str, ...], Term] = {label: Term((c,), 3) for c, label in labels.items() if label}
        # per term, the products (by category) whose name, tags or category name use it
        seen: dict[tuple[str, ...], dict[str, int]] = {}
        level: dict[tuple[str, ...], int] = {}
        sizes: dict[str, int] = {}
        for p in records:
            category = str(p["category"])
            sizes[category] = sizes.get(category, 0) + 1
            bag: dict[tuple[str, ...], int] = {}
            for text, lvl in ((str(p["name"]), 1), *((str(t), 2) for t in p.get("tags") or []), (category, 2)):
                words = tokens(text)
                if lvl == 1:  # of a name, its head: the last word or two ("Long-Sleeve Linen Top" -> top)
                    while words and (any(ch.isdigit() for ch in words[-1]) or
                                     (len(words[-1]) <= 2 and not is_han(words[-1]))):
                        words = words[:-1]  # not a trailing size or number ("Mug 16 oz", "SPF 30")
                    words = words[-2:]
                for n in (1, 2):
                    for i in range(len(words) - n + 1):
                        term = tuple(words[i:i + n])
                        if any(w in STOP_WORDS or w in brand_words for w in term) or \
                                (n == 1 and (len(term[0]) < 3 or term[0].replace(".", "").isdigit()
                                             or term[0] in value_words)):
                            continue
                        bag[term] = max(bag.get(term, 0), lvl if n == 1 or lvl == 2 else 1)
            for term, lvl in bag.items():
                seen.setdefault(term, {})[category] = seen.setdefault(term, {}).get(category, 0) + 1
                level[term] = max(level.get(term, 0), lvl)
        for term, per_category in seen.items():
            if term in terms:
                continue
            total = sum(per_category.values())
            ranked = sorted(per_category, key=lambda c: -per_category[c])
            chosen: list[str] = []
            for c in ranked:  # the fewest categories holding most of the term's products
                chosen.append(c)
                if sum(per_category[x] for x in chosen) >= 0.8 * total:
                    break
            lvl = level[term]
            supported = total >= 2 or any(sizes[c] <= 2 for c in chosen) or set(term) <= set(labels[chosen[0]])
            if supported and (len(chosen) == 1 or (lvl == 2 and len(chosen) <= 3)):
                terms[term] = Term(tuple(sorted(chosen)), lvl)
        names = {str(p["id"]): tuple(tokens(str(p["name"]))) for p in records}
        counts: dict[str, int] = {}
        for name in names.values():
            for w in set(name):
                counts[w] = counts.get(w, 0) + 1
        weight = {w: math.log(1 + len(names) / n) for w, n in counts.items()}
        known = {w for term in terms for w in term} | {w for v in values for w in v} | brand_words \
            | {w for k in option_names for w in tokens(k)} | {w for words in names.values() for w in words} \
            | {w for p in records for k in (p.get("attributes") or {}) for w in tokens(str(k))}
        known = {w for w in known if w not in STOP_WORDS}
        attribute_words = {str(p["id"]): frozenset(w for k in (p.get("attributes") or {}) for w in _key_words(str(k))
                                                   if w not in STOP_WORDS) for p in records}
        written = {str(p["id"]): " ".join(str(p["name"]).lower().split()) for p in records}
        alone = frozenset(str(p["id"]) for p in records if sizes[str(p["category"])] == 1)
        texts = [*categories, *brands, *option_names, *(v for by_name in values.values() for v in by_name.values()),
                 *(str(x) for p in records for x in (p["name"], *(p.get("tags") or []), *(p.get("attributes") or {})))]
        han_text = "\n".join(dict.fromkeys(t.lower() for t in texts if is_han(t)))
        return cls(categories, brands, terms, values, tuple(option_names), frozenset(known), names, weight,
                   attribute_words, written, alone, han_text)

    def writes(self, word: str) -> bool:
        """Whether the catalogue's Chinese writing holds ``word`` (a Chinese word of a message: "睡袋")."""
        return bool(word) and word.lower() in self.han_text

    # -- reading a message -------------------------------------------------------------------------
    def _term_hits(self, text: str) -> list[tuple[int, int, tuple[str, ...]]]:
        words = tokens(text)
        hits = [(i, i + len(term), term) for i, term in _occurrences(words, self.terms)]
        return [a for a in hits if not any(b[0] <= a[0] and a[1] <= b[1] and (b[1] - b[0]) > (a[1] - a[0])
                                           for b in hits)]

    def product_words(self, text: str) -> list[tuple[str, ...]]:
        """The words of product names and tags (not a category's own name) the message uses ("tent")."""
        return [term for _, _, term in self._term_hits(text) if self.terms[term].level < 3]

    def category_matches(self, text: str) -> list[str]:
        """Categories the message is about: longer phrases win over the words inside them, and a category
        named as such wins over one guessed from product words."""
        kept = [(i, j, self.terms[term]) for i, j, term in self._term_hits(text)]
        if not kept:
            return []
        kept.sort(key=lambda h: h[0])
        named = [t for _, _, t in kept if t.level == 3]
        if named:
            return list(dict.fromkeys(c for t in named for c in t.categories))
        # words of products and tags: those that belong to one category ("sleeping bag", not "winter"), else
        # what the others share ("everyday" + "wide"), else any of them
        single = [t.categories[0] for _, _, t in kept if len(t.categories) == 1]
        if single:
            return list(dict.fromkeys(single))
        sets = [t.categories for _, _, t in kept]
        common = [c for c in sets[0] if all(c in s for s in sets[1:])]
        return common or list(dict.fromkeys(c for s in sets for c in s))

    def option_mentions(self, text: str, names: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """(option name, value) pairs the message names, for values the catalogue has; a value that is also
        an everyday word or number ("M", "8") only beside its option's name ("size M") or, for letters, in
        capitals as the catalogue writes it."""
        words = tokens(text)
        allowed = set(names) if names is not None else None
        # where option names are written: a value inside its own option's name ("corded/cordless") is not named
        spoken = {name: [(i, i + len(tokens(name))) for i in find_phrase(words, tokens(name))]
                  for name in self.option_names}
        found: list[tuple[int, int, str, str]] = []
        for i, phrase in _occurrences(words, self.values):
            for name, value in self.values[phrase].items():
                if (allowed is not None and name not in allowed) or \
                        any(a <= i and i + len(phrase) <= b for a, b in spoken.get(name, [])):
                    continue
                if _weak(value):
                    label = tuple(tokens(name))
                    before = tuple(words[max(0, i - len(label) - 1):i])
                    beside = find_phrase(before, label) or tuple(words[i + 1:i + 1 + len(label)]) == label
                    written = value.isalpha() and value.isupper() and value not in ("I", "A") and \
                        re.search(rf"(?<![\w'\u2019-]){re.escape(value)}(?![\w'\u2019-])", text) is not None
                    if not beside and not written:
                        continue
                found.append((i, i + len(phrase), name, value))
        kept = [a for a in found if not any(b[0] <= a[0] and a[1] <= b[1] and (b[1] - b[0]) > (a[1] - a[0])
                                            for b in found)]
        return list(dict.fromkeys((name, value) for _, _, name, value in sorted(kept)))

    def named_products(self, text: str) -> list[str]:
        """Products the message names: all of a name's words, else most of them (the rare words weigh more: "the
        Acme Nova 2" names the Acme Nova 2 Desk Lamp, well ahead of the Acme Nova 2 Mini Desk Lamp); a name
        whose words lie inside a longer named one is left out ("Pear" inside "Pear Phone Pro"). A name that is
        also a category's word ("Lamps") names the product only as "the Lamps", or when it is the
        only product of its category."""
        words = tokens(text)
        present = set(words)
        scored: list[tuple[float, frozenset[str], str]] = []
        spans: dict[str, list[tuple[int, int]]] = {}
        for pid, name in self.names.items():
            parts = set(name) - STOP_WORDS or set(name)
            total = sum(self.weight.get(w, 1.0) for w in parts)
            matched = frozenset(parts & present)
            share = sum(self.weight.get(w, 1.0) for w in matched) / total if total else 0.0
            if share < 0.999 and not (share >= 0.5 and len(matched) >= 2):
                continue
            if name in self.terms and pid not in self.alone and not any(
                    i > 0 and words[i - 1] in ("the", "this", "that")
                    and (words[i + len(name):i + len(name) + 1] or [""])[0] not in _GROUPS
                    for i in find_phrase(words, name)):
                continue  # a category's word: a product only as "the X", or as the only one of its kind
            scored.append((share, matched, pid))
            spans[pid] = [(i, i + len(name)) for i in find_phrase(words, name)]

        def inside(s: tuple[float, frozenset[str], str], o: tuple[float, frozenset[str], str]) -> bool:
            if spans[s[2]] and spans[o[2]]:  # written out: each time inside the longer name
                return all(any(b[0] <= a[0] and a[1] <= b[1] and b[1] - b[0] > a[1] - a[0] for b in spans[o[2]])
                           for a in spans[s[2]])
            return o[1] > s[1]

        kept = [s for s in scored if not any(inside(s, o) for o in scored if o is not s)]
        lowered = " ".join(text.lower().split())
        verbatim = {pid for _, _, pid in kept if self.written.get(pid, "\0") in lowered}
        # two names with the same words ("Blue & Gold Mug", "Blue Gold Mug"): the one written as it is
        kept = [s for s in kept if s[2] in verbatim or not any(
            o[2] in verbatim and self.names[o[2]] == self.names[s[2]] for o in kept)]
        full = [s for s in kept if s[0] >= 0.999]
        ranked = sorted(kept, key=lambda s: (-s[0], -len(s[1]), s[2]))
        if not full and ranked:  # most of a name: a clear best, by words that are its own ("Nova 2"), not
            # its category's ("desk lamps" is no "Slim Desk Lamp")
            ahead = len(ranked) == 1 or ranked[0][0] - ranked[1][0] >= 0.1
            own = ranked[0][1] - {w for term in self.terms for w in term}
            ranked = ranked[:1] if own and (ranked[0][0] >= 0.75 or (ranked[0][0] >= 0.55 and ahead)) else []
        return [pid for _, _, pid in (sorted(full, key=lambda s: (-len(s[1]), s[2])) if full else ranked)]
