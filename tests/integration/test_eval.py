"""`concierge eval` on the real bundled model must meet the thresholds in assistant/evaluation/thresholds.json."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.model]


def test_golden_set_meets_its_thresholds(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("CONCIERGE_PROFILES", None)
    report = tmp_path / "eval.jsonl"

    result = subprocess.run([sys.executable, "-m", "ui.cli.main", "eval", "--report", str(report)],
                            capture_output=True, text=True, env=env, timeout=1800)

    print(result.stdout[-6000:])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert len(report.read_text().splitlines()) >= 80
