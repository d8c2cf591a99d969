"""Personalized marketing copy: written by the model from facts only, verified like chat replies, and queued
for a reviewer.

Facts of one piece of copy: the shopper's first name, tier and preferences (or, for a segment, its tier),
recommended in-stock products with their prices (the chat's recommender), and the one eligible offer the
bandit picks. The model writes ``candidates`` texts with the given sampling settings; each is checked by
the chat's verifier (every price, number, code and product name must be in the facts; offer codes only
the chosen offer's) and against the kind's length. The best passing candidate is queued as ``pending``;
when none passes, a text built from the facts alone is queued instead, and the verdict records every
candidate and why it was dropped. Shoppers without marketing consent get no copy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.domain import ProductCard
from assistant.errors import ConciergeError, NotFoundError, ValidationError
from assistant.personalization.offer_bandit import segment_of
from assistant.personalization.offer_rules import OfferContext, describe, eligible_offers
from assistant.records import CustomerProfile, money
from assistant.store.copy_queue import COPY_KINDS, CopyDraft
from assistant.turn.prompts import COPY_SYSTEM, COPY_TASKS, COPY_USER
from assistant.turn.understanding import Understanding

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.components import Components
    from assistant.store.copy_queue import CopyStore
    from assistant.turn.state import TurnDeps
    from assistant.turn.verifier import SupportIndex, Verifier

#: longest text accepted per kind (characters)
MAX_CHARS = {"email": 700, "push": 160, "banner": 100}


class MarketingOptOut(ValidationError):
    """The shopper did not agree to marketing: no copy is written for them."""


@dataclass(frozen=True)
class Sampling:
    temperature: float
    top_p: float
    top_k: int
    max_new_tokens: int
    seed: int | None = None

    def for_candidate(self, index: int) -> dict[str, Any]:
        """Keyword arguments of one model call; each candidate gets its own seed."""
        out: dict[str, Any] = {"temperature": self.temperature, "top_p": self.top_p, "top_k": self.top_k,
                               "max_new_tokens": self.max_new_tokens}
        if self.seed is not None:
            out["seed"] = self.seed + index
        return out


@dataclass(frozen=True)
class CopyFacts:
    """Everything one piece of copy may say."""

    tier: str
    segment: str
    products: tuple[ProductCard, ...]
    offers: tuple[dict[str, Any], ...] = ()
    customer_id: str | None = None
    first_name: str | None = None
    preferences: tuple[str, ...] = ()

    @property
    def audience(self) -> str:
        return f"customer {self.customer_id}" if self.customer_id else f"segment {self.tier}"

    def lines(self) -> list[str]:
        who = f"Customer: {self.first_name}, {self.tier} member." if self.first_name else \
            f"Audience: {self.tier} members."
        out = [who]
        if self.preferences:
            out.append("Likes: " + ", ".join(self.preferences) + ".")
        for card in self.products:
            out.append(f"Product: {card.name}, {money(card.price, card.currency)}, in stock"
                       + (f" ({card.reason})." if card.reason else "."))
        out.extend("Offer: " + describe(o) for o in self.offers)
        return out

    def corpus(self) -> str:
        return "\n".join(self.lines())

    def to_json(self) -> dict[str, Any]:
        return {"audience": self.audience, "customer_id": self.customer_id, "segment": self.segment,
                "tier": self.tier, "lines": self.lines(),
                "products": [{"id": c.id, "name": c.name, "price": c.price} for c in self.products],
                "offers": [{"id": o["id"], "code": o["code"]} for o in self.offers]}


@dataclass
class Candidate:
    text: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    score: int = 0
    source: str = "model"


def template(facts: CopyFacts, kind: str) -> str:
    """Copy built from the facts alone (no model): used when no candidate passes verification."""
    names = [f"{c.name} ({money(c.price, c.currency)})" for c in facts.products]
    offer = facts.offers[0] if facts.offers else None
    greeting = f"{facts.first_name}, " if facts.first_name else ""
    if kind == "banner":
        text = f"{offer['title']}: code {offer['code']}" if offer else f"{names[0]} in stock now"
    elif kind == "push":
        text = f"{greeting}{names[0]} is in stock for you." + (f" Use code {offer['code']}." if offer else "")
    else:
        lead = f"Hi {facts.first_name}, as a {facts.tier} member" if facts.first_name else \
            f"As a {facts.tier} member"
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        text = f"{lead} you might like the {listed}." + (f" {describe(offer)}" if offer else "")
    return text if len(text) <= MAX_CHARS[kind] else text[: MAX_CHARS[kind] - 1].rsplit(" ", 1)[0] + "…"


def _mask_names(text: str, products: Iterable[ProductCard]) -> str:
    """The text with the full names of the facts' products taken out, so that words inside one name
    ("... 4 Trail Running Shoe") are not read as naming another product ("... Trail Running Tight")."""
    for card in products:
        text = re.sub(re.escape(card.name), "the product", text, flags=re.I)
    return text


_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def _clean(text: str) -> str:
    """The model's text without quotes, a "Subject:"-style label, or an unfinished last sentence."""
    text = text.strip().strip('"').strip()
    text = re.sub(r"^(subject|headline|banner|push|email)\s*:\s*", "", text, flags=re.I).strip()
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[: ends[-1]].strip() if ends and ends[-1] < len(text.rstrip()) else text


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if len(s.split()) >= 4]


class CopyWriter:
    """Writes, verifies and queues copy. ``deps`` is the chat's ``TurnDeps`` (tools, catalogue, customers,
    recommender, verifier, model); ``store`` the ``CopyStore``."""

    def __init__(self, deps: TurnDeps, store: CopyStore, llm: BaseChatModel | None = None) -> None:
        self.deps = deps
        self.store = store
        self.llm = llm if llm is not None else deps.llm
        self.settings = deps.settings

    # facts --------------------------------------------------------------------------------------
    def _require_catalogue(self) -> None:
        if not self.deps.catalog.products:
            raise ValidationError("the catalogue is empty", user_message="The catalogue is empty: import products "
                                  "first (concierge ingest, or concierge import catalog FILE).")

    def _products(self, profile: CustomerProfile | None, personalized: bool) -> tuple[ProductCard, ...]:
        tools = self.deps.shop_tools.for_shopper(profile.id if profile else None)
        k = self.settings.marketing.copy_products
        recs = tools.recommend(self.deps.recommender, "something I would like", Understanding("recommendation"),
                               profile, personalized, k)
        cards = [self.deps.catalog.card(r.product_id, r.reason if personalized else None) for r in recs]
        in_stock = tuple(c for c in cards if c is not None and c.in_stock)
        if not in_stock:
            raise ValidationError(f"no in-stock product to recommend to {profile.id if profile else 'the segment'}",
                                  user_message="No in-stock product could be recommended, so no copy was written.")
        return in_stock

    def facts_for_customer(self, customer_id: str) -> CopyFacts:
        self._require_catalogue()
        profile = self.deps.customers.get(customer_id)
        if profile is None:
            raise NotFoundError(f"no customer {customer_id!r}", user_message=f"There is no customer {customer_id!r}.")
        if not profile.consent.marketing:
            raise MarketingOptOut(f"customer {customer_id} has no marketing consent",
                                  user_message=f"Customer {customer_id} has not agreed to marketing messages, so "
                                               "no marketing copy is written for them.")
        personalized = profile.consent.personalization
        products = self._products(profile, personalized)
        # offers on what is recommended (or on anything), as in a recommendation turn of the chat
        categories = tuple(dict.fromkeys(c.category for c in products))
        offers = self.deps.shop_tools.for_shopper(profile.id).eligible_offers(profile, personalized, categories)
        segment = segment_of(profile, personalized)
        prefs = tuple(f"{p.kind} {p.value}" for p in profile.preferences[:5]) if personalized else ()
        return CopyFacts(profile.tier, segment, products, self._choose(segment, offers), profile.id,
                         profile.name.split()[0], prefs)

    def facts_for_segment(self, tier: str) -> CopyFacts:
        self._require_catalogue()
        tiers = self.tiers()
        if tier not in tiers:
            raise NotFoundError(f"no customers in tier {tier!r}",
                                user_message=f"No customer is in tier {tier!r}; tiers: {', '.join(sorted(tiers))}.")
        # a segment's offers: its tier's, on what is recommended; not first-order ones (members have ordered)
        products = self._products(None, False)
        ctx = OfferContext(tier=tier, now=self.deps.shop_tools.now(), past_orders=1, marketing=True,
                           categories=tuple(dict.fromkeys(c.category for c in products)))
        segment = f"{tier}/any"
        return CopyFacts(tier, segment, products, self._choose(segment, eligible_offers(self.deps.shop_tools.offers(),
                                                                                         ctx)))

    def _choose(self, segment: str, offers: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
        chooser = self.deps.shop_tools.chooser
        if not offers:
            return ()
        picked = chooser.choose(segment, offers) if chooser is not None else [dict(offers[0])]
        return tuple({k: v for k, v in o.items() if k != "bandit"} for o in picked)

    def tiers(self) -> dict[str, list[str]]:
        """Tier -> customer ids."""
        out: dict[str, list[str]] = {}
        for customer_id in self.deps.customers.list_ids():
            profile = self.deps.customers.get(customer_id)
            if profile is not None:
                out.setdefault(profile.tier, []).append(customer_id)
        return out

    # writing ------------------------------------------------------------------------------------
    def check(self, text: str, facts: CopyFacts, kind: str, support: SupportIndex | None = None) -> Candidate:
        """Verify one text against the facts, like a chat reply (``support``: the verifier's index of the
        facts, so that every sentence must be similar enough to one of them); score what it uses of them."""
        problems: list[str] = []
        if not text.strip():
            problems.append("empty")
        if len(text) > MAX_CHARS[kind]:
            problems.append(f"longer than {MAX_CHARS[kind]} characters for a {kind}")
        codes = [str(o["code"]) for o in facts.offers]
        verdict = self.deps.verifier.check(_mask_names(text, facts.products), facts.corpus(), "",
                                           [c.id for c in facts.products], offer_codes=codes)
        problems.extend(verdict.problems)
        threshold = self.deps.verifier.support_threshold
        if support is not None:
            for sentence in _sentences(text):
                score = support.support(sentence)
                if score < threshold:
                    problems.append(f"not supported by the facts (similarity {score:.2f} < {threshold}): "
                                    f"{sentence[:60]!r}")
        named = set(self.deps.catalog.names_in(text)) & {c.id for c in facts.products}
        uses_code = any(c in text for c in codes)
        if not named and not uses_code and text.strip():
            problems.append("it names no product or offer from the facts")
        return Candidate(text, not problems, problems, len(named) + 2 * uses_code)

    def write(self, facts: CopyFacts, kind: str, candidates: int, sampling: Sampling) -> CopyDraft:
        """Generate ``candidates`` texts, keep the best verified one (or the template), queue it as pending."""
        if kind not in COPY_KINDS:
            raise ValidationError(f"unknown copy kind {kind!r}", user_message=f"Choose one of {', '.join(COPY_KINDS)}.")
        from langchain_core.messages import HumanMessage, SystemMessage

        to = f" to {facts.first_name}" if facts.first_name else f" to {facts.tier} members"
        facts_text = "\n".join(f"- {line}" for line in facts.lines())
        messages = [SystemMessage(COPY_SYSTEM.format(shop=self.deps.shop.called)),
                    HumanMessage(COPY_USER.format(facts=facts_text, task=COPY_TASKS[kind].format(to=to)))]
        support = self.deps.verifier.support_index(facts.corpus())
        tried: list[Candidate] = []
        seen: set[str] = set()
        for index in range(candidates if sampling.temperature > 0 else 1):  # greedy: every candidate the same
            try:
                text = _clean(str(self.llm.invoke(messages, **sampling.for_candidate(index)).content))
            except ConciergeError as e:
                tried.append(Candidate("", False, [f"model error: {e}"]))
                continue
            if text in seen:
                continue
            seen.add(text)
            tried.append(self.check(text, facts, kind, support))
        passing = [c for c in tried if c.ok]
        if passing:
            chosen = max(passing, key=lambda c: c.score)  # the first of the best: max keeps the earliest
        else:
            chosen = self.check(template(facts, kind), facts, kind, support)
            chosen.source = "template"
        verdict = {"ok": chosen.ok, "source": chosen.source, "problems": chosen.problems,
                   "candidates": [asdict(c) for c in tried], "sampling": asdict(sampling),
                   "model": getattr(self.llm, "model_name", None) or type(self.llm).__name__}
        return self.store.add(kind=kind, text=chosen.text, facts=facts.to_json(), verdict=verdict,
                              customer_id=facts.customer_id, segment=None if facts.customer_id else facts.segment)

    def for_customer(self, customer_id: str, kind: str, candidates: int, sampling: Sampling) -> CopyDraft:
        return self.write(self.facts_for_customer(customer_id), kind, candidates, sampling)

    def for_segment(self, tier: str, kind: str, candidates: int, sampling: Sampling,
                    each: bool = False) -> list[CopyDraft | MarketingOptOut]:
        """One piece for the segment, or with ``each`` one per customer of the tier (opted-out ones are
        returned as their ``MarketingOptOut``, and skipped)."""
        if not each:
            return [self.write(self.facts_for_segment(tier), kind, candidates, sampling)]
        members = self.tiers().get(tier)
        if not members:
            self.facts_for_segment(tier)  # raises the clear error
        out: list[CopyDraft | MarketingOptOut] = []
        for customer_id in members or []:
            try:
                out.append(self.for_customer(customer_id, kind, candidates, sampling))
            except MarketingOptOut as e:
                out.append(e)
        return out


REVIEW_ACTIONS = {"approve": "approved", "edit": "edited", "reject": "rejected"}


def review_copy(store: CopyStore, verifier: Verifier, draft_id: str, action: str, reviewer: str,
                text: str | None = None, reason: str | None = None) -> CopyDraft:
    """approve | edit | reject a pending draft (``CopyStore.review``). An edited text is verified against the
    draft's facts and its problems are recorded as warnings: the reviewer has the last word."""
    status = REVIEW_ACTIONS.get(action)
    if status is None:
        raise ValidationError(f"unknown review action {action!r}", user_message="Approve, edit or reject.")
    note: dict[str, Any] = {"reason": reason} if reason else {}
    if status == "edited" and text:
        draft = store.get(draft_id)
        if draft is not None:
            note["warnings"] = edit_warnings(verifier, draft, text)
    reviewed: CopyDraft = store.review(draft_id, status, reviewer, text, note or None)
    return reviewed


def edit_warnings(verifier: Verifier, draft: CopyDraft, text: str) -> list[str]:
    corpus = "\n".join(draft.facts.get("lines", []))
    allowed = [p["id"] for p in draft.facts.get("products", [])]
    codes = [o["code"] for o in draft.facts.get("offers", [])]
    problems = list(verifier.check(text, corpus, "", allowed, offer_codes=codes).problems)
    if len(text) > MAX_CHARS.get(draft.kind, 10_000):
        problems.append(f"longer than {MAX_CHARS[draft.kind]} characters for a {draft.kind}")
    return problems


def review_verifier(components: Components) -> Verifier:
    """The chat's verifier without loading the chat model: the catalogue and every offer code."""
    from assistant.turn.verifier import Verifier

    codes = {str(o["code"]) for o in components.stores.offers.all(include_inactive=True)}
    return Verifier(components.catalog.get(), codes)
