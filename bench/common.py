"""Shared by the benchmarks: the 20 questions, percentiles, a `concierge serve` subprocess, a REST/SSE client.

Nothing here is imported by the app; the scripts in ``bench/`` put this folder on ``sys.path``.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

#: (customer, question): 20 varied questions on the demo shop (policies, orders, products, recommendations,
#: offers, something the shop cannot answer)
QUESTIONS: list[tuple[str, str]] = [
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


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def machine() -> str:
    """One line: cores, memory, load right now (the figures are noisy on a shared machine)."""
    cores = os.cpu_count()
    try:
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal:"))
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        mem = "? GiB"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cores} cores, {mem}, load average {load:.1f} at start"


def rss_mb(pid: int) -> dict[str, float]:
    """Resident memory of a process from /proc: now (VmRSS) and its peak (VmHWM), in MiB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- the REST client (stdlib only) ----------------------------------------------------------

@dataclass
class TurnTiming:
    """One turn seen by a REST client: first visible words (first text/replace event), the whole turn."""

    first_s: float
    total_s: float
    intent: str = ""
    verdict: str = ""
    events: list[str] = field(default_factory=list)


class Client:
    def __init__(self, host: str, port: int, timeout: float = 600.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._tokens: dict[str, str] = {}

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers={"Content-Type": "application/json", **(headers or {})})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def healthy(self) -> bool:
        try:
            status, _ = self._request("GET", "/healthz")
        except OSError:
            return False
        return status == 200

    def token(self, customer_id: str) -> str:
        if customer_id not in self._tokens:
            status, data = self._request("POST", "/api/v1/demo/token", {"customer_id": customer_id})
            if status != 200:
                raise RuntimeError(f"demo token for {customer_id}: HTTP {status} {data[:200]!r}")
            self._tokens[customer_id] = json.loads(data)["token"]
        return self._tokens[customer_id]

    def ask(self, customer_id: str, message: str) -> TurnTiming:
        """One turn through ``POST /api/v1/chat`` as server-sent events, timed from the request."""
        headers = {"Authorization": f"Bearer {self.token(customer_id)}", "Content-Type": "application/json",
                   "Accept": "text/event-stream"}
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        started = time.perf_counter()
        first: float | None = None
        kinds: list[str] = []
        done: dict[str, Any] = {}
        try:
            conn.request("POST", "/api/v1/chat", body=json.dumps({"message": message, "stream": True}),
                         headers=headers)
            response = conn.getresponse()
            if response.status != 200:
                raise RuntimeError(f"chat: HTTP {response.status} {response.read()[:200]!r}")
            kind = ""
            for raw in response:
                line = raw.decode("utf-8").rstrip("\n")
                if line.startswith("event: "):
                    kind = line[7:]
                    kinds.append(kind)
                    if first is None and kind in ("text", "replace"):
                        first = time.perf_counter() - started
                elif line.startswith("data: ") and kind == "done":
                    done = json.loads(line[6:])
        finally:
            conn.close()
        total = time.perf_counter() - started
        if not done:
            raise RuntimeError(f"chat: the stream ended without a done event ({kinds})")
        return TurnTiming(first if first is not None else total, total, str(done.get("intent", "")),
                          str(done.get("verdict", "")), kinds)


# ---- the server as a subprocess -------------------------------------------------------------

def concierge_command() -> list[str]:
    script = Path(sys.executable).parent / "concierge"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ui.cli.main"]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    started: float
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def client(self) -> Client:
        return Client("127.0.0.1", self.port)

    def wait_healthy(self, timeout: float = 600.0) -> float:
        """Seconds from the spawn until ``/healthz`` answers."""
        client = self.client()
        while time.perf_counter() - self.started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}: "
                                   f"{self.log_path.read_text(errors='replace')[-2000:]}")
            if client.healthy():
                return time.perf_counter() - self.started
            time.sleep(0.05)
        raise TimeoutError(f"the server did not answer /healthz within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def server_env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: this data dir, demo sign-in on, and chat rate limits lifted (a benchmark
    sends more turns a minute from one address than a shopper may)."""
    env = {**os.environ, "CONCIERGE_APP__DATA_DIR": str(data_dir), "CONCIERGE_SECURITY__DEMO_SIGN_IN": "true",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(ROOT),
           # as the start command (scripts/start.sh) and the Docker image run it: two malloc arenas
           "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}
    sys.path.insert(0, str(ROOT))
    from assistant.settings import SecuritySettings

    for name in ("chat_rate_per_shopper", "chat_rate_per_ip"):
        if name in SecuritySettings.model_fields:
            env[f"CONCIERGE_SECURITY__{name.upper()}"] = "100000/minute"
    env.update(extra or {})
    return env


@contextmanager
def serve(data_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """`concierge serve` on a free loopback port over ``data_dir``; stopped (SIGINT) on exit."""
    port = free_port()
    log_path = Path(tempfile.mkstemp(prefix="concierge-bench-", suffix=".log")[1])
    with log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen([*concierge_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                   env=server_env(data_dir, extra_env), cwd=ROOT, stdout=log,
                                   stderr=subprocess.STDOUT)
    server = Server(process, port, started, log_path)
    try:
        yield server
    finally:
        server.stop()
        log_path.unlink(missing_ok=True)


def prepare_data_dir(data_dir: Path) -> float:
    """The first run: start the server once on an empty ``data_dir`` (imports the demo shop), answer one
    question, stop. Returns the seconds it took; later starts on this folder are the cold starts."""
    with serve(data_dir) as server:
        server.wait_healthy()
        server.client().ask("C001", "How much is standard shipping?")
        return time.perf_counter() - server.started
