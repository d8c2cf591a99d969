"""The pure parts of ``bench/turn.py --shop``: which questions are asked, what kind of turn each was, and the
per-shop table of p50/p95 with the ratios to issue 20's targets and to llama.cpp alone (the floor).

Nothing here touches a model or a store; ``tests/unit/test_bench_turn.py`` checks it with made-up rows.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

#: issue 20, one shopper on a quiet machine (seconds): TTFT p50, turn p50, turn p95
TARGETS = {"ttft_p50": 0.4, "turn_p50": 0.6, "turn_p95": 1.2}
#: the kinds of turn: the reply built from the facts (the model not asked), the model wrote (it was called),
#: anything else answered without the model (a refusal, a decline, a handover, a template)
KINDS = ("built", "model", "other")
#: the turn's steps as its trace times them
STEPS = ("guard", "load_profile", "understand", "tools", "compose", "verify", "record")
KIND_NAMES = {"built": "built from facts", "model": "model wrote", "other": "no model, other"}

Q = TypeVar("Q")


def parse_shop(value: str) -> tuple[str, Path | None]:
    """``--shop`` value: ``demo`` or a folder, optionally ``=POLICY.jsonl`` (its hand-written policy questions)."""
    shop, sep, policy = value.partition("=")
    if not shop.strip():
        raise ValueError(f"--shop {value!r}: give demo or a shop folder, optionally FOLDER=POLICY.jsonl")
    return shop.strip(), Path(policy.strip()) if sep and policy.strip() else None


def sample_per_category(questions: Sequence[Q], per_category: int | None, seed: int = 7) -> list[Q]:
    """At most ``per_category`` questions of each ``category`` (drawn with ``seed``), in their given order;
    ``None`` keeps all."""
    if per_category is None:
        return list(questions)
    groups: dict[str, list[int]] = {}
    for i, q in enumerate(questions):
        groups.setdefault(str(getattr(q, "category", "")), []).append(i)
    rng = random.Random(seed)
    keep: set[int] = set()
    for indices in groups.values():
        keep.update(indices if len(indices) <= per_category else rng.sample(indices, per_category))
    return [q for i, q in enumerate(questions) if i in keep]


def turn_kind(problems: Sequence[str], model_called: bool, built_marker: str) -> str:
    """``built`` when the turn recorded that the facts answered without the model, ``model`` when the model
    was called (whatever the verifier then kept), else ``other``."""
    if built_marker in problems:
        return "built"
    return "model" if model_called else "other"


@dataclass
class TurnRow:
    """One timed turn (seconds from the call of ``respond``)."""

    shop: str
    category: str
    kind: str
    first: float  # first words the shopper sees
    total: float  # the whole turn
    ttft: float | None = None  # the model's first token in the turn (model-written turns)
    tokens: int | None = None  # tokens the model generated in the turn
    prompt: int | None = None  # index of llama.cpp alone on the prompt the model was sent (into the floor runs)
    question: str = ""
    called: float | None = None  # when the turn called the model
    steps: dict[str, float] = field(default_factory=dict)  # the turn's stored time per step, ms


@dataclass
class FloorRun:
    """llama.cpp alone on one prompt: first token, the whole generation, tokens generated."""

    ttft: float | None
    total: float
    tokens: int


def pct(values: Sequence[float | None], q: float) -> float:
    clean = [float(v) for v in values if v is not None]
    return float(np.percentile(np.asarray(clean, dtype=float), q)) if clean else float("nan")


def p50_p95(values: Sequence[float | None]) -> tuple[float, float]:
    return pct(values, 50), pct(values, 95)


def _pair(values: Sequence[float | None]) -> str:
    p50, p95 = p50_p95(values)
    return "-" if p50 != p50 else f"{p50:.2f} / {p95:.2f}"


def ratio(value: float, target: float) -> str:
    """``value`` against the most it may be: ``0.50 s <= 0.4 (1.25x, NOT met)``; ``-`` without a value."""
    if value != value:
        return "-"
    return f"{value:.2f} s vs <= {target:g} ({value / target:.2f}x, {'met' if value <= target else 'NOT met'})"


def times(rows: Sequence[TurnRow]) -> dict[str, tuple[float, float]]:
    """p50/p95 of TTFT, first words and turn over ``rows``."""
    return {"ttft": p50_p95([r.ttft for r in rows]), "first": p50_p95([r.first for r in rows]),
            "turn": p50_p95([r.total for r in rows])}


def floor_of(rows: Sequence[TurnRow], floor: Sequence[FloorRun]) -> list[tuple[TurnRow, FloorRun]]:
    """The model-written turns paired with llama.cpp alone on the prompt each sent."""
    return [(r, floor[r.prompt]) for r in rows if r.kind == "model" and r.prompt is not None and r.prompt < len(floor)]


def shop_table(shop: str, rows: Sequence[TurnRow], floor: Sequence[FloorRun] = ()) -> list[str]:
    """The lines for one shop (or ``all shops``): per kind of turn n and p50 / p95 of TTFT, first words and turn;
    the floor on the same prompts; the ratios to the targets and to the floor."""
    lines = [f"== {shop}: {len(rows)} turns ==",
             f"  {'kind':<18} {'n':>3}  {'TTFT p50 / p95':>15}  {'first words':>15}  {'turn p50 / p95':>15}"
             f"  {'tokens p50':>10}"]
    for kind in (*KINDS, "all"):
        group = [r for r in rows if kind == "all" or r.kind == kind]
        if not group:
            continue
        tokens = pct([float(r.tokens) for r in group if r.tokens is not None], 50)
        lines.append(f"  {KIND_NAMES.get(kind, kind):<18} {len(group):>3}  {_pair([r.ttft for r in group]):>15}  "
                     f"{_pair([r.first for r in group]):>15}  {_pair([r.total for r in group]):>15}  "
                     f"{'-' if tokens != tokens else f'{tokens:.0f}':>10}")
    pairs = floor_of(rows, floor)
    if pairs:
        runs = [f for _, f in pairs]
        tokens = pct([float(f.tokens) for f in runs], 50)
        lines.append(f"  {'llama.cpp alone':<18} {len(runs):>3}  {_pair([f.ttft for f in runs]):>15}  "
                     f"{'':>15}  {_pair([f.total for f in runs]):>15}  {tokens:>10.0f}"
                     "   <- the floor: the same prompts, the same max tokens")
    lines.extend(target_lines(rows, pairs))
    return lines


def target_lines(rows: Sequence[TurnRow], pairs: Sequence[tuple[TurnRow, FloorRun]]) -> list[str]:
    """Issue 20's targets per kind of turn, the floor against them, and the turn against the floor."""
    out = []
    for kind in ("built", "model", "other"):
        group = [r for r in rows if r.kind == kind]
        if not group:
            continue
        t = times(group)
        first_line = (f"TTFT p50 {ratio(t['ttft'][0], TARGETS['ttft_p50'])}; " if kind == "model" else
                      f"first words p50 {ratio(t['first'][0], TARGETS['ttft_p50'])}; ")
        out.append(f"  {KIND_NAMES[kind]}: {first_line}turn p50 {ratio(t['turn'][0], TARGETS['turn_p50'])}; "
                   f"turn p95 {ratio(t['turn'][1], TARGETS['turn_p95'])}")
    if pairs:
        runs = [f for _, f in pairs]
        f_ttft, f_turn = p50_p95([f.ttft for f in runs]), p50_p95([f.total for f in runs])
        out.append(f"  floor vs targets: TTFT p50 {ratio(f_ttft[0], TARGETS['ttft_p50'])}; total p50 "
                   f"{ratio(f_turn[0], TARGETS['turn_p50'])}; total p95 {ratio(f_turn[1], TARGETS['turn_p95'])}")
        written = times([r for r, _ in pairs])
        out.append("  model-written turn / floor: " + "; ".join(
            f"{name} {over(written[key][i], floor_value[i])}"
            for name, key, floor_value, i in (("TTFT p50", "ttft", f_ttft, 0), ("TTFT p95", "ttft", f_ttft, 1),
                                              ("turn p50", "turn", f_turn, 0), ("turn p95", "turn", f_turn, 1))))
        per_turn = [r.total / f.total for r, f in pairs if f.total > 0]
        beyond = pct([r.total - f.total for r, f in pairs], 50)
        out.append(f"  per turn, turn / floor: p50 {pct(per_turn, 50):.2f}x  p95 {pct(per_turn, 95):.2f}x  "
                   f"(the turn's own work beyond the model: p50 {beyond:+.2f} s)")
        same = [(r, f) for r, f in pairs if r.tokens == f.tokens and f.total > 0]
        if same:  # the turn ran the model to the same end as llama.cpp alone (it may stop it early)
            out.append(f"  like for like ({len(same)} turns that generated as many tokens as llama.cpp alone): "
                       f"turn / floor p50 {pct([r.total / f.total for r, f in same], 50):.2f}x  "
                       f"p95 {pct([r.total / f.total for r, f in same], 95):.2f}x")
    model = [r for r in rows if r.kind == "model"]
    if any(r.steps for r in model):
        called = p50_p95([r.called for r in model])
        out.append(f"  model-written turns: model called after p50 {called[0]:.2f} s p95 {called[1]:.2f} s; ms per "
                   "step p50/p95: " + ", ".join(
                       f"{step} {pct([r.steps.get(step, 0.0) for r in model], 50):.0f}/"
                       f"{pct([r.steps.get(step, 0.0) for r in model], 95):.0f}" for step in STEPS))
    return out


def over(value: float, floor: float) -> str:
    if value != value or floor != floor or floor <= 0:
        return "-"
    return f"{value:.2f} / {floor:.2f} s = {value / floor:.2f}x"


def report(rows: Sequence[TurnRow], floor: Sequence[FloorRun] = ()) -> list[str]:
    """Every shop's table, then all shops together."""
    shops = list(dict.fromkeys(r.shop for r in rows))
    lines: list[str] = []
    for shop in shops:
        lines += shop_table(shop, [r for r in rows if r.shop == shop], floor)
    if len(shops) > 1:
        lines += shop_table("all shops", rows, floor)
    return lines


def as_dict(row: TurnRow) -> dict[str, Any]:
    return dict(row.__dict__)
