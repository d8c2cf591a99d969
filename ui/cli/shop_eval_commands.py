"""``concierge eval --shop FOLDER``: the multi-shop eval, printed as a table (and, on request, a report and a plot).

The work is :func:`assistant.evaluation.shop_eval.evaluate_shop`; this module only shows it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import typer

from assistant.evaluation.shop_eval import (
    CategoryTally,
    ShopEvalRun,
    ShopResult,
    evaluate_shop,
    language_shares,
    meets,
)
from assistant.settings import Settings

#: where a shop folder may keep its hand-written policy questions
POLICY_QUESTIONS = Path("eval") / "policy-questions.jsonl"


def resolve_shop(name: str) -> Path:
    """``demo`` is the bundled demo shop; anything else is a folder."""
    from assistant.shop.shop_import import demo_shop_path

    folder = demo_shop_path() if name == "demo" else Path(name)
    if not folder.is_dir():
        raise typer.BadParameter(f"{name}: no such shop folder (a folder with products.*, policies/, customers.*)",
                                 param_hint="--shop")
    return folder


def run_shop_eval(settings: Settings, shop: str, *, policy_questions: Path | None, per_category: int, seed: int,
                  categories: Sequence[str], limit: int | None, min_correct: float, max_wrong: float,
                  report: Path | None, plot: Path | None, show_failures: bool, language: str | None = None,
                  generated: bool = True, min_in_language: float = 0.0) -> None:
    from rich.console import Console
    from rich.table import Table

    folder = resolve_shop(shop)
    if policy_questions is None and (folder / POLICY_QUESTIONS).is_file():
        policy_questions = folder / POLICY_QUESTIONS

    def progress(done: int, total: int, result: ShopResult) -> None:
        print(f"[{done:>3}/{total}] {result.outcome.verdict:<8} {result.question.category:<14} "
              f"{result.seconds:5.2f}s {result.question.id}", file=sys.stderr)

    run = evaluate_shop(settings, folder, policy_questions=policy_questions, per_category=per_category, seed=seed,
                        categories=categories, limit=limit, progress=progress,
                        log=lambda line: print(line, file=sys.stderr), language=language, generated=generated)
    console = Console(stderr=False)
    table = Table(title=f"concierge eval --shop {run.shop}: {len(run.results)} questions, model {run.model}"
                        + ("" if policy_questions else " (no policy questions file)"))
    for column in ("category", "asked", "correct", "wrong", "declined", "leaks", "model wrote, passed",
                   "built from facts", "model's passed that were wrong", "in its language"):
        table.add_column(column)
    for row in run.rows:
        table.add_row(*_cells(row))
    console.print(table)
    if show_failures:
        for r in run.results:
            if r.outcome.verdict != "correct" or not r.in_language:
                console.print(f"{r.outcome.verdict.upper()} [{r.reply_language}] {r.question.id}: "
                              f"{r.question.message!r} -> {r.reply[:160]!r}: {r.outcome.why}", highlight=False,
                              markup=False)
    if report:
        with report.open("w", encoding="utf-8") as f:
            for r in run.results:
                f.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
    if plot:
        write_plot(run, plot)
        print(f"plot: {plot}", file=sys.stderr)
    overall = next(r for r in run.rows if r.category == "overall")
    ok = meets(run.rows, min_correct, max_wrong, min_in_language)
    languages = ", ".join(f"{hits}/{asked} {code} replies in {code}" for code, (hits, asked)
                          in sorted(language_shares(run.results).items()))
    in_language = f", in their language >= {min_in_language:.0%}" if min_in_language else ""
    print(f"summary: {run.shop}: {overall.correct}/{overall.asked} correct ({overall.correct_share:.0%}), "
          f"{overall.wrong} wrong ({overall.wrong_share:.0%}), {overall.declined} declined, {overall.leaks} leaks; "
          f"{languages}; thresholds (correct >= {min_correct:.0%}, wrong <= {max_wrong:.0%}, 0 leaks{in_language}) "
          f"{'met' if ok else 'NOT met'}")
    if not ok:
        raise typer.Exit(1)


def _cells(row: CategoryTally) -> list[str]:
    asked = row.asked or 1
    return [row.category, str(row.asked), f"{row.correct} ({row.correct / asked:.0%})",
            f"{row.wrong} ({row.wrong / asked:.0%})", str(row.declined), str(row.leaks),
            f"{row.model_passed / asked:.0%}", f"{(row.asked - row.model_passed) / asked:.0%}",
            f"{row.model_wrong}/{row.model_passed}" if row.model_passed else "-", f"{row.in_language / asked:.0%}"]


def write_plot(run: ShopEvalRun, path: Path) -> None:
    """Correct / wrong / declined per category as stacked horizontal bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in run.rows if r.asked]
    labels = [f"{r.category} ({r.asked})" for r in rows]
    shares = {kind: [getattr(r, kind) / r.asked for r in rows] for kind in ("correct", "declined", "wrong")}
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.2))
    left = [0.0] * len(rows)
    for kind, colour in (("correct", "#2e7d32"), ("declined", "#9e9e9e"), ("wrong", "#c62828")):
        ax.barh(labels, shares[kind], left=left, color=colour, label=kind)
        left = [a + b for a, b in zip(left, shares[kind], strict=True)]
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of questions")
    ax.set_title(f"{run.shop}: answers by category (model {run.model})")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
