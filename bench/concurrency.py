"""Concurrent shoppers through the REST API: turn latency of 8 at once vs one at a time.

    python bench/concurrency.py                          # prepare a data dir, start `concierge serve`, measure
    python bench/concurrency.py --shoppers 8 --per-shopper 5
    python bench/concurrency.py --data-dir data          # on a prepared data dir (no demo import first)
    python bench/concurrency.py --port 7860              # against a server that is already running
    python bench/concurrency.py --instances 2            # the server with llm.llamacpp.instances = 2
    python bench/concurrency.py --replicas               # two replicas sharing one model server (below)
    python bench/concurrency.py --replicas --model-server llama-server   # ... on llama.cpp's llama-server

The server is `concierge serve` with its defaults (the bundled model on llama.cpp), reached on loopback
through ``POST /api/v1/chat`` as server-sent events. Each turn is timed by its client: first visible words
(the first text or replace event) and the whole turn (the done event).

- single shopper (the reference, same run): the 20 varied questions of bench/turn.py, one after another;
- N concurrent shoppers: shopper i asks questions i*P .. i*P+P-1 (mod 20) one after another, all shoppers
  at once; with the defaults (8 x 5) that is exactly the 20 questions twice, the same mix as the single run.

Prints p50/p95 of both phases, throughput, and the ratio of p95s. Target (issue 8): p95 with 8 concurrent
shoppers <= 3x the single-shopper p95.

``--replicas`` measures the scale-out topology instead (issue 17, item 2): one OpenAI-compatible model server on
the bundled GGUF, shared by two ``concierge serve`` replicas with ``llm.mode: openai`` on one PostgreSQL (a
schema of the run's own), one Chroma server and Redis (tests/integration/replica_topology.py), the bundled
embeddings. Both phases run twice: every request to replica one, then round-robin over both (the single
shopper's turns alternate too). The model server (``--model-server``):

- ``llama-server`` (built by ``bash scripts/build_model_server.sh``): llama.cpp's own server,
  from the llama.cpp that the installed llama-cpp-python vendors, with ``--slots`` parallel slots (default: the
  number of shoppers) of 2,048 context tokens each and continuous batching (tests/integration/llama_server.py);
- ``llama-cpp-python`` (the default: it measured better on 2 cores): ``python -m llama_cpp.server`` (as
  deploy/serve_model.py starts it). It has no parallel
  slots: one ``Llama`` behind a global lock, so it answers one request at a time.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import QUESTIONS, ROOT, Client, TurnTiming, machine, pct, prepare_data_dir, serve  # noqa: E402

TARGET_RATIO = 3.0
DEFAULT_ADMIN_URL = os.environ.get("CONCIERGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class Asker(Protocol):
    def ask(self, customer_id: str, message: str) -> TurnTiming: ...


class RoundRobin:
    """Sends each turn to the next replica's client (the shoppers' turns are spread per request)."""

    def __init__(self, clients: Sequence[Client]) -> None:
        self.clients = list(clients)
        self._next = itertools.count()
        self._lock = threading.Lock()

    def ask(self, customer_id: str, message: str) -> TurnTiming:
        with self._lock:
            client = self.clients[next(self._next) % len(self.clients)]
        return client.ask(customer_id, message)


def run_shopper(client: Asker, questions: list[tuple[str, str]], out: list[TurnTiming],
                errors: list[str], barrier: threading.Barrier) -> None:
    barrier.wait()
    for customer, question in questions:
        try:
            out.append(client.ask(customer, question))
        except Exception as e:  # noqa: BLE001 - a failed turn is reported, the others go on
            errors.append(f"{customer} {question!r}: {e}")


def phase(client: Asker, plans: list[list[tuple[str, str]]]) -> tuple[list[TurnTiming], list[str], float]:
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


def measure(client: Asker, shoppers: int, per_shopper: int) -> tuple[float, float]:
    """The single shopper, then ``shoppers`` at once; prints both and returns (p95 ratio, concurrent turns/s)."""
    single, single_errors, single_wall = phase(client, [QUESTIONS])
    plans = [[QUESTIONS[(i * per_shopper + j) % len(QUESTIONS)] for j in range(per_shopper)] for i in range(shoppers)]
    many, many_errors, many_wall = phase(client, plans)
    report("1 shopper", single, single_errors, single_wall)
    report(f"{shoppers} concurrent shoppers", many, many_errors, many_wall)
    ratio = pct([r.total_s for r in many], 95) / pct([r.total_s for r in single], 95)
    first_ratio = pct([r.first_s for r in many], 95) / pct([r.first_s for r in single], 95)
    print(f"p95 turn latency, {shoppers} concurrent vs 1: {ratio:.2f}x (first words {first_ratio:.2f}x)   "
          f"target <= {TARGET_RATIO:.0f}x: {'met' if ratio <= TARGET_RATIO else 'NOT met'}")
    return ratio, len(many) / many_wall


@contextmanager
def model_server(work: Path, kind: str, threads: int, slots: int) -> Iterator[str]:
    """The shared model server on the bundled GGUF; yields its /v1 URL."""
    import httpx

    from assistant.llm import bundled_gguf_path
    from tests.integration.conftest import free_port, served
    from tests.integration.llama_server import BUILD_SCRIPT, llama_server_binary, llama_server_served

    if kind == "llama-server":
        binary = llama_server_binary()
        if binary is None:
            sys.exit(f"llama-server is not built: run bash {BUILD_SCRIPT} (or --model-server llama-cpp-python)")
        with llama_server_served(binary, work / "model-server.log", slots, threads) as url:
            yield url
        return
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    with served([sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_gguf_path()), "--model_alias",
                 "local", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", str(threads),
                 "--n_threads_batch", str(threads)], work / "model-server.log",
                lambda: httpx.get(f"{url}/models", timeout=2).status_code == 200, "llama_cpp.server",
                timeout=120, env={"HF_HUB_OFFLINE": "1"}):
        yield url


def replicas_main(args: argparse.Namespace) -> None:
    """The scale-out topology: one shared model server, two replicas; one replica, then both."""
    sys.path.insert(0, str(ROOT))
    from bench.load import unlimited_rates
    from tests.integration.replica_topology import replica_topology

    threads = args.model_threads or os.cpu_count() or 1
    kind = args.model_server or "llama-cpp-python"  # measured better here than llama-server (bench/README.md)
    slots = args.slots or args.shoppers
    with tempfile.TemporaryDirectory(prefix="concierge-conc-replicas-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        started = time.monotonic()
        llm_url = stack.enter_context(model_server(work, kind, threads, slots))
        what = f"{slots} slots, continuous batching, " if kind == "llama-server" else "one request at a time, "
        print(f"model server ({kind}, {what}{threads} threads) up in {time.monotonic() - started:.1f} s")
        extra = {"CONCIERGE_PROFILES": "", "CONCIERGE_APP__LOAD_DEMO": "false", "CONCIERGE_LLM__MODE": "openai",
                 "CONCIERGE_LLM__OPENAI__BASE_URL": llm_url, "CONCIERGE_LLM__OPENAI__MODEL": "local",
                 "CONCIERGE_LLM__OPENAI__TIMEOUT_S": "600", "TRANSFORMERS_OFFLINE": "1", **unlimited_rates()}
        started = time.monotonic()
        topology = stack.enter_context(replica_topology(work, args.database, f"bench-{uuid.uuid4().hex}", 2, extra))
        print(f"PostgreSQL schema, Chroma server, demo shop ingested, 2 replicas up in "
              f"{time.monotonic() - started:.1f} s: {', '.join(topology.urls)}")
        clients = [Client("127.0.0.1", int(url.rsplit(":", 1)[1])) for url in topology.urls]
        for client in clients:
            for customer in dict.fromkeys(c for c, _ in QUESTIONS):
                client.token(customer)
            client.ask("C001", "How much is standard shipping?")  # warm-up
        figures = []
        for n in (1, 2):
            print(f"\n{n} replica{'s' if n > 1 else ''} (round-robin per turn), shared model server:")
            figures.append((n, *measure(RoundRobin(clients[:n]), args.shoppers, args.per_shopper)))
    print()
    for n, ratio, rate in figures:
        print(f"{n} replica{'s' if n > 1 else ''}: p95 {args.shoppers} vs 1 = {ratio:.2f}x, {rate:.2f} turns/s "
              f"with {args.shoppers} shoppers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shoppers", type=int, default=8)
    parser.add_argument("--per-shopper", type=int, default=5, help="questions each concurrent shopper asks")
    parser.add_argument("--data-dir", type=Path, help="a prepared data dir (default: a new temp one)")
    parser.add_argument("--port", type=int, help="use a server already listening on 127.0.0.1:PORT")
    parser.add_argument("--instances", type=int,
                        help="llm.llamacpp.instances of the server (default: the server's setting)")
    parser.add_argument("--replicas", action="store_true",
                        help="two replicas on PostgreSQL sharing one model server (llm.mode: openai)")
    parser.add_argument("--database", default=DEFAULT_ADMIN_URL,
                        help="with --replicas: PostgreSQL database for the run's own schema (dropped afterwards)")
    parser.add_argument("--model-threads", type=int, help="with --replicas: the model server's threads (all cores)")
    parser.add_argument("--model-server", choices=("llama-server", "llama-cpp-python"),
                        help="with --replicas: the shared model server (default: llama-cpp-python)")
    parser.add_argument("--slots", type=int, help="with --replicas: llama-server's parallel slots (the shoppers)")
    args = parser.parse_args()

    print(f"machine: {machine()}")
    if args.replicas:
        replicas_main(args)
        return
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
        print()
        measure(client, args.shoppers, args.per_shopper)


if __name__ == "__main__":
    main()
