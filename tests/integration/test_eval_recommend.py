"""`concierge eval recommend` on the demo shop with the bundled embeddings: the hybrid recommender must beat
the popularity baseline on hit rate@10 (leave-one-out on purchase histories)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_hybrid_beats_popularity_on_the_demo_shop(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("CONCIERGE_PROFILES", None)
    report = tmp_path / "recommend.json"

    result = subprocess.run([sys.executable, "-m", "ui.cli.main", "eval", "recommend", "--report", str(report)],
                            capture_output=True, text=True, env=env, timeout=900)

    print(result.stdout[-4000:])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "hit@10" in result.stdout and "NDCG@10" in result.stdout
    shop = json.loads(report.read_text())["shops"][0]
    methods = shop["methods"]
    assert shop["shop"] == "demo" and shop["cases"] >= 20
    assert methods["hybrid"]["hit_rate"] > methods["popularity"]["hit_rate"]
    assert methods["hybrid"]["ndcg"] > methods["popular, filtered"]["ndcg"]
