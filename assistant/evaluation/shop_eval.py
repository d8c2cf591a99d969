"""``concierge eval --shop FOLDER``: generated questions on any shop, scored correct / wrong / declined.

The questions come from the folder's own data (:mod:`~assistant.evaluation.shop_questions`,
:mod:`~assistant.evaluation.order_questions`) plus a hand-written policy file; the replies come from the
real turn service (through :meth:`AssistantService.respond`, as a shopper would see them, folded with
:func:`assistant.domain.fold`); :mod:`~assistant.evaluation.answer_scoring` scores them.

Besides the three verdicts, each category reports how its replies were made: by the model and passed by the
verifier (``pass``), or built from the facts without the model (every other verdict), how many of the
model's passed replies were still wrong, and how many replies were written in the question's language.

Questions are asked in a language: generated ones in ``language`` (by default the shop's, from ``shop.json``'s
locale: a Chinese shop is asked in Chinese), hand-written ones in their own (a ``language`` field, else Chinese
for a question with Chinese characters). A hand-written question may carry ``before`` (messages sent first in the
same conversation, e.g. the action it confirms; such questions run last, as they change orders),
``expect_event`` (``handover``) and ``expect_intent`` (``confirm``).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from assistant.domain import Event, ShopperIdentity, fold
from assistant.evaluation.answer_scoring import Outcome, reply_language, score
from assistant.evaluation.order_questions import (
    order_questions,
    other_shopper_questions,
    unanswerable_questions,
)
from assistant.evaluation.question_wording import HAN, WORDINGS, wording
from assistant.evaluation.shop_questions import (
    ShopData,
    ShopQuestion,
    attribute_questions,
    option_count_questions,
    ranking_questions,
    read_shop,
    variant_questions,
)

if TYPE_CHECKING:
    from assistant.settings import Settings

CATEGORIES = ("policy", "variant_price", "stock_in", "stock_out", "option_count", "cheapest", "dearest", "compare",
              "attribute", "order_status", "order_tracking", "order_total", "order_items", "order_latest",
              "other_order", "unanswerable", "handover", "confirm")


class Responder(Protocol):
    def respond(self, identity: ShopperIdentity | None, session_id: str | None, message: str, *,
                channel: str = ...) -> Iterable[Event]: ...


def _strings(row: dict[str, Any], key: str) -> tuple[str, ...]:
    value = row.get(key, ())
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def load_policy_questions(path: Path, default_customer: str | None) -> list[ShopQuestion]:
    """Hand-written questions, one JSON object a line: ``{"question": ..., "expect": [...], "expect_one_of": [...],
    "forbid": [...], "source": "document title"}``, category ``policy`` unless given. Every other field of
    :class:`ShopQuestion` may be given too (``category``, ``customer``, ``leak``, ``stock``, ``decline``,
    ``language``, ``before``, ``expect_event``, ``expect_intent``)."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            row = json.loads(line)
            message = str(row["question"])
            category = str(row.get("category") or "policy")
            if category not in CATEGORIES:
                raise ValueError(f"unknown category {category!r}: choose {', '.join(CATEGORIES)}")
            stock = row.get("stock")
            if stock not in (None, "in", "out"):
                raise ValueError(f"stock is 'in' or 'out', not {stock!r}")
            out.append(ShopQuestion(str(row.get("id") or f"policy-{number}"), category, message,
                                    customer=row.get("customer", default_customer),
                                    expect=_strings(row, "expect"), expect_one_of=_strings(row, "expect_one_of"),
                                    forbid=_strings(row, "forbid"), leak=_strings(row, "leak"), stock=stock,
                                    decline=bool(row.get("decline", False)), note=str(row.get("source", "")),
                                    language=str(row.get("language") or ("zh" if HAN.search(message) else "en")),
                                    before=_strings(row, "before"), expect_event=row.get("expect_event"),
                                    expect_intent=row.get("expect_intent")))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{path}:{number}: {e}") from e
    return out


def generate(data: ShopData, *, per_category: int = 8, seed: int = 7, policy: Sequence[ShopQuestion] = (),
             language: str | None = None, generated: bool = True) -> list[ShopQuestion]:
    """Every category's questions for one shop, deterministic for a seed: the hand-written ones (``policy``),
    then (unless ``generated`` is false) those computed from the data, worded in ``language`` (default: the
    shop's). Questions that send messages ``before`` come last: they may change orders the others ask about."""
    questions = list(policy)
    if generated:
        w = wording(language or (data.language if data.language in WORDINGS else "en"))
        rng = random.Random(seed)
        default = next((str(c["id"]) for c in data.customers), None)
        shop_side = [*variant_questions(data, rng, per_category, w),
                     *option_count_questions(data, rng, per_category, w),
                     *ranking_questions(data, rng, per_category, w), *attribute_questions(data, rng, per_category, w)]
        shop_side = [ShopQuestion(**{**q.__dict__, "customer": default}) for q in shop_side]
        questions += [*shop_side, *order_questions(data, rng, per_category, w),
                      *other_shopper_questions(data, rng, per_category, w),
                      *unanswerable_questions(data, rng, 4, w)]
    seen: set[str] = set()
    unique = []
    for q in sorted(questions, key=lambda q: bool(q.before)):  # stable: the order stays otherwise
        if q.id not in seen:
            seen.add(q.id)
            unique.append(q)
    return unique


@dataclass
class ShopResult:
    question: ShopQuestion
    reply: str
    verdict: str  # the turn's verifier verdict: "pass" = the model's own reply
    outcome: Outcome
    seconds: float
    events: list[dict[str, Any]]
    reply_language: str = "en"  # the language the reply is written in (the shop's quoted strings aside)

    @property
    def in_language(self) -> bool:
        """Whether the reply is in the question's language."""
        return self.reply_language == self.question.language

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.question.id, "category": self.question.category, "message": self.question.message,
                "customer": self.question.customer, "language": self.question.language, "reply": self.reply,
                "reply_language": self.reply_language, "turn_verdict": self.verdict,
                "outcome": self.outcome.verdict, "why": self.outcome.why, "leaked": self.outcome.leaked,
                "expected": {"expect": list(self.question.expect), "expect_one_of": list(self.question.expect_one_of),
                             "forbid": list(self.question.forbid), "stock": self.question.stock,
                             "decline": self.question.decline},
                "seconds": round(self.seconds, 3)}


def ask(service: Responder, questions: Sequence[ShopQuestion],
        progress: Callable[[ShopResult], None] | None = None, quoted: Sequence[str] = ()) -> list[ShopResult]:
    """Each question in a fresh conversation, as its shopper (after its ``before`` messages, in the same one).
    ``quoted``: the shop's own strings, left aside when telling the reply's language."""
    results = []
    for question in questions:
        started = time.perf_counter()
        identity = ShopperIdentity(question.customer) if question.customer else None
        session_id: str | None = None
        for message in question.before:
            earlier = fold(list(service.respond(identity, session_id, message, channel="eval")))
            session_id = earlier.done.session_id if earlier.done else session_id
        events = list(service.respond(identity, session_id, question.message, channel="eval"))
        folded = fold(events)
        verdict = folded.done.verdict if folded.done else "error"
        result = ShopResult(question, folded.reply, verdict, score(question, folded.reply,
                                                                   [e.to_dict() for e in events]),
                            time.perf_counter() - started, [e.to_dict() for e in events if e.type != "text"],
                            reply_language(folded.reply, quoted))
        results.append(result)
        if progress:
            progress(result)
    return results


@dataclass(frozen=True)
class CategoryTally:
    category: str
    asked: int
    correct: int
    wrong: int
    declined: int
    leaks: int
    model_passed: int  # replies the model wrote that the verifier passed
    model_wrong: int  # ... of which the eval found wrong
    in_language: int = 0  # replies in the question's language

    @property
    def correct_share(self) -> float:
        return self.correct / self.asked if self.asked else 0.0

    @property
    def wrong_share(self) -> float:
        return self.wrong / self.asked if self.asked else 0.0

    @property
    def in_language_share(self) -> float:
        return self.in_language / self.asked if self.asked else 0.0


def tally(results: Sequence[ShopResult]) -> list[CategoryTally]:
    rows = []
    present = [c for c in CATEGORIES if any(r.question.category == c for r in results)]
    for category in [*present, "overall"]:
        group = [r for r in results if category == "overall" or r.question.category == category]
        model = [r for r in group if r.verdict == "pass"]
        rows.append(CategoryTally(category, len(group), sum(r.outcome.verdict == "correct" for r in group),
                                  sum(r.outcome.verdict == "wrong" for r in group),
                                  sum(r.outcome.verdict == "declined" for r in group),
                                  sum(r.outcome.leaked for r in group), len(model),
                                  sum(r.outcome.verdict == "wrong" for r in model),
                                  sum(r.in_language for r in group)))
    return rows


def language_shares(results: Sequence[ShopResult]) -> dict[str, tuple[int, int]]:
    """Per question language: (replies in that language, questions asked in it)."""
    out: dict[str, tuple[int, int]] = {}
    for r in results:
        hits, asked = out.get(r.question.language, (0, 0))
        out[r.question.language] = (hits + r.in_language, asked + 1)
    return out


def meets(rows: Sequence[CategoryTally], min_correct: float, max_wrong: float, min_in_language: float = 0.0) -> bool:
    overall = next(r for r in rows if r.category == "overall")
    return (overall.correct_share >= min_correct and overall.wrong_share <= max_wrong and overall.leaks == 0
            and overall.in_language_share >= min_in_language)


@dataclass
class ShopEvalRun:
    shop: str
    results: list[ShopResult]
    rows: list[CategoryTally]
    model: str


def isolated_settings(settings: Settings, data_dir: Path) -> Settings:
    """``settings`` on a fresh data folder of its own: embedded SQLite and Chroma there, no demo import, the
    embedder's threads limited as when serving."""
    isolated = settings.model_copy(update={
        "app": settings.app.model_copy(update={"data_dir": data_dir, "load_demo": False}),
        "database": settings.database.model_copy(update={"url": None}),
        "knowledge": settings.knowledge.model_copy(update={"path": None, "mode": "persistent"}),
    })
    from assistant.components import limit_torch_threads

    limit_torch_threads(isolated)
    return isolated


def evaluate_shop(settings: Settings, folder: Path, *, policy_questions: Path | None = None, per_category: int = 8,
                  seed: int = 7, categories: Sequence[str] = (), limit: int | None = None,
                  progress: Callable[[int, int, ShopResult], None] | None = None,
                  log: Callable[[str], None] = lambda _line: None, language: str | None = None,
                  generated: bool = True) -> ShopEvalRun:
    """Import ``folder`` into a fresh, temporary data folder with the configured models, generate its
    questions and ask each one through the real turn service. ``settings`` decide the models; their data
    folder and database are replaced by the temporary ones. ``language``: of the generated questions (default:
    the shop's); ``generated=False`` asks the hand-written questions only."""
    import tempfile

    from assistant.components import build_assistant, build_components
    from assistant.evaluation import DEMO_NOW
    from assistant.shop.shop_import import demo_shop_path, ingest_shop

    data = read_shop(folder)
    default_customer = next((str(c["id"]) for c in data.customers), None)
    policy = load_policy_questions(policy_questions, default_customer) if policy_questions else []
    questions = [q for q in generate(data, per_category=per_category, seed=seed, policy=policy, language=language,
                                     generated=generated)
                 if not categories or q.category in categories][:limit]
    is_demo = folder.resolve() == demo_shop_path().resolve()
    with tempfile.TemporaryDirectory(prefix="concierge-shop-eval-") as tmp:
        isolated = isolated_settings(settings, Path(tmp))
        components = build_components(isolated)
        started = time.perf_counter()
        reports = ingest_shop(folder, components.knowledge, components.stores.customers, components.stores.offers,
                              shop_profiles=components.stores.shop)
        failed = [r.summary() for r in reports if not r.ok]
        log(f"imported {folder.name} in {time.perf_counter() - started:.0f} s: "
            + "; ".join(r.summary() for r in reports))
        if failed:
            log(f"some records did not import (the rest did): {failed}")
        service = build_assistant(components, now=(lambda: DEMO_NOW) if is_demo else None)
        done = [0]

        def step(result: ShopResult) -> None:
            done[0] += 1
            if progress:
                progress(done[0], len(questions), result)

        try:
            results = ask(service, questions, step, quoted=data.own_strings())
        finally:
            components.stores.close()
    return ShopEvalRun(folder.name if not is_demo else "demo", results, tally(results), isolated.llm.mode)
