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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import QUESTIONS, machine, pct  # noqa: E402

from assistant.components import (  # noqa: E402
    build_assistant,  # noqa: E402
    build_components,
    limit_torch_threads,
)
from assistant.config.loading import load_settings  # noqa: E402
from assistant.domain import ShopperIdentity  # noqa: E402
from assistant.evaluation import DEMO_NOW  # noqa: E402
from assistant.shop.shop_import import demo_shop_path  # noqa: E402
from assistant.turn.prompts import SYSTEM, USER  # noqa: E402

STEPS = ("guard", "load_profile", "understand", "tools", "compose", "verify", "record")
TARGETS = {"ttft": 0.8, "turn": 3.0, "decode_ratio": 0.8}


class TimedLLM:
    """The turn's chat model, noting when each stream is called and when its first token arrives."""

    def __init__(self, llm: Any) -> None:
        self._llm = llm
        self.called_at: float | None = None
        self.first_at: float | None = None

    def reset(self) -> None:
        self.called_at = self.first_at = None

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self.called_at = time.perf_counter()
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
    args = parser.parse_args()
    questions = QUESTIONS[: args.n or (8 if args.quick else len(QUESTIONS))] * args.repeat

    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="concierge-bench-") as tmp:
        settings = load_settings(overrides={"app": {"data_dir": tmp, "load_demo": False}})
        limit_torch_threads(settings)  # as `concierge serve` does
        components = build_components(settings)
        components.ingest_shop(demo_shop_path())
        llm = TimedLLM(components.llm)
        service = build_assistant(components, llm=llm, now=lambda: DEMO_NOW)
        list(service.respond(ShopperIdentity("C001"), None, "How much is standard shipping?"))  # warm-up
        rows: list[dict[str, Any]] = []
        print(f"backend: {settings.llm.mode}  ({len(questions)} questions)")
        print(f"{'question':<52} {'intent':<14} {'verdict':<9} {'model':>6} {'ttft':>6} {'first':>6} {'turn':>6}")
        for customer, question in questions:
            llm.reset()
            started = time.perf_counter()
            first = None
            done: dict[str, Any] = {}
            shown = replaced = False
            for event in service.respond(ShopperIdentity(customer), None, question, channel="bench"):
                if first is None and event.type in ("text", "replace"):
                    first = time.perf_counter() - started
                replaced = replaced or (shown and event.type == "replace")
                shown = shown or event.type == "text"
                if event.type == "done":
                    done = event.to_dict()
            total = time.perf_counter() - started
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
