"""The ``concierge`` command. Settings are loaded here, once, from ``--profile`` / ``--config`` / env."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.components import Components, build_components
from assistant.config.loading import load_settings
from assistant.errors import ConciergeError
from assistant.settings import Settings
from knowledge.importing import ImportReport

app = typer.Typer(
    help="Concierge: an AI customer-service and personalization assistant for online shops.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Import one kind of shop data (see docs/formats.md).", no_args_is_help=True)
app.add_typer(import_app, name="import")


def _register_eval() -> None:
    from ui.cli.eval_commands import eval_app

    app.add_typer(eval_app, name="eval")


class State:
    profiles: list[str] | None = None
    config: Path | None = None
    _components: Components | None = None

    @property
    def settings(self) -> Settings:
        return self.components.settings

    @property
    def components(self) -> Components:
        if self._components is None:
            self._components = build_components(load_settings(self.profiles, self.config))
        return self._components


state = State()


@app.callback()
def main_options(
    profile: Annotated[
        list[str] | None, typer.Option("--profile", "-p", help="Settings profile(s), e.g. test or scale.")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="A YAML settings file merged over the defaults.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at DEBUG level.")] = False,
) -> None:
    state.profiles = profile or None
    state.config = config
    state._components = None
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@contextmanager
def _progress(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr driven by (done, total) callbacks."""
    from tqdm import tqdm

    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=description, unit="rec", file=sys.stderr, leave=False,
                       disable=not sys.stderr.isatty())
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()


def _print_reports(reports: list[ImportReport]) -> None:
    for report in reports:
        for error in report.errors[:50]:
            typer.echo(f"error: {error}", err=True)
        if len(report.errors) > 50:
            typer.echo(f"error: ... and {len(report.errors) - 50} more", err=True)
        typer.echo(report.summary())
    if any(not r.ok for r in reports):
        raise typer.Exit(1)


def _customer_store() -> Any:
    return state.components.stores.customers


def _max_bytes() -> int:
    return int(state.settings.knowledge.max_file_mb * 1_000_000)


PathArg = Annotated[Path, typer.Argument(help="A file, or a folder of files.", exists=False)]
SourceOpt = Annotated[
    str | None,
    typer.Option("--source", help="Label of this import set (default: the file or folder name). "
                 "Re-importing under the same label deletes records no longer present."),
]


@import_app.command("catalog")
def import_catalog_cmd(path: PathArg, source: SourceOpt = None) -> None:
    """Products from JSONL, JSON or CSV into the knowledge base."""
    from knowledge.catalog_import import import_catalog

    knowledge = state.components.knowledge
    with _progress("catalog") as progress:
        report = import_catalog(knowledge, path, origin=source, max_bytes=_max_bytes(), progress=progress)
    _print_reports([report])


@import_app.command("policies")
def import_policies_cmd(path: PathArg, source: SourceOpt = None) -> None:
    """Policy documents (md, txt, html, pdf) into the knowledge base."""
    from knowledge.policy_import import import_policies

    s = state.settings.knowledge
    knowledge = state.components.knowledge
    with _progress("policies") as progress:
        report = import_policies(knowledge, path, origin=source, chunk_size=s.chunk_size, overlap=s.chunk_overlap,
                                 max_bytes=_max_bytes(), progress=progress)
    _print_reports([report])


@import_app.command("customers")
def import_customers_cmd(path: PathArg, source: SourceOpt = None) -> None:
    """Customers with consent, preferences and orders (JSONL or JSON) into the profile store."""
    from assistant.shop.shop_import import import_customers

    store = _customer_store()
    with _progress("customers") as progress:
        report = import_customers(store, path, origin=source, max_bytes=_max_bytes(), progress=progress)
    _print_reports([report])


@app.command()
def ingest(
    path: Annotated[
        Path | None, typer.Argument(help="A shop folder (products.*, policies/, customers.*, offers.json). "
                                    "Default: the bundled demo shop.")
    ] = None,
) -> None:
    """Import a whole shop folder: catalogue, policies, customers and offers."""
    from assistant.shop.shop_import import demo_shop_path, ingest_shop

    root = path or demo_shop_path()
    s = state.settings.knowledge
    with ExitStack() as bars:
        reports = ingest_shop(root, state.components.knowledge, _customer_store(), state.components.stores.offers,
                              chunk_size=s.chunk_size,
                              overlap=s.chunk_overlap, max_bytes=_max_bytes(),
                              progress_for=lambda kind: bars.enter_context(_progress(kind)))
    _print_reports(reports)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    kind: Annotated[str, typer.Option(help="products or policies")] = "products",
    k: Annotated[int, typer.Option("-k", help="How many hits.")] = 5,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    max_price: Annotated[float | None, typer.Option(help="Only products at or under this price.")] = None,
    in_stock: Annotated[bool, typer.Option(help="Only products in stock.")] = False,
) -> None:
    """Search the knowledge base and print hits with their citations."""
    filters: dict[str, Any] = {"category": category, "max_price": max_price, "in_stock": True if in_stock else None}
    if kind not in ("products", "policies"):
        raise typer.BadParameter("choose products or policies", param_hint="--kind")
    hits = state.components.knowledge.search(query, kind, k, filters if kind == "products" else None)  # type: ignore[arg-type]
    for hit in hits:
        c = hit.citation
        label = c.get("heading") if kind == "policies" else f"{c.get('name')} ({hit.metadata.get('price')})"
        typer.echo(f"{hit.score:.3f}  {hit.id}  {label}  [{c.get('source')}]")
    if not hits:
        typer.echo("no hits")


@app.command()
def status() -> None:
    """Show where data lives and what the stores hold."""
    s = state.settings
    typer.echo(f"data dir:   {s.app.data_dir.resolve()}")
    typer.echo(f"database:   {s.database_url}")
    typer.echo(f"knowledge:  {s.knowledge.mode} {s.knowledge.server_url or s.chroma_path}")
    for kind, count in state.components.knowledge.stats().items():
        typer.echo(f"  {kind}: {count}")
    typer.echo(f"customers:  {len(_customer_store().list_ids())}")


@app.command("settings")
def settings_cmd(
    docs: Annotated[bool, typer.Option("--docs", help="Print the settings reference as Markdown.")] = False,
) -> None:
    """Print the effective settings (secrets masked) or their reference."""
    from assistant.config.loading import settings_reference

    if docs:
        typer.echo(settings_reference())
        return
    typer.echo(json.dumps(load_settings(state.profiles, state.config).model_dump(mode="json"), indent=2))


customer_app = typer.Typer(help="One shopper's data: export or erase it.", no_args_is_help=True)
app.add_typer(customer_app, name="customer")


@customer_app.command("export")
def customer_export(
    customer_id: Annotated[str, typer.Argument(help="The shopper's id.")],
    out: Annotated[Path | None, typer.Option(help="Write the JSON here instead of printing it.")] = None,
) -> None:
    """Everything stored about one shopper, as JSON."""
    from assistant.privacy.customer_data import export_customer, to_json

    text = to_json(export_customer(state.components.stores.engine, customer_id))
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"exported {customer_id} to {out}", err=True)
    else:
        typer.echo(text)


@customer_app.command("delete")
def customer_delete(
    customer_id: Annotated[str, typer.Argument(help="The shopper's id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Really erase (it cannot be undone).")] = False,
) -> None:
    """Erase one shopper and everything of theirs, then check that nothing remains."""
    from assistant.privacy.customer_data import erase_customer

    if not yes:
        typer.echo("refusing to erase without --yes", err=True)
        raise typer.Exit(2)
    removed = erase_customer(state.components.stores.engine, state.components.stores.customers, customer_id)
    typer.echo(f"erased {customer_id}: " + ", ".join(f"{n} {t}" for t, n in sorted(removed.items())))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: app.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: app.port).")] = None,
) -> None:
    """Start the web app: shopper chat, REST API and health check."""
    import uvicorn

    from assistant.components import limit_torch_threads

    limit_torch_threads(state.settings)  # before torch and llama.cpp load
    from ui.server import create_app

    components = state.components
    s = components.settings
    web = create_app(components)
    typer.echo(f"Concierge on http://{host or s.app.host}:{port or s.app.port}/", err=True)
    uvicorn.run(web, host=host or s.app.host, port=port or s.app.port, log_level="warning")


def _register_marketing() -> None:
    from ui.cli.marketing_commands import register

    register(app, lambda: state.components)


_register_marketing()  # light: typer only; the commands import what they need when run


def _register_users() -> None:
    from ui.cli.staff_commands import register

    register(app, lambda: state.components)


_register_users()


def main() -> None:
    _register_eval()
    try:
        app()
    except ConciergeError as e:
        typer.echo(f"error: {e}", err=True)
        if e.user_message and e.user_message != str(e):
            typer.echo(e.user_message, err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
