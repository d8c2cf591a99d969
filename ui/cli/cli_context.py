"""What every ``concierge`` command is given: the settings sources of this run and the components, built once.

The root callback (``ui.cli.main``) puts a :class:`CliContext` on ``ctx.obj``; commands take a
``typer.Context`` and call :func:`cli_context`. Helpers shared by the command modules live here too, so
the command modules import this module and never each other or ``ui.cli.main``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from assistant.components import Components, build_components
from assistant.config.loading import load_settings
from assistant.errors import ConciergeError
from assistant.settings import Settings

if TYPE_CHECKING:
    from tqdm import tqdm


@dataclass
class CliContext:
    """One run of ``concierge``: ``--profile`` / ``--config`` and the components (built on first use).

    A caller that already has components (tests, embedding) can pass ``CliContext(components=...)`` as
    ``obj`` to the app; the root callback keeps them."""

    profiles: list[str] | None = None
    config: Path | None = None
    components_built: Components | None = None

    def load_settings(self, overrides: Mapping[str, Any] | None = None) -> Settings:
        """The settings of this run (profiles, config file, environment), with ``overrides`` merged on top."""
        return load_settings(self.profiles, self.config, overrides=overrides)

    @property
    def components(self) -> Components:
        if self.components_built is None:
            self.components_built = build_components(self.load_settings())
        return self.components_built

    @property
    def settings(self) -> Settings:
        return self.components.settings

    @property
    def max_bytes(self) -> int:
        """The largest file an import reads (``knowledge.max_file_mb``)."""
        return int(self.settings.knowledge.max_file_mb * 1_000_000)


def cli_context(ctx: typer.Context) -> CliContext:
    """The :class:`CliContext` the root callback made for this run."""
    found = ctx.find_object(CliContext)
    if found is None:  # a sub-app invoked on its own, without the root callback
        found = ctx.ensure_object(CliContext)
    return found


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr driven by (done, total) callbacks."""
    from tqdm import tqdm

    bar: tqdm[NoReturn] | None = None  # tqdm(total=...) iterates nothing

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


@contextmanager
def user_errors() -> Iterator[None]:
    """A ``ConciergeError`` becomes its message for a person on stderr and exit code 2 (every sub-command)."""
    try:
        yield
    except ConciergeError as e:
        typer.echo(f"error: {e.user_message}", err=True)
        raise typer.Exit(2) from e
