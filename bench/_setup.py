"""A throwaway, migrated database and an application context on it, for the benchmarks; and
the writer of a benchmark's section of bench/RESULTS.md."""

from __future__ import annotations

import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.bootstrap import bootstrap
from service.kit import migrate
from service.kit.config import settings_for
from service.kit.context import AppContext
from service.kit.db import Database, DatabaseLimits, create_db_engine

# bulk loads of a million cases run statements longer than a request's limit
BENCH_LIMITS = DatabaseLimits(
    pool_size=8, pool_max_overflow=8, statement_timeout_seconds=0, lock_timeout_seconds=0
)


@contextmanager
def fresh_context(server_url: str | None) -> Iterator[AppContext]:
    """SQLite in a temporary directory, or a new database on the PostgreSQL server given."""
    with _fresh_url(server_url) as url:
        migrate.upgrade(url)
        engine = create_db_engine(url, BENCH_LIMITS)
        context = bootstrap(settings_for(url), Database(engine, limits=BENCH_LIMITS))
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


# Debian's Chromium, headless, and quiet on the network (tests, screenshots, page benchmark).
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


@contextmanager
def live_server(context: AppContext) -> Iterator[str]:
    """The application on a real loopback socket, in a thread, stopped on the way out (the
    browser tests, the screenshots and the page benchmark)."""
    from service.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(context), host="127.0.0.1", port=port, log_level="warning",
        access_log=False, ws="none", lifespan="on",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def write_section(results: Path, begin: str, end: str, title: str, text: str) -> None:
    """`text` under `## title` between the markers `begin` and `end` of `results`: in place of
    what stood between them, or appended at the end of the file the first time."""
    old = results.read_text() if results.exists() else ""
    section = f"{begin}\n## {title}\n\n{text}\n{end}"
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        new = head + section + rest.split(end, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + section + "\n"
    results.write_text(new)
