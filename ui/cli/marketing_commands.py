"""Commands of the personalization loop: ``simulate offers``, ``generate copy`` and the ``copy`` review queue.

Added to the ``concierge`` app by ``ui.cli.main``; heavy imports happen inside the commands.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ui.cli.cli_context import cli_context, user_errors

if TYPE_CHECKING:
    from assistant.personalization.copywriter import CopyDraft, MarketingOptOut

simulate_app = typer.Typer(help="Simulations with known ground truth.", no_args_is_help=True)
generate_app = typer.Typer(help="Generate personalized content (queued for review).", no_args_is_help=True)
copy_app = typer.Typer(help="The review queue of generated marketing copy.", no_args_is_help=True)

# simulate ----------------------------------------------------------------------------------------
@simulate_app.command("offers")
def simulate_offers_cmd(
    ctx: typer.Context,
    rounds: Annotated[int, typer.Option(min=10, help="Shoppers arriving, one offer each.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the world and of every policy.")] = 7,
    draws: Annotated[int, typer.Option(min=1, help="Posterior draws per choice (propensity estimate).")] = 200,
    alpha: Annotated[float | None, typer.Option(min=0.0, help="LinUCB's exploration width (default: "
                                                "offers.linucb_alpha).")] = None,
    epsilon: Annotated[float | None, typer.Option(min=0.001, max=1.0, help="LinUCB's exploration share (default: "
                                                  "offers.linucb_epsilon).")] = None,
    from_logs: Annotated[bool, typer.Option("--from-logs", help="No simulation: evaluate Thompson, LinUCB and "
                                            "uniform off-policy (IPS, SNIPS, doubly robust, bootstrap CIs) on the "
                                            "shop's own logged offers.")] = False,
    resamples: Annotated[int, typer.Option(min=50, help="Bootstrap resamples of --from-logs.")] = 500,
    out: Annotated[Path | None, typer.Option(help="PNG of the cumulative regret. Default: "
                                                  "<data_dir>/simulations/offers_regret.png")] = None,
) -> None:
    """Thompson sampling vs LinUCB vs uniform random vs the best fixed offer on hidden per-segment conversion
    rates (regret table and plot, IPS and doubly robust estimates of the learned policy vs the truth), then
    Thompson vs LinUCB where the profile decides and where nothing does. With --from-logs: which policy would
    have done better on the shop's own logged offers."""
    import time

    from assistant.personalization.offer_simulation import format_report, plot_regret, simulate_offers

    settings = cli_context(ctx).settings
    alpha = settings.offers.linucb_alpha if alpha is None else alpha
    epsilon = settings.offers.linucb_epsilon if epsilon is None else epsilon
    if from_logs:
        _evaluate_logs(ctx, alpha, epsilon, seed, resamples)
        return
    started = time.perf_counter()
    result = simulate_offers(rounds, seed, draws, alpha, epsilon)
    if out is None:
        out = settings.app.data_dir / "simulations" / "offers_regret.png"
    typer.echo(format_report(result))
    path = plot_regret(result, out)
    thompson = result.runs["thompson"].regret[-1]
    context = next(c for c in result.comparisons if c.world == "context")
    typer.echo(f"\nplot: {path}")
    typer.echo(f"simulated {result.rounds:,} rounds x {len(result.runs)} policies and 2 more worlds in "
               f"{time.perf_counter() - started:.1f}s; Thompson's regret is {thompson:.0f}, "
               f"{result.runs['uniform random'].regret[-1] / max(thompson, 1e-9):.1f}x less than uniform random; "
               f"where the profile decides, LinUCB's regret is {context.ratio:.1f}x less than Thompson's")


def _evaluate_logs(ctx: typer.Context, alpha: float, epsilon: float, seed: int, resamples: int) -> None:
    from assistant.personalization.off_policy import evaluate_log, format_evaluation

    logged = cli_context(ctx).components.stores.bandit.logged_offers()
    try:
        result = evaluate_log(logged, alpha, epsilon, seed, resamples)
    except ValueError as e:
        typer.echo(f"cannot evaluate: {e}", err=True)
        raise typer.Exit(1) from e
    typer.echo(format_evaluation(result))


# generate copy -----------------------------------------------------------------------------------
@generate_app.command("copy")
def generate_copy_cmd(
    ctx: typer.Context,
    segment: Annotated[str | None, typer.Option(help="A tier: copy for that segment.")] = None,
    customer: Annotated[str | None, typer.Option(help="A customer id: copy for that shopper.")] = None,
    kind: Annotated[str, typer.Option(help="email | push | banner")] = "email",
    candidates: Annotated[int | None, typer.Option(min=1, max=10, help="Texts the model writes; the best "
                                                   "verified one is queued (default: marketing.copy_candidates).")
                          ] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", min=0, help="Top-k sampling (default: llm.top_k).")] = None,
    top_p: Annotated[float | None, typer.Option("--top-p", min=0.01, max=1.0, help="Nucleus sampling "
                                                "(default: llm.top_p).")] = None,
    temperature: Annotated[float | None, typer.Option(min=0.0, help="Sampling temperature (default: "
                                                      "llm.temperature).")] = None,
    each: Annotated[bool, typer.Option("--each", help="With --segment: one piece per customer of the tier.")
                    ] = False,
) -> None:
    """Write marketing copy from facts with the configured model, verify it, queue it for review."""
    from assistant.personalization.copywriter import CopyWriter, MarketingOptOut, Sampling

    if (segment is None) == (customer is None):
        raise typer.BadParameter("give exactly one of --segment TIER or --customer ID")
    if kind not in ("email", "push", "banner"):
        raise typer.BadParameter("choose email, push or banner", param_hint="--kind")
    components = cli_context(ctx).components
    s = components.settings
    sampling = Sampling(temperature if temperature is not None else s.llm.temperature,
                        top_p if top_p is not None else s.llm.top_p, top_k if top_k is not None else s.llm.top_k,
                        s.marketing.copy_max_new_tokens, s.llm.seed)
    n = candidates or s.marketing.copy_candidates
    with user_errors():
        writer = CopyWriter(components.assistant.deps, components.stores.copy)
        if customer is not None:
            results: list[CopyDraft | MarketingOptOut] = [writer.for_customer(customer, kind, n, sampling)]
        else:
            results = writer.for_segment(str(segment), kind, n, sampling, each=each)
    queued = [r for r in results if not isinstance(r, MarketingOptOut)]
    for r in results:
        if isinstance(r, MarketingOptOut):
            typer.echo(f"skipped: {r.user_message}")
            continue
        audience = r.customer_id or f"segment {r.segment}"
        dropped = sum(1 for c in r.verdict["candidates"] if not c["ok"])
        typer.echo(f"queued {r.id} for {audience} ({r.kind}, from the {r.verdict['source']}, {dropped} "
                   f"candidate(s) dropped): {r.text}")
        for c in r.verdict["candidates"]:
            if not c["ok"]:
                typer.echo(f"  dropped: {c['text'][:80]!r}: {'; '.join(c['problems'])}", err=True)
    templates = sum(1 for r in queued if r.verdict["source"] == "template")
    typer.echo(f"{len(queued)} piece(s) of copy pending review ({templates} built from the facts template), "
               f"{len(results) - len(queued)} shopper(s) skipped for lack of marketing consent")


# the review queue --------------------------------------------------------------------------------
def _reviewer(name: str | None) -> str:
    return name or getpass.getuser()


def _review(ctx: typer.Context, draft_id: str, action: str, reviewer: str | None, text: str | None = None,
            reason: str | None = None) -> None:
    from assistant.personalization.copywriter import review_copy, review_verifier

    components = cli_context(ctx).components
    with user_errors():
        draft = review_copy(components.stores.copy, review_verifier(components), draft_id, action,
                            _reviewer(reviewer), text, reason)
    typer.echo(f"copy {draft.id} {draft.status} by {draft.reviewer}: {draft.text}")
    for warning in (draft.verdict.get("review") or {}).get("warnings", []):
        typer.echo(f"warning: {warning}", err=True)


@copy_app.command("list")
def copy_list_cmd(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="pending | approved | edited | rejected (default: all)")
                      ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List generated copy, oldest first."""
    with user_errors():
        drafts = cli_context(ctx).components.stores.copy.list(status)
    for d in drafts:
        if as_json:
            typer.echo(json.dumps(d.to_dict(), ensure_ascii=False))
        else:
            typer.echo(f"{d.id}  {d.status:<8}  {d.kind:<6}  {d.customer_id or 'segment ' + str(d.segment)}: "
                       f"{d.text}")
    if not as_json:
        typer.echo(f"{len(drafts)} piece(s) of copy" + (f" {status}" if status else ""))


@copy_app.command("approve")
def copy_approve_cmd(ctx: typer.Context, draft_id: str,
                     reviewer: Annotated[str | None, typer.Option(help="Who approves (default: your user name).")
                                         ] = None) -> None:
    """Approve a pending piece of copy as written."""
    _review(ctx, draft_id, "approve", reviewer)


@copy_app.command("edit")
def copy_edit_cmd(ctx: typer.Context, draft_id: str,
                  text: Annotated[str, typer.Option(help="The approved text.")],
                  reviewer: Annotated[str | None, typer.Option(help="Who edits (default: your user name).")
                                      ] = None) -> None:
    """Approve a pending piece of copy with your own text (checked against its facts; problems are warned)."""
    _review(ctx, draft_id, "edit", reviewer, text=text)


@copy_app.command("reject")
def copy_reject_cmd(ctx: typer.Context, draft_id: str,
                    reviewer: Annotated[str | None, typer.Option(help="Who rejects.")] = None,
                    reason: Annotated[str | None, typer.Option(help="Why, for the record.")] = None) -> None:
    """Reject a pending piece of copy."""
    _review(ctx, draft_id, "reject", reviewer, reason=reason)
