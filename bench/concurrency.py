"""Concurrent shoppers through the REST API: turn latency of 8 at once vs one at a time.

    python bench/concurrency.py                          # prepare a data dir, start `concierge serve`, measure
    python bench/concurrency.py --shoppers 8 --per-shopper 5
    python bench/concurrency.py --data-dir data          # on a prepared data dir (no demo import first)
    python bench/concurrency.py --port 7860              # against a server that is already running
    python bench/concurrency.py --instances 2            # the server with llm.llamacpp.instances = 2

The server is `concierge serve` with its defaults (the bundled model on llama.cpp), reached on loopback
through ``POST /api/v1/chat`` as server-sent events. Each turn is timed by its client: first visible words
(the first text or replace event) and the whole turn (the done event).

- single shopper (the reference, same run): the 20 varied questions of bench/turn.py, one after another;
- N concurrent shoppers: shopper i asks questions i*P .. i*P+P-1 (mod 20) one after another, all shoppers
  at once; with the defaults (8 x 5) that is exactly the 20 questions twice, the same mix as the single run.

Prints p50/p95 of both phases, throughput, and the ratio of p95s. Target (issue 8): p95 with 8 concurrent
shoppers <= 3x the single-shopper p95.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import QUESTIONS, Client, TurnTiming, machine, pct, prepare_data_dir, serve  # noqa: E402

TARGET_RATIO = 3.0


def run_shopper(client: Client, questions: list[tuple[str, str]], out: list[TurnTiming],
                errors: list[str], barrier: threading.Barrier) -> None:
    barrier.wait()
    for customer, question in questions:
        try:
            out.append(client.ask(customer, question))
        except Exception as e:  # noqa: BLE001 - a failed turn is reported, the others go on
            errors.append(f"{customer} {question!r}: {e}")


def phase(client: Client, plans: list[list[tuple[str, str]]]) -> tuple[list[TurnTiming], list[str], float]:
    results: list[TurnTiming] = []
    errors: list[str] = []
    barrier = threading.Barrier(len(plans) + 1)
    threads = [threading.Thread(target=run_shopper, args=(client, plan, results, errors, barrier))
               for plan in plans]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return results, errors, time.perf_counter() - started


def report(name: str, results: list[TurnTiming], errors: list[str], wall: float) -> None:
    firsts = [r.first_s for r in results]
    totals = [r.total_s for r in results]
    print(f"{name:<22} {len(results):>3} turns  first words p50 {pct(firsts, 50):5.2f} s  p95 {pct(firsts, 95):5.2f} s"
          f"   turn p50 {pct(totals, 50):5.2f} s  p95 {pct(totals, 95):5.2f} s   "
          f"{len(results) / wall:.2f} turns/s   errors {len(errors)}")
    for e in errors[:5]:
        print(f"  error: {e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shoppers", type=int, default=8)
    parser.add_argument("--per-shopper", type=int, default=5, help="questions each concurrent shopper asks")
    parser.add_argument("--data-dir", type=Path, help="a prepared data dir (default: a new temp one)")
    parser.add_argument("--port", type=int, help="use a server already listening on 127.0.0.1:PORT")
    parser.add_argument("--instances", type=int,
                        help="llm.llamacpp.instances of the server (default: the server's setting)")
    args = parser.parse_args()

    print(f"machine: {machine()}")
    with ExitStack() as stack:
        if args.port:
            client = Client("127.0.0.1", args.port)
        else:
            data_dir = args.data_dir
            if data_dir is None:
                data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="concierge-conc-"))) / "data"
                print(f"first run (demo shop imported): {prepare_data_dir(data_dir):.1f} s")
            extra = {"CONCIERGE_LLM__LLAMACPP__INSTANCES": str(args.instances)} if args.instances else None
            if args.instances:
                print(f"llm.llamacpp.instances = {args.instances}")
            server = stack.enter_context(serve(data_dir, extra))
            print(f"server ready after {server.wait_healthy():.1f} s")
            client = server.client()
        for customer in dict.fromkeys(c for c, _ in QUESTIONS):
            client.token(customer)
        client.ask("C001", "How much is standard shipping?")  # warm-up
        single, single_errors, single_wall = phase(client, [QUESTIONS])
        p = args.per_shopper
        plans = [[QUESTIONS[(i * p + j) % len(QUESTIONS)] for j in range(p)] for i in range(args.shoppers)]
        many, many_errors, many_wall = phase(client, plans)
    print()
    report("1 shopper", single, single_errors, single_wall)
    report(f"{args.shoppers} concurrent shoppers", many, many_errors, many_wall)
    ratio = pct([r.total_s for r in many], 95) / pct([r.total_s for r in single], 95)
    first_ratio = pct([r.first_s for r in many], 95) / pct([r.first_s for r in single], 95)
    print(f"\np95 turn latency, {args.shoppers} concurrent vs 1: {ratio:.2f}x (first words {first_ratio:.2f}x)   "
          f"target <= {TARGET_RATIO:.0f}x: {'met' if ratio <= TARGET_RATIO else 'NOT met'}")


if __name__ == "__main__":
    main()
