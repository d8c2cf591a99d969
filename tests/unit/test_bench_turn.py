"""bench/turn_report.py, the pure parts of ``bench/turn.py --shop``: the sample per category, which kind a turn
was, the percentiles and the table of ratios to issue 20's targets and to llama.cpp alone (the floor)."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "turn_report.py"
BUILT = "built from the facts: the model was not asked"


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_turn_report", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Question:
    id: str
    category: str


def test_the_sample_keeps_at_most_n_of_each_category_in_the_given_order_and_is_the_same_for_a_seed() -> None:
    b = bench()
    questions = [Question(f"p{i}", "policy") for i in range(6)] + [Question("s1", "stock_in")] \
        + [Question(f"c{i}", "confirm") for i in range(3)]
    picked = b.sample_per_category(questions, 2, seed=7)

    assert [q.category for q in picked].count("policy") == 2 and [q.category for q in picked].count("confirm") == 2
    assert Question("s1", "stock_in") in picked  # fewer than n: all of them
    assert picked == sorted(picked, key=questions.index)  # the order stays (questions sent after others last)
    assert picked == b.sample_per_category(questions, 2, seed=7)
    assert b.sample_per_category(questions, None) == questions


def test_a_turn_is_built_when_it_says_so_model_written_when_the_model_was_called_else_other() -> None:
    b = bench()
    assert b.turn_kind([BUILT], False, BUILT) == "built"
    assert b.turn_kind(["a price that is not in the facts"], True, BUILT) == "model"  # the verifier fell back
    assert b.turn_kind([], True, BUILT) == "model"
    assert b.turn_kind([], False, BUILT) == "other"  # a refusal, a decline: no model, not built either


def test_a_shop_is_demo_or_a_folder_with_its_policy_questions_after_an_equals_sign() -> None:
    b = bench()
    assert b.parse_shop("demo") == ("demo", None)
    assert b.parse_shop("/tmp/dj=examples/eval/dj.jsonl") == ("/tmp/dj", Path("examples/eval/dj.jsonl"))
    with pytest.raises(ValueError, match="shop folder"):
        b.parse_shop("=x.jsonl")


def test_percentiles_leave_missing_values_out_and_are_nan_without_any() -> None:
    b = bench()
    assert b.p50_p95([1.0, None, 3.0, 2.0]) == pytest.approx((2.0, 2.9))
    p50, p95 = b.p50_p95([None])
    assert p50 != p50 and p95 != p95


def rows(b: ModuleType) -> list[object]:
    built = [b.TurnRow("demo", "stock_in", "built", first, first + 0.1) for first in (0.1, 0.2, 0.3, 0.5)]
    model = [b.TurnRow("demo", "policy", "model", 1.5 + i, 2.0 + i, ttft=0.5 + i / 10, tokens=40 if i else 7,
                       prompt=i, called=0.1, steps={"tools": 20.0, "compose": 1000.0 * (i + 1)}) for i in range(3)]
    other = [b.TurnRow("tau2", "unanswerable", "other", 0.1, 0.1)]
    return [*built, *model, *other]


def test_the_table_splits_the_kinds_and_sets_each_against_the_targets_and_the_floor() -> None:
    b = bench()
    floor = [b.FloorRun(0.25, 1.0, 160), b.FloorRun(0.35, 2.0, 40), b.FloorRun(0.45, 3.0, 40)]
    lines = b.report(rows(b), floor)
    text = "\n".join(lines)

    assert lines[0] == "== demo: 7 turns ==" and "== tau2: 1 turns ==" in text and "== all shops: 8 turns ==" in text
    demo = text.split("== tau2")[0]
    built = next(line for line in demo.splitlines() if line.strip().startswith("built from facts "))
    assert "0.25 / 0.47" in built and "0.35 / 0.57" in built  # first words and turn p50 / p95
    model = next(line for line in demo.splitlines() if line.strip().startswith("model wrote "))
    assert "0.60 / 0.69" in model and "3.00 / 3.90" in model  # TTFT and turn p50 / p95
    floor_line = next(line for line in demo.splitlines() if "llama.cpp alone" in line)
    assert "0.35 / 0.44" in floor_line and "2.00 / 2.90" in floor_line
    # targets: built turns by their first words, model-written by TTFT; the turn against 0.6 / 1.2
    assert "built from facts: first words p50 0.25 s vs <= 0.4 (" in demo
    assert "turn p50 0.35 s vs <= 0.6 (0.58x, met); turn p95 0.57 s vs <= 1.2 (0.47x, met)" in demo
    assert "model wrote: TTFT p50 0.60 s vs <= 0.4 (1.50x, NOT met); turn p50 3.00 s vs <= 0.6 (5.00x, NOT met)" \
        in demo
    assert "floor vs targets: TTFT p50 0.35 s vs <= 0.4 (0.87x, met); total p50 2.00 s vs <= 0.6 (3.33x, NOT met)" \
        in demo
    assert "turn p50 3.00 / 2.00 s = 1.50x" in demo
    assert "per turn, turn / floor: p50 1.50x" in demo  # 2/1, 3/2, 4/3
    # the first turn stopped the model after 7 tokens: like for like are the two that ran as long as the floor
    assert "like for like (2 turns that generated as many tokens as llama.cpp alone): turn / floor p50 1.42x" in demo
    assert "model called after p50 0.10 s" in demo and "tools 20/20, compose 2000/2900" in demo
    assert "llama.cpp alone" not in text.split("== tau2")[1].split("== all shops")[0]  # no model turn there


def test_ratio_says_met_at_the_target_and_dash_without_a_value() -> None:
    b = bench()
    assert b.ratio(0.6, 0.6) == "0.60 s vs <= 0.6 (1.00x, met)"
    assert b.ratio(float("nan"), 0.6) == "-"
    assert b.over(1.0, 0.0) == "-" and b.over(3.0, 1.5) == "3.00 / 1.50 s = 2.00x"
