"""The ``concierge`` command. Settings are loaded here, once, from ``--profile`` / ``--config`` / env."""

from __future__ import annotations

import json
import logging
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from assistant.errors import ConciergeError
from knowledge.importing import ImportReport
from ui.cli.campaign_commands import campaign_app
from ui.cli.cli_context import CliContext, cli_context, progress_bar
from ui.cli.eval_commands import eval_app
from ui.cli.insights_commands import insights_cmd
from ui.cli.marketing_commands import copy_app, generate_app, simulate_app
from ui.cli.profile_commands import profiles_app
from ui.cli.staff_commands import users_app

app = typer.Typer(
    help="Concierge: an AI customer-service and personalization assistant for online shops.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Import one kind of shop data (see docs/formats.md).", no_args_is_help=True)
customer_app = typer.Typer(help="One shopper's data: export or erase it.", no_args_is_help=True)


@app.callback()
def main_options(
    ctx: typer.Context,
    profile: Annotated[
        list[str] | None, typer.Option("--profile", "-p", help="Settings profile(s), e.g. test or scale.")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="A YAML settings file merged over the defaults.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at DEBUG level.")] = False,
) -> None:
    # the run's CliContext on ctx.obj; one the caller gave (tests) keeps its components
    given = ctx.obj if isinstance(ctx.obj, CliContext) else None
    ctx.obj = CliContext(profile or None, config, given.components_built if given else None)
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _print_reports(reports: list[ImportReport]) -> None:
    for report in reports:
        for error in report.errors[:50]:
            typer.echo(f"error: {error}", err=True)
        if len(report.errors) > 50:
            typer.echo(f"error: ... and {len(report.errors) - 50} more", err=True)
        typer.echo(report.summary())
    if any(not r.ok for r in reports):
        raise typer.Exit(1)


PathArg = Annotated[Path, typer.Argument(help="A file, or a folder of files.", exists=False)]
SourceOpt = Annotated[
    str | None,
    typer.Option("--source", help="Label of this import set (default: the file or folder name). "
                 "Re-importing under the same label deletes records no longer present."),
]


@import_app.command("catalog")
def import_catalog_cmd(ctx: typer.Context, path: PathArg, source: SourceOpt = None) -> None:
    """Products from JSONL, JSON or CSV into the knowledge base."""
    from knowledge.catalog_import import import_catalog

    run = cli_context(ctx)
    knowledge = run.components.knowledge
    with progress_bar("catalog") as progress:
        report = import_catalog(knowledge, path, origin=source, max_bytes=run.max_bytes, progress=progress)
    run.components.shop_data_imported([report])  # running servers on this database reload the catalogue
    _print_reports([report])


@import_app.command("policies")
def import_policies_cmd(ctx: typer.Context, path: PathArg, source: SourceOpt = None) -> None:
    """Policy documents (md, txt, html, pdf) into the knowledge base."""
    from knowledge.policy_import import import_policies

    run = cli_context(ctx)
    s = run.settings.knowledge
    knowledge = run.components.knowledge
    with progress_bar("policies") as progress:
        report = import_policies(knowledge, path, origin=source, chunk_size=s.chunk_size, overlap=s.chunk_overlap,
                                 max_bytes=run.max_bytes, progress=progress, max_chars=s.max_document_chars,
                                 max_chunks=s.max_chunks_per_document)
    run.components.shop_data_imported([report])
    _print_reports([report])


@import_app.command("customers")
def import_customers_cmd(ctx: typer.Context, path: PathArg, source: SourceOpt = None) -> None:
    """Customers with consent, preferences and orders (JSONL or JSON) into the profile store."""
    from assistant.shop.shop_import import import_customers

    run = cli_context(ctx)
    store = run.components.stores.customers
    with progress_bar("customers") as progress:
        report = import_customers(store, path, origin=source, max_bytes=run.max_bytes, progress=progress)
    _print_reports([report])


@import_app.command("events")
def import_events_cmd(ctx: typer.Context,
                      path: Annotated[Path, typer.Argument(help="A .jsonl, .ndjson or .csv event file.")]) -> None:
    """Shop events (views, searches, carts, purchases, reviews) into the shoppers' inferred preferences."""
    from assistant.personalization.event_intake import build_event_intake

    intake = build_event_intake(cli_context(ctx).components)
    with progress_bar("events") as progress:
        report, outcome = intake.import_file(path, progress)
    typer.echo(f"preferences: {outcome.learned} learned, {outcome.lowered} lowered, {outcome.refused} refused "
               "(removed by the shopper before)")
    typer.echo(f"purchases: {outcome.purchases_recorded} recorded (an event id recorded before is not counted again)")
    _print_reports([report])


@app.command()
def ingest(
    ctx: typer.Context,
    path: Annotated[
        Path | None, typer.Argument(help="A shop folder (products.*, policies/, customers.*, offers.json). "
                                    "Default: the bundled demo shop app.demo_shop names.")
    ] = None,
) -> None:
    """Import a whole shop folder: catalogue, policies, customers and offers."""
    from assistant.shop.shop_import import demo_shop_path, ingest_shop

    run = cli_context(ctx)
    root = path or demo_shop_path(run.settings.app.demo_shop)
    s = run.settings.knowledge
    components = run.components
    with ExitStack() as bars:
        reports = ingest_shop(root, components.knowledge, components.stores.customers, components.stores.offers,
                              shop_profiles=components.stores.shop,
                              chunk_size=s.chunk_size,
                              overlap=s.chunk_overlap, max_bytes=run.max_bytes,
                              max_document_chars=s.max_document_chars,
                              max_chunks_per_document=s.max_chunks_per_document,
                              progress_for=lambda kind: bars.enter_context(progress_bar(kind)))
    components.shop_data_imported(reports)
    _print_reports(reports)


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to look for.")],
    kind: Annotated[str, typer.Option(help="products or policies")] = "products",
    k: Annotated[int, typer.Option("-k", help="How many hits.")] = 5,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    max_price: Annotated[float | None, typer.Option(help="Only products at or under this price.")] = None,
    in_stock: Annotated[bool, typer.Option(help="Only products in stock.")] = False,
) -> None:
    """Search the knowledge base and print hits with their citations."""
    filters: dict[str, object] = {"category": category, "max_price": max_price,
                                  "in_stock": True if in_stock else None}
    if kind not in ("products", "policies"):
        raise typer.BadParameter("choose products or policies", param_hint="--kind")
    knowledge = cli_context(ctx).components.knowledge
    hits = knowledge.search(query, "products" if kind == "products" else "policies", k,
                            filters if kind == "products" else None)
    for hit in hits:
        c = hit.citation
        label = c.get("heading") if kind == "policies" else f"{c.get('name')} ({hit.metadata.get('price')})"
        typer.echo(f"{hit.score:.3f}  {hit.id}  {label}  [{c.get('source')}]")
    if not hits:
        typer.echo("no hits")


@app.command()
def status(ctx: typer.Context) -> None:
    """Show where data lives and what the stores hold."""
    run = cli_context(ctx)
    s = run.settings
    typer.echo(f"data dir:   {s.app.data_dir.resolve()}")
    typer.echo(f"database:   {s.database_url}")
    typer.echo(f"knowledge:  {s.knowledge.mode} {s.knowledge.server_url or s.chroma_path}")
    for kind, count in run.components.knowledge.stats().items():
        typer.echo(f"  {kind}: {count}")
    typer.echo(f"customers:  {len(run.components.stores.customers.list_ids())}")


@app.command("settings")
def settings_cmd(
    ctx: typer.Context,
    docs: Annotated[bool, typer.Option("--docs", help="Print the settings reference as Markdown.")] = False,
) -> None:
    """Print the effective settings (secrets masked) or their reference."""
    from assistant.config.loading import settings_reference

    if docs:
        typer.echo(settings_reference())
        return
    typer.echo(json.dumps(cli_context(ctx).load_settings().model_dump(mode="json"), indent=2))


@customer_app.command("export")
def customer_export(
    ctx: typer.Context,
    customer_id: Annotated[str, typer.Argument(help="The shopper's id.")],
    out: Annotated[Path | None, typer.Option(help="Write the JSON here instead of printing it.")] = None,
) -> None:
    """Everything stored about one shopper, as JSON."""
    from assistant.privacy.customer_data import export_customer, to_json

    text = to_json(export_customer(cli_context(ctx).components.stores.engine, customer_id))
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"exported {customer_id} to {out}", err=True)
    else:
        typer.echo(text)


@customer_app.command("delete")
def customer_delete(
    ctx: typer.Context,
    customer_id: Annotated[str, typer.Argument(help="The shopper's id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Really erase (it cannot be undone).")] = False,
) -> None:
    """Erase one shopper and everything of theirs, then check that nothing remains."""
    from assistant.privacy.customer_data import erase_customer

    if not yes:
        typer.echo("refusing to erase without --yes", err=True)
        raise typer.Exit(2)
    stores = cli_context(ctx).components.stores
    removed = erase_customer(stores.engine, stores.customers, customer_id)
    typer.echo(f"erased {customer_id}: " + ", ".join(f"{n} {t}" for t, n in sorted(removed.items())))


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Bind address (default: app.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: app.port).")] = None,
) -> None:
    """Start the web app: shopper chat, REST API and health check (limits and timeouts: settings.server)."""
    from ui.cli.serving import serve_app

    serve_app(cli_context(ctx), host, port)


# the sub-apps, in the order ``concierge --help`` lists them; each is light (typer only): the commands import
# what they need when run
app.add_typer(import_app, name="import")
app.add_typer(customer_app, name="customer")
app.add_typer(simulate_app, name="simulate")
app.add_typer(generate_app, name="generate")
app.add_typer(copy_app, name="copy")
app.add_typer(users_app, name="users")
app.add_typer(eval_app, name="eval")
app.add_typer(profiles_app, name="profiles")
app.add_typer(campaign_app, name="campaign")
app.command("insights")(insights_cmd)


def main() -> None:
    try:
        app()
    except ConciergeError as e:
        typer.echo(f"error: {e}", err=True)
        if e.user_message and e.user_message != str(e):
            typer.echo(e.user_message, err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
