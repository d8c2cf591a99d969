"""The ``concierge eval`` command: builds a fresh demo shop and runs the golden set through the service."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from assistant.evaluation import DEMO_NOW
from assistant.evaluation.runner import (
    GOLDEN,
    THRESHOLDS,
    CaseResult,
    ShopFacts,
    load_cases,
    load_thresholds,
    run_cases,
    summarize,
)
from ui.cli.cli_context import cli_context, progress_bar

eval_app = typer.Typer(help="Evaluate the assistant on the demo shop.", invoke_without_command=True)


@eval_app.callback()
def run_eval(
    ctx: typer.Context,
    cases: Annotated[Path, typer.Option(help="Golden cases (JSONL).", exists=True, dir_okay=False)] = GOLDEN,
    category: Annotated[list[str] | None, typer.Option(help="Only these categories.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many cases.")] = None,
    thresholds: Annotated[Path, typer.Option(help="Per-category minimum accuracy (JSON).", exists=True,
                                             dir_okay=False)] = THRESHOLDS,
    report: Annotated[Path | None, typer.Option(help="Write every case's result here (JSONL).")] = None,
    show_failures: Annotated[bool, typer.Option(help="Print each failed case.")] = True,
    shop: Annotated[str | None, typer.Option(
        help="Instead of the golden set: questions computed from this shop folder's own data (or 'demo'), "
             "scored correct / wrong / declined per category.")] = None,
    policy_questions: Annotated[Path | None, typer.Option(
        help="With --shop: hand-written policy questions (JSONL); default FOLDER/eval/policy-questions.jsonl.",
        exists=True, dir_okay=False)] = None,
    per_category: Annotated[int, typer.Option(help="With --shop: questions per generated category.", min=1)] = 8,
    seed: Annotated[int, typer.Option(help="With --shop: which questions are drawn.")] = 7,
    min_correct: Annotated[float, typer.Option(help="With --shop: least share correct.", min=0, max=1)] = 0.9,
    max_wrong: Annotated[float, typer.Option(help="With --shop: most share wrong.", min=0, max=1)] = 0.02,
    plot: Annotated[Path | None, typer.Option(help="With --shop: a PNG of the answers per category.")] = None,
    language: Annotated[str | None, typer.Option(
        help="With --shop: the language the generated questions are asked in (en, zh; default: the shop's, from "
             "shop.json's locale).")] = None,
    generated: Annotated[bool, typer.Option(
        "--generated/--hand-written-only",
        help="With --shop: also ask the questions computed from the shop's data (or only the file's).")] = True,
    min_in_language: Annotated[float, typer.Option(
        help="With --shop: least share of replies written in their question's language.", min=0, max=1)] = 0.0,
) -> None:
    """Run the golden set (policy facts, products, own orders, recommendations, unknowns, other shoppers'
    data, offers) against the configured model on a fresh copy of the demo shop, and print accuracy
    per category. Exits 1 when a category is below its threshold.

    With --shop FOLDER: generated questions with answers computed from that shop's own catalogue and orders
    (a named variant's price and stock, option counts, cheapest / dearest / compare, attributes, own orders by
    id, another shopper's order, questions the shop cannot answer) plus its policy questions file, on a fresh
    import of the folder. Exits 1 below --min-correct, above --max-wrong or on any leak."""
    if ctx.invoked_subcommand is not None:
        return
    if shop is not None:
        from ui.cli.shop_eval_commands import run_shop_eval

        context = cli_context(ctx)
        run_shop_eval(context.load_settings(), shop, policy_questions=policy_questions, per_category=per_category,
                      seed=seed, categories=category or [], limit=limit, min_correct=min_correct,
                      max_wrong=max_wrong, report=report, plot=plot, show_failures=show_failures,
                      language=language, generated=generated, min_in_language=min_in_language)
        return
    from rich.console import Console
    from rich.table import Table

    from assistant.components import build_assistant, build_components, limit_torch_threads
    from assistant.shop.shop_import import demo_shop_path, ingest_shop

    run = cli_context(ctx)
    console = Console(stderr=False)
    selected = [c for c in load_cases(cases) if not category or c["category"] in category][:limit]
    with tempfile.TemporaryDirectory(prefix="concierge-eval-") as tmp:
        settings = run.load_settings(overrides={"app": {"data_dir": tmp, "load_demo": False},
                                                "database": {"url": None}, "knowledge": {"path": None}})
        limit_torch_threads(settings)
        components = build_components(settings)
        reports = ingest_shop(demo_shop_path(), components.knowledge, components.stores.customers,
                              components.stores.offers, shop_profiles=components.stores.shop)
        if not all(r.ok for r in reports):
            print(f"demo shop import failed: {[r.summary() for r in reports]}", file=sys.stderr)
            raise typer.Exit(2)
        service = build_assistant(components, now=lambda: DEMO_NOW)
        facts = ShopFacts.read(components.stores)
        done = [0]

        def progress(result: CaseResult) -> None:
            done[0] += 1
            mark = "ok  " if result.passed else "FAIL"
            print(f"[{done[0]:>3}/{len(selected)}] {mark} {result.id:<18} {result.seconds:5.2f}s {result.verdict}",
                  file=sys.stderr)

        results = run_cases(service, selected, facts, progress)
        components.stores.close()
    rows, ok = summarize(results, load_thresholds(thresholds))
    table = Table(title=f"concierge eval: {len(results)} cases, model {settings.llm.mode}")
    for column in ("category", "cases", "passed", "accuracy", "threshold", "", "fallbacks", "median time"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if show_failures:
        for r in results:
            if not r.passed:
                console.print(f"[red]FAIL[/red] {r.id}: {r.message!r} -> {r.reply[:160]!r}: {'; '.join(r.failures)}",
                              highlight=False, markup=True)
    if report:
        with report.open("w", encoding="utf-8") as f:
            for r in results:
                f.write(json.dumps({"id": r.id, "category": r.category, "message": r.message, "reply": r.reply,
                                    "verdict": r.verdict, "passed": r.passed, "failures": r.failures,
                                    "seconds": round(r.seconds, 3), "first_text_s": r.first_text_s}) + "\n")
    overall = next(r for r in rows if r[0] == "overall")
    print(f"summary: {overall[2]}/{overall[1]} passed ({overall[3]}); thresholds {'met' if ok else 'NOT met'}")
    if not ok:
        raise typer.Exit(1)


@eval_app.command("recommend")
def eval_recommend(
    ctx: typer.Context,
    shop: Annotated[list[Path] | None, typer.Option(
        help="A shop folder (products.*, customers.*); repeat for several. Default: the bundled demo shop.")] = None,
    k: Annotated[int, typer.Option("-k", help="Cut-off of hit rate@k and NDCG@k.", min=1)] = 10,
    report: Annotated[Path | None, typer.Option(help="Write the figures here (JSON).")] = None,
) -> None:
    """Leave-one-out on purchase histories: hold out each shopper's last purchased product, rank the catalogue
    from the rest, and print hit rate@k and NDCG@k of the hybrid recommender against a popularity baseline
    (and each signal alone). Each shop is imported into fresh temporary stores."""
    from rich.console import Console
    from rich.table import Table

    from assistant.evaluation.recommender_eval import evaluate_folder, table_rows, to_json
    from assistant.shop.shop_import import demo_shop_path

    settings = cli_context(ctx).load_settings()
    folders = list(shop or [Path(demo_shop_path())])
    results = []
    for i, folder in enumerate(folders):
        if not folder.is_dir():
            raise typer.BadParameter(f"{folder} is not a folder", param_hint="--shop")
        with progress_bar(f"{folder.name}") as progress:
            try:
                results.append(evaluate_folder(folder, settings, k, prefix=f"evalrec{i}_", progress=progress))
            except ValueError as e:
                print(f"error: {e}", file=sys.stderr)
                raise typer.Exit(2) from e
    table = Table(title=f"concierge eval recommend: leave-one-out, embeddings {settings.embeddings.mode}")
    for column in ("shop", "cases", "method", f"hit@{k}", f"NDCG@{k}", f"hit@{k} - popularity"):
        table.add_column(column)
    for row in table_rows(results):
        table.add_row(*row)
    Console().print(table)
    if report:
        report.write_text(json.dumps(to_json(results, k), indent=2), encoding="utf-8")
    summary = "; ".join(f"{r.shop}: hybrid hit@{k} {r.scores['hybrid'].hit_rate:.3f} vs popularity "
                        f"{r.scores['popularity'].hit_rate:.3f} ({r.cases} shoppers)" for r in results)
    print(f"summary: {summary}")
