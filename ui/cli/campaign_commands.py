"""``concierge campaign ...``: create a campaign, draw its audience and holdout, write its copy for review, export
a channel's file (see docs/campaigns.md). Added to the ``concierge`` app by ``ui.cli.main``; the service is
:class:`assistant.personalization.campaign_service.Campaigns`.
"""

from __future__ import annotations

import getpass
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ui.cli.cli_context import cli_context, user_errors

if TYPE_CHECKING:
    from assistant.personalization.campaign_service import Campaigns

campaign_app = typer.Typer(help="Marketing campaigns: audience, holdout, copy variants, channel exports.",
                           no_args_is_help=True)
NUMBERS = {"candidates": int, "max_new_tokens": int, "top_k": int, "beams": int, "temperature": float,
           "top_p": float}


def _service(ctx: typer.Context) -> Campaigns:
    from assistant.personalization.campaign_service import build_campaigns

    return build_campaigns(cli_context(ctx).components)


def parse_variant(text: str) -> dict[str, object]:
    """``id=A,kind=email,per=shopper,candidates=3,temperature=0.8,top_k=40,top_p=0.9,max_new_tokens=120,beams=1``"""
    out: dict[str, object] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip().replace("-", "_")
        if not sep:
            raise typer.BadParameter(f"{part!r} is not key=value", param_hint="--variant")
        try:
            out[key] = NUMBERS[key](value) if key in NUMBERS else value.strip()
        except ValueError as e:
            raise typer.BadParameter(f"{key} needs a number, not {value!r}", param_hint="--variant") from e
    return out


def _time(value: str, name: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError as e:
        raise typer.BadParameter("an ISO 8601 time, e.g. 2026-12-01T09:00:00Z", param_hint=name) from e


@campaign_app.command("create")
def create_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What the campaign is called.")],
    starts: Annotated[str, typer.Option(help="Start of the schedule window (ISO 8601).")],
    ends: Annotated[str, typer.Option(help="End of the schedule window (ISO 8601).")],
    variant: Annotated[list[str], typer.Option(help="A copy variant, e.g. 'id=A,kind=email,per=shopper,candidates=3,"
                                                    "temperature=0.8,top_k=40,top_p=0.9,max_new_tokens=120'. "
                                                    "Repeat for more.")],
    holdout: Annotated[float, typer.Option(min=0.0, max=0.99, help="Share of the audience that gets nothing.")] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed of the holdout draw.")] = 0,
    campaign_id: Annotated[str | None, typer.Option("--id", help="The campaign's id (default: generated).")] = None,
    tier: Annotated[list[str] | None, typer.Option(help="Only these tiers (repeat).")] = None,
    category: Annotated[list[str] | None, typer.Option(help="Category affinity: one of these (repeat).")] = None,
    brand: Annotated[list[str] | None, typer.Option(help="Brand affinity: one of these (repeat).")] = None,
    min_affinity: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Least preference confidence.")] = None,
    ordered_within_days: Annotated[int | None, typer.Option(min=0, help="Ordered in the last N days.")] = None,
    not_ordered_for_days: Annotated[int | None, typer.Option(min=0, help="No order in the last N days.")] = None,
    min_spend: Annotated[float | None, typer.Option(min=0.0, help="Orders came to at least this.")] = None,
    max_spend: Annotated[float | None, typer.Option(min=0.0, help="Orders came to at most this.")] = None,
    language: Annotated[list[str] | None, typer.Option(help="Only shoppers of these languages (repeat).")] = None,
    personalization: Annotated[bool | None, typer.Option("--personalization/--no-personalization",
                                                         help="Require personalization consent (or its absence).")
                               ] = None,
) -> None:
    """Define a campaign. Shoppers without marketing consent are never in its audience."""
    rules = {"tiers": tier, "categories": category, "brands": brand, "min_affinity": min_affinity,
             "ordered_within_days": ordered_within_days, "not_ordered_for_days": not_ordered_for_days,
             "min_spend": min_spend, "max_spend": max_spend, "languages": language,
             "personalization": personalization}
    with user_errors():
        campaign = _service(ctx).create(
            name=name, rules={k: v for k, v in rules.items() if v is not None},
            variants=[parse_variant(v) for v in variant], holdout_share=holdout, seed=seed,
            starts_at=_time(starts, "--starts"), ends_at=_time(ends, "--ends"), created_by=getpass.getuser(),
            campaign_id=campaign_id)
    typer.echo(f"campaign {campaign.id} created: {campaign.name}, variants {', '.join(campaign.variant_ids)}, "
               f"holdout {campaign.holdout_share:.0%}, window {campaign.starts_at.isoformat()} - "
               f"{campaign.ends_at.isoformat()}")


@campaign_app.command("list")
def list_cmd(ctx: typer.Context) -> None:
    """Every campaign, newest first."""
    found = _service(ctx).stores.campaigns.all()
    for c in found:
        typer.echo(f"{c.id}  {c.name}  variants {', '.join(c.variant_ids)}  holdout {c.holdout_share:.0%}  "
                   f"{c.starts_at.date()} - {c.ends_at.date()}")
    typer.echo(f"{len(found)} campaign(s)")


@campaign_app.command("show")
def show_cmd(ctx: typer.Context, campaign_id: str) -> None:
    """The campaign, its members per arm, their copy per review status, how many were sent."""
    with user_errors():
        status = _service(ctx).status(campaign_id)
    typer.echo(json.dumps(status.to_dict(), indent=2, ensure_ascii=False))


@campaign_app.command("assign")
def assign_cmd(ctx: typer.Context, campaign_id: str) -> None:
    """Draw the audience from the profiles now, and the holdout (seeded). Once per campaign."""
    with user_errors():
        draw = _service(ctx).assign(campaign_id)
    arms = ", ".join(f"{k} {v}" for k, v in sorted(draw.arms.items())) or "none"
    left = ", ".join(f"{k} {v}" for k, v in sorted(draw.excluded.items())) or "none"
    typer.echo(f"campaign {campaign_id}: {draw.members} member(s) ({arms}); left out: {left}")


@campaign_app.command("generate")
def generate_cmd(ctx: typer.Context, campaign_id: str) -> None:
    """Write the treated members' copy with each variant's parameters, queued for review (concierge copy ...)."""
    with user_errors():
        run = _service(ctx).generate(campaign_id)
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(run.skipped.items())) or "none"
    typer.echo(f"campaign {campaign_id}: {run.queued} piece(s) of copy pending review for {run.members_with_copy} "
               f"member(s); skipped: {skipped}. Review them with: concierge copy list --status pending")


@campaign_app.command("members")
def members_cmd(ctx: typer.Context, campaign_id: str) -> None:
    """Members, one JSON object per line (arm, copy draft, send time)."""
    with user_errors():
        for member in _service(ctx).members(campaign_id):
            typer.echo(json.dumps(member.to_dict()))


@campaign_app.command("export")
def export_cmd(
    ctx: typer.Context,
    campaign_id: str,
    channel: Annotated[str, typer.Option(help="email (copy per member) | ads (SHA-256 of normalised e-mails)")
                       ] = "email",
    fmt: Annotated[str, typer.Option("--format", help="csv | json")] = "csv",
    variant: Annotated[str | None, typer.Option(help="Only this variant's members.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write here (default: stdout).")] = None,
) -> None:
    """The channel's file of members with approved copy, inside the schedule window; they are marked sent."""
    with user_errors():
        result = _service(ctx).export(campaign_id, channel, fmt, variant)
    if out is None:
        typer.echo(result.content, nl=False)
    else:
        out.write_text(result.content, encoding="utf-8")
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(result.skipped.items())) or "none"
    typer.echo(f"{result.rows} member(s) exported for {channel}" + (f" to {out}" if out else "")
               + f"; left out: {skipped}", err=True)


@campaign_app.command("report")
def report_cmd(
    ctx: typer.Context,
    campaign_id: str,
    resamples: Annotated[int, typer.Option(min=100, help="Bootstrap resamples of the revenue interval.")] = 2000,
    plot: Annotated[Path | None, typer.Option(help="PNG of the uplift. Default: "
                                                   "<data_dir>/campaigns/<id>-uplift.png")] = None,
) -> None:
    """Measured uplift: conversion and revenue per shopper of each variant (and all pooled) against the holdout,
    with confidence intervals, on the members' orders since the first send."""
    from assistant.personalization.uplift_report import format_uplift, uplift_plot

    run = cli_context(ctx)
    with user_errors():
        report = _service(ctx).uplift(campaign_id, resamples=resamples)
    typer.echo(format_uplift(report))
    path = uplift_plot(report, plot or run.settings.app.data_dir / "campaigns" / f"{campaign_id}-uplift.png")
    typer.echo(f"plot: {path}")
