"""Load: concurrent shoppers chatting through the REST API on loopback, then a check that nothing was lost.

    python bench/load.py                              # starts a server: scripted model, SQLite; 50 x 20 turns
    python bench/load.py --llm llamacpp --turns 2     # the bundled model on llama.cpp (generation is serialized)
    python bench/load.py --database postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/load.py --url http://127.0.0.1:7860  # a server that is already running (demo sign-in on)
    python bench/load.py --replicas 2 [--kill]        # two replicas on PostgreSQL (bench/load_replicas.py)

Each shopper signs in with its own demo token (demo customers taken in turn), opens its own session and
sends ``--turns`` messages one after the other; ``--shoppers`` of them run at once. A turn is
*acknowledged* when ``POST /api/v1/chat`` answers 200 with a ``turn_id``: the service only sends that id
once the turn is stored. The run is bounded: at most ``--shoppers`` x ``--turns`` requests, each with a
``--timeout``, and no new turn starts after ``--duration`` seconds.

Prints throughput (acknowledged turns/s), latency p50/p95/p99, errors by status, then checks the store:
every acknowledged turn is in its session (read back through ``GET /api/v1/sessions/{id}``) and, when the
database is known, the turns stored for the run's sessions are exactly the acknowledged ones. Exits 1 on a
5xx or a lost turn.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTIONS = (
    "How long do I have to return something?",
    "Where is my latest order?",
    "I need running shoes under $100",
    "Can you recommend something for me?",
    "Do I have any offers?",
    "How much is express shipping?",
    "Which payment methods do you accept?",
    "Show me a rain jacket",
    "How many points do I earn per dollar?",
    "When do I get free shipping?",
)


# the server ---------------------------------------------------------------------------------------
def unlimited_rates() -> dict[str, str]:
    """Env overrides that lift every per-client rate limit of ``security`` (the load comes from one address).

    Read from the settings model, so the script follows the settings' names: a string limit becomes
    ``100000/minute`` (whatever the fields are called: every one whose default reads like ``20/minute``)."""
    from assistant.settings import SecuritySettings

    out: dict[str, str] = {}
    for name, info in SecuritySettings.model_fields.items():
        default = info.get_default(call_default_factory=True)
        if isinstance(default, str) and re.fullmatch(r"\d+\s*/\s*\w+(;\s*\d+\s*/\s*\w+)*", default):
            out[f"CONCIERGE_SECURITY__{name.upper()}"] = "100000/minute"
    return out


def server_env(data_dir: Path, llm: str = "scripted", database_url: str | None = None,
               extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a Concierge server for load: demo shop loaded on first start, rate limits lifted.

    ``scripted``: the test profile's fakes (scripted model, hash embeddings) with Chroma and the store on
    disk, so a restarted server finds its data; ``llamacpp``: the embedded defaults (bundled models)."""
    env = {"CONCIERGE_APP__DATA_DIR": str(data_dir), "CONCIERGE_APP__LOAD_DEMO": "true", "HF_HUB_OFFLINE": "1",
           "ANONYMIZED_TELEMETRY": "False", "CONCIERGE_LLM__MODE": llm, "CONCIERGE_SECURITY__DEMO_SIGN_IN": "true"}
    if llm == "scripted":
        env.update(CONCIERGE_PROFILES="test", CONCIERGE_KNOWLEDGE__MODE="persistent")
    else:
        env["CONCIERGE_PROFILES"] = ""
    if database_url:
        env["CONCIERGE_DATABASE__URL"] = database_url
    env.update(unlimited_rates())
    env.update(extra or {})
    return env


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes] | None, log_path: Path | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            tail = log_path.read_text(errors="replace")[-3000:] if log_path and log_path.exists() else ""
            raise RuntimeError(f"the Concierge server at {url} did not come up in {timeout:.0f} s:\n{tail}")
        time.sleep(0.3)


@contextlib.contextmanager
def running_server(env: Mapping[str, str], log_path: Path, port: int | None = None,
                   timeout: float = 300.0) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``concierge serve`` on a loopback port until healthy; yields its URL and process, stopped afterwards
    (a process already killed, e.g. by a fault test, is left as it is)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(log_path, "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli.main", "serve", "--host", "127.0.0.1", "--port",
                             str(port)], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, **env})
    try:
        wait_healthy(url, proc, log_path, timeout)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


# the shoppers -------------------------------------------------------------------------------------
@dataclass
class Outcome:
    shopper: int
    status: str  # "200", "503", ..., or "timeout" / "connection" for no answer
    latency_s: float
    turn_id: str | None = None
    session_id: str | None = None


@dataclass
class LoadResult:
    outcomes: list[Outcome] = field(default_factory=list)
    sessions: dict[str, str] = field(default_factory=dict)  # session id -> the shopper's token
    wall_s: float = 0.0
    sign_in_errors: Counter[str] = field(default_factory=Counter)

    @property
    def acknowledged(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.turn_id]

    @property
    def errors(self) -> Counter[str]:
        return Counter(o.status for o in self.outcomes if not o.turn_id) + self.sign_in_errors

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.errors.items() if status.startswith("5"))

    def latency(self, q: float) -> float:
        values = sorted(o.latency_s for o in self.outcomes if o.turn_id)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]  # nearest rank

    def summary(self) -> str:
        acked = len(self.acknowledged)
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(self.errors.items())) or "none"
        return (f"{len(self.outcomes)} requests, {acked} turns acknowledged in {self.wall_s:.1f} s = "
                f"{acked / self.wall_s if self.wall_s else 0:.1f} turns/s; latency p50 {self.latency(0.5):.3f} s, "
                f"p95 {self.latency(0.95):.3f} s, p99 {self.latency(0.99):.3f} s; errors: {errors}")


def demo_customers(client: httpx.Client, url: str) -> list[str]:
    response = client.get(f"{url}/api/v1/demo/customers", timeout=30)
    response.raise_for_status()
    return [c["id"] for c in response.json()]


def _status(e: Exception) -> str:
    return "timeout" if isinstance(e, httpx.TimeoutException) else "connection"


def shopper(index: int, url: str, customer: str, turns: int, timeout: float, deadline: float,
            result: LoadResult, lock: threading.Lock, stop: threading.Event,
            questions: Sequence[str] = QUESTIONS) -> None:
    """One shopper: a token of its own, one session, ``turns`` messages one after the other."""
    with httpx.Client(timeout=timeout) as client:
        try:
            response = client.post(f"{url}/api/v1/demo/token", json={"customer_id": customer})
        except httpx.HTTPError as e:
            with lock:
                result.sign_in_errors[f"sign-in {_status(e)}"] += 1
            return
        if response.status_code != 200:
            with lock:
                result.sign_in_errors[f"sign-in {response.status_code}"] += 1
            return
        headers = {"Authorization": f"Bearer {response.json()['token']}"}
        session_id: str | None = None
        for turn in range(turns):
            if stop.is_set() or time.monotonic() > deadline:
                return
            body: dict[str, Any] = {"message": questions[(index + turn) % len(questions)]}
            if session_id:
                body["session_id"] = session_id
            started = time.perf_counter()
            try:
                response = client.post(f"{url}/api/v1/chat", json=body, headers=headers)
            except httpx.HTTPError as e:
                with lock:
                    result.outcomes.append(Outcome(index, _status(e), time.perf_counter() - started))
                if stop.is_set():
                    return
                continue
            elapsed = time.perf_counter() - started
            data = response.json() if response.headers.get("content-type", "").startswith("application/json") \
                else {}
            turn_id = data.get("turn_id") if response.status_code == 200 else None
            session_id = data.get("session_id") or session_id
            with lock:
                result.outcomes.append(Outcome(index, str(response.status_code), elapsed, turn_id, session_id))
                if session_id:
                    result.sessions[session_id] = headers["Authorization"]


def run_load(url: str, shoppers: int = 50, turns: int = 20, timeout: float = 60.0, duration: float = 600.0,
             stop: threading.Event | None = None, customers: Sequence[str] | None = None,
             result: LoadResult | None = None) -> LoadResult:
    """``shoppers`` threads, each a shopper sending ``turns`` messages; returns every request's outcome.

    ``stop`` ends the run early (shoppers finish the request they are in); ``result`` is filled as requests
    complete, for a caller watching from another thread."""
    stop = stop or threading.Event()
    with httpx.Client() as client:
        ids = list(customers or demo_customers(client, url))
    result, lock = result if result is not None else LoadResult(), threading.Lock()
    started = time.monotonic()
    threads = [threading.Thread(target=shopper, name=f"shopper-{i}", daemon=True,
                                args=(i, url, ids[i % len(ids)], turns, timeout, started + duration, result, lock,
                                      stop)) for i in range(shoppers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + timeout + 30)
    result.wall_s = time.monotonic() - started
    return result


# the check --------------------------------------------------------------------------------------
def served_turn_ids(url: str, result: LoadResult, timeout: float = 60.0) -> set[str]:
    """Every turn id the server holds in the run's sessions, read back through the REST API."""
    out: set[str] = set()
    with httpx.Client(timeout=timeout) as client:
        for session_id, authorization in result.sessions.items():
            response = client.get(f"{url}/api/v1/sessions/{session_id}", headers={"Authorization": authorization})
            response.raise_for_status()
            out.update(t["id"] for t in response.json()["turns"])
    return out


def stored_turn_ids(database_url: str, session_ids: Sequence[str] | None = None) -> set[str]:
    """Turn ids in the database (of the given sessions, or all), read with SQL, not through the app."""
    from sqlalchemy import select

    from assistant.store import build_engine
    from assistant.store import models as m

    engine = build_engine(database_url)
    try:
        with engine.connect() as connection:
            query = select(m.TurnRow.id, m.TurnRow.session_id)
            rows = connection.execute(query).all()
    finally:
        engine.dispose()
    wanted = set(session_ids) if session_ids is not None else None
    return {str(r.id) for r in rows if wanted is None or r.session_id in wanted}


@dataclass
class StoreCheck:
    acknowledged: int
    stored: int
    missing: set[str]
    unacknowledged: set[str]

    @property
    def ok(self) -> bool:
        return not self.missing

    def summary(self) -> str:
        return (f"store: {self.acknowledged} acknowledged, {self.stored} stored in the run's sessions, "
                f"{len(self.missing)} lost, {len(self.unacknowledged)} stored but never acknowledged")


def check_store(result: LoadResult, stored: set[str]) -> StoreCheck:
    acked = {o.turn_id for o in result.acknowledged if o.turn_id}
    return StoreCheck(len(acked), len(stored), acked - stored, stored - acked)


# the script ---------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a == "--replicas" or a.startswith("--replicas=") for a in argv):  # the replicas' topology
        from bench.load_replicas import main as load_replicas

        return load_replicas(argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--url", help="A running server (demo sign-in on). Empty: start one on loopback.")
    parser.add_argument("--llm", choices=("scripted", "llamacpp"), default="scripted",
                        help="Chat model of the server this script starts.")
    parser.add_argument("--database", help="Store URL of the server started (default: SQLite in a temp dir); "
                        "with --url, the running server's store URL, to count its turns with SQL.")
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--turns", type=int, default=20, help="Turns per shopper.")
    parser.add_argument("--timeout", type=float, default=None,
                        help="Seconds one request may take (default: 60 scripted, 600 llamacpp).")
    parser.add_argument("--duration", type=float, default=900.0, help="No turn starts after this many seconds.")
    args = parser.parse_args(argv)
    timeout = args.timeout or (60.0 if args.llm == "scripted" else 600.0)

    with contextlib.ExitStack() as stack:
        url, database = args.url, args.database
        if url is None:
            data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="concierge-load-")))
            database = database or f"sqlite:///{data / 'concierge.db'}"
            print(f"starting a server ({args.llm} model, {database.split(':')[0]}) in {data} ...", flush=True)
            started = time.monotonic()
            url, _ = stack.enter_context(running_server(server_env(data, args.llm, database), data / "server.log"))
            print(f"server up in {time.monotonic() - started:.1f} s at {url}", flush=True)
        print(f"{args.shoppers} shoppers x {args.turns} turns, timeout {timeout:g} s per request ...", flush=True)
        result = run_load(url, args.shoppers, args.turns, timeout, args.duration)
        print(result.summary())
        check = check_store(result, served_turn_ids(url, result))
        print("served " + check.summary())
        if database:
            check_db = check_store(result, stored_turn_ids(database, list(result.sessions)))
            print("SQL " + check_db.summary())
            check = check if not check_db.missing else check_db
    failed = result.server_errors > 0 or not check.ok
    print("FAIL" if failed else "OK: 0 5xx, 0 lost turns")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
