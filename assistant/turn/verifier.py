"""The verifier: every price, number, percentage, duration, date, code and product name in a reply must be
in the facts (or in the shopper's own question). A reply that fails is replaced by one built from facts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from assistant.shop.catalog_index import CatalogIndex
from assistant.turn.code_guard import code_like, unknown_codes, words_of
from assistant.turn.policy_claims import ANSWERING, claim_problems
from assistant.turn.prompts import COPY_SYSTEM, SYSTEM
from knowledge.embeddings import Embedder

#: an amount's currency before it: a symbol ("$", "US$", "€", "£", "¥") or an ISO code ("CHF 12.00")
_CODES = "USD EUR GBP CHF CAD AUD NZD JPY CNY RMB HKD SGD SEK NOK DKK PLN CZK HUF INR BRL MXN ZAR KRW TRY ILS"
_CURRENCY = r"[A-Z]{0,3}[$€£¥￥₹₩₽₺₪฿]\s?|\b(?:" + "|".join(_CODES.split()) + r")\s?"
# ASCII boundaries: a number touching a Chinese character ("退货期限为30天") is a number
_NUMBER = re.compile(rf"(?<![\w.])({_CURRENCY})?(\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.(\d+))?(\s?%|\s?percent)?(?![\w])",
                     re.ASCII)
_UNIT_AFTER = re.compile(r"^\s*(?:-\s*\d+\s*)?(business\s+)?(days?|weeks?|months?|years?|hours?|minutes?|points?|"
                         r"x\b|%|percent|dollars?|euros?|pounds?|francs?|yuan|yen|rupees?|usd|eur|gbp|chf|cad|aud|"
                         r"jpy|cny|个?工作日|天|日|周|星期|个月|月|年|小时|分钟|积分|元|块|美元|欧元|英镑|倍|折)", re.I)
_CODE = re.compile(r"\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b", re.ASCII)
#: a date as Chinese writes it: "2026年11月28日", "11月28日"
_CN_DATE = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_MONTHS = "january february march april may june july august september october november december".split()
_TEXT_DATE = re.compile(r"\b(" + "|".join(m[:3] for m in _MONTHS) + r")[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b",
                        re.I)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
SMALL_COUNTS = {0, 1, 2, 3}
_RANGE = re.compile(r"\b(\d+)\s*(?:-|–|to)\s*(\d+)\b")
_LEAK = re.compile(r"\b(the facts|facts:|facts provided|shopper:|policy \(|question:|system prompt|my instructions|"
                   r"as an ai|language model)", re.I)
# the prompts' own wording: pieces of 4+ words of the system prompts, between sentence ends and {shop}
_PROMPT_PIECES = tuple(dict.fromkeys(
    " ".join(words) for prompt in (SYSTEM, COPY_SYSTEM) for piece in re.split(r"\{shop\}|(?<=[.!?;:])\s+", prompt)
    if len(words := re.findall(r"[a-z0-9]+", piece.lower())) >= 4))


def prompt_leak(reply: str) -> str | None:
    """The piece of a system prompt that ``reply`` repeats, if any."""
    text = " " + " ".join(re.findall(r"[a-z0-9]+", reply.lower())) + " "
    return next((p for p in _PROMPT_PIECES if f" {p} " in text), None)


_FACT_SENTENCE = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])\s*|\n+")
_FIRST_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(#$])|(?<=[。！？])\s*|\n+")


class SupportIndex:
    """Sentence embeddings of one turn's facts: how well is a reply sentence supported by them?"""

    def __init__(self, embedder: Embedder, corpus: str) -> None:
        import numpy as np

        sentences = [s.strip(" -") for s in _FACT_SENTENCE.split(corpus) if len(s.strip()) > 3]
        self._np = np
        self._embedder = embedder
        # cached by text: the same policy and product lines come back turn after turn
        self._matrix = np.asarray(embedder.embed_cached(sentences), dtype=np.float32) if sentences else None

    def support(self, sentence: str) -> float:
        if self._matrix is None:
            return 0.0
        vector = self._np.asarray(self._embedder.embed_documents([sentence])[0], dtype=self._np.float32)
        return float((self._matrix @ vector).max())


@dataclass(frozen=True)
class Verdict:
    ok: bool
    problems: tuple[str, ...] = ()
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "pass" if self.ok else "fail"


def _numbers(text: str) -> list[tuple[float, bool, str]]:
    """(value, has a unit or currency, as written) for every number in ``text``."""
    out = []
    for m in _NUMBER.finditer(text):
        whole = m.group(2).replace(",", "")
        value = float(f"{whole}.{m.group(3)}") if m.group(3) else float(whole)
        unit = bool(m.group(1) or m.group(4) or _UNIT_AFTER.match(text[m.end():]))
        out.append((value, unit, m.group(0).strip()))
    return out


def _dates(text: str) -> set[tuple[int, int]]:
    found = {(int(m.group(2)), int(m.group(3))) for m in _ISO_DATE.finditer(text)}
    for m in _TEXT_DATE.finditer(text):
        month = [x[:3] for x in _MONTHS].index(m.group(1).lower()[:3]) + 1
        found.add((month, int(m.group(2))))
    found |= {(int(m.group(2)), int(m.group(3))) for m in _CN_DATE.finditer(text)}
    return found


def _words(text: str) -> set[str]:
    """Words, and each CJK character as one (Chinese has no spaces between words)."""
    return set(re.findall(r"[a-z0-9]+|[\u3400-\u9fff\uf900-\ufaff]", text.lower()))


def _echoes(reply: str, question: str) -> bool:
    """The reply is (nearly) the question again."""
    a, b = _words(reply), _words(question)
    return bool(a) and len(a & b) / len(a | b) >= 0.8


def _codes(text: str) -> set[str]:
    return {c for c in _CODE.findall(text) if len(c) >= 4}


@dataclass
class Verifier:
    catalog: CatalogIndex
    #: every offer code of the shop: naming one that is not in the facts fails even without digits
    known_codes: set[str] = field(default_factory=set)

    #: a reply sentence must be at least this similar to some fact sentence (0 disables the check)
    support_threshold: float = 0.0
    embedder: Embedder | None = None

    def support_index(self, corpus: str) -> SupportIndex | None:
        if self.embedder is None or self.support_threshold <= 0:
            return None
        return SupportIndex(self.embedder, corpus)

    def similarity(self, question: str, sentences: Sequence[str]) -> list[float]:
        """Cosine similarity of the question to each sentence (zeros without an embedder)."""
        if self.embedder is None or not sentences:
            return [0.0] * len(sentences)
        import numpy as np

        matrix = np.asarray(self.embedder.embed_cached(list(sentences)), dtype=np.float32)
        vector = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        return [float(x) for x in matrix @ vector]

    def requirements(self, reply: str, intent: str, orders: list[tuple[str, str, str | None]],
                     product_ids: list[str], codes: list[str], categories: tuple[str, ...] = (),
                     first: Sequence[Sequence[str]] = ()) -> list[str]:
        """What a reply to this intent must contain to be an answer at all.

        ``orders`` are (id, status, tracking number) of the orders in the facts; ``first`` what the reply's
        first sentence must contain, the answer (groups of spellings: one of each group).
        """
        lowered = reply.lower()
        if intent in ("order_status", "order_action") and len(orders) == 1 and not first:
            _, status, tracking = orders[0]
            if status.lower() not in lowered and not (tracking and tracking in reply):
                return [f"it does not say the order's status ({status})"]
        opening = _FIRST_SENTENCE.split(reply.strip(), maxsplit=1)[0].lower()
        missing = [group[0] for group in first if group and not any(g.lower() in opening for g in group)]
        if missing:
            return [f"its first sentence does not answer ({', '.join(missing)})"]
        if intent in ("product", "recommendation") and product_ids and \
                not set(self.catalog.names_in(reply)) & set(product_ids):
            return ["it names none of the products found"]
        if intent == "offers" and codes and not any(c in reply for c in codes):
            return ["it names no offer code chosen for the shopper"]
        if intent == "policy" and categories:
            words = {w.rstrip("s") for c in categories for w in c.split("-")}
            if not words & {w.rstrip("s") for w in _words(reply)}:
                return [f"it does not talk about {', '.join(categories)}, which the question is about"]
        return []

    def check(self, reply: str, corpus: str, question: str = "", allowed_products: Iterable[str] = (),
              support: SupportIndex | None = None, evidence: str | None = None,
              offer_codes: Iterable[str] | None = None, opening: bool = True, trusted: str | None = None) -> Verdict:
        """``evidence``: the sentences that answer the question, one a line; amounts (money, %, durations) and
        ranges in the reply must be in it, not merely somewhere in the facts, and each sentence of the reply
        must be stated by one of them (its words, numbers, negation and "only": see
        :func:`assistant.turn.policy_answers.unsupported`); when ``opening`` (``reply`` begins the reply), its first
        sentence must be stated by one of the first :data:`ANSWERING` lines, the ones that answer best.

        ``offer_codes``: the codes of the offers chosen for this shopper in this turn. When given, they are
        the only offer codes (``known_codes``) the reply may name, even if the question or a retrieved
        policy mentions another one, and any other code-like token (letters only too) blocks the reply unless it
        is an identifier in ``trusted`` (the facts from the shop's records, not retrieved text: order ids, SKUs;
        the whole ``corpus`` when not given): see :mod:`assistant.turn.code_guard`."""
        problems: list[str] = []
        if evidence is not None:
            in_evidence = {v for v, _, _ in _numbers(f"{evidence}\n{question}")}
            for value, unit, written in _numbers(reply):
                if unit and value not in in_evidence:
                    problems.append(f"{written!r} is not in the policy text that answers the question")
            # every claim stated by one sentence that answers the question: similarity alone passes nothing;
            # the reply's opening claim by one of the best two (it answers first)
            lines = [line for line in evidence.split("\n") if line.strip()]
            problems.extend(claim_problems(reply, lines, ANSWERING if opening else None))
        for low, high in _RANGE.findall(reply):
            if not re.search(rf"\b{low}\s*(?:-|–|to)\s*{high}\b", f"{corpus}\n{question}"):
                problems.append(f"the range {low}-{high} is not in the facts")
        if _LEAK.search(reply):
            problems.append("it repeats its instructions or the facts list instead of answering")
        if prompt_leak(reply):
            problems.append("it repeats its system prompt")
        if question and _echoes(reply, question):
            problems.append("it repeats the question instead of answering")
        if support is not None and self.support_threshold > 0 and reply.strip():
            score = support.support(reply)
            if score < self.support_threshold:
                problems.append(f"not supported by the facts (similarity {score:.2f} < {self.support_threshold})")
        allowed_text = f"{corpus}\n{question}"
        allowed_numbers = {v for v, _, _ in _numbers(allowed_text)}
        # dates in ISO form contribute their parts as numbers too ("2026-11-10" -> 2026, 11, 10)
        for y, mo, d in _ISO_DATE.findall(allowed_text):
            allowed_numbers.update({float(y), float(mo), float(d)})
        reply_numbers = _numbers(reply)
        for value, unit, written in reply_numbers:
            if value in allowed_numbers:
                continue
            if not unit and value in SMALL_COUNTS:
                continue
            problems.append(f"number {written!r} is not in the facts")
        allowed_dates = _dates(allowed_text) | {(int(mo), int(d)) for _, mo, d in _ISO_DATE.findall(allowed_text)}
        for month, day in _dates(reply) - allowed_dates:
            name = _MONTHS[month - 1].capitalize() if 1 <= month <= 12 else f"month {month}"
            problems.append(f"date {name} {day} is not in the facts")  # an impossible date (day 35) too
        named_known = {c for c in self.known_codes if re.search(rf"\b{re.escape(c)}\b", reply)}
        if offer_codes is None:
            suspicious = _codes(reply) | named_known
            unknown = sorted(suspicious - _codes(allowed_text))
        else:  # codes only from the offers table (and the shop's own identifiers in the facts)
            own = corpus if trusted is None else trusted
            suspicious = code_like(reply) | named_known
            unknown = sorted(set(unknown_codes(reply, {*offer_codes, *(code_like(own) - self.known_codes)},
                                               words_of(f"{corpus}\n{own}"), self.known_codes, corpus))
                             | (named_known - set(offer_codes)))
        for code in unknown:
            problems.append(f"code {code!r} is not in the facts")
        allowed = set(allowed_products)
        for product_id in self.catalog.names_in(reply):
            if product_id not in allowed:
                problems.append(f"product {self.catalog.products[product_id]['name']!r} is not in the facts")
        for email in set(_EMAIL.findall(reply)) - set(_EMAIL.findall(allowed_text)):
            problems.append(f"e-mail {email!r} is not in the facts")
        checked = {"numbers": len(reply_numbers), "codes": len(suspicious)}
        return Verdict(not problems, tuple(problems), checked)
