"""The offer simulator: seeded and deterministic, Thompson sampling beats uniform random, and the off-policy
estimates land near the simulator's truth."""

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from assistant.personalization.offer_simulation import format_report, make_world, plot_regret, simulate_offers
from ui.cli.main import app


def test_the_world_has_a_different_best_offer_for_different_segments() -> None:
    world = make_world(7)

    assert len(set(world.rates.argmax(axis=1))) >= 3
    assert np.isclose(world.weights.sum(), 1.0)


def test_a_seeded_run_is_repeatable() -> None:
    a, b = simulate_offers(rounds=500, seed=3, draws=20), simulate_offers(rounds=500, seed=3, draws=20)

    assert all(np.array_equal(a.runs[n].actions, b.runs[n].actions) for n in a.runs)
    assert format_report(a) == format_report(b)


def test_thompson_sampling_has_less_regret_than_uniform_random() -> None:
    result = simulate_offers(rounds=3_000, seed=11, draws=50)

    regret = {name: run.regret[-1] for name, run in result.runs.items()}
    assert regret["thompson"] < regret["uniform random"]
    assert all(0 < p <= 1 for p in result.runs["thompson"].propensities)


def test_ips_and_doubly_robust_estimates_are_close_to_the_truth() -> None:
    result = simulate_offers(rounds=10_000, seed=7, draws=20)

    for estimate in result.estimates:
        assert abs(estimate.error) < max(3 * estimate.stderr, 0.01), estimate
        assert abs(estimate.error) < 0.03, estimate
    assert {e.name for e in result.estimates} == {"IPS", "DR"}


def test_the_plot_is_a_png(tmp_path: Path) -> None:
    path = plot_regret(simulate_offers(rounds=200, seed=1, draws=10), tmp_path / "sub" / "regret.png")

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_prints_the_table_and_writes_the_plot(tmp_path: Path) -> None:
    out = tmp_path / "regret.png"

    result = CliRunner().invoke(app, ["simulate", "offers", "--rounds", "1000", "--draws", "20", "--out", str(out)],
                                env={"CONCIERGE_PROFILES": "test"})

    assert result.exit_code == 0, result.output
    assert "thompson" in result.stdout and "uniform random" in result.stdout and "best fixed offer" in result.stdout
    assert "IPS" in result.stdout and "DR" in result.stdout and "truth" in result.stdout
    assert out.is_file() and f"plot: {out}" in result.stdout
