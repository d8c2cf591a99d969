"""``concierge profiles build EVENTS_FILE``: every shopper's category and brand affinity from a whole event
file, computed on an embedded DuckDB in standard SQL and written as inferred preferences.

``--print-sql`` prints the build's SQL instead (the query that runs unchanged on Spark SQL or Trino over an
``events`` and a ``products`` table; README, "Scaling out"); ``concierge profiles load FILE`` writes the rows
such a run produced.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from ui.cli.cli_context import cli_context, progress_bar, user_errors

profiles_app = typer.Typer(help="Shoppers' profiles built from shop events (see docs/formats.md).",
                           no_args_is_help=True)


@profiles_app.command("build")
def build_cmd(
    ctx: typer.Context,
    events_file: Annotated[Path, typer.Argument(help="A .jsonl, .ndjson or .csv event file.")],
    top: Annotated[int, typer.Option(help="Categories and brands kept per shopper (each).", min=1, max=100)] = 5,
    print_sql: Annotated[bool, typer.Option("--print-sql", help="Print the build's SQL and stop.")] = False,
    memory_limit: Annotated[str | None, typer.Option(help="DuckDB's memory cap, e.g. 1GB (beyond it, it spills to "
                                                          "a temporary folder). Default: 80% of RAM.")] = None,
) -> None:
    """Category and brand affinity per shopper, with recency decay, as inferred preferences (event:<id>)."""
    from assistant.personalization.profile_build import affinity_sql, build_profiles

    run = cli_context(ctx)
    if print_sql:
        typer.echo(affinity_sql(time.time(), run.load_settings().profile.half_life_days, top))
        return
    with user_errors(), progress_bar("shoppers") as progress:
        summary = build_profiles(run.components, events_file, top_n=top, memory_limit=memory_limit,
                                 progress=lambda done: progress(done, max(done, 1)))
    typer.echo(summary.summary())


@profiles_app.command("load")
def load_cmd(
    ctx: typer.Context,
    affinities_file: Annotated[Path, typer.Argument(help="JSON Lines: customer_id, pref_kind, pref_value, "
                                                         "confidence, last_event (a build's rows).")],
) -> None:
    """Write the rows of a build run on another engine (Spark SQL, Trino) as inferred preferences."""
    from assistant.personalization.profile_build import load_affinities

    run = cli_context(ctx)
    with user_errors(), progress_bar("shoppers") as progress:
        w = load_affinities(run.components, affinities_file, progress=lambda done: progress(done, max(done, 1)))
    typer.echo(f"profiles: {w.written} preferences written, {w.unchanged} unchanged, {w.refused} refused (removed "
               f"or stated), shoppers skipped: {w.unknown_customers} unknown, {w.no_consent} without consent")
