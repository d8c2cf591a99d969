"""Load across replicas, CI-sized: shoppers with signed tokens chat round-robin over two ``concierge serve`` replicas
on one PostgreSQL, one Chroma server and one Redis (every conversation moves to the other replica at every turn);
then ``kill -9`` of one replica mid-load. No 5xx, every acknowledged turn in the ``turns`` table exactly once and
in order, the other replica keeps answering. ``bench/load_replicas.py`` runs the full 50 x 20 and prints figures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from bench.load import unlimited_rates
from bench.load_replicas import check_database, run_replica_load, sigkill, signed_headers
from tests.integration.replica_topology import TOKEN_SECRET, Topology, replica_topology

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

SHOPPERS, TURNS = 10, 5


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory, postgres_admin_url: str) -> Iterator[Topology]:
    with replica_topology(tmp_path_factory.mktemp("replicas-load"), postgres_admin_url,
                          f"load-staff-{uuid.uuid4().hex}", extra_env=unlimited_rates()) as topology:
        yield topology


@pytest.fixture(scope="module")
def shoppers(topology: Topology) -> list[dict[str, str]]:
    customers = httpx.get(f"{topology.urls[0]}/api/v1/demo/customers", timeout=30).json()
    return signed_headers([c["id"] for c in customers], TOKEN_SECRET)


def test_shoppers_spread_over_two_replicas_lose_no_turn_and_keep_their_conversation(
        topology: Topology, shoppers: list[dict[str, str]]) -> None:
    result = run_replica_load(topology.urls, shoppers, SHOPPERS, TURNS, timeout=60, duration=240)
    print(f"\n{result.summary()}")

    check = check_database(topology.database_url, result)
    print(check.summary())
    assert result.server_errors == 0 and not result.errors, result.errors
    assert len(result.acknowledged) == SHOPPERS * TURNS
    assert {t.replica for t in result.acknowledged} == {0, 1}
    assert len(result.sessions) == SHOPPERS and result.session_changes == 0  # one conversation each, both replicas
    assert check.ok and not check.unacknowledged, check.summary()
    assert check.stored == SHOPPERS * TURNS


def test_kill_9_of_one_replica_mid_load_loses_no_acknowledged_turn_and_the_other_keeps_answering(
        topology: Topology, shoppers: list[dict[str, str]]) -> None:
    result = run_replica_load(topology.urls, shoppers, SHOPPERS, TURNS, timeout=60, duration=240,
                              kill=sigkill(topology.processes[1]), kill_after=SHOPPERS * TURNS // 3)
    print(f"\n{result.summary()}")

    check = check_database(topology.database_url, result)
    print(check.summary())
    assert topology.processes[1].returncode == -9
    assert result.server_errors == 0, result.errors
    assert set(result.errors) <= {"broken"}, result.errors  # only turns the killed replica had in hand
    assert result.retried_on_connect >= 1  # turns sent to the dead replica went to the other one
    assert result.answers_after_kill()[0] >= SHOPPERS  # the other replica keeps answering
    assert len(result.acknowledged) == SHOPPERS * TURNS - result.errors["broken"]
    assert result.session_changes == 0
    assert check.ok, check.summary()  # none lost, none twice, each conversation in order
    assert httpx.get(f"{topology.urls[0]}/healthz", timeout=10).status_code == 200
