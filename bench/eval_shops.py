"""The multi-shop eval on every shop we have: the demo, DummyJSON and tau2-bench retail.

Converts the foreign shops from ``../shared/datasets`` with the documented converters (examples/), runs
``concierge eval --shop`` on each with its hand-written policy questions, and prints one summary line per
shop plus the overall figures. Reports (JSONL) and plots (PNG) land in bench/results/.

    python bench/eval_shops.py [--per-category 8] [--shops demo dummyjson tau2] [--min-correct 0.9 --max-wrong 0.02]

Exits 1 when a shop misses the thresholds (the defaults are the issue's targets).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
SHOPS = {
    "demo": (None, None, None),
    "dummyjson": ("examples/dummyjson_to_concierge.py", "dummyjson", "examples/eval/dummyjson-policy-questions.jsonl"),
    "tau2": ("examples/tau2_retail_to_concierge.py", "tau2-retail", "examples/eval/tau2-policy-questions.jsonl"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shops", nargs="+", default=list(SHOPS), choices=list(SHOPS))
    parser.add_argument("--per-category", type=int, default=8)
    parser.add_argument("--min-correct", type=float, default=0.9)
    parser.add_argument("--max-wrong", type=float, default=0.02)
    args = parser.parse_args()
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    summaries, failed = [], []
    with tempfile.TemporaryDirectory(prefix="concierge-shops-") as tmp:
        for name in args.shops:
            converter, dataset, questions = SHOPS[name]
            folder = "demo"
            if converter:
                folder = str(Path(tmp) / name)
                subprocess.run([sys.executable, str(ROOT / converter), str(DATASETS / dataset), folder], check=True)
            command = [sys.executable, "-m", "ui.cli.main", "eval", "--shop", folder,
                       "--per-category", str(args.per_category), "--min-correct", str(args.min_correct),
                       "--max-wrong", str(args.max_wrong), "--report", str(results / f"eval-{name}.jsonl"),
                       "--plot", str(results / f"eval-{name}.png"), "--no-show-failures"]
            if questions:
                command += ["--policy-questions", str(ROOT / questions)]
            started = time.perf_counter()
            done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
            print(done.stdout)
            summary = next((line for line in done.stdout.splitlines() if line.startswith("summary:")),
                           f"summary: {name}: no result (exit {done.returncode}): {done.stderr[-500:]}")
            summaries.append(f"{summary} [{time.perf_counter() - started:.0f} s]")
            if done.returncode != 0:
                failed.append(name)
    print("\n".join(summaries))
    print(f"reports and plots: {results}/eval-<shop>.jsonl|png")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
