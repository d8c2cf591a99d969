"""Cold start (process start to first answer) and steady-state memory of `concierge serve`.

    python bench/coldstart.py                      # prepare a data dir, then 3 cold starts, 20 turns each
    python bench/coldstart.py --runs 1 --turns 5   # a short run
    python bench/coldstart.py --data-dir data      # cold starts on a prepared folder (kept as it is)

"After the first run": the first start on an empty data dir imports the demo shop (Chroma, SQLite);
that is timed once and reported apart. Each cold start then spawns `concierge serve` on the prepared
folder and times, from the spawn, until ``/healthz`` answers (the app is built: models loaded,
catalogue read) and until the first answer to a shopper's question has arrived through the REST API
(``POST /api/v1/chat``, server-sent events, read to the end). The Gradio pages are built in the background once the
REST API answers (``ui.pages_gate``; until then they answer a 503 "starting" page), so a thread also times, from the
spawn, until ``GET /`` serves the chat page (200). After ``--turns`` more turns (the 20
varied questions of bench/turn.py) the server's resident memory is read from ``/proc/<pid>/status``
(VmRSS now, VmHWM its peak).

The reference, measured in the same run: a bare Python process that loads the same two models
(llama-cpp-python on the bundled GGUF, all-MiniLM-L6-v2 through ``build_embedder`` as the app does: ONNX Runtime,
exported into the data dir's model cache on the first run), embeds one query and writes one short completion,
i.e. the floor any app on these models pays.

``--steps``: where a start's time and memory go: the steps of ``concierge serve`` run one by one in one process
on the prepared folder (seconds, RSS after each, and whether torch / transformers / sentence-transformers were
imported by then).
Targets (issue 20): cold start <= 5 s after the first run; RSS <= 1.0 GB after 20 turns (issue 8 asked for
10 s and 1.5 GB).
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import QUESTIONS, ROOT, machine, pct, prepare_data_dir, rss_mb, serve, server_env  # noqa: E402

TARGET_COLD_S = 5.0
TARGET_RSS_GB = 1.0
TARGET_RSS_MB = TARGET_RSS_GB * 1000**3 / 1024**2  # in MiB

FLOOR = r"""
import os, sys, time
from pathlib import Path
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from llama_cpp import Llama
from assistant.llm.backends import bundled_gguf_path
from knowledge.embeddings import build_embedder
embedder = build_embedder("bundled")
llama = Llama(model_path=str(bundled_gguf_path()), n_ctx=2048, n_threads=os.cpu_count(), verbose=False, seed=7)
embedder.embed_query("How much is standard shipping?")
out = llama.create_chat_completion(messages=[{"role": "user", "content": "How much is standard shipping?"}],
                                   max_tokens=48, temperature=0.2)
rss = next(l for l in Path(f"/proc/{os.getpid()}/status").read_text().splitlines() if l.startswith("VmRSS"))
print(rss.split()[1], flush=True)
"""


STEPS = r"""
import json, os, sys, time
from pathlib import Path
started = time.perf_counter()
HEAVY = ("torch", "transformers", "sentence_transformers", "onnxruntime")
def step(name):
    rss = next(l for l in Path(f"/proc/{os.getpid()}/status").read_text().splitlines() if l.startswith("VmRSS"))
    print(json.dumps([name, time.perf_counter() - started, int(rss.split()[1]) / 1024,
                      [m for m in HEAVY if m in sys.modules]]), flush=True)
from assistant.components import build_components, limit_torch_threads
from assistant.config.loading import load_settings
settings = load_settings()
limit_torch_threads(settings)
components = build_components(settings)
components.stores
step("interpreter, settings, stores")
import ui.server
from ui.server import create_app
step("the web modules (no gradio)")
components.embedder
step("the embedder")
components.knowledge
step("the knowledge store (Chroma)")
components.assistant
step("the turn service: chat model, catalogue")
app = create_app(components, pages_in_background=True)
step("the routes (create_app; the REST API answers from here)")
app.state.pages._built.result()
step("both Gradio pages: import gradio, build (in the background, after the API answers)")
"""


def steps_run(data_dir: Path) -> None:
    """Print where a start's time and memory go (see ``--steps``)."""
    done = subprocess.run([sys.executable, "-c", STEPS], env=server_env(data_dir), cwd=ROOT, capture_output=True,
                          text=True, check=True)
    previous = 0.0
    print("step | seconds | RSS after | heavy modules imported by then")
    for line in done.stdout.splitlines():
        if line.startswith("["):
            name, at, rss, heavy = json.loads(line)
            print(f"{name} | {at - previous:.2f} | {rss:.0f} MiB | {', '.join(heavy) or '-'}")
            previous = at


def floor_run(data_dir: Path) -> tuple[float, float]:
    """(seconds from spawn to the completion, RSS MiB) of the bare two-model process."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", FLOOR], env=server_env(data_dir), cwd=ROOT, capture_output=True,
                          text=True, check=True)
    seconds = time.perf_counter() - started
    return seconds, int(done.stdout.strip().splitlines()[-1]) / 1024


def page_served(port: int, since: float, stop: threading.Event, found: list[float]) -> None:
    """Poll ``GET /`` every 50 ms until it serves the chat page (200); append the seconds since ``since``."""
    while not stop.is_set():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/")
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                found.append(time.perf_counter() - since)
                return
        except OSError:
            pass  # not listening yet
        finally:
            conn.close()
        time.sleep(0.05)


def cold_start(data_dir: Path, turns: int) -> dict[str, float]:
    with serve(data_dir) as server:
        stop, page = threading.Event(), list[float]()
        poller = threading.Thread(target=page_served, args=(server.port, server.started, stop, page), daemon=True)
        poller.start()
        client = server.client()
        ready = server.wait_healthy()
        first = client.ask("C001", "How long do I have to return something?")
        answered = time.perf_counter() - server.started
        after_first = rss_mb(server.pid)["VmRSS"]
        latencies = []
        for i in range(turns):
            customer, question = QUESTIONS[i % len(QUESTIONS)]
            latencies.append(client.ask(customer, question).total_s)
        memory = rss_mb(server.pid)
        poller.join(60)
        stop.set()
    return {"ready": ready, "first_words": ready + first.first_s, "answered": answered, "rss_first": after_first,
            "rss": memory["VmRSS"], "hwm": memory["VmHWM"], "turn_p50": pct(latencies, 50),
            "page": page[0] if page else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="cold starts on the prepared data dir")
    parser.add_argument("--turns", type=int, default=20, help="turns after the first answer, before reading RSS")
    parser.add_argument("--data-dir", type=Path, help="a prepared data dir to start on (default: a new temp one)")
    parser.add_argument("--steps", action="store_true", help="also time the steps of a start in one process")
    args = parser.parse_args()

    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="concierge-coldstart-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        if args.data_dir is None:
            prepared = prepare_data_dir(data_dir)
            print(f"first run (empty data dir: demo shop imported, one answer): {prepared:.1f} s")
        if args.steps:
            steps_run(data_dir)
        floor_s, floor_rss = floor_run(data_dir)
        print(f"reference: bare process loading both models, one embedding, one completion: {floor_s:.2f} s, "
              f"RSS {floor_rss:.0f} MiB")
        runs = []
        for i in range(args.runs):
            r = cold_start(data_dir, args.turns)
            runs.append(r)
            print(f"cold start {i + 1}: /healthz after {r['ready']:.2f} s, first words {r['first_words']:.2f} s, "
                  f"first answer complete {r['answered']:.2f} s, chat page served {r['page']:.2f} s; "
                  f"RSS after the first answer {r['rss_first']:.0f} MiB,"
                  f" after {args.turns} more turns {r['rss']:.0f} MiB (peak {r['hwm']:.0f} MiB); "
                  f"turn p50 {r['turn_p50']:.2f} s")
    answered = pct([r["answered"] for r in runs], 50)
    rss = max(r["rss"] for r in runs)
    hwm = max(r["hwm"] for r in runs)
    print(f"\ncold start to first answer: median {answered:.2f} s   reference {floor_s:.2f} s   "
          f"ratio {answered / floor_s:.2f}x   target <= {TARGET_COLD_S:.0f} s: "
          f"{'met' if answered <= TARGET_COLD_S else 'NOT met'}")
    print(f"cold start to the chat page served (GET / 200): median {pct([r['page'] for r in runs], 50):.2f} s")
    print(f"steady-state RSS after {args.turns} turns: {rss:.0f} MiB (peak {hwm:.0f} MiB)   reference "
          f"{floor_rss:.0f} MiB   ratio {rss / floor_rss:.2f}x   "
          f"target <= {TARGET_RSS_MB:.0f} MiB ({TARGET_RSS_GB} GB): {'met' if rss <= TARGET_RSS_MB else 'NOT met'}")


if __name__ == "__main__":
    main()
