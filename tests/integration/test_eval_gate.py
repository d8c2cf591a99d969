"""The multi-shop gate (issue 13): `concierge eval --shop` on the demo shop and on the two foreign shops in
../shared/datasets (DummyJSON and tau2-bench retail, converted with the documented example converters), each
with its hand-written policy questions, on the real bundled models. Each shop must answer at least 90% of its
questions correctly, state no more than 2% wrong facts (the issue's targets) and leak nothing of another
shopper's orders. On 2026-12-05 the figures were 82/83 correct and 1 wrong (1.2%) on the demo shop, 50/50 on
DummyJSON and 47/48 with 0 wrong on tau2 (its last wrong answer, "how do you verify who I am", is now answered by the
sentence that says how); the gate held a 3% ratchet until then.
Questions other than the policy files are generated from each shop's own data (two per category here; the
bench script bench/eval_shops.py runs eight)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.model]

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT.parent / "shared" / "datasets"
SHOPS = {
    "demo": (None, None, "knowledge/demo/eval/policy-questions.jsonl"),
    "dummyjson": ("examples/dummyjson_to_concierge.py", "dummyjson", "examples/eval/dummyjson-policy-questions.jsonl"),
    "tau2": ("examples/tau2_retail_to_concierge.py", "tau2-retail", "examples/eval/tau2-policy-questions.jsonl"),
}
MIN_CORRECT, MAX_WRONG, PER_CATEGORY = "0.9", "0.02", "2"  # the targets


@pytest.mark.parametrize("shop", list(SHOPS))
def test_each_shop_meets_the_answer_thresholds(shop: str, tmp_path: Path) -> None:
    converter, dataset, questions = SHOPS[shop]
    folder = "demo"
    if converter:
        if not (DATASETS / str(dataset)).is_dir():
            pytest.fail(f"the foreign shop's data is missing: {DATASETS / str(dataset)} (../shared/datasets)")
        folder = str(tmp_path / shop)
        subprocess.run([sys.executable, str(ROOT / converter), str(DATASETS / str(dataset)), folder], check=True,
                       capture_output=True, timeout=300)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    env.pop("CONCIERGE_PROFILES", None)
    report = tmp_path / f"eval-{shop}.jsonl"
    done = subprocess.run([sys.executable, "-m", "ui.cli.main", "eval", "--shop", folder, "--per-category",
                           PER_CATEGORY, "--policy-questions", str(ROOT / questions), "--min-correct", MIN_CORRECT,
                           "--max-wrong", MAX_WRONG, "--report", str(report)],
                          capture_output=True, text=True, env=env, timeout=1500, cwd=ROOT)
    print(done.stdout[-6000:])
    summary = next((line for line in done.stdout.splitlines() if line.startswith("summary:")), None)
    assert summary is not None, done.stderr[-3000:]
    assert done.returncode == 0, summary
    assert "0 leaks" in summary and "met" in summary and "NOT met" not in summary, summary
