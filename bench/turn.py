"""Turn latency on the demo shop with the configured backend (default: the bundled model on llama.cpp).

    python bench/turn.py                 # 20 varied questions, after one warm-up turn
    python bench/turn.py --quick         # the first 8 questions, no llama.cpp reference (a quick before/after)
    CONCIERGE_LLM__MODE=transformers python bench/turn.py

Prints, per question, four times seen from the caller of ``AssistantService.respond``:

- model: until the turn calls the chat model (everything before the prompt's prefill);
- TTFT: until the model's first token inside the turn (guard, profile, understanding, retrieval and the
  prompt's prefill come before it); turns answered without the model have none;
- first words: until the first words the shopper sees (the first text or replace event). A sentence is
  shown only once it is complete and verified, so this is TTFT plus the first sentence plus its check;
- turn: the whole turn, recorded.

and whether the streamed text was replaced (a ``replace`` event after a ``text`` one: the shopper saw a draft
swapped for other text), with the share of such turns.

Then p50/p95 of each, the time per step (guard, profile, understand, tools = retrieval, compose, verify,
record) from the turn's stored timings, the ratio of each figure to its issue-8 target, and the backend's
decode tokens/s next to llama-cpp-python's measured in the same run on the same prompts (the reference).

With ``--shop`` (issue 20): the multi-shop eval's questions instead (those ``concierge eval --shop`` generates
from the shop's data plus its hand-written policy questions), a sample per category, each asked as the
question's shopper, on a fresh temporary copy of each shop:

    python bench/turn.py --shop demo --shop /tmp/dj=examples/eval/dummyjson-policy-questions.jsonl --per-category 3

prints per shop p50/p95 of TTFT, first words and turn, separately for replies built from the facts (the model
not asked), replies the model wrote, and turns answered otherwise without it, against issue 20's targets
(TTFT p50 <= 0.4 s, turn p50 <= 0.6 s, p95 <= 1.2 s), next to llama.cpp alone (llama-cpp-python on the same
GGUF, threads and context window) on the exact prompt each model-written turn sent, run right after that turn
(the same load on a shared machine): the floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import QUESTIONS, machine, pct  # noqa: E402
from turn_report import FloorRun, TurnRow, parse_shop, report, sample_per_category, turn_kind  # noqa: E402

from assistant.components import (  # noqa: E402
    build_assistant,  # noqa: E402
    build_components,
    limit_torch_threads,
)
from assistant.config.loading import load_settings  # noqa: E402
from assistant.domain import ShopperIdentity, fold  # noqa: E402
from assistant.evaluation import DEMO_NOW  # noqa: E402
from assistant.shop.shop_import import demo_shop_path  # noqa: E402
from assistant.turn.compose import warm_model  # noqa: E402
from assistant.turn.prompts import SYSTEM, USER  # noqa: E402

STEPS = ("guard", "load_profile", "understand", "tools", "compose", "verify", "record")
TARGETS = {"ttft": 0.8, "turn": 3.0, "decode_ratio": 0.8}


class TimedLLM:
    """The turn's chat model, noting when each stream is called and when its first token arrives."""

    def __init__(self, llm: Any) -> None:
        self._llm = llm
        self.called_at: float | None = None
        self.first_at: float | None = None
        #: the messages of each call since the last reset, as the local backends send them
        self.prompts: list[list[dict[str, str]]] = []

    def reset(self) -> None:
        self.called_at = self.first_at = None
        self.prompts = []

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        from assistant.llm.base import to_chat_dicts

        self.called_at = time.perf_counter()
        self.prompts.append(to_chat_dicts(args[0] if args else kwargs["input"]))
        stream = self._llm.stream(*args, **kwargs)
        try:
            for chunk in stream:
                if self.first_at is None and isinstance(chunk.content, str) and chunk.content.strip():
                    self.first_at = time.perf_counter()
                yield chunk
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._llm, name)


def reference_decode(prompts: list[list[dict[str, str]]], max_tokens: int, threads: int | None) -> float:
    """llama-cpp-python directly on the bundled GGUF: median decode tokens/s over the same prompts."""
    from llama_cpp import Llama

    from assistant.llm.backends import bundled_gguf_path

    llama = Llama(model_path=str(bundled_gguf_path()), n_ctx=2048, n_threads=threads or os.cpu_count(),
                  verbose=False, seed=7)
    rates = []
    for messages in prompts:
        first, count = None, 0
        for chunk in llama.create_chat_completion(messages=messages, stream=True, max_tokens=max_tokens,  # type: ignore[arg-type]
                                                  temperature=0.2, top_p=0.9, top_k=40, seed=7):
            if chunk["choices"][0]["delta"].get("content"):  # type: ignore[union-attr,index]
                count += 1
                if first is None:
                    first = time.perf_counter()
        if first is not None and count > 1:
            rates.append((count - 1) / (time.perf_counter() - first))
    return statistics.median(rates) if rates else float("nan")


class Floor:
    """llama.cpp alone, the floor: llama-cpp-python streaming each prompt up to the app's max tokens with its
    sampling, on the app's own ``Llama`` instance (the warmest of its pool) when it runs llama.cpp (the same
    weights, threads and context window; other backends get a ``Llama`` of their own), and on a thread of its own
    as the app's generations run (:func:`assistant.llm.llamacpp.on_own_thread`). Run from this script's main
    thread, llama.cpp's OpenMP team stayed with that thread and every later generation of the app decoded at a
    third of its speed (8-10 -> 17-25 ms a token): the turn looked 0.3 s slower than the floor. Before each prompt
    the instance's cache is brought back to the system prompt alone (as after a turn: the system prompt is reused,
    the question's facts are evaluated). :meth:`run` is called right after the turn that sent the prompt, so both
    see the same load on a shared machine."""

    def __init__(self, llm: Any) -> None:
        self.settings, self.seed = llm, llm.seed if llm.seed is not None else 7
        self.pool: Any = None
        self.own: Any = None

    def attach(self, app_llm: Any) -> None:
        """The app's chat model of the shop about to be timed: its pool when it is llama.cpp, else our own."""
        self.pool = getattr(app_llm, "pool", None)
        if self.pool is None and self.own is None:
            from llama_cpp import Llama

            from assistant.llm.backends import model_file

            llm = self.settings
            threads = llm.threads or os.cpu_count() or 1
            self.own = Llama(model_path=str(model_file(llm)), n_ctx=llm.context_window, n_threads=threads,
                             n_threads_batch=threads, verbose=False, seed=self.seed)

    def _on(self, messages: list[dict[str, str]], llama: Any) -> FloorRun:
        system = [m for m in messages if m["role"] == "system"]
        self._stream([*system, {"role": "user", "content": "Hello"}], llama, 1)  # the cache: the system prompt
        return self._stream(messages, llama)

    def _stream(self, messages: list[dict[str, str]], llama: Any, max_tokens: int | None = None) -> FloorRun:
        llm = self.settings
        started = time.perf_counter()
        first, tokens = None, 0
        from assistant.llm.llamacpp import on_own_thread

        for chunk in on_own_thread(lambda: llama.create_chat_completion(
                messages=messages, stream=True, max_tokens=max_tokens or llm.max_new_tokens,
                temperature=llm.temperature, top_p=llm.top_p, top_k=llm.top_k, seed=self.seed)):
            content = chunk["choices"][0]["delta"].get("content")
            if content:
                tokens += 1
                if first is None and str(content).strip():
                    first = time.perf_counter() - started
        return FloorRun(first, time.perf_counter() - started, tokens)

    def run(self, messages: list[dict[str, str]]) -> FloorRun:
        if self.pool is None:
            return self._on(messages, self.own)
        with self.pool.hold() as llama:
            return self._on(messages, llama)

    def close(self) -> None:
        if self.own is not None:
            self.own.close()


def shop_questions(shop: str, policy: Path | None, per_category: int, seed: int) -> tuple[Path, list[Any]]:
    """The shop folder and a sample of ``per_category`` of each category of the questions ``concierge eval --shop``
    asks it: generated from its data, plus its policy questions file (default FOLDER/eval/policy-questions.jsonl)."""
    from assistant.evaluation.shop_eval import generate, load_policy_questions
    from assistant.evaluation.shop_questions import read_shop

    folder = demo_shop_path() if shop == "demo" else Path(shop)
    if not folder.is_dir():
        raise SystemExit(f"--shop {shop}: no such shop folder (a folder with products.*, policies/, customers.*)")
    if policy is None and (folder / "eval" / "policy-questions.jsonl").is_file():
        policy = folder / "eval" / "policy-questions.jsonl"
    if policy is not None and not policy.is_file():
        raise SystemExit(f"--shop {shop}={policy}: no such policy questions file")
    data = read_shop(folder)
    default = next((str(c["id"]) for c in data.customers), None)
    questions = generate(data, per_category=per_category, seed=seed,
                         policy=load_policy_questions(policy, default) if policy else [])
    return folder, sample_per_category(questions, per_category, seed)


def time_turn(service: Any, llm: TimedLLM, identity: ShopperIdentity | None, session: str | None,
              message: str) -> tuple[float, float | None, float, dict[str, Any], bool]:
    """One timed turn: when it started, first words (first text/replace event), the whole turn, the done event,
    whether shown text was replaced."""
    llm.reset()
    started = time.perf_counter()
    first = None
    done: dict[str, Any] = {}
    shown = replaced = False
    for event in service.respond(identity, session, message, channel="bench"):
        if first is None and event.type in ("text", "replace"):
            first = time.perf_counter() - started
        replaced = replaced or (shown and event.type == "replace")
        shown = shown or event.type == "text"
        if event.type == "done":
            done = event.to_dict()
    return started, first, time.perf_counter() - started, done, replaced


def run_shop(settings: Any, shop: str, policy: Path | None, args: argparse.Namespace, floor: Floor | None,
             runs: list[FloorRun]) -> list[TurnRow]:
    """The shop imported into a fresh temporary data folder (as ``concierge eval --shop`` does), one untimed
    warm-up turn, then each sampled question timed as its shopper (after its ``before`` messages, untimed, in
    the same conversation); after each model-written turn, ``floor`` on the prompt it sent (into ``runs``)."""
    from assistant.evaluation.shop_eval import isolated_settings
    from assistant.turn.built_answers import BUILT

    folder, questions = shop_questions(shop, policy, args.per_category, args.seed)
    name = "demo" if shop == "demo" else folder.name
    rows: list[TurnRow] = []
    with tempfile.TemporaryDirectory(prefix="concierge-bench-turn-") as tmp:
        isolated = isolated_settings(settings, Path(tmp))
        components = build_components(isolated)
        started = time.perf_counter()
        reports = components.ingest_shop(folder)
        print(f"\n{name}: imported in {time.perf_counter() - started:.0f} s ({len(questions)} questions): "
              + "; ".join(r.summary() for r in reports))
        llm = TimedLLM(components.llm)
        service = build_assistant(components, llm=cast(Any, llm), now=(lambda: DEMO_NOW) if shop == "demo" else None)
        if floor is not None:
            floor.attach(components.llm)
        warm_model(components.llm, service.deps.shop.called)  # as `concierge serve` does at start
        warm = next(q for q in questions if not q.before)
        time_turn(service, llm, ShopperIdentity(warm.customer) if warm.customer else None, None, warm.message)
        print(f"{'category':<14} {'kind':<6} {'verdict':<9} {'ttft':>6} {'first':>6} {'turn':>6}  question")
        try:
            for q in questions:
                identity = ShopperIdentity(q.customer) if q.customer else None
                session: str | None = None
                for message in q.before:
                    earlier = fold(list(service.respond(identity, session, message, channel="bench"))).done
                    session = earlier.session_id if earlier else session
                began, first, total, done, replaced = time_turn(service, llm, identity, session, q.message)
                turn = components.stores.turns.get_turn(done["turn_id"]) if done.get("turn_id") else None
                trace = turn.trace if turn else {}
                kind = turn_kind(list(trace.get("problems") or []), llm.called_at is not None, BUILT)
                ttft = llm.first_at - began if llm.first_at is not None else None
                if llm.prompts and floor is not None:
                    runs.append(floor.run(llm.prompts[-1]))
                tokens = (trace.get("llm") or {}).get("completion_tokens")
                rows.append(TurnRow(name, q.category, kind, first if first is not None else total, total, ttft,
                                    int(tokens) if tokens is not None else None,
                                    len(runs) - 1 if llm.prompts and floor is not None else None, q.message,
                                    llm.called_at - began if llm.called_at is not None else None,
                                    {k: float(v) for k, v in (trace.get("timings_ms") or {}).items()}))
                shown = f"{ttft:6.2f}" if ttft is not None else f"{'-':>6}"
                alone = f"  [alone {runs[-1].ttft or 0:.2f} / {runs[-1].total:.2f} s, {runs[-1].tokens} tok]" \
                    if rows[-1].prompt is not None else ""
                print(f"{q.category:<14} {kind:<6} {done.get('verdict', '?'):<9} {shown} {rows[-1].first:6.2f} "
                      f"{total:6.2f}  {q.message[:50]}{'  REPLACED' if replaced else ''}{alone}")
        finally:
            components.stores.close()
    return rows


def run_shops(args: argparse.Namespace) -> None:
    settings = load_settings()
    print(f"machine: {machine()}")
    print(f"backend: {settings.llm.mode}; threads {settings.llm.threads or os.cpu_count()}, context window "
          f"{settings.llm.context_window}, max new tokens {settings.llm.max_new_tokens}; "
          f"{args.per_category} questions per category (seed {args.seed})")
    rows: list[TurnRow] = []
    floor: list[FloorRun] = []
    alone = Floor(settings.llm) if not args.no_floor and settings.llm.mode in ("llamacpp", "transformers") else None
    try:
        for value in args.shop:
            try:
                shop, policy = parse_shop(value)
            except ValueError as e:
                raise SystemExit(str(e)) from e
            rows += run_shop(settings, shop, policy, args, alone, floor)
    finally:
        if alone is not None:
            alone.close()
    print()
    print("\n".join(report(rows, floor)))
    if args.json:
        import json

        args.json.write_text(json.dumps({"rows": [r.__dict__ for r in rows], "floor": [f.__dict__ for f in floor],
                                         "machine": machine()}, indent=1))
        print(f"rows: {args.json}")


def ratio_line(name: str, value: float, target: float, lower_is_better: bool = True) -> str:
    met = value <= target if lower_is_better else value >= target
    sign = "<=" if lower_is_better else ">="
    return (f"{name}: {value:.2f} vs target {sign} {target:g}  "
            f"({value / target:.2f}x of target, {'met' if met else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="first 8 questions, no llama.cpp reference")
    parser.add_argument("--n", type=int, help="ask only the first N questions")
    parser.add_argument("--repeat", type=int, default=1, help="ask the questions this many times")
    parser.add_argument("--shop", action="append", metavar="demo|FOLDER[=POLICY.jsonl]",
                        help="the multi-shop eval's questions on this shop (repeat for several) instead of the 20")
    parser.add_argument("--per-category", type=int, default=3, help="with --shop: questions per category")
    parser.add_argument("--seed", type=int, default=7, help="with --shop: which questions are drawn")
    parser.add_argument("--no-floor", action="store_true", help="with --shop: no llama.cpp-alone floor")
    parser.add_argument("--json", type=Path, help="with --shop: write the timed rows and the floor here")
    args = parser.parse_args()
    if args.shop:
        run_shops(args)
        return
    questions = QUESTIONS[: args.n or (8 if args.quick else len(QUESTIONS))] * args.repeat

    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="concierge-bench-") as tmp:
        settings = load_settings(overrides={"app": {"data_dir": tmp, "load_demo": False}})
        limit_torch_threads(settings)  # as `concierge serve` does
        components = build_components(settings)
        components.ingest_shop(demo_shop_path())
        llm = TimedLLM(components.llm)
        service = build_assistant(components, llm=cast(Any, llm), now=lambda: DEMO_NOW)
        list(service.respond(ShopperIdentity("C001"), None, "How much is standard shipping?"))  # warm-up
        rows: list[dict[str, Any]] = []
        print(f"backend: {settings.llm.mode}  ({len(questions)} questions)")
        print(f"{'question':<52} {'intent':<14} {'verdict':<9} {'model':>6} {'ttft':>6} {'first':>6} {'turn':>6}")
        for customer, question in questions:
            started, first, total, done, replaced = time_turn(service, llm, ShopperIdentity(customer), None, question)
            ttft = llm.first_at - started if llm.first_at is not None else None
            called = llm.called_at - started if llm.called_at is not None else None
            turn = components.stores.turns.get_turn(done["turn_id"])
            rows.append({"called": called, "ttft": ttft, "first": first or total, "total": total,
                         "trace": turn.trace if turn else {}, "question": question, "replaced": replaced})
            times = " ".join(f"{v:6.2f}" if v is not None else f"{'-':>6}" for v in (called, ttft))
            print(f"{question[:51]:<52} {done['intent']:<14} {done['verdict']:<9} {times} {first or total:6.2f} "
                  f"{total:6.2f}{'  REPLACED' if replaced else ''}")
        ttfts = [r["ttft"] for r in rows if r["ttft"] is not None]
        calls = [r["called"] for r in rows if r["called"] is not None]
        firsts = [r["first"] for r in rows]
        totals = [r["total"] for r in rows]
        print(f"\nTTFT (model's first token in the turn, {len(ttfts)} turns with the model): "
              f"p50 {pct(ttfts, 50):.2f} s  p95 {pct(ttfts, 95):.2f} s")
        print(f"model called (retrieval, prompt, support index done): p50 {pct(calls, 50):.2f} s  "
              f"p95 {pct(calls, 95):.2f} s")
        print(f"first words (first verified sentence shown): p50 {pct(firsts, 50):.2f} s  p95 {pct(firsts, 95):.2f} s")
        print(f"full turn: p50 {pct(totals, 50):.2f} s  p95 {pct(totals, 95):.2f} s")
        swapped = sum(r["replaced"] for r in rows)
        print(f"streamed text replaced afterwards: {swapped} of {len(rows)} turns ({swapped / len(rows):.0%})")
        print("time per step, ms p50 / p95:")
        for step in STEPS:
            values = [float(r["trace"].get("timings_ms", {}).get(step, 0.0)) for r in rows]
            print(f"  {step:<13} {pct(values, 50):7.0f} / {pct(values, 95):7.0f}")
        print(ratio_line("TTFT p50 (s)", pct(ttfts, 50), TARGETS["ttft"]))
        print(ratio_line("first words p50 (s)", pct(firsts, 50), TARGETS["ttft"]) + "   [same target, stricter]")
        print(ratio_line("full turn p50 (s)", pct(totals, 50), TARGETS["turn"]))
        rates = [float(r["trace"]["llm"]["decode_tokens_per_s"]) for r in rows
                 if (r["trace"].get("llm") or {}).get("decode_tokens_per_s")]
        backend = statistics.median(rates) if rates else float("nan")
        if args.quick:
            print(f"decode inside the turn: {backend:.0f} tok/s (no reference with --quick)")
        else:
            prompts = []
            for r in rows:
                if r["trace"].get("facts") and r["trace"].get("raw_model_text"):
                    facts = "\n".join(f"- {line}" for line in r["trace"]["facts"])
                    prompts.append([{"role": "system", "content": SYSTEM.format(shop=components.shop_profile.called)},
                                    {"role": "user", "content": USER.format(facts=facts, question=r["question"])}])
            reference = reference_decode(prompts, settings.llm.max_new_tokens, settings.llm.threads)
            print(f"decode: {settings.llm.mode} {backend:.0f} tok/s   llama.cpp reference {reference:.0f} tok/s   "
                  f"(over {len(rates)} / {len(prompts)} composed turns)")
            print(ratio_line("decode ratio vs llama.cpp", backend / reference, TARGETS["decode_ratio"],
                             lower_is_better=False))
        components.stores.close()


if __name__ == "__main__":
    main()
