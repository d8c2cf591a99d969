"""Load across replicas: shoppers chatting through the REST API of two ``concierge serve`` replicas on one
PostgreSQL, one Chroma server and one Redis (the topology of compose.yaml, started as processes), then a check
with SQL that every acknowledged turn is in the database exactly once.

    python bench/load_replicas.py                     # 50 shoppers x 20 turns over two replicas (scripted model)
    python bench/load_replicas.py --kill              # kill -9 one replica mid-load
    python bench/load.py --replicas 2 [--kill]        # the same, from bench/load.py

Each shopper holds a token signed with the replicas' token secret (as the shop's backend signs it) and one
conversation: its first turn opens a session, every later turn sends that ``session_id``. Requests go round-robin
(shopper i's turn t to replica (i + t) mod 2), so every conversation moves to the other replica at every turn.
A turn is *acknowledged* when ``POST /api/v1/chat`` answers 200 with a ``turn_id`` (sent only once it is stored).

Every request opens its own connection, so a connection that cannot be opened means the request never reached
that replica: the client sends it again to the other replica (``retried on connect``). A request whose
connection breaks while the replica works on it (``broken``: the replica was killed mid-turn) is not
acknowledged and not resent (the replica may have stored it; the check counts those), and the shopper goes on.

``--kill`` sends SIGKILL to the second replica once ``--kill-after`` of the planned turns are acknowledged, and
counts the answers after the kill. The check reads the ``turns`` table of the run's sessions with SQL: no
acknowledged turn missing, none stored twice, each conversation's acknowledged turns in the order sent. Exits 1
on a 5xx, a lost or duplicated turn, or (with ``--kill``) no answer after the kill.

The replicas run the test profile's scripted model and hash embeddings, so the figures are the app's own cost
around the model (guard, tools on the Chroma server, verifier, PostgreSQL), as in bench/load.py's scripted rows.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import QUESTIONS, unlimited_rates  # noqa: E402

DEFAULT_ADMIN_URL = os.environ.get("CONCIERGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CONNECT_FAILURES = (httpx.ConnectError, httpx.ConnectTimeout)  # the request never reached the replica


@dataclass
class Turn:
    """One planned turn of one shopper, as the shopper saw it."""

    shopper: int
    index: int
    replica: int  # the replica that answered, or the last one tried
    status: str  # "200", "503", ...; "refused" (no replica could be reached), "broken", "timeout"
    latency_s: float  # from the first attempt to the answer, a resend included
    finished: float  # time.monotonic() when the answer (or the failure) came
    turn_id: str | None = None
    session_id: str | None = None
    retried_on_connect: bool = False


@dataclass
class ReplicaLoad:
    turns: list[Turn] = field(default_factory=list)
    sessions: dict[int, str] = field(default_factory=dict)  # shopper -> its session id
    session_changes: int = 0  # answers that named another session than the one sent
    wall_s: float = 0.0
    client_cpu_s: float = 0.0  # this process's CPU time during the run (the shoppers' side)
    killed_at: float | None = None  # time.monotonic() of the kill
    in_flight: Counter[int] = field(default_factory=Counter)  # requests sent and not answered, by replica
    in_flight_at_kill: Counter[int] = field(default_factory=Counter)

    @property
    def acknowledged(self) -> list[Turn]:
        return [t for t in self.turns if t.turn_id]

    @property
    def errors(self) -> Counter[str]:
        return Counter(t.status for t in self.turns if not t.turn_id)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.errors.items() if status.startswith("5"))

    @property
    def retried_on_connect(self) -> int:
        return sum(t.retried_on_connect for t in self.turns)

    def answers_after_kill(self) -> Counter[int]:
        """Acknowledged turns answered after the kill, by replica index."""
        if self.killed_at is None:
            return Counter()
        return Counter(t.replica for t in self.acknowledged if t.finished > self.killed_at)

    def latency(self, q: float) -> float:
        values = sorted(t.latency_s for t in self.acknowledged)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]  # nearest rank

    def summary(self) -> str:
        acked = self.acknowledged
        by_replica = Counter(t.replica for t in acked)
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(self.errors.items())) or "none"
        line = (f"{len(self.turns)} turns sent, {len(acked)} acknowledged in {self.wall_s:.1f} s = "
                f"{len(acked) / self.wall_s if self.wall_s else 0:.1f} turns/s (by replica: "
                f"{', '.join(f'#{r}: {n}' for r, n in sorted(by_replica.items()))}); latency p50 "
                f"{self.latency(0.5):.3f} s, p95 {self.latency(0.95):.3f} s, p99 {self.latency(0.99):.3f} s; "
                f"not acknowledged: {errors}; {len(self.sessions)} conversations, {self.session_changes} "
                f"session changes; client CPU {self.client_cpu_s:.1f} s")
        if self.killed_at is not None:
            after = self.answers_after_kill()
            flying = ", ".join(f"#{r}: {n}" for r, n in sorted(self.in_flight_at_kill.items())) or "none"
            line += (f"\nkill: {len(acked) - sum(after.values())} acknowledged before it, requests in flight "
                     f"({flying}); answers after it: "
                     f"{sum(after.values())} ({', '.join(f'#{r}: {n}' for r, n in sorted(after.items())) or 'none'})"
                     f"; {self.retried_on_connect} turns resent to the other replica after a failed connect")
        return line


def signed_headers(customers: Sequence[str], secret: str) -> list[dict[str, str]]:
    """One bearer header per customer, signed as the shop's backend signs (``assistant.identity.issue_token``)."""
    from assistant.identity import issue_token

    return [{"Authorization": f"Bearer {issue_token(c, secret, ttl_s=7200)}"} for c in customers]


def shopper(index: int, urls: Sequence[str], headers: dict[str, str], turns: int, timeout: float, deadline: float,
            result: ReplicaLoad, lock: threading.Lock, acked: threading.Condition) -> None:
    """One shopper: ``turns`` messages one after the other in one conversation, round-robin over ``urls``."""
    session_id: str | None = None
    # a new connection per request: a failed connect then means the request never reached the replica
    with httpx.Client(timeout=timeout, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        for t in range(turns):
            if time.monotonic() > deadline:
                return
            body: dict[str, Any] = {"message": QUESTIONS[(index + t) % len(QUESTIONS)]}
            if session_id:
                body["session_id"] = session_id
            first = (index + t) % len(urls)
            order = [first, *(r for r in range(len(urls)) if r != first)]
            started = time.perf_counter()
            outcome: Turn | None = None
            for attempt, r in enumerate(order):
                with lock:
                    result.in_flight[r] += 1
                try:
                    response = client.post(f"{urls[r]}/api/v1/chat", json=body, headers=headers)
                except CONNECT_FAILURES:
                    outcome = Turn(index, t, r, "refused", time.perf_counter() - started, time.monotonic(),
                                   retried_on_connect=attempt > 0)
                    continue  # never reached this replica: send it to the next one
                except httpx.TimeoutException:
                    outcome = Turn(index, t, r, "timeout", time.perf_counter() - started, time.monotonic(),
                                   retried_on_connect=attempt > 0)
                    break
                except httpx.HTTPError:  # the connection broke while the replica had the request
                    outcome = Turn(index, t, r, "broken", time.perf_counter() - started, time.monotonic(),
                                   retried_on_connect=attempt > 0)
                    break
                finally:
                    with lock:
                        result.in_flight[r] -= 1
                data = response.json() if response.headers.get("content-type", "").startswith(
                    "application/json") else {}
                turn_id = data.get("turn_id") if response.status_code == 200 else None
                answered = data.get("session_id")
                outcome = Turn(index, t, r, str(response.status_code), time.perf_counter() - started,
                               time.monotonic(), turn_id, answered, retried_on_connect=attempt > 0)
                break
            assert outcome is not None
            with lock:
                result.turns.append(outcome)
                if outcome.turn_id:
                    if session_id and outcome.session_id != session_id:
                        result.session_changes += 1
                    session_id = outcome.session_id or session_id
                    if session_id:
                        result.sessions[index] = session_id
            if outcome.turn_id:
                with acked:
                    acked.notify_all()


def run_replica_load(urls: Sequence[str], headers: Sequence[dict[str, str]], shoppers: int = 50, turns: int = 20,
                     timeout: float = 60.0, duration: float = 900.0, kill: Callable[[], None] | None = None,
                     kill_after: int = 0) -> ReplicaLoad:
    """``shoppers`` threads (shopper i signs in with ``headers[i % len(headers)]``), each sending ``turns``
    messages round-robin over ``urls``; ``kill`` is called once ``kill_after`` turns are acknowledged."""
    result, lock, acked = ReplicaLoad(), threading.Lock(), threading.Condition()
    started, cpu = time.monotonic(), time.process_time()
    threads = [threading.Thread(target=shopper, name=f"shopper-{i}", daemon=True,
                                args=(i, urls, headers[i % len(headers)], turns, timeout, started + duration, result,
                                      lock, acked)) for i in range(shoppers)]
    for thread in threads:
        thread.start()
    if kill is not None:
        with acked:
            acked.wait_for(lambda: len(result.acknowledged) >= kill_after
                           or not any(t.is_alive() for t in threads), timeout=duration)
        with lock:
            result.in_flight_at_kill = Counter(result.in_flight)
        kill()
        result.killed_at = time.monotonic()
    for thread in threads:
        thread.join(duration + timeout + 30)
    result.wall_s, result.client_cpu_s = time.monotonic() - started, time.process_time() - cpu
    return result


def sigkill(process: subprocess.Popen[bytes]) -> Callable[[], None]:
    """``kill -9`` of a replica, waiting until it is gone."""
    def kill() -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    return kill


# the check --------------------------------------------------------------------------------------
@dataclass
class DatabaseCheck:
    acknowledged: int
    stored: int
    missing: set[str]  # acknowledged, not in the database
    duplicated: set[str]  # in the database more than once
    unacknowledged: set[str]  # stored, never acknowledged (a turn in flight when its replica was killed)
    out_of_order: int  # conversations whose acknowledged turns are stored in another order than sent

    @property
    def ok(self) -> bool:
        return not self.missing and not self.duplicated and not self.out_of_order

    def summary(self) -> str:
        return (f"database: {self.acknowledged} acknowledged, {self.stored} rows in the run's sessions, "
                f"{len(self.missing)} lost, {len(self.duplicated)} stored twice, {len(self.unacknowledged)} stored "
                f"but never acknowledged, {self.out_of_order} conversations out of order")


def check_database(database_url: str, result: ReplicaLoad) -> DatabaseCheck:
    """The ``turns`` rows of the run's sessions, read with SQL (not through the app), against the acknowledged."""
    from sqlalchemy import select

    from assistant.store import build_engine
    from assistant.store import models as m

    session_ids = sorted(set(result.sessions.values()))
    engine = build_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(m.TurnRow.id, m.TurnRow.session_id).where(m.TurnRow.session_id.in_(session_ids))
                .order_by(m.TurnRow.session_id, m.TurnRow.created_at)).all()
    finally:
        engine.dispose()
    counts = Counter(str(r.id) for r in rows)
    acked = {t.turn_id for t in result.acknowledged if t.turn_id}
    sent: dict[str, list[str]] = {}
    for t in sorted(result.acknowledged, key=lambda t: (t.shopper, t.index)):
        sent.setdefault(str(t.session_id), []).append(str(t.turn_id))
    stored: dict[str, list[str]] = {}
    for r in rows:
        if str(r.id) in acked:
            stored.setdefault(str(r.session_id), []).append(str(r.id))
    out_of_order = sum(1 for session, ids in sent.items() if stored.get(session) != ids)
    return DatabaseCheck(len(acked), len(rows), acked - set(counts), {i for i, n in counts.items() if n > 1},
                         set(counts) - acked, out_of_order)


# the script ---------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database", default=DEFAULT_ADMIN_URL,
                        help="PostgreSQL database to create the run's own schema in (dropped afterwards).")
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--turns", type=int, default=20, help="Turns per shopper.")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--kill", action="store_true", help="kill -9 the last replica mid-load.")
    parser.add_argument("--kill-after", type=float, default=0.4,
                        help="Kill once this share of the planned turns is acknowledged.")
    parser.add_argument("--timeout", type=float, default=60.0, help="Seconds one request may take.")
    parser.add_argument("--duration", type=float, default=900.0, help="No turn starts after this many seconds.")
    args = parser.parse_args(argv)
    if args.replicas < 2 and args.kill:
        parser.error("--kill needs at least two replicas")

    from tests.integration.replica_topology import TOKEN_SECRET, replica_topology

    with tempfile.TemporaryDirectory(prefix="concierge-load-replicas-") as work:
        print(f"starting PostgreSQL schema, Chroma server, {args.replicas} replicas (scripted model) in {work} ...",
              flush=True)
        started = time.monotonic()
        with replica_topology(Path(work), args.database, f"bench-{uuid.uuid4().hex}", args.replicas,
                              unlimited_rates()) as topology:
            print(f"up in {time.monotonic() - started:.1f} s: {', '.join(topology.urls)}", flush=True)
            customers = [c["id"] for c in httpx.get(f"{topology.urls[0]}/api/v1/demo/customers", timeout=30).json()]
            headers = signed_headers(customers, TOKEN_SECRET)
            planned = args.shoppers * args.turns
            kill = sigkill(topology.processes[-1]) if args.kill else None
            print(f"{args.shoppers} shoppers x {args.turns} turns round-robin over {args.replicas} replicas"
                  + (f", kill -9 of #{args.replicas - 1} after {int(planned * args.kill_after)} acknowledged"
                     if kill else "") + " ...", flush=True)
            result = run_replica_load(topology.urls, headers, args.shoppers, args.turns, args.timeout,
                                      args.duration, kill, int(planned * args.kill_after))
            print(result.summary())
            check = check_database(topology.database_url, result)
            print(check.summary())
    after = sum(result.answers_after_kill().values())
    failed = result.server_errors > 0 or not check.ok or result.session_changes > 0 or (args.kill and after == 0)
    print("FAIL" if failed else "OK: 0 5xx, 0 lost turns, every acknowledged turn stored once"
          + (f", {after} answers after the kill" if args.kill else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
