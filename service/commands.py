"""What every `nrm` command shares: the console for messages and the process context."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from service.config import ConfigError, Settings
from service.context import AppContext, bootstrap
from workflows import DefinitionError

console = Console(stderr=True)


@contextmanager
def command_context() -> Iterator[AppContext]:
    """The context for one command (exit 2 if it cannot start); its connections close after."""
    try:
        context = bootstrap(Settings())
    except (ConfigError, DefinitionError) as exc:
        console.print(f"[red]cannot start:[/red] {exc}")
        raise typer.Exit(2) from exc
    try:
        yield context
    finally:
        context.database.engine.dispose()
