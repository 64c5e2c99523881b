"""A throwaway, migrated database and an application context on it, for the benchmarks."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.bootstrap import bootstrap
from service.kit import migrate
from service.kit.config import settings_for
from service.kit.context import AppContext
from service.kit.db import Database, create_db_engine


@contextmanager
def fresh_context(server_url: str | None) -> Iterator[AppContext]:
    """SQLite in a temporary directory, or a new database on the PostgreSQL server given."""
    with _fresh_url(server_url) as url:
        migrate.upgrade(url)
        context = bootstrap(settings_for(url), Database(create_db_engine(url, pool_size=8)))
        try:
            yield context
        finally:
            context.database.engine.dispose()


@contextmanager
def _fresh_url(server_url: str | None) -> Iterator[str]:
    if server_url is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    with scratch_database(server_url, "nrm_bench") as url:
        yield url


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new PostgreSQL database `<prefix>_<random>` on the server, dropped on the way out
    whatever happens (Ctrl-C included). The tests make theirs with it too."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
