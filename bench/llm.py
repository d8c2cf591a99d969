"""Chat-model latency: time to first token and decode speed of each local backend, next to llama.cpp.

    python bench/llm.py                    # llama.cpp reference, llamacpp backend, transformers int8
                                           # (on one torch thread, and on all cores unless llm.threads is set)
    python bench/llm.py --fp32             # also transformers without quantization
    python bench/llm.py --prefix-cache     # also: llama.cpp TTFT cold vs prefix reuse vs LlamaRAMCache
    python bench/llm.py --repeats 3        # three rounds over all backends, medians over all of them
    python bench/llm.py --llamacpp-only    # only the llamacpp backend next to the reference

Ten shop-assistant prompts (one system prompt, a few facts, a question; ~210-240 tokens) are run greedily
through each backend in turn, after one warm-up call (not interleaved: torch's OpenMP threads keep
spinning for a while after a call and would slow the llama.cpp call that follows). The reference is
llama-cpp-python called directly (no LangChain) on its own ``Llama``. Times are seen
by the caller: TTFT until the first chunk with text, decode = (tokens - 1) / (last chunk - first chunk).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage  # noqa: E402
from tqdm import tqdm  # noqa: E402

from assistant.config.loading import load_settings  # noqa: E402
from assistant.llm import build_chat_model, bundled_gguf_path  # noqa: E402
from assistant.llm.base import ConciergeChatModel  # noqa: E402
from assistant.llm.hf import DEFAULT_TORCH_THREADS  # noqa: E402
from assistant.llm.llamacpp import on_own_thread  # noqa: E402
from assistant.settings import LLMSettings  # noqa: E402

SYSTEM = (
    "You are Concierge, the customer-service assistant of Northwind Outfitters, an online shop for running, "
    "hiking and outdoor gear. Answer the shopper in two or three friendly sentences. Use only the facts "
    "below; if they do not answer the question, say so and offer to hand the conversation to a person. "
    "Never invent prices, dates, order numbers or discount codes. Quote numbers exactly as they appear in "
    "the facts. Do not ask for card numbers, passwords or full addresses. If the shopper is upset, apologise "
    "once and get to the answer. Keep a warm, plain tone without marketing language, and do not repeat "
    "the question back to the shopper."
)
CASES: list[tuple[str, str]] = [
    ("Returns: unworn items within 30 days, free return label. Worn running shoes: 60-day trial, refund as "
     "store credit. Refunds reach the card within 5 business days.",
     "I ran twice in my new Trail Runner shoes and they hurt. Can I still send them back?"),
    ("Order A-1042: shipped 3 June with UPS, tracking 1Z999AA10123456784, estimated delivery 6 June. "
     "Items: Trail Runner size 42, 2 pairs of Running Socks.",
     "Where is my order A-1042 and when will it arrive?"),
    ("Shipping: free standard shipping over $50 (3-5 business days). Express $12 (1-2 business days). "
     "We ship to the US and Canada only. Orders before 2 pm ship the same day.",
     "How much is express shipping and do you ship to Mexico?"),
    ("Product: Summit Shell rain jacket, $149, waterproof 20k membrane, pit zips, sizes XS-XXL, colours "
     "blue and black. In stock: blue M, blue L, black S.",
     "Is the Summit Shell available in black, size medium?"),
    ("Loyalty: gold tier, 1,240 points. 100 points = $5 off. Points expire after 12 months. Offer for "
     "this shopper: WELCOME10, 10% off the next order over $80, valid until 30 June.",
     "How many points do I have and what can I do with them?"),
    ("Product: Ridge 45 backpack, $189, 45 litres, hip belt, rain cover included, fits torso 40-52 cm. "
     "Warranty: lifetime against manufacturing defects, not wear and tear.",
     "Does the Ridge 45 come with a rain cover, and what does the warranty cover?"),
    ("Exchanges: free size exchanges within 30 days; start one under Orders > Exchange. The new size ships "
     "when the return is scanned. Order B-2210: Trail Runner size 41, delivered 2 June.",
     "The shoes from order B-2210 are too small. Can I get a 42 instead?"),
    ("Price match: we match a lower price from an authorised US retailer within 14 days of purchase, "
     "excluding marketplace sellers and clearance. Send a link through the contact form.",
     "I saw my jacket $20 cheaper at another store last week. Can you match it?"),
    ("Gift cards: digital gift cards from $25 to $500, delivered by email, never expire, cannot be "
     "exchanged for cash. Several gift cards can be combined on one order.",
     "Can I pay with two gift cards at once, and do they expire?"),
    ("Product care: wash the Summit Shell at 30 C with a technical wash, no fabric softener, tumble dry "
     "low to refresh the water repellency. Do not iron the membrane.",
     "How should I wash my rain jacket so it stays waterproof?"),
]
WARMUP = ("Store hours: support answers chat 8 am - 8 pm ET, every day.", "When can I chat with support?")


def messages_for(facts: str, question: str) -> list[BaseMessage]:
    return [SystemMessage(f"{SYSTEM}\n\nFacts:\n{facts}"), HumanMessage(question)]


@dataclass
class Runs:
    name: str
    ttft: list[float] = field(default_factory=list)
    rate: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    prompt_tokens: list[int] = field(default_factory=list)

    def add(self, started: float, first: float | None, last: float | None, tokens: int, prompt_tokens: int) -> None:
        if first is None or last is None:
            return
        self.ttft.append(first - started)
        if tokens > 1 and last > first:
            self.rate.append((tokens - 1) / (last - first))
        self.tokens.append(tokens)
        self.prompt_tokens.append(prompt_tokens)

    @property
    def ttft_p50(self) -> float:
        return statistics.median(self.ttft) if self.ttft else float("nan")

    @property
    def rate_p50(self) -> float:
        return statistics.median(self.rate) if self.rate else float("nan")


def reference_runner(llama: Any, max_tokens: int) -> Callable[[list[BaseMessage], Runs], None]:
    """llama-cpp-python directly: the same chat template and sampling, no LangChain in between."""
    roles = {"system": "system", "human": "user"}

    def run(messages: list[BaseMessage], runs: Runs) -> None:
        chat = [{"role": roles[m.type], "content": m.text} for m in messages]
        started, first, last, n, prompt = time.perf_counter(), None, None, 0, 0
        # on a thread of its own, as the app generates (assistant/llm/llamacpp.py): llama.cpp's OpenMP team stays
        # with every thread that generated, and one left on this main thread made the backend's runs that followed
        # decode at 0.4x (more teams than cores)
        for part in on_own_thread(lambda: llama.create_chat_completion(chat, stream=True, temperature=0.0,
                                                                        max_tokens=max_tokens, seed=7)):
            if not prompt:
                prompt = int(llama.n_tokens)
            if part["choices"][0]["delta"].get("content"):
                last = time.perf_counter()
                first = first or last
                n += 1
        runs.add(started, first, last, n, prompt)

    return run


def backend_runner(model: ConciergeChatModel) -> Callable[[list[BaseMessage], Runs], None]:
    def run(messages: list[BaseMessage], runs: Runs) -> None:
        started, first, last = time.perf_counter(), None, None
        for chunk in model.stream(messages):
            if chunk.text:
                last = time.perf_counter()
                first = first or last
        usage = model.last_usage
        assert usage is not None
        runs.add(started, first, last, usage.completion_tokens, usage.prompt_tokens)

    return run


def prefix_cache_table(gguf: Path, settings: LLMSettings, threads: int, max_tokens: int, repeats: int) -> list[Runs]:
    """TTFT of llama.cpp (direct) on the ten prompts: cold context, prefix reuse, LlamaRAMCache.

    Three ``Llama`` objects, one per variant, interleaved prompt by prompt (each keeps its own KV cache).
    """
    from llama_cpp import Llama, LlamaRAMCache

    names = ("cold (reset before each call)", "prefix reuse (llama-cpp default)", "LlamaRAMCache")
    variants = []
    for name in names:
        llama = Llama(model_path=str(gguf), n_ctx=settings.context_window, n_threads=threads, verbose=False,
                      seed=settings.seed)
        if name == "LlamaRAMCache":
            llama.set_cache(LlamaRAMCache(capacity_bytes=256 << 20))
        run = reference_runner(llama, max_tokens)
        run(messages_for(*WARMUP), Runs("warm-up"))
        variants.append((llama, run, Runs(name)))
    for _ in range(repeats):
        for facts, question in tqdm(CASES, desc="prefix cache", file=sys.stderr):
            for llama, run, runs in variants:
                if runs.name.startswith("cold"):
                    llama.reset()
                run(messages_for(facts, question), runs)
    for llama, _, _ in variants:
        llama.close()
    return [runs for _, _, runs in variants]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fp32", action="store_true", help="also run transformers without int8 quantization")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1,
                        help="rounds over all backends; medians over every round (steadier on a busy machine)")
    parser.add_argument("--prefix-cache", action="store_true", help="also compare llama.cpp prompt caching")
    parser.add_argument("--cache-dir", type=Path, default=None, help="converted-model cache (default: settings)")
    parser.add_argument("--llamacpp-only", action="store_true", help="skip the transformers backends")
    args = parser.parse_args()

    app = load_settings()
    cache_dir = args.cache_dir or app.model_cache_dir
    base = app.llm.model_copy(update={"temperature": 0.0, "max_new_tokens": args.max_new_tokens})
    threads = base.threads or os.cpu_count() or 1
    gguf = bundled_gguf_path()
    from llama_cpp import Llama

    loads: dict[str, float] = {}
    t = time.perf_counter()
    reference = Llama(model_path=str(gguf), n_ctx=base.context_window, n_threads=threads, verbose=False,
                      seed=base.seed)
    loads["llama.cpp reference"] = time.perf_counter() - t
    runners: list[tuple[Runs, Callable[[list[BaseMessage], Runs], None]]] = [
        (Runs("llama-cpp-python direct (reference)"), reference_runner(reference, args.max_new_tokens))]
    torch_threads = base.threads or DEFAULT_TORCH_THREADS
    variants = [("llamacpp backend", {"mode": "llamacpp"}),
                (f"transformers int8, {torch_threads} thread(s)",
                 {"mode": "transformers", "transformers": {"quantize": "int8"}})]
    if base.threads is None and threads != torch_threads:  # the evidence for DEFAULT_TORCH_THREADS
        variants.append((f"transformers int8, {threads} threads",
                         {"mode": "transformers", "threads": threads, "transformers": {"quantize": "int8"}}))
    if args.llamacpp_only:
        variants = variants[:1]
    elif args.fp32:
        variants.append((f"transformers fp32, {torch_threads} thread(s)",
                         {"mode": "transformers", "transformers": {"quantize": "none"}}))
    for name, update in variants:
        settings = LLMSettings.model_validate({**base.model_dump(), **update})
        t = time.perf_counter()
        model = build_chat_model(settings, cache_dir)
        loads[name] = time.perf_counter() - t
        runners.append((Runs(name), backend_runner(model)))

    for _ in tqdm(range(args.repeats), desc="rounds", file=sys.stderr):
        for runs, run in runners:
            run(messages_for(*WARMUP), Runs("warm-up"))
            for facts, question in CASES:
                run(messages_for(facts, question), runs)

    ref = runners[0][0]
    print(f"\n{len(CASES)} prompts x {args.repeats} round(s), greedy, max {args.max_new_tokens} new tokens, "
          f"{threads} threads, prompt tokens {min(ref.prompt_tokens)}-{max(ref.prompt_tokens)}")
    print(f"{'backend':40} {'load s':>7} {'TTFT p50 ms':>12} {'x ref':>6} {'decode tok/s':>13} {'x ref':>6} "
          f"{'tokens':>7}")
    for runs, _ in runners:
        load = loads.get(runs.name, loads["llama.cpp reference"])
        print(f"{runs.name:40} {load:7.2f} {runs.ttft_p50 * 1000:12.1f} {runs.ttft_p50 / ref.ttft_p50:6.2f} "
              f"{runs.rate_p50:13.1f} {runs.rate_p50 / ref.rate_p50:6.2f} {sum(runs.tokens):7d}")

    if args.prefix_cache:
        print("\nllama.cpp time to first token on prompts sharing the system prompt (reference, direct):")
        for runs in prefix_cache_table(gguf, base, threads, args.max_new_tokens, args.repeats):
            print(f"  {runs.name:36} TTFT p50 {runs.ttft_p50 * 1000:7.1f} ms   decode {runs.rate_p50:6.1f} tok/s")

    others = ", ".join(f"{r.name} {r.ttft_p50 * 1000:.0f} ms / {r.rate_p50:.0f} tok/s "
                       f"({r.rate_p50 / ref.rate_p50:.2f}x)" for r, _ in runners[1:])
    print(f"\nsummary: llama.cpp reference TTFT {ref.ttft_p50 * 1000:.0f} ms, {ref.rate_p50:.0f} tok/s; {others}")


if __name__ == "__main__":
    main()
