"""Turn latency on the demo shop with the configured backend (default: the bundled model on llama.cpp).

    python bench/turn.py                 # 20 varied questions, after one warm-up turn
    CONCIERGE_LLM__MODE=transformers python bench/turn.py

Prints, per question, the time to the first words the shopper sees (first text or replace event) and
the full turn; then p50/p95 of both, the time per step (guard, profile, understand, tools, compose,
verify, record), and the backend's decode tokens/s next to llama-cpp-python's measured in the same run
on the same prompts (the reference).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant.components import build_components  # noqa: E402
from assistant.domain import ShopperIdentity  # noqa: E402
from assistant.evaluation import DEMO_NOW  # noqa: E402
from assistant.importers import demo_shop_path, ingest_shop  # noqa: E402
from assistant.prompts import SYSTEM, USER  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from assistant.wiring import build_assistant  # noqa: E402

QUESTIONS = [
    ("C001", "How long do I have to return something?"),
    ("C001", "Where is my order NW-100073?"),
    ("C001", "I need running shoes under $100"),
    ("C001", "Can you recommend something for me?"),
    ("C001", "Do I have any offers?"),
    ("C004", "How long is the warranty on hiking boots?"),
    ("C004", "What is the status of order NW-100067?"),
    ("C004", "Show me a rain jacket"),
    ("C006", "How much is express shipping?"),
    ("C006", "When do I get free shipping?"),
    ("C006", "Which payment methods do you accept?"),
    ("C006", "Do you sell noise cancelling headphones?"),
    ("C003", "Can you recommend something for me?"),
    ("C003", "How many points do I earn per dollar as a silver member?"),
    ("C005", "Can I return opened skincare?"),
    ("C005", "When can I cancel an order?"),
    ("C002", "Where is my order NW-100080?"),
    ("C002", "Do you sell my personal data?"),
    ("C007", "What is the meaning of life?"),
    ("C008", "I need a kettle for pour-over coffee"),
]
STEPS = ("guard", "load_profile", "understand", "tools", "compose", "verify", "record")


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def reference_decode(prompts: list[list[dict[str, str]]], max_tokens: int, threads: int | None) -> float:
    """llama-cpp-python directly on the bundled GGUF: median decode tokens/s over the same prompts."""
    from llama_cpp import Llama

    from assistant.llm.factory import bundled_gguf_path

    llama = Llama(model_path=str(bundled_gguf_path()), n_ctx=2048, n_threads=threads or os.cpu_count(),
                  verbose=False, seed=7)
    rates = []
    for messages in prompts:
        first, count = None, 0
        for chunk in llama.create_chat_completion(messages=messages, stream=True, max_tokens=max_tokens,  # type: ignore[arg-type]
                                                  temperature=0.2, top_p=0.9, top_k=40, seed=7):
            if chunk["choices"][0]["delta"].get("content"):
                count += 1
                if first is None:
                    first = time.perf_counter()
        if first is not None and count > 1:
            rates.append((count - 1) / (time.perf_counter() - first))
    return statistics.median(rates) if rates else float("nan")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="concierge-bench-") as tmp:
        settings = load_settings(overrides={"app": {"data_dir": tmp, "load_demo": False}})
        components = build_components(settings)
        ingest_shop(demo_shop_path(), components.knowledge, components.stores.customers, components.stores.offers)
        service = build_assistant(components, now=lambda: DEMO_NOW)
        list(service.respond(ShopperIdentity("C001"), None, "How much is standard shipping?"))  # warm-up
        rows: list[dict[str, Any]] = []
        print(f"backend: {settings.llm.mode}  ({len(QUESTIONS)} questions)")
        print(f"{'question':<58} {'intent':<14} {'verdict':<9} {'first':>6} {'turn':>6}")
        for customer, question in QUESTIONS:
            started = time.perf_counter()
            first = None
            for event in service.respond(ShopperIdentity(customer), None, question, channel="bench"):
                if first is None and event.type in ("text", "replace"):
                    first = time.perf_counter() - started
                if event.type == "done":
                    done = event.to_dict()
            total = time.perf_counter() - started
            turn = components.stores.turns.get_turn(done["turn_id"])
            rows.append({"first": first or total, "total": total, "trace": turn.trace if turn else {},
                         "question": question})
            print(f"{question[:57]:<58} {done['intent']:<14} {done['verdict']:<9} {first or total:6.2f} {total:6.2f}")
        firsts = [r["first"] for r in rows]
        totals = [r["total"] for r in rows]
        print(f"\nfirst words: p50 {pct(firsts, 50):.2f} s  p95 {pct(firsts, 95):.2f} s   (target p50 <= 0.8 s)")
        print(f"full turn:   p50 {pct(totals, 50):.2f} s  p95 {pct(totals, 95):.2f} s   (target p50 <= 3 s)")
        print("time per step (ms):  " + "  ".join(
            f"{step} p50 {pct([r['trace'].get('timings_ms', {}).get(step, 0.0) for r in rows], 50):.0f}"
            for step in STEPS))
        prompts, rates = [], []
        for r in rows:
            usage = r["trace"].get("llm") or {}
            if usage.get("decode_tokens_per_s"):
                rates.append(float(usage["decode_tokens_per_s"]))
            if r["trace"].get("facts") and r["trace"].get("raw_model_text"):
                facts = "\n".join(f"- {line}" for line in r["trace"]["facts"])
                prompts.append([{"role": "system", "content": SYSTEM.format(shop=settings.app.shop_name)},
                                {"role": "user", "content": USER.format(facts=facts, question=r["question"])}])
        backend = statistics.median(rates) if rates else float("nan")
        reference = reference_decode(prompts, settings.llm.max_new_tokens, settings.llm.threads)
        print(f"decode: {settings.llm.mode} {backend:.0f} tok/s   llama.cpp reference {reference:.0f} tok/s   "
              f"ratio {backend / reference:.2f}x   (over {len(rates)} / {len(prompts)} composed turns)")
        components.stores.close()


if __name__ == "__main__":
    main()
