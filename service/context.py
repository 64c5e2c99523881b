"""Everything a request needs that lives as long as the process: built once, at start-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import inspect

from service.config import ConfigError, Settings
from service.crypto import IdentityCipher
from service.db import Database, create_db_engine
from service.models import utcnow
from service.registry import Registry, publish
from workflows import Calendar, load_calendar, load_directory


@dataclass
class AppContext:
    settings: Settings
    database: Database
    registry: Registry
    calendar: Calendar
    cipher: IdentityCipher
    clock: Callable[[], datetime] = field(default=utcnow)


def bootstrap(settings: Settings, database: Database | None = None) -> AppContext:
    """Check keys and schema, publish the workflow files, and load what every request reads.

    `database` is the settings' own unless given (tests bind theirs to one connection).
    """
    keys = settings.keys
    database = database or Database(
        create_db_engine(settings.database_url, pool_size=settings.pool_size)
    )
    try:
        if not inspect(database.engine).has_table("alembic_version"):
            raise ConfigError("the database has no schema yet: run `nrm db upgrade` first")
        with database.transaction() as session:
            registry = publish(session, load_directory())
    except BaseException:
        database.engine.dispose()  # a refusal leaves no pooled connection behind
        raise
    extra = [settings.holidays_file] if settings.holidays_file else []
    return AppContext(
        settings=settings,
        database=database,
        registry=registry,
        calendar=load_calendar(extra),
        cipher=IdentityCipher(keys.data_key),
    )
