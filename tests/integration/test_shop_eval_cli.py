"""`concierge eval --shop FOLDER` on the real bundled models, on a small shop made here (its own id format,
currency and categories): every generated category is asked, scored, reported and plotted, and the exit code
follows the thresholds."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_shop_eval import write_tiny_shop

pytestmark = [pytest.mark.integration, pytest.mark.model]


def _eval(shop: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("CONCIERGE_PROFILES", None)
    return subprocess.run([sys.executable, "-m", "ui.cli.main", "eval", "--shop", str(shop), "--per-category", "1",
                           *extra], capture_output=True, text=True, env=env, timeout=900, cwd=tmp_path)


def test_shop_eval_asks_scores_reports_and_plots(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    shop = write_tiny_shop(tmp_path / "shop")
    report, plot = tmp_path / "report.jsonl", tmp_path / "answers.png"

    loose = _eval(shop, tmp_path, "--min-correct", "0", "--max-wrong", "1", "--report", str(report),
                  "--plot", str(plot))

    print(loose.stdout[-5000:], loose.stderr[-3000:])
    assert loose.returncode == 0, loose.stderr[-3000:]
    rows = [json.loads(line) for line in report.read_text().splitlines()]
    categories = {r["category"] for r in rows}
    assert categories >= {"policy", "variant_price", "stock_in", "stock_out", "option_count", "cheapest", "dearest",
                          "attribute", "order_status", "other_order", "unanswerable"}
    assert all(r["outcome"] in ("correct", "wrong", "declined") and r["reply"] for r in rows)
    assert not any(r["leaked"] for r in rows if r["category"] == "other_order")
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "summary: shop:" in loose.stdout and "thresholds (correct >= 0%, wrong <= 100%, 0 leaks) met" in loose.stdout

    strict = _eval(shop, tmp_path, "--min-correct", "1", "--max-wrong", "0", "--category", "unanswerable",
                   "--category", "variant_price")
    assert strict.returncode in (0, 1)
    assert ("NOT met" in strict.stdout) == (strict.returncode == 1)
