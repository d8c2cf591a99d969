"""Load, CI-sized: concurrent shoppers through the REST API of a real server process (scripted model), on SQLite
and PostgreSQL; no 5xx, and the store holds exactly the acknowledged turns. ``bench/load.py`` runs the full
50 x 20 and prints the figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.load import check_store, run_load, running_server, served_turn_ids, server_env, stored_turn_ids

pytestmark = pytest.mark.integration

SHOPPERS, TURNS = 10, 5


def test_concurrent_shoppers_get_no_5xx_and_lose_no_turn(store_url: str, tmp_path: Path) -> None:
    with running_server(server_env(tmp_path, "scripted", store_url), tmp_path / "server.log") as (url, _):
        result = run_load(url, SHOPPERS, TURNS, timeout=60, duration=240)
        served = served_turn_ids(url, result)
    print(f"\n{result.summary()}")

    assert result.server_errors == 0, result.errors
    assert len(result.acknowledged) == SHOPPERS * TURNS, result.errors
    assert len(result.sessions) == SHOPPERS
    stored = stored_turn_ids(store_url, list(result.sessions))
    for check in (check_store(result, served), check_store(result, stored)):
        assert not check.missing and not check.unacknowledged, check.summary()
