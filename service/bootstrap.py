"""The composition root: build the process context once, for the server and for each command
(with the console that commands print their messages to).

It is the one place that knows every feature that must be ready before a request: the keys, the
schema, the published workflow versions, the calendar.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy import inspect

from service.arrivals import service as arrivals
from service.kit.config import ConfigError, Settings
from service.kit.context import AppContext
from service.kit.db import Database, create_db_engine
from service.kit.encryption import IdentityCipher
from service.units.service import ensure_national_units
from service.workflow.publishing import publish
from workflows import DefinitionError, load_calendar, load_directory


def bootstrap(settings: Settings, database: Database | None = None) -> AppContext:
    """Check keys and schema, publish the workflow files, and load what every request reads.

    `database` is the settings' own unless given (tests bind theirs to one connection).
    """
    keys = settings.keys
    limits = settings.database_limits
    database = database or Database(create_db_engine(settings.database_url, limits), limits=limits)
    try:
        if not inspect(database.engine).has_table("alembic_version"):
            raise ConfigError("the database has no schema yet: run `nrm db upgrade` first")
        with database.transaction() as session:
            registry = publish(session, load_directory())
            ensure_national_units(session, registry)
    except BaseException:
        database.engine.dispose()  # a refusal leaves no pooled connection behind
        raise
    extra = [settings.holidays_file] if settings.holidays_file else []
    return AppContext(
        settings=settings,
        database=database,
        registry=registry,
        calendar=load_calendar(extra),
        cipher=IdentityCipher(keys.data_key, keys.data_keys_read_only),
        on_erase=(arrivals.forget_case,),
    )


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
